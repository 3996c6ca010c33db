"""Event streams made by hand, for the tests of the fold, recordings, the timeline and sources."""

from __future__ import annotations

import hashlib
from typing import Any

from deep_tui.events import (
    Event,
    FileChange,
    FilesChanged,
    NodeEntered,
    Origin,
    RunFinished,
    RunStarted,
    SubagentFinished,
    SubagentStarted,
    TextDelta,
    ThinkingDelta,
    TodoItem,
    TodosChanged,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
    UsageUpdated,
)

STARTED_AT = 1_790_000_000.0
"""A fixed wall clock for the first turn (2026-09-21T14:13:20Z)."""

CORE_VERSIONS = [b"def core():\n    pass\n", b"def core():\n    return 1\n", b"def core():\n    return 2\n"]
"""The three versions of /src/core.py the sample session writes."""


def version(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Stream:
    """Builds a turn's events with their seq and t, as the runner stamps them."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.seq = 0
        self.t = 0.0

    def add(self, kind: type[Any], dt: float = 0.5, **fields: Any) -> None:
        self.t = round(self.t + dt, 4) if kind is not RunStarted else 0.0
        self.seq = 0 if kind is RunStarted else self.seq + 1
        self.events.append(kind(seq=self.seq, t=self.t, **fields))


def todos(*statuses: str) -> list[TodoItem]:
    names = ["plan the module", "write tests", "write README"]
    return [TodoItem(id=str(i), content=names[i], status=s) for i, s in enumerate(statuses)]  # type: ignore[arg-type]


def write(stream: Stream, call_id: str, path: str, data: bytes, change: str = "modified") -> None:
    stream.add(ToolCallStarted, call_id=call_id, tool="write_file", args={"path": path, "content": data.decode()})
    stream.add(
        ToolCallFinished, call_id=call_id, tool="write_file", outcome="success", preview="ok", size=2, duration=0.4
    )
    stream.add(
        FilesChanged,
        changes=[FileChange(path=path, change=change, size=len(data), version=version(data))],  # type: ignore[arg-type]
        call_id=call_id,
        dt=0.0,
    )


def created(*paths: str) -> list[FileChange]:
    """A step's changes that create ``paths``, a line each."""
    return [FileChange(path=path, change="created", size=1, added=1) for path in paths]


def many_files(count: int) -> list[Event]:
    """A turn that creates ``count`` files (``/d{index % 5}/f{index:03}.txt``), one a step, across five folders."""
    s = Stream()
    s.add(RunStarted, run_id="r", session_id="s", turn=1, prompt="p", agent="demo", started_at=STARTED_AT)
    for index in range(count):
        s.add(FilesChanged, changes=created(f"/d{index % 5}/f{index:03}.txt"))
    return s.events


def sample_session() -> list[Event]:
    """Two turns: the first plans, thinks, writes /src/core.py three times and completes; the second is cancelled.

    Positions worth knowing: the first write's ``files_changed`` is at index 10, the todo "write tests"
    starts at index 11 (in progress), the second turn's ``run_started`` is at index 27.
    """
    s = Stream()
    s.add(RunStarted, run_id="r1", session_id="sess", turn=1, prompt="build core", agent="demo", started_at=STARTED_AT)
    s.add(NodeEntered, node="UserPromptNode", step=1)
    s.add(NodeEntered, node="ModelRequestNode", step=2)
    s.add(ThinkingDelta, text="Let me ")
    s.add(ThinkingDelta, text="plan.")
    s.add(TextDelta, text="Planning")
    s.add(TodosChanged, todos=todos("in_progress", "pending", "pending"))
    s.add(NodeEntered, node="CallToolsNode", step=3)
    write(s, "c1", "/src/core.py", CORE_VERSIONS[0], change="created")  # indices 8, 9, 10
    s.add(TodosChanged, todos=todos("completed", "in_progress", "pending"))  # 11
    s.add(UsageUpdated, usage=Usage(requests=1, input_tokens=100, output_tokens=20, tool_calls=1))  # 12
    s.add(NodeEntered, node="ModelRequestNode", step=4)  # 13
    s.add(NodeEntered, node="CallToolsNode", step=5)  # 14
    write(s, "c2", "/src/core.py", CORE_VERSIONS[1])  # 15, 16, 17
    write(s, "c3", "/src/core.py", CORE_VERSIONS[2])  # 18, 19, 20
    s.add(TodosChanged, todos=todos("completed", "completed", "pending"))  # 21
    s.add(UsageUpdated, usage=Usage(requests=2, input_tokens=300, output_tokens=50, tool_calls=3))  # 22
    s.add(NodeEntered, node="End", step=6)  # 23
    s.add(TextDelta, text="\n\nDone: ")  # 24
    s.add(TextDelta, text="core written.")  # 25
    s.add(
        RunFinished,
        status="completed",
        output="Planning\n\nDone: core written.",
        usage=Usage(requests=2, input_tokens=300, output_tokens=50, tool_calls=3),
        duration=11.5,
    )  # 26
    s.add(
        RunStarted,
        run_id="r2",
        session_id="sess",
        turn=2,
        prompt="now the README",
        agent="demo",
        started_at=STARTED_AT + 60,
    )  # 27
    s.add(NodeEntered, node="UserPromptNode", step=1)
    s.add(NodeEntered, node="CallToolsNode", step=2)
    s.add(ToolCallStarted, call_id="c4", tool="write_file", args={"path": "/README.md"})  # 30
    s.add(UsageUpdated, usage=Usage(requests=1, input_tokens=50, output_tokens=5, tool_calls=1))
    s.add(ToolCallFinished, call_id="c4", tool="write_file", outcome="cancelled", duration=1.5)
    s.add(RunFinished, status="cancelled", usage=Usage(requests=1, input_tokens=50, output_tokens=5), duration=3.0)
    return s.events


WRITER = Origin(task_id="w1", name="writer")
HELPER = Origin(task_id="h1", name="helper", parent="w1")
TESTER = Origin(task_id="t1", name="tester")


def task_args(name: str, description: str, mode: str = "sync") -> dict[str, Any]:
    return {"description": description, "subagent_type": name, "mode": mode}


def delegation_session() -> list[Event]:
    """One turn: the main agent's sync ``writer`` delegates to a ``helper`` (depth 2), then an async ``tester``
    runs beside the main agent and fails. Every agent numbers its calls from c1, as models do.

    Indices worth knowing: the helper runs from 7 to 10; the writer's write_file runs from 4 to 12 and its task
    call from 6 to 11; the tester starts (18) after its task call has returned (17) and ends at 22.
    """
    s = Stream()
    s.add(RunStarted, run_id="r1", session_id="sess", turn=1, prompt="build it", agent="demo", started_at=STARTED_AT)
    s.add(ToolCallStarted, call_id="c1", tool="task", args=task_args("writer", "write the code"))  # 1
    s.add(SubagentStarted, origin=WRITER, task_id="w1", name="writer", description="write the code", call_id="c1")  # 2
    s.add(TextDelta, origin=WRITER, text="Writing.")  # 3
    s.add(ToolCallStarted, origin=WRITER, call_id="c1", tool="write_file", args={"path": "/a.py"})  # 4
    s.add(TodosChanged, origin=WRITER, todos=todos("in_progress", "pending", "pending"))  # 5
    s.add(ToolCallStarted, origin=WRITER, call_id="c2", tool="task", args=task_args("helper", "read it"))  # 6
    s.add(
        SubagentStarted,
        origin=HELPER,
        task_id="h1",
        name="helper",
        description="read it",
        parent="w1",
        call_id="c2",
    )  # 7
    s.add(ToolCallStarted, origin=HELPER, call_id="c1", tool="read_file", args={"path": "/a.py"})  # 8
    s.add(ToolCallFinished, origin=HELPER, call_id="c1", tool="read_file", outcome="success", duration=0.5)  # 9
    s.add(
        SubagentFinished,
        origin=HELPER,
        task_id="h1",
        name="helper",
        status="completed",
        preview="read",
        duration=1.5,
        usage=Usage(requests=1, input_tokens=10, output_tokens=2, tool_calls=1, cost=0.001),
    )  # 10
    s.add(ToolCallFinished, origin=WRITER, call_id="c2", tool="task", outcome="success", duration=2.5)  # 11
    s.add(ToolCallFinished, origin=WRITER, call_id="c1", tool="write_file", outcome="success", duration=4.0)  # 12
    s.add(TextDelta, origin=WRITER, text=" Done.")  # 13
    s.add(
        SubagentFinished,
        origin=WRITER,
        task_id="w1",
        name="writer",
        status="completed",
        preview="Writing. Done.",
        duration=6.0,
        usage=Usage(requests=2, input_tokens=40, output_tokens=8, tool_calls=2),
    )  # 14
    s.add(ToolCallFinished, call_id="c1", tool="task", outcome="success", duration=7.0)  # 15
    s.add(ToolCallStarted, call_id="c2", tool="task", args=task_args("tester", "test it", "async"))  # 16
    s.add(ToolCallFinished, call_id="c2", tool="task", outcome="success", preview="Task ID: t1", duration=0.1)  # 17
    s.add(
        SubagentStarted,
        origin=TESTER,
        task_id="t1",
        name="tester",
        description="test it",
        mode="async",
        call_id="c2",
    )  # 18
    s.add(ToolCallStarted, origin=TESTER, call_id="c1", tool="execute", args={"command": "pytest"})  # 19
    s.add(ToolCallStarted, call_id="c3", tool="wait_tasks", args={"task_ids": ["t1"]})  # 20
    s.add(ToolCallFinished, origin=TESTER, call_id="c1", tool="execute", outcome="failed", duration=1.0)  # 21
    s.add(
        SubagentFinished,
        origin=TESTER,
        task_id="t1",
        name="tester",
        status="failed",
        error="2 tests failed",
        duration=2.0,
        usage=Usage(requests=1, input_tokens=5, output_tokens=1, tool_calls=1),
    )  # 22
    s.add(ToolCallFinished, call_id="c3", tool="wait_tasks", outcome="success", duration=1.0)  # 23
    s.add(TextDelta, text="All done.")  # 24
    s.add(RunFinished, status="completed", output="All done.", usage=Usage(requests=6), duration=13.0)  # 25
    return s.events
