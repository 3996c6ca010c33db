"""A user's own agent file, as ``--agent tests/agents/custom.py:NAME`` loads it."""

from __future__ import annotations

import asyncio
import json

from pydantic_ai import Agent
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel
from pydantic_deep import DeepAgentDeps, create_deep_agent

TOOLS_THEN_ANSWER = [
    [
        (
            "write_todos",
            {
                "todos": [
                    {"content": "Survey the garden", "active_form": "Surveying", "status": "in_progress"},
                    {"content": "Plant the tulips", "active_form": "Planting"},
                ]
            },
        ),
        ("write_file", {"path": "/garden/beds.md", "content": "# Beds\n- north: tulips\n"}),
    ],
    [("count_petals", {"flower": "tulip"})],
]
ANSWER = "Garden planned: the north bed gets tulips, six petals each."


def _responses(messages) -> int:
    from pydantic_ai.messages import ModelResponse

    return sum(isinstance(m, ModelResponse) for m in messages)


async def _stream(messages, info: AgentInfo):
    step = _responses(messages)
    if step < len(TOOLS_THEN_ANSWER):
        for index, (name, args) in enumerate(TOOLS_THEN_ANSWER[step]):
            yield {index: DeltaToolCall(name=name, json_args=json.dumps(args), tool_call_id=f"g{step}{index}")}
        return
    for word in ANSWER.split(" "):
        await asyncio.sleep(0)
        yield word + " "


def count_petals(flower: str) -> int:
    """How many petals a flower has."""
    return {"tulip": 6}.get(flower, 5)


def build():
    """A factory returning (agent, deps), the way a project would wire its own agent."""
    agent = create_deep_agent(
        model=FunctionModel(stream_function=_stream, model_name="garden"),
        tools=[count_petals],
        include_skills=False,
        include_memory=False,
        cost_tracking=False,
        web_search=False,
        web_fetch=False,
    )
    return agent, DeepAgentDeps()


async def _answer_only(messages, info: AgentInfo):
    yield "plain "
    yield "answer"


plain = Agent(FunctionModel(stream_function=_answer_only, model_name="plain"))
not_an_agent = 42


def broken():
    raise ValueError("the factory needs a config file")
