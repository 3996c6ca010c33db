"""The agent of the approval benchmark: each turn calls ``mark`` once, which notes when it runs, then answers.

Run with ``--approve mark``, so every turn waits for a decision; ``RAN`` holds when each call started.
"""

from __future__ import annotations

import json
import time

from pydantic_ai import Agent
from pydantic_ai.messages import ModelRequest, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

RAN: list[float] = []
"""``time.perf_counter()`` at the start of each ``mark`` call."""


async def mark() -> str:
    """Note that the approved call runs."""
    RAN.append(time.perf_counter())
    return "marked"


async def _stream(messages, info: AgentInfo):
    last = messages[-1]
    if isinstance(last, ModelRequest) and any(isinstance(p, UserPromptPart) for p in last.parts):
        yield {0: DeltaToolCall("mark", json.dumps({}), tool_call_id=f"mark{len(messages)}")}
    else:
        yield "done"


def build() -> Agent:
    return Agent(FunctionModel(stream_function=_stream, model_name="approval-bench"), tools=[mark])
