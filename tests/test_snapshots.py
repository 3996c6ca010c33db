"""Snapshots of the key screens, fed a fixed event stream so that every frame is the same.

The panes only know events, so a scripted list of them (fixed durations, a fixed
wall clock) draws the same screen on every run, with no agent timing involved.
Update the snapshots after a deliberate UI change with ``pytest --snapshot-update``
and look at the SVGs in ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from deep_tui.app import DeepTUI
from deep_tui.events import (
    Event,
    FileChange,
    FilesChanged,
    NodeEntered,
    RunFinished,
    RunStarted,
    TextDelta,
    ThinkingDelta,
    TodoItem,
    TodosChanged,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
    UsageUpdated,
)
from deep_tui.messages import AgentEvents
from deep_tui.source import Live
from deep_tui.spec import AgentSpec

ANSWER = """## Done: the garden

I planned **three beds** and wrote them down.

- `garden/beds.md`: the layout
- `garden/tulips.py`: the planting schedule

```python

def petals(n: int) -> int:
    return 6 * n
```
"""


STARTED = 1_790_000_000.0
"""When the recorded turns began (the rows' clock is pinned to 12:00:00 whatever it is)."""


def finished_turn() -> list[Event]:
    """One turn that touches every pane: todos, files, an ok and a failed call, thinking and a markdown answer."""
    usage = Usage(requests=3, input_tokens=1520, output_tokens=430, tool_calls=3)
    todos = [
        TodoItem(id="t1", content="Survey the garden", status="completed", active_form="Surveying"),
        TodoItem(id="t2", content="Plant the tulips", status="in_progress", active_form="Planting the tulips"),
        TodoItem(id="t3", content="Water the beds", status="pending"),
        TodoItem(id="t4", content="Fence the north bed", status="blocked"),
    ]
    return [
        RunStarted(run_id="r1", session_id="s1", turn=1, prompt="plan the garden", agent="garden", started_at=STARTED),
        NodeEntered(node="UserPromptNode", step=1),
        NodeEntered(node="ModelRequestNode", step=2),
        ThinkingDelta(text="Three beds fit the plot; tulips go north."),
        TextDelta(text="Let me plan it."),
        NodeEntered(node="CallToolsNode", step=3),
        ToolCallStarted(call_id="c1", tool="write_todos", args={"todos": [t.model_dump() for t in todos]}),
        ToolCallFinished(
            call_id="c1", tool="write_todos", outcome="success", preview="Updated 4 todos", duration=0.002
        ),
        TodosChanged(todos=todos),
        ToolCallStarted(call_id="c2", tool="write_file", args={"path": "/garden/beds.md", "content": "# Beds\n"}),
        ToolCallFinished(
            call_id="c2", tool="write_file", outcome="success", preview="Wrote 7 B", size=9, duration=0.004
        ),
        ToolCallStarted(call_id="c3", tool="count_petals", args={"flower": "tulip"}),
        ToolCallFinished(
            call_id="c3", tool="count_petals", outcome="failed", preview="ValueError: no petals", duration=0.25
        ),
        FilesChanged(
            changes=[
                FileChange(path="/garden/beds.md", change="created", size=7, added=1),
                FileChange(path="/garden/tulips.py", change="created", size=40, added=2),
                FileChange(path="/notes/old.md", change="deleted"),
            ]
        ),
        UsageUpdated(usage=usage),
        NodeEntered(node="ModelRequestNode", step=4),
        TextDelta(text="\n\n" + ANSWER),
        NodeEntered(node="End", step=5),
        RunFinished(status="completed", output=ANSWER, usage=usage, duration=12.5),
    ]


def cancelled_turn() -> list[Event]:
    """A second turn stopped while a call ran."""
    return [
        RunStarted(
            run_id="r2", session_id="s1", turn=2, prompt="now water them", agent="garden", started_at=STARTED + 60
        ),
        NodeEntered(node="ModelRequestNode", step=1),
        TextDelta(text="Watering the beds one by one"),
        ToolCallStarted(call_id="c4", tool="execute", args={"command": "water --all"}),
        ToolCallFinished(call_id="c4", tool="execute", outcome="cancelled", duration=1.5),
        RunFinished(status="cancelled", usage=Usage(requests=1, input_tokens=900), duration=3.0),
    ]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tool log's wall-clock column, pinned."""
    monkeypatch.setattr("deep_tui.widgets.tool_call_rows.time.strftime", lambda *_: "12:00:00")


def feed(*turns: list[Event]):
    """A ``run_before`` that waits for the agent to load, then shows ``turns`` as the worker would."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, DeepTUI)
        for _ in range(400):
            if app.dashboard.status != "loading":
                break
            await pilot.pause(0.05)
        app.query_one("#prompt", Input).cursor_blink = False  # a blinking cursor would differ run to run
        for events in turns:
            app.post_message(AgentEvents(events))
            await pilot.pause()
        await pilot.pause(0.3)  # the file tree applies changes a few times a second

    return run_before


def garden_app() -> DeepTUI:
    return DeepTUI(Live(AgentSpec(demo_speed=0, save=False)))


def test_dashboard_after_a_turn(snap_compare):
    assert snap_compare(garden_app(), terminal_size=(120, 36), run_before=feed(finished_turn()))


def test_dashboard_after_a_cancelled_second_turn(snap_compare):
    assert snap_compare(garden_app(), terminal_size=(120, 36), run_before=feed(finished_turn(), cancelled_turn()))


def test_narrow_terminal_hides_the_side_column(snap_compare):
    assert snap_compare(garden_app(), terminal_size=(60, 24), run_before=feed(finished_turn()))


def test_tool_detail_of_a_failed_call(snap_compare):
    assert snap_compare(
        garden_app(), terminal_size=(100, 30), run_before=feed(finished_turn()), press=["ctrl+l", "end", "enter"]
    )
