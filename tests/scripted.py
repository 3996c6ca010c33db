"""Scripted FunctionModel agents for the tests: each model response is a list of steps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaThinkingPart, DeltaToolCall, FunctionModel
from pydantic_deep import DeepAgentDeps, create_deep_agent

from deep_tui.agents import QUIET_FEATURES
from deep_tui.runner import Session

Step = Any
"""A str streams as text; ("think", s) as thinking; ("tool", name, args) calls a tool (args may be a function of
the messages so far);
("sleep", seconds) pauses; ("raise", exc) fails the model request."""


def responses_since_prompt(messages: Sequence[ModelMessage]) -> int:
    count = 0
    for message in reversed(messages):
        if isinstance(message, ModelResponse):
            count += 1
        elif isinstance(message, ModelRequest) and any(isinstance(p, UserPromptPart) for p in message.parts):
            break
    return count


def scripted_model(*responses: list[Step]) -> FunctionModel:
    """A model that plays ``responses`` in order, restarting at each new prompt."""

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        steps = responses[min(responses_since_prompt(messages), len(responses) - 1)]
        for index, step in enumerate(steps):
            if isinstance(step, str):
                yield step
            elif step[0] == "think":
                yield {500 + index: DeltaThinkingPart(content=step[1])}
            elif step[0] == "tool":
                args = step[2](messages) if callable(step[2]) else step[2]
                yield {
                    index: DeltaToolCall(
                        name=step[1], json_args=json.dumps(args), tool_call_id=f"c{len(messages)}_{index}"
                    )
                }
            elif step[0] == "sleep":
                await asyncio.sleep(step[1])
            elif step[0] == "raise":
                raise step[1]

    return FunctionModel(stream_function=stream, model_name="scripted")


def deep_session(*responses: list[Step], tools: Sequence[Any] = ()) -> Session:
    """A session on a real pydantic-deep agent driven by a scripted model."""
    agent = create_deep_agent(model=scripted_model(*responses), tools=list(tools), **QUIET_FEATURES)
    return Session(agent, DeepAgentDeps(), name="scripted")


def plain_session(*responses: list[Step], tools: Sequence[Any] = ()) -> Session:
    """A session on a bare pydantic-ai agent: no pydantic-deep tools, no eviction of large results."""
    return Session(Agent(scripted_model(*responses), tools=list(tools)), DeepAgentDeps(), name="plain")


async def collect(session: Session, prompt: str = "go", **kwargs: Any) -> list[Any]:
    return [event async for event in session.events(prompt, **kwargs)]


def of_type(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


def text_of(events: list[Any]) -> str:
    return "".join(e.text for e in of_type(events, "text_delta"))
