"""The tool log: a subagent's calls under its ``task`` row, folded once it ends; recorded times; seeks."""

from __future__ import annotations

import operator
import random
import time
from collections.abc import Sequence
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Vertical
from textual.geometry import Region

from deep_tui.events import Event, ToolCallStarted
from deep_tui.format import duration
from deep_tui.state import fold
from deep_tui.widgets import ToolCallLog
from deep_tui.widgets.tool_call_log import ToolCallRecord, TurnDivider
from tests.event_streams import STARTED_AT, TESTER, delegation_session
from tests.test_search import bar, painted


def feed(log: ToolCallLog, events: Sequence[Event]) -> None:
    """What the dashboard does with each event, as it arrives."""
    for e in events:
        if e.type == "run_started":
            log.turn_started(e.turn, e.prompt, e.started_at)
        elif e.type == "tool_call_started":
            log.call_started(e.call_id, e.tool, e.args, t=e.t, origin=e.origin)
        elif e.type == "tool_call_finished":
            log.call_finished(e.call_id, e.outcome, e.duration, e.preview, e.size, e.traceback, origin=e.origin)
        elif e.type == "subagent_started":
            log.subagent_started(e.task_id, e.name, parent=e.parent, call_id=e.call_id)
        elif e.type == "subagent_finished":
            log.subagent_finished(e.task_id, e.status)
    log.settle()


def seek(log: ToolCallLog, events: Sequence[Event]) -> None:
    """What replay does on a seek: show the state's calls."""
    state = fold(events)
    log.show_calls(state.calls, state.turns, state.subagents)
    log.settle()


def described(log: ToolCallLog) -> list[tuple[Any, ...]]:
    """Each row shown: what it is, where it is nested, whether it is folded, and its line as painted."""
    return [
        (type(row).__name__, row.depth, row.folded, getattr(row, "origin_task", None), log.paint_line(n).text)
        for n, row in enumerate(log.rows)
    ]


def calls(log: ToolCallLog) -> list[tuple[str | None, str, int]]:
    """The call rows shown: (origin, tool, depth)."""
    return [(row.origin_task, row.tool, row.depth) for row in log.rows if isinstance(row, ToolCallRecord)]


class Logs(App[None]):
    """Tool logs side by side, and a space binding of the app's own (as replay's play/pause)."""

    BINDINGS = [Binding("space", "played", "Play")]

    def __init__(self, count: int = 1) -> None:
        super().__init__()
        self.count = count
        self.selected: list[ToolCallLog.Selected] = []
        self.played = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            for n in range(self.count):
                yield ToolCallLog(id=f"log{n}")

    def action_played(self) -> None:
        self.played += 1

    def on_tool_call_log_selected(self, event: ToolCallLog.Selected) -> None:
        self.selected.append(event)

    def pane(self, n: int = 0) -> ToolCallLog:
        return self.query_one(f"#log{n}", ToolCallLog)


async def test_a_running_subagents_calls_are_under_its_task_row_indented_by_depth():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        feed(log, delegation_session()[:12])  # the writer runs; its helper has ended
        await pilot.pause()
        assert calls(log) == [(None, "task", 0), ("w1", "write_file", 1), ("w1", "task", 1)]
        lines = painted(log)
        assert "▾ ◌ task" in lines[1] and "writer ◌ 2 calls · write the code" in lines[1]
        assert lines[2].startswith(f"{clock(2.0)}   ◌ write_file ")
        assert "  ▸ ✓ task" in lines[3] and "helper ✓ 1 call · read it" in lines[3]  # folded: it has ended


async def test_a_finished_subagent_folds_and_space_or_a_click_on_its_mark_unfolds_it():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        feed(log, delegation_session())
        await pilot.pause()
        assert calls(log) == [(None, "task", 0), (None, "task", 0), (None, "wait_tasks", 0)]
        log.focus()
        await pilot.press("home", "down", "space")  # the writer's task row
        await pilot.pause()
        assert calls(log)[:3] == [(None, "task", 0), ("w1", "write_file", 1), ("w1", "task", 1)]
        await pilot.press("down", "down", "space")  # the helper's, two levels down
        await pilot.pause()
        assert ("h1", "read_file", 2) in calls(log)
        assert painted(log)[4].startswith(f"{clock(4.0)}     ✓ read_file ")
        assert app.played == 0
        await pilot.press("down", "space")  # not a task row: the key goes on to the app
        assert app.played == 1
        await pilot.press("home", "down", "space")  # fold the writer again, its helper with it
        await pilot.pause()
        assert calls(log) == [(None, "task", 0), (None, "task", 0), (None, "wait_tasks", 0)]

        tester_line = 2
        await pilot.click(log, offset=(9 + 1, tester_line))  # the fold mark, after the clock
        await pilot.pause()
        assert ("t1", "execute", 1) in calls(log) and not app.selected
        await pilot.click(log, offset=(40, tester_line))  # elsewhere on the row: its details
        await pilot.pause()
        assert app.selected[-1].task_id == "t1"


async def test_a_subagent_the_reader_unfolded_stays_unfolded_when_it_ends():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        events = delegation_session()
        feed(log, events[:6])
        log.focus()
        await pilot.press("home", "down", "space", "space")  # folded, then unfolded again, while it runs
        feed(log, events[6:])
        await pilot.pause()
        assert [c[:2] for c in calls(log)] == [
            (None, "task"),
            ("w1", "write_file"),
            ("w1", "task"),  # the helper folded when it ended, as nobody touched it
            (None, "task"),  # so did the tester
            (None, "wait_tasks"),
        ]


async def test_rows_show_the_recorded_time_and_a_running_calls_elapsed_time_is_counted_to_now_t():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        feed(log, delegation_session()[:9])  # the helper's read_file (t = 4.0) runs
        log.now_t = 5.5
        await pilot.pause()
        read = next(row for row in log.rows if isinstance(row, ToolCallRecord) and row.tool == "read_file")
        line = painted(log)[log.rows.index(read)]
        assert line.startswith(clock(4.0)) and line.endswith(f"running {duration(1.5):>8}")
        log.now_t = 64.0  # a minute on, as replay's cursor or the app's tick says
        await pilot.pause()
        assert painted(log)[log.rows.index(read)].endswith(f"running {duration(60.0):>8}")
        writer_row = painted(log)[1]
        assert writer_row.startswith(clock(0.5)) and writer_row.endswith(f"running {duration(63.5):>8}")


async def test_enter_on_a_task_row_names_the_subagent_it_started():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        feed(log, delegation_session()[:12])
        log.focus()
        await pilot.press("home", "down", "enter", "down", "enter")
        await pilot.pause()
        task, write = app.selected
        assert (task.task_id, task.record.tool, task.record.origin_task) == ("w1", "task", None)
        assert (write.task_id, write.record.tool, write.record.origin_task) == (None, "write_file", "w1")


@pytest.mark.parametrize("call_filter", ["", "status:failed", "tool:task,read", "helper"])
async def test_showing_a_states_calls_matches_feeding_the_events_and_seeking_anywhere(call_filter):
    app = Logs(count=3)
    async with app.run_test(size=(110, 60)) as pilot:
        events = delegation_session() + second_turn()
        fed, shown, sought = app.pane(0), app.pane(1), app.pane(2)
        positions = list(range(len(events) + 1))
        jumps = random.Random(14).sample(positions, len(positions))
        for log in (fed, shown, sought) if call_filter else ():
            log.focus()
            await pilot.press("f", *call_filter, "enter")
        await pilot.pause()
        for position, jump in zip(positions, jumps, strict=True):
            if position:
                feed(fed, events[position - 1 : position])
            seek(shown, events[:position])  # a step forward at a time: only the tail differs
            seek(sought, events[:jump])  # back and forth
            seek(sought, events[:position])
            for log in (fed, shown, sought):
                log.now_t = events[position - 1].t if position else 0.0
            assert described(shown) == described(fed), position
            assert described(sought) == described(fed), position
        assert any(isinstance(row, ToolCallRecord) and row.origin_task for row in fed.rows) or not call_filter


async def test_a_seek_keeps_the_rows_that_still_hold():
    app = Logs()
    async with app.run_test(size=(110, 30)) as pilot:
        log = app.pane()
        events = delegation_session()
        seek(log, events[:20])
        await pilot.pause()
        kept = list(log.records)
        seek(log, events)
        assert log.records[: len(kept)] == kept  # the same row objects: nothing rebuilt
        seek(log, events[:8])
        assert log.records == kept[:3]


async def test_the_filter_finds_a_subagents_calls_even_folded_and_clearing_it_folds_them_again():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        log.border_title = "Tool calls"
        feed(log, delegation_session())
        log.focus()
        await pilot.press("f", *"status:failed", "enter")
        await pilot.pause()
        assert calls(log) == [(None, "task", 0), ("t1", "execute", 1)]  # under the task row of its tester
        assert isinstance(log.rows[0], TurnDivider) and "1/7" in log.border_title
        await pilot.press("F")
        await pilot.pause()
        assert calls(log) == [(None, "task", 0), (None, "task", 0), (None, "wait_tasks", 0)]

        await pilot.press("f", *"tool:read", "enter")
        await pilot.pause()
        assert calls(log) == [(None, "task", 0), ("w1", "task", 1), ("h1", "read_file", 2)]
        await pilot.press("F", "home", "slash", *"tester")  # search reads the task rows' subagents
        await pilot.pause()
        assert bar(app).is_open and log.rows[log.cursor].subagent.name == "tester"  # type: ignore[union-attr]


async def test_the_cursor_stays_on_its_row_when_a_subagents_call_comes_in_above_it():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        events = delegation_session()
        feed(log, events[:21])  # the tester runs in the background; the main agent waits for it
        feed(log, [ToolCallStarted(seq=21, t=10.6, call_id="c4", tool="ls", args={"path": "/"})])
        log.focus()
        await pilot.press("end", "up")  # on wait_tasks, above the last row: not following
        assert log.rows[log.cursor].tool == "wait_tasks"  # type: ignore[union-attr]
        feed(log, [ToolCallStarted(seq=22, t=10.7, origin=TESTER, call_id="c2", tool="ls", args={"path": "/t"})])
        await pilot.pause()
        assert calls(log)[-4:] == [("t1", "execute", 1), ("t1", "ls", 1), (None, "wait_tasks", 0), (None, "ls", 0)]
        assert log.rows[log.cursor].tool == "wait_tasks"  # type: ignore[union-attr]
        assert "wait_tasks" in painted(log)[log.cursor]


def clock(t: float) -> str:
    """The wall-clock time ``t`` seconds into the sample turn, as a row shows it."""
    return time.strftime("%H:%M:%S", time.localtime(STARTED_AT + t))


def second_turn() -> list[Event]:
    """A second turn in which the writer is asked again and a call id of the first turn comes back."""
    from deep_tui.events import (
        Origin,
        RunFinished,
        RunStarted,
        SubagentFinished,
        SubagentStarted,
        ToolCallFinished,
    )

    again = Origin(task_id="w2", name="writer")
    return [
        RunStarted(run_id="r2", session_id="sess", turn=2, prompt="again", agent="demo", started_at=STARTED_AT + 60),
        ToolCallStarted(seq=1, t=0.5, call_id="c1", tool="task", args={"description": "once more"}),
        SubagentStarted(seq=2, t=1.0, origin=again, task_id="w2", name="writer", call_id="c1"),
        ToolCallStarted(seq=3, t=1.5, origin=again, call_id="c1", tool="edit_file", args={"path": "/a.py"}),
        ToolCallFinished(seq=4, t=2.0, origin=again, call_id="c1", tool="edit_file", outcome="failed", duration=0.5),
        SubagentFinished(seq=5, t=2.5, origin=again, task_id="w2", name="writer", status="cancelled"),
        ToolCallFinished(seq=6, t=3.0, call_id="c1", tool="task", outcome="cancelled", duration=2.5),
        RunFinished(seq=7, t=3.0, status="cancelled", duration=3.0),
    ]


async def test_a_subagents_calls_shown_then_the_whole_run_again_keep_its_rows_cursor_and_scroll():
    app = Logs()
    async with app.run_test(size=(110, 4)) as pilot:
        log = app.pane()
        session = delegation_session()
        more = [
            ToolCallStarted(seq=len(session) + n, t=30.0 + n, call_id=f"m{n}", tool="ls", args={}) for n in range(20)
        ]
        events = session[:-1] + more  # the main agent goes on after its subagents
        state = fold(events)
        log.show_calls(state.calls, state.turns, state.subagents)
        log.settle()
        await pilot.pause()
        log.cursor = len(log.rows) - 3
        await pilot.pause()
        rows, cursor, scrolled = list(log.rows), log.cursor, log.scroll_y
        assert scrolled > 0

        writer = state.agents["w1"]
        log.show_calls(writer.calls, state.turns, state.subagents, agent="w1")
        log.settle()
        await pilot.pause()
        assert {row.origin_task for row in log.records} == {"w1", "h1"}  # the writer's, and its helper's under it
        assert log.cursor == -1 and log.scroll_y == 0

        later = fold(events + [ToolCallStarted(seq=len(session) + 20, t=99.0, call_id="c9", tool="ls", args={})])
        log.show_calls(later.calls, later.turns, later.subagents)  # back, with a call made meanwhile
        log.settle()
        await pilot.pause()
        assert all(map(operator.is_, log.rows, rows)) and log.rows[-1].call_id == "c9"  # the same rows, one more
        assert log.cursor == cursor and log.scroll_y == scrolled


async def test_a_focus_change_repaints_the_cursors_line_in_its_new_colour_and_no_other_line():
    app = Logs(count=2)
    async with app.run_test(size=(110, 24)) as pilot:
        log = app.pane(0)
        feed(log, delegation_session())
        log.focus()
        await pilot.press("home")
        await pilot.pause()
        region = Region(0, 0, log.size.width, log.size.height)
        focused_background = log.render_lines(region)[0]
        painted_lines: list[int] = []
        paint_line = log.paint_line
        log.paint_line = lambda index: painted_lines.append(index) or paint_line(index)  # type: ignore[method-assign]
        app.pane(1).focus()
        await pilot.pause()
        blurred_background = log.render_lines(region)[0]
        assert painted_lines == [0]  # the cursor's line, whose colour follows the focus; the others were kept
        assert focused_background.text == blurred_background.text
        backgrounds = [{s.style.bgcolor for s in line if s.style} for line in (focused_background, blurred_background)]
        focused, blurred = (next(iter(each)) for each in backgrounds)
        assert backgrounds == [{focused}, {blurred}]
        theme, under = app.get_css_variables(), log.background_colors[1]
        assert (focused, blurred) == (  # the blurred cursor's translucent colour over the pane's, not drawn opaque
            (under + Color.parse(theme["block-cursor-background"])).rich_color,
            (under + Color.parse(theme["block-cursor-blurred-background"])).rich_color,
        )


async def test_a_batch_of_calls_repaints_the_log_once():
    app = Logs()
    async with app.run_test(size=(110, 20)) as pilot:
        log = app.pane()
        await pilot.pause()
        repaints: list[tuple[int, int]] = []
        refresh_lines = log.refresh_lines
        log.refresh_lines = lambda y, n=1: repaints.append((y, n)) or refresh_lines(y, n)  # type: ignore[method-assign]
        feed(log, delegation_session())  # what the dashboard hands the log of one batch, settled at its end
        assert len(repaints) == 1 and repaints[0][0] == 0 and repaints[0][1] >= len(log.rows)
