"""Deep agents that are slow on purpose, for cancel tests.

All write ``/before.txt`` first. ``build`` then starts a one-minute tool;
``streaming`` streams text for ever; ``frozen`` calls a tool that blocks the
event loop for two minutes, having first created the file its prompt names. A
prompt of "finish" makes any of them answer at once, so a test can check that
the session goes on after a cancel.
"""

import asyncio
import json
import time
from pathlib import Path

from pydantic_ai.messages import ModelRequest, ModelResponse, UserPromptPart
from pydantic_ai.models.function import DeltaToolCall, FunctionModel
from pydantic_deep import create_deep_agent

FEATURES = dict(include_skills=False, include_memory=False, cost_tracking=False, web_search=False, web_fetch=False)


async def long_build(target: str) -> str:
    """A build that takes a minute."""
    await asyncio.sleep(60)
    return f"built {target}"


async def freeze(marker: str) -> str:
    """Blocks the whole event loop, as a careless tool can."""
    Path(marker).touch()
    time.sleep(120)
    return "thawed"


def _since_prompt(messages) -> tuple[str, int]:
    """The last prompt, and how many responses followed it."""
    count = 0
    for message in reversed(messages):
        if isinstance(message, ModelResponse):
            count += 1
        elif isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart):
                    return str(part.content), count
    return "", count


def _model(second_call: str | None) -> FunctionModel:
    async def stream(messages, info):
        prompt, step = _since_prompt(messages)
        if prompt == "finish":
            yield "finished"
            return
        if step == 0:
            yield {
                0: DeltaToolCall(
                    "write_file", json.dumps({"path": "/before.txt", "content": "written before"}), tool_call_id="w"
                )
            }
            if second_call == "freeze":
                yield {1: DeltaToolCall(second_call, json.dumps({"marker": prompt}), tool_call_id="b")}
            elif second_call:
                yield {1: DeltaToolCall(second_call, json.dumps({"target": "all"}), tool_call_id="b")}
            return
        n = 0
        while True:
            n += 1
            await asyncio.sleep(0.02)
            yield f"slow{n} "

    return FunctionModel(stream_function=stream, model_name="slow")


def build():
    """Writes a file, then runs a one-minute tool."""
    return create_deep_agent(model=_model("long_build"), tools=[long_build], **FEATURES)


def streaming():
    """Writes a file, then streams text for ever."""
    return create_deep_agent(model=_model(None), **FEATURES)


def frozen():
    """Writes a file, then blocks the event loop in a tool."""
    return create_deep_agent(model=_model("freeze"), tools=[freeze], **FEATURES)
