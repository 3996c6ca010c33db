"""A hostile agent: terminal escapes in every field an event carries, as ``--agent tests/agents/escapes.py:build``.

Its thinking, answer, todos, file paths and contents, tool names, arguments and
results each hold ``ESCAPES``: a window title (OSC 0), a clear screen (CSI 2J), a
clipboard write (OSC 52), 8-bit CSI and OSC, and a bell. The tests pass a prompt
holding them too. Cost tracking stays on, as in a user's own agent: the model has
no known price, so pydantic-deep logs a warning on every run.
"""

from __future__ import annotations

import json

from pydantic_ai.messages import ModelResponse
from pydantic_ai.models.function import AgentInfo, DeltaThinkingPart, DeltaToolCall, FunctionModel
from pydantic_deep import DeepAgentDeps, create_deep_agent

ESCAPES = "\x1b]0;title\x07 \x1b[2J \x1b]52;c;aGk=\x07 \x9b31m \x9d0;t\x07"
"""What each field carries; none of it may reach a terminal as it is."""

CONTROLS = ("\x1b", "\x07", "\x9b", "\x9d")
"""The control characters of ``ESCAPES``."""

PATH = f"/notes\x1b[2J/plan[b]{ESCAPES}.md"
"""A path whose name is markup as well."""
LONG_LINE = "A line longer than any terminal, kept whole: " + "word " * 40
ANSWER = f"# Report {ESCAPES}\n\n{LONG_LINE.strip()}\n\nDone: {ESCAPES}\n"

STEPS = [
    [
        ("think", f"Thinking {ESCAPES}"),
        ("text", f"Planning {ESCAPES}\n"),
        (
            "write_todos",
            {"todos": [{"content": f"Todo {ESCAPES}", "active_form": f"Doing {ESCAPES}", "status": "in_progress"}]},
        ),
        ("write_file", {"path": PATH, "content": f"line one {ESCAPES}\nline two\r\n"}),
        ("lookup", {"topic": f"topic {ESCAPES}"}),
        (f"no_such_tool{ESCAPES}", {"x": 1}),
    ],
]


async def _stream(messages, info: AgentInfo):
    step = sum(isinstance(m, ModelResponse) for m in messages)
    if step < len(STEPS):
        for index, (kind, value) in enumerate(STEPS[step]):
            if kind == "think":
                yield {100 + index: DeltaThinkingPart(content=value)}
            elif kind == "text":
                yield value
            else:
                yield {index: DeltaToolCall(name=kind, json_args=json.dumps(value), tool_call_id=f"e{step}{index}")}
        return
    for piece in (ANSWER[:20], ANSWER[20:]):
        yield piece


def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"Result for {topic}: {ESCAPES}"


def build():
    """The hostile agent and its deps."""
    agent = create_deep_agent(
        model=FunctionModel(stream_function=_stream, model_name="escapes"),
        tools=[lookup],
        include_skills=False,
        include_memory=False,
        include_plan=False,
        include_builtin_subagents=False,
        web_search=False,
        web_fetch=False,
        thinking=False,
    )
    return agent, DeepAgentDeps()
