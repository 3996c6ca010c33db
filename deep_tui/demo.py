"""The built-in demo: a scripted, offline model driving a real pydantic-deep agent.

``demo_model`` is a pydantic-ai ``FunctionModel`` whose streaming function plays
a convincing session for any prompt: it plans todos, writes a small package
(module, tests, README), reads and edits it with the agent's real tools, moves
the todos along, and streams a markdown answer token by token. Each response is
chosen from the conversation so far, so a follow-up prompt in the same session
continues the work instead of starting over, and a prompt after a cancel picks
the first plan up where it stopped.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from pydantic_ai.messages import (
    SYNTHESIZED_TOOL_RETURN_METADATA_KEY,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaThinkingPart, DeltaToolCall, FunctionModel

STOPWORDS = frozenset(
    """a an the and or of to for in on with by from into about please me my our your i we you it is are be
    can could would should make build write create add implement small simple tiny new some that this python
    module tool script""".split()
)

STEER_LABEL = "[steering] "
"""pydantic-deep's label on a message the user sent into a running turn, which deep-tui's runner uses too."""

PROMPT_QUOTED = 120
"""Characters of the prompt the demo quotes in its files and answer."""

THINK_SECONDS = 1.4
"""Pause before each response at speed 1, as a real model takes to start."""
TOKEN_SECONDS = 0.035
"""Pause between streamed text tokens at speed 1."""
ARGS_SECONDS = 0.012
"""Pause between chunks of a tool call's arguments at speed 1."""

Args = dict[str, Any]
Part = tuple[str, Any]
"""("think", text) | ("text", text) | ("tool", (name, args or a function of the history))."""


@dataclass(frozen=True)
class Topic:
    """What the prompt is about, in the forms the scripted files need."""

    prompt: str
    slug: str
    title: str

    @classmethod
    def of(cls, prompt: str) -> Topic:
        head = " ".join(prompt[: PROMPT_QUOTED * 2].split())
        words = [w for w in re.findall(r"[a-z][a-z0-9]*", head.lower()) if w not in STOPWORDS]
        slug = "_".join(words[:2]) or "project"
        quoted = head if len(head) <= PROMPT_QUOTED else head[: PROMPT_QUOTED - 1] + "…"
        return cls(prompt=quoted or "a small project", slug=slug, title=slug.replace("_", " ").title())


def core_module(topic: Topic) -> str:
    return f'''"""{topic.title}: {topic.prompt}

Parse weighted items and summarise them; written by the deep-tui demo agent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """One input line, parsed."""

    name: str
    weight: int = 1


def parse(text: str) -> list[Item]:
    """Parse "name[:weight]" lines into items."""
    items = []
    for line in text.splitlines():
        name, _, weight = line.partition(":")
        items.append(Item(name.strip(), int(weight or 1)))
    return items


def summarize(items: list[Item]) -> dict[str, int]:
    """Total weight per name, heaviest first."""
    totals: dict[str, int] = {{}}
    for item in items:
        totals[item.name] = totals.get(item.name, 0) + item.weight
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))
'''


def test_module(topic: Topic) -> str:
    return f"""from {topic.slug}.core import Item, parse, summarize


def test_parse_reads_weights():
    assert parse("a:2\\nb") == [Item("a", 2), Item("b", 1)]


def test_parse_skips_blank_lines():
    assert parse("a\\n\\n  \\nb") == [Item("a"), Item("b")]


def test_summarize_orders_by_weight():
    assert list(summarize(parse("a\\nb:3\\na"))) == ["b", "a"]
"""


def readme(topic: Topic) -> str:
    return f"""# {topic.title}

> {topic.prompt}

A small, tested Python package.

## Usage

```python
from {topic.slug}.core import parse, summarize

summarize(parse("tea:2\\ncoffee\\ntea"))  # {{'tea': 3, 'coffee': 1}}
```

## Layout

| path | what |
|---|---|
| `src/{topic.slug}/core.py` | parsing and summarising |
| `tests/test_core.py` | the tests |
| `notes/plan.md` | the plan |
"""


def plan(topic: Topic) -> str:
    return f"""# Plan: {topic.title}

Request: {topic.prompt}

1. Sketch the data model (`Item`) and the two functions.
2. Write `src/{topic.slug}/core.py`.
3. Write tests first for the edge cases: weights, blank lines, ordering.
4. Review the parser against the tests and fix what they catch.
5. Document usage in the README.
"""


def answer(topic: Topic) -> str:
    return f"""## Done: {topic.title}

I built a small, tested package for **{topic.prompt}**.

### What I did

1. **Planned** the work as five todos and wrote the plan to `notes/plan.md`.
2. **Wrote** `src/{topic.slug}/core.py` with an `Item` dataclass, `parse()` and `summarize()`.
3. **Tested** it in `tests/test_core.py`: weights, blank lines and ordering.
4. **Reviewed** the parser: it crashed on blank lines, so I fixed it with a one-line edit.
5. **Documented** usage in `README.md`.

### Try it

```python
from {topic.slug}.core import parse, summarize

summarize(parse("tea:2\\ncoffee\\ntea"))
# {{'tea': 3, 'coffee': 1}}
```

### Files

| file | lines | purpose |
|---|---|---|
| `src/{topic.slug}/core.py` | 33 | the module |
| `tests/test_core.py` | 13 | three tests |
| `README.md` | 21 | usage |
| `notes/plan.md` | 10 | the plan |

Next steps could be a command-line entry point and input validation for negative weights.
Ask me for either and I will continue from here.
"""


def _read_line(messages: list[ModelMessage], path: str, needle: str) -> tuple[int, str] | None:
    """The number and hash of the line holding ``needle`` in the latest read of ``path``."""
    for message in reversed(messages):
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            if isinstance(part, ToolReturnPart) and part.tool_name == "read_file" and isinstance(part.content, str):
                for row in part.content.splitlines():
                    match = re.match(r"\s*(\d+):([0-9a-f]{2})\|(.*)$", row)
                    if match and needle in match.group(3):
                        return int(match.group(1)), match.group(2)
    return None


def _fix_parser(topic: Topic) -> Callable[[list[ModelMessage]], tuple[str, Args]]:
    path = f"/src/{topic.slug}/core.py"

    def edit(messages: list[ModelMessage]) -> tuple[str, Args]:
        found = _read_line(messages, path, "name, _, weight = line.partition")
        if found is None:  # the read failed: fall back to rewriting the whole file
            fixed = core_module(topic).replace(
                '        name, _, weight = line.partition(":")',
                '        if not line.strip():\n            continue\n        name, _, weight = line.partition(":")',
            )
            return "write_file", {"path": path, "content": fixed}
        line, digest = found
        new = '        if not line.strip():\n            continue\n        name, _, weight = line.partition(":")'
        return "hashline_edit", {"path": path, "start_line": line, "start_hash": digest, "new_content": new}

    return edit


def _statuses(*pairs: tuple[str, str]) -> tuple[str, Args]:
    return "update_todo_statuses", {"updates": [{"todo_id": t, "status": s} for t, s in pairs]}


def first_turn(topic: Topic) -> list[list[Part]]:
    """The responses of a session's first prompt."""
    src = f"/src/{topic.slug}"
    todos = [
        ("t1", "Sketch the plan", "Sketching the plan"),
        ("t2", f"Write the {topic.slug} module", f"Writing the {topic.slug} module"),
        ("t3", "Write the tests", "Writing the tests"),
        ("t4", "Review and fix edge cases", "Reviewing edge cases"),
        ("t5", "Document usage in the README", "Documenting usage"),
    ]
    return [
        [
            (
                "think",
                f"The request: {topic.prompt}. A small package fits: a core module, its tests and a "
                "README. I'll plan it as todos first so progress is visible, then work through them.",
            ),
            ("text", "Let me plan this before touching any files."),
            (
                "tool",
                (
                    "write_todos",
                    {
                        "todos": [
                            {
                                "id": i,
                                "content": c,
                                "active_form": a,
                                "status": "in_progress" if i == "t1" else "pending",
                            }
                            for i, c, a in todos
                        ]
                    },
                ),
            ),
        ],
        [
            ("tool", ("write_file", {"path": "/notes/plan.md", "content": plan(topic)})),
            ("tool", _statuses(("t1", "completed"), ("t2", "in_progress"))),
        ],
        [
            ("tool", ("write_file", {"path": f"{src}/__init__.py", "content": f'"""{topic.title}."""\n'})),
            ("tool", ("write_file", {"path": f"{src}/core.py", "content": core_module(topic)})),
        ],
        [
            ("tool", _statuses(("t2", "completed"), ("t3", "in_progress"))),
            ("tool", ("write_file", {"path": "/tests/test_core.py", "content": test_module(topic)})),
        ],
        [
            ("text", "The tests expect blank lines to be skipped. Let me check the parser."),
            ("tool", _statuses(("t3", "completed"), ("t4", "in_progress"))),
            ("tool", ("read_file", {"path": f"{src}/core.py"})),
        ],
        [
            (
                "think",
                "parse() calls int() on an empty weight for blank lines: the test would fail. "
                "Skip lines that are only whitespace.",
            ),
            ("tool", _fix_parser(topic)),
        ],
        [("tool", ("grep", {"pattern": "def ", "path": "/src"})), ("tool", ("ls", {"path": "/"}))],
        [
            ("tool", _statuses(("t4", "completed"), ("t5", "in_progress"))),
            ("tool", ("write_file", {"path": "/README.md", "content": readme(topic)})),
        ],
        [("tool", _statuses(("t5", "completed")))],
        [("text", answer(topic))],
    ]


def _added_todo_id(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, ToolReturnPart) and part.tool_name == "add_todo":
                    match = re.search(r"ID: (\S+)", str(part.content))
                    if match:
                        return match.group(1)
    return "missing"


def follow_up(topic: Topic) -> list[list[Part]]:
    """The responses of every later prompt: continue in the same workspace."""
    return [
        [
            (
                "think",
                f"A follow-up: {topic.prompt}. The package from before is still in the workspace; "
                "I'll record the request as a todo and note it in the README.",
            ),
            ("text", "Picking up where we left off."),
            ("tool", ("add_todo", {"content": f"Follow up: {topic.prompt}"[:80], "active_form": "Following up"})),
            ("tool", ("read_file", {"path": "/README.md"})),
        ],
        [
            ("tool", ("write_file", {"path": "/notes/changelog.md", "content": f"# Changelog\n\n- {topic.prompt}\n"})),
            (
                "tool",
                lambda messages: ("update_todo_status", {"todo_id": _added_todo_id(messages), "status": "completed"}),
            ),
        ],
        [
            (
                "text",
                f"## Follow-up done\n\nI noted **{topic.prompt}** in `notes/changelog.md`; the package "
                "and its tests from the first turn are unchanged and still in the workspace.\n",
            )
        ],
    ]


def _said(message: ModelMessage, *, steers: bool = False) -> list[str]:
    """The user's prompts in ``message``, or with ``steers`` the messages they sent into a running turn."""
    return [
        part.content.removeprefix(STEER_LABEL) if steers else part.content
        for part in (message.parts if isinstance(message, ModelRequest) else [])
        if isinstance(part, UserPromptPart)
        and isinstance(part.content, str)
        and part.content.startswith(STEER_LABEL) == steers
    ]


def _prompts(messages: list[ModelMessage]) -> list[str]:
    return [prompt for message in messages for prompt in _said(message)]


def _responses_since_prompt(messages: list[ModelMessage]) -> int:
    count = 0
    for message in reversed(messages):
        if isinstance(message, ModelResponse):
            count += 1
        elif _said(message):
            break
    return count


def _heeded(response: list[Part], messages: list[ModelMessage]) -> list[Part]:
    """A response to a request that carries a steer: say it was heard, then go on as planned."""
    said = " ".join(_said(messages[-1], steers=True)) if messages else ""
    if not said:
        return response
    quoted = said if len(said) <= PROMPT_QUOTED else said[: PROMPT_QUOTED - 1] + "…"
    thought = next((i for i, (kind, _) in enumerate(response) if kind != "think"), len(response))
    return [
        *response[:thought],
        ("text", f"Noted: “{quoted}”. I'll keep it in mind and carry on.\n\n"),
        *response[thought:],
    ]


def _answered_calls(messages: list[ModelMessage]) -> set[str]:
    """Ids of the calls that really ran: pydantic-ai synthesizes a return for each call a cancel cut off."""
    return {
        part.tool_call_id
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, RetryPromptPart)
        or (isinstance(part, ToolReturnPart) and not (part.metadata or {}).get(SYNTHESIZED_TOOL_RETURN_METADATA_KEY))
    }


def _next_step(messages: list[ModelMessage], script: list[list[Part]]) -> int:
    """The first response of the first prompt's script whose calls did not all run, or the answer's."""
    answered = _answered_calls(messages)
    done: set[int] = set()
    for message in messages:
        if isinstance(message, ModelResponse):
            calls = [p.tool_call_id for p in message.parts if isinstance(p, ToolCallPart)]
            match = re.match(r"demo_s(\d+)_", calls[0]) if calls else None
            if match and all(call in answered for call in calls):
                done.add(int(match.group(1)))
    return next((step for step in range(len(script) - 1) if step not in done), len(script) - 1)


def _plan_finished(messages: list[ModelMessage], topic: Topic) -> bool:
    final = answer(topic).strip()
    return any(
        isinstance(part, TextPart) and final in part.content
        for message in messages
        if isinstance(message, ModelResponse)
        for part in message.parts
    )


def _resumed(response: list[Part]) -> list[Part]:
    """The first response after a cancel: say so, then carry on with the step that was cut off."""
    calls = [part for part in response if part[0] == "tool"]
    return [
        ("think", "The last turn was stopped before the plan was done. The workspace keeps what was written."),
        ("text", "Picking up the plan where it stopped.\n\n"),
        *(calls or response),  # no calls left: the answer itself
    ]


def _tokens(text: str) -> list[str]:
    return re.findall(r"\s*\S{1,6}", text) + ([text[len(text.rstrip()) :]] if text != text.rstrip() else [])


def _chunks(text: str, parts: int = 16) -> list[str]:
    size = max(24, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def demo_model(speed: float = 1.0) -> FunctionModel:
    """The demo's model; ``speed`` divides every pause, 0 removes them."""

    async def pause(seconds: float) -> None:
        if speed > 0:
            await asyncio.sleep(seconds / speed)

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        del info
        prompts = _prompts(messages) or [""]
        first, since_prompt = Topic.of(prompts[0]), _responses_since_prompt(messages)
        if len(prompts) == 1 or not _plan_finished(messages, first):
            script, tag = first_turn(first), "s"
            step = _next_step(messages, script)
            response = _resumed(script[step]) if len(prompts) > 1 and since_prompt == 0 else script[step]
        else:
            script, tag = follow_up(Topic.of(prompts[-1])), "f"
            step = min(since_prompt, len(script) - 1)
            response = script[step]
        response = _heeded(response, messages)
        await pause(THINK_SECONDS)
        for index, (kind, value) in enumerate(response):
            if kind == "think":
                for token in _tokens(value):
                    await pause(TOKEN_SECONDS / 2)
                    yield {1000 + index: DeltaThinkingPart(content=token)}
            elif kind == "text":
                for token in _tokens(value):
                    await pause(TOKEN_SECONDS)
                    yield token
            else:
                name, args = value(messages) if callable(value) else value
                call_id = f"demo_{tag}{step}_{len(messages)}_{index}"  # the step lets a later turn resume
                for n, chunk in enumerate(_chunks(json.dumps(args))):
                    await pause(ARGS_SECONDS)
                    yield {
                        index: DeltaToolCall(
                            name=name if n == 0 else None, json_args=chunk, tool_call_id=call_id if n == 0 else None
                        )
                    }

    return FunctionModel(stream_function=stream, model_name="demo")
