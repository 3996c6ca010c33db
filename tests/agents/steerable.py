"""A user's own agent, plain pydantic-ai and built without any message queue, for the steering tests.

A prompt of "wait" makes it call ``wait_for_user``, which returns once a message is queued for the
run; "roll out MARKER" calls ``roll_out``, which, when the turn is cancelled, rolls back until the file
MARKER exists (so the turn stays "cancelling" until the test says). It answers a tool's result with
"done waiting" and any other message with "heard: " and the message.
"""

import asyncio
import json
from pathlib import Path

from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import ModelRequest, UserPromptPart
from pydantic_ai.models.function import DeltaToolCall, FunctionModel

PATIENCE = 20.0
"""Seconds either tool waits at most, so that a failing test cannot hang."""


async def wait_for_user(ctx: RunContext[object]) -> str:
    """Wait until the user sends a message into the run."""
    for _ in range(int(PATIENCE / 0.01)):
        if ctx.pending_messages:
            return "the user spoke"
        await asyncio.sleep(0.01)
    return "nobody spoke"


async def roll_out(marker: str) -> str:
    """Roll a release out; stopped, it rolls back first, which takes until ``marker`` exists."""
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        for _ in range(int(PATIENCE / 0.01)):
            if Path(marker).exists():
                break
            await asyncio.sleep(0.01)
        raise
    return "rolled out"


async def _stream(messages, info):
    request = messages[-1]
    said = (
        [str(p.content) for p in request.parts if isinstance(p, UserPromptPart)]
        if isinstance(request, ModelRequest)
        else []
    )
    if not said:
        yield "done waiting"
    elif said[-1] == "wait":
        yield {0: DeltaToolCall("wait_for_user", "{}", tool_call_id="wait")}
    elif said[-1].startswith("roll out "):
        yield {0: DeltaToolCall("roll_out", json.dumps({"marker": said[-1][len("roll out ") :]}), tool_call_id="roll")}
    else:
        yield f"heard: {said[-1].removeprefix('[steering] ')}"


agent = Agent(FunctionModel(stream_function=_stream, model_name="steerable"), tools=[wait_for_user, roll_out])
