"""Agents whose calls need a person's approval, as ``--agent tests/agents/gated.py:NAME`` loads them.

Each first writes ``/notes/plan.md`` (a prompt containing "two" also writes ``/notes/todo.md`` in the same
response), then answers with what its tools returned, so a test sees what the model was told (a denial's
reason). A prompt of "finish" answers at once.
"""

from __future__ import annotations

import json

from pydantic_ai import Agent
from pydantic_ai.messages import ModelRequest, ModelResponse, ToolReturnPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel
from pydantic_deep import create_deep_agent

FEATURES = dict(
    include_skills=False, include_memory=False, cost_tracking=False, web_search=False, web_fetch=False, thinking=False
)
PLAN = "# Plan\n- ask first\n"


def _since_prompt(messages) -> tuple[str, int]:
    count = 0
    for message in reversed(messages):
        if isinstance(message, ModelResponse):
            count += 1
        elif isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, UserPromptPart):
                    return str(part.content), count
    return "", count


def _results(messages) -> list[str]:
    """What the tools returned to the last response, in its order."""
    last = messages[-1] if messages else None
    if not isinstance(last, ModelRequest):
        return []
    return [f"{p.tool_name}: {p.content}" for p in last.parts if isinstance(p, ToolReturnPart)]


def _model(calls) -> FunctionModel:
    async def stream(messages, info: AgentInfo):
        prompt, step = _since_prompt(messages)
        if prompt == "finish":
            yield "finished"
            return
        if step == 0:
            for index, (name, args) in enumerate(calls(prompt)):
                yield {index: DeltaToolCall(name, json.dumps(args), tool_call_id=f"{name}-{index}")}
            return
        yield "results: " + " | ".join(_results(messages))

    return FunctionModel(stream_function=stream, model_name="gated")


def _writes(prompt: str) -> list[tuple[str, dict]]:
    """Markup in the prompt becomes the plan's content, so a test sees how a preview shows it."""
    writes = [("write_file", {"path": "/notes/plan.md", "content": prompt if "<" in prompt else PLAN})]
    if "two" in prompt:
        writes.append(("write_file", {"path": "/notes/todo.md", "content": "- one\n"}))
    return writes


def interrupting():
    """A deep agent that asks before it writes, as pydantic-deep's own ``interrupt_on`` makes it."""
    return create_deep_agent(model=_model(_writes), interrupt_on={"write_file": True}, **FEATURES)


def writing():
    """The same agent without ``interrupt_on``: it asks only when deep-tui is told to (``--approve write_file``)."""
    return create_deep_agent(model=_model(_writes), **FEATURES)


def deploy(target: str) -> str:
    """Deploy the service."""
    return f"deployed {target}"


def deploying():
    """A plain pydantic-ai agent with a custom tool, and no approval anywhere in it."""
    return Agent(_model(lambda prompt: [("deploy", {"target": "prod"})]), tools=[deploy])
