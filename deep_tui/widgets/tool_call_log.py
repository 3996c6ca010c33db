"""The tool-call log: one row per call, a subagent's calls folded under the ``task`` call that started it.

``DataTable`` costs about 33 ms per appended row and ``ListView`` half a second
at 1,000 items, so this is a line-based view over a list of records: adding or
finishing a call costs a bisection at most, and only the visible rows are drawn.
Enter or a click on a row asks the app to show its full arguments and result. Each
turn starts with a divider row naming its prompt. ``f`` filters the rows, and
``space`` folds a subagent's calls (see ``tool_filter``).

Times come from the events: a row shows the wall-clock time its call started (its
turn's ``started_at`` plus the event's ``t``), and a running call's elapsed time is
``now_t`` (seconds into the turn, which the app sets from its tick or from replay's
cursor) less its start, so a replayed run shows its recorded times.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from deep_tui.format import key_argument
from deep_tui.terminal_text import visible
from deep_tui.tool_filter import CallFilter, CallTree
from deep_tui.widgets.line_view import LineView
from deep_tui.widgets.search_bar import SearchBar
from deep_tui.widgets.tool_call_rows import (
    KEPT_PREVIEW,
    Row,
    Subagent,
    ToolCallRecord,
    TurnDivider,
    clock_at,
    clock_in_turn,
    clock_width,
    one_line,
    paint_call,
    paint_divider,
    row_text,
)

if TYPE_CHECKING:
    from deep_tui.events import Origin
    from deep_tui.state import CallRecord, SubagentRecord, TurnRecord

__all__ = ["Subagent", "ToolCallLog", "ToolCallRecord", "TurnDivider"]

RowT = TypeVar("RowT")
T = TypeVar("T")


@dataclass
class KeptView:
    """What the log showed of the main agent while a subagent's calls are shown: going back costs what changed."""

    table: CallTree[Row]
    calls: list[ToolCallRecord]
    sources: list[CallRecord | None]
    dividers: list[TurnDivider]
    live: dict[tuple[str | None, str], ToolCallRecord]
    tasks: dict[tuple[str | None, str], list[ToolCallRecord]]
    agents: dict[str, Subagent]
    cursor: int
    scroll_y: float


class ToolCallLog(LineView, can_focus=True):
    """Every tool call of the session, newest at the bottom, following the newest unless the cursor moved."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous call", show=False),
        Binding("down", "cursor(1)", "Next call", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First call", show=False),
        Binding("end", "cursor_to(-1)", "Last call (and follow)", show=False),
        Binding("enter", "open", "Details", tooltip="Show the call's full arguments and result"),
        Binding("space", "toggle_fold", "Fold", tooltip="Fold or unfold the subagent's calls under this task call"),
        Binding("f", "filter", "Filter", tooltip="Show only some calls: tool:NAME status:failed words"),
        Binding("F", "clear_filter", "Clear filter", tooltip="Show every call again"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"tool-call-log--cursor"}
    DEFAULT_CSS = """
    ToolCallLog { background: $surface; }
    ToolCallLog > .tool-call-log--cursor { background: $block-cursor-blurred-background; }
    ToolCallLog:focus > .tool-call-log--cursor { background: $block-cursor-background; }
    """

    cursor: reactive[int] = reactive(-1, init=False)
    """The highlighted row, or -1 to follow the newest call."""

    class Selected(Message):
        """The user asked for the details of a call; on a ``task`` call, ``task_id`` names its subagent."""

        def __init__(self, record: ToolCallRecord) -> None:
            super().__init__()
            self.record = record
            self.task_id: str | None = record.subagent.task_id if record.subagent is not None else None
            """The subagent the call started, for a ``task`` call that started one: the app shows its work."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._table: CallTree[Row] = CallTree(row_text, self._moved)
        self._calls: list[ToolCallRecord] = []
        """Every call row, in the order the calls started."""
        self._sources: list[CallRecord | None] = []
        """The record each call row was last drawn from (None for a row made from events), by position."""
        self._dividers: list[TurnDivider] = []
        self._live: dict[tuple[str | None, str], ToolCallRecord] = {}
        """The calls still running, by (origin task id, call id): call ids repeat across agents."""
        self._tasks: dict[tuple[str | None, str], list[ToolCallRecord]] = {}
        """The ``task`` calls, by (origin task id, call id), for the subagents they start: the latest last (a model
        may use an id again in a later turn)."""
        self._agents: dict[str, Subagent] = {}
        self._now_t: float | None = None
        self._changed_from: int | None = None
        """The first line that moved or whose text changed since the last repaint was asked for."""
        self._painted_from: int | None = None
        """The first line that only looks different (a ``task`` row's count of calls) since then."""
        self._title: str | None = None
        """The title the pane was given, which the filter is shown after."""
        self._agent: str | None = None
        """The subagent whose calls are shown, or None for the whole run."""
        self._kept: KeptView | None = None
        """The whole run's rows, while a subagent's are shown."""

    @property
    def rows(self) -> list[Row]:
        """The rows shown: every row under unfolded rows, or those the filter keeps."""
        return self._table.shown

    @property
    def records(self) -> list[ToolCallRecord]:
        """The calls, without the turn dividers (filtered out, folded or not), in the order they started."""
        return list(self._calls)

    @property
    def now_t(self) -> float | None:
        """Seconds into the running turn, which running calls' elapsed times count to; None shows none."""
        return self._now_t

    @now_t.setter
    def now_t(self, value: float | None) -> None:
        self._now_t = value
        top = self.scroll_offset.y
        rows = self.rows
        running = [
            line
            for line in range(top, min(top + self.scrollable_content_region.height, len(rows)))
            if isinstance(rows[line], ToolCallRecord) and rows[line].status == "running"  # type: ignore[union-attr]
        ]
        if running:  # one refresh: each costs as much as the lines it repaints
            self.refresh_lines(running[0], running[-1] - running[0] + 1)

    # What the app calls -------------------------------------------------------------

    def turn_started(self, turn: int, prompt: str, started_at: float | None = None) -> None:
        """A divider for the new turn; the log follows the newest call again."""
        self.cursor = -1
        self.follow_end()
        divider = TurnDivider(turn, one_line(prompt), started_at, children=[])
        self._dividers.append(divider)
        self._table.add(divider)
        self._show_changes()

    def call_started(
        self, call_id: str, tool: str, args: dict[str, object], *, t: float | None = None, origin: Origin | None = None
    ) -> None:
        """A call began ``t`` seconds into the turn (None: the caller cannot say, and the row shows the clock now),
        made by the subagent ``origin`` (None: the main agent)."""
        task = origin.task_id if origin is not None else None
        if task is not None and task not in self._agents:  # its start was not seen: known from its events only
            assert origin is not None
            self._agents[task] = Subagent(task, visible(origin.name), origin.parent)
        self._add_call(call_id, tool, args, t, task, clock_in_turn(self._dividers, t))
        self._show_changes()

    def call_finished(
        self,
        call_id: str,
        outcome: str,
        seconds: float,
        preview: str,
        size: int,
        traceback: str | None = None,
        *,
        origin: Origin | None = None,
    ) -> None:
        row = self._live.pop((origin.task_id if origin is not None else None, call_id), None)
        if row is None:
            return
        row.status, row.duration, row.size = outcome, seconds, size
        row.preview = preview[:KEPT_PREVIEW]
        row.traceback = traceback
        self._row_changed(row)
        self._show_changes()

    def subagent_started(self, task_id: str, name: str, *, parent: str | None = None, call_id: str = "") -> None:
        """The subagent ``task_id`` began, started by the ``task`` call ``call_id`` of ``parent`` (None: the main
        agent): its calls go under that call, unfolded while it runs."""
        agent = self._agents.setdefault(task_id, Subagent(task_id, ""))
        agent.name, agent.parent, agent.call_id = visible(name), parent, call_id
        self._link(agent)
        self._show_changes()

    def subagent_finished(self, task_id: str, status: str) -> None:
        """The subagent ended: its calls fold under its ``task`` call, unless the reader unfolded it."""
        agent = self._agents.get(task_id)
        if agent is None:
            return
        agent.status = status
        if agent.row is not None:
            if not agent.toggled:
                self._table.set_folded(agent.row, True)
            self._row_changed(agent.row)
        self._show_changes()

    def show_calls(
        self,
        calls: Sequence[CallRecord],
        turns: Sequence[TurnRecord],
        subagents: Mapping[str, SubagentRecord] | None = None,
        *,
        agent: str | None = None,
    ) -> None:
        """Show exactly ``calls`` (a run state's, in the order they started) under the dividers of ``turns``, each
        subagent's under its ``task`` call with the summary ``subagents`` gives. Rows that still hold are kept:
        the cost is the rows that differ, plus a pass over ``calls`` comparing records (shared by the states a
        seek moves between, so mostly the same objects). ``agent`` names the subagent whose calls these are: the
        whole run's rows are kept aside while it is shown, with their cursor and scroll, and come back with it."""
        if agent != self._agent:
            self._show_agent(agent)
        subagents = subagents if subagents is not None else {}
        kept_turns = _common(
            self._dividers, turns, lambda row, turn: (row.turn, row.prompt) == (turn.turn, one_line(turn.prompt))
        )
        # A turn that goes takes its calls, and those of the turns after it, with it.
        first_gone = self._dividers[kept_turns].turn if kept_turns < len(self._dividers) else None
        kept_calls = 0
        changed: list[tuple[int, CallRecord]] = []
        for row, source, record in zip(self._calls, self._sources, calls, strict=False):  # a seek runs this pass
            if row.call_id != record.call_id or row.origin_task != record.origin_task or row.turn != record.turn:
                break
            if first_gone is not None and row.turn >= first_gone:
                break
            if source is not record:
                changed.append((kept_calls, record))
            kept_calls += 1
        for row in reversed(self._calls[kept_calls:]):
            self._drop(row)
        del self._calls[kept_calls:], self._sources[kept_calls:]
        for divider in reversed(self._dividers[kept_turns:]):
            self._table.remove_last(divider)
        del self._dividers[kept_turns:]
        for task_id in [task_id for task_id in self._agents if task_id not in subagents]:
            agent = self._agents.pop(task_id)
            if agent.row is not None:
                agent.row.subagent, agent.row.folded = None, False
                if not agent.row.children:
                    agent.row.children = None
                self._row_changed(agent.row)
        for n, record in changed:
            self._update(self._calls[n], record)
            self._sources[n] = record
        later_turns = iter(turns[kept_turns:])
        turn = next(later_turns, None)
        for record in itertools.islice(calls, kept_calls, None):
            while turn is not None and turn.index < record.index:
                self._add_turn(turn)
                turn = next(later_turns, None)
            if record.origin_task is not None and record.origin_task in subagents:
                self._know(subagents[record.origin_task])
            self._add_call(
                record.call_id,
                record.tool,
                record.args,
                record.t,
                record.origin_task,
                clock_at(record.started_at),
                record,
            )
        while turn is not None:
            self._add_turn(turn)
            turn = next(later_turns, None)
        for record in subagents.values():
            agent = self._know(record)
            agent.status, agent.calls = record.status, record.calls
            if agent.row is not None:
                if not agent.toggled:
                    self._table.set_folded(agent.row, record.status != "running")
                self._row_changed(agent.row)
        self._show_changes()

    def _show_agent(self, agent: str | None) -> None:
        """Swap the rows shown: the whole run's put aside for a subagent's (made anew), or taken back."""
        if self._agent is None:
            self._kept = KeptView(
                self._table, self._calls, self._sources, self._dividers, self._live, self._tasks, self._agents,
                self.cursor, self.scroll_y,
            )  # fmt: skip
        kept = self._kept if agent is None else None
        self._agent = agent
        if kept is None:
            table: CallTree[Row] = CallTree(row_text, self._moved)
            table.filter = self._table.filter  # the filter typed stays on
            kept = KeptView(table, [], [], [], {}, {}, {}, -1, 0)
        else:
            self._kept = None
        self._table, self._calls, self._sources, self._dividers = kept.table, kept.calls, kept.sources, kept.dividers
        self._live, self._tasks, self._agents = kept.live, kept.tasks, kept.agents
        self.set_reactive(ToolCallLog.cursor, kept.cursor)
        self._moved(0, 0)  # every line may differ
        self._painted_from = 0
        self._show_changes()
        self.call_after_refresh(self.scroll_to, y=kept.scroll_y, animate=False)  # once its new height is laid out

    def _add_turn(self, turn: TurnRecord) -> None:
        divider = TurnDivider(turn.turn, one_line(turn.prompt), turn.started_at, children=[])
        self._dividers.append(divider)
        self._table.add(divider)

    def _add_call(
        self,
        call_id: str,
        tool: str,
        args: dict[str, object],
        t: float | None,
        task: str | None,
        clock: str,
        record: CallRecord | None = None,
    ) -> ToolCallRecord:
        """A row for a call that started (``record`` None) or as a run state's ``record`` has it."""
        agent = self._agents.get(task) if task is not None else None
        above: Row | None = agent.row if agent is not None and agent.row is not None else None
        if above is None and self._dividers:
            above = self._dividers[-1]
        row = ToolCallRecord(call_id, visible(tool), args, key_argument(tool, args), clock, t, origin_task=task)
        row.turn = self._dividers[-1].turn if self._dividers else 0
        row.depth = above.depth + 1 if isinstance(above, ToolCallRecord) else 0
        if record is not None:  # as it is now, before the filter judges it
            row.turn, row.status, row.duration = record.turn, record.status, record.duration
            row.size, row.preview = record.size, record.preview[:KEPT_PREVIEW]
        if row.status == "running":
            self._live[(task, call_id)] = row
        self._calls.append(row)
        self._sources.append(record)
        self._table.add(row, above)
        if tool == "task":
            self._tasks.setdefault((task, call_id), []).append(row)
        if agent is not None:
            agent.calls += 1
            if agent.row is not None:
                self._repaint_row(agent.row)
        return row

    def _know(self, record: SubagentRecord) -> Subagent:
        """The log's subagent for ``record``, under its ``task`` call."""
        agent = self._agents.get(record.task_id)
        if agent is None:
            agent = self._agents[record.task_id] = Subagent(
                record.task_id, visible(record.name), record.parent, record.call_id
            )
        if agent.row is None:
            self._link(agent)
        return agent

    def _link(self, agent: Subagent) -> None:
        """Put ``agent`` under the ``task`` call that started it, if the log has it."""
        rows = self._tasks.get((agent.parent, agent.call_id))
        row = rows[-1] if rows else None
        if row is None or agent.row is row:
            return
        if row.subagent is not None:  # the same call is not to start two: the later one is another turn's
            return
        agent.row, row.subagent = row, agent
        if row.children is None:
            row.children = []
        self._row_changed(row)

    def _update(self, row: ToolCallRecord, record: CallRecord) -> None:
        """Bring a row in line with the run state's record of its call."""
        if (row.status, row.duration, row.size) == (record.status, record.duration, record.size):
            return  # another state's record of the call as it was: nothing to show
        row.status, row.duration, row.size = record.status, record.duration, record.size
        row.tool, row.preview = visible(record.tool), record.preview[:KEPT_PREVIEW]
        if row.status == "running":
            self._live[(row.origin_task, row.call_id)] = row
        else:
            self._live.pop((row.origin_task, row.call_id), None)
        self._row_changed(row)

    def _drop(self, row: ToolCallRecord) -> None:
        """Take away ``row``, the last call row still here."""
        key = (row.origin_task, row.call_id)
        if self._live.get(key) is row:
            del self._live[key]
        tasks = self._tasks.get(key)
        if tasks and tasks[-1] is row:
            tasks.pop()
        if row.subagent is not None:
            row.subagent.row = None
        agent = self._agents.get(row.origin_task) if row.origin_task is not None else None
        if agent is not None:
            agent.calls -= 1
        self._table.remove_last(row)

    def _row_changed(self, row: Row) -> None:
        line = self._table.changed(row)
        if line is not None:
            self._moved(line, 0)

    def _repaint_row(self, row: Row) -> None:
        """``row`` looks different, its text the same: repainted with the next changes shown."""
        line = self._table.line_of(row)
        if line is not None:
            self._painted_from = line if self._painted_from is None else min(self._painted_from, line)

    def _moved(self, line: int, count: int) -> None:
        """Rows shown were inserted (``count`` > 0), removed (< 0) or changed (0) at ``line``: the cursor stays on
        its row (on the row above, if its row went)."""
        self._changed_from = line if self._changed_from is None else min(self._changed_from, line)
        if count == 0:
            return
        cursor = self.cursor
        if cursor < 0 or line > cursor:
            return
        if count > 0 or cursor >= line - count:
            cursor += count
        else:
            cursor = max(line - 1, 0)
        self.set_reactive(ToolCallLog.cursor, cursor)

    def _show_changes(self) -> None:
        """Show what changed since the last call: the lines from the first that moved or changed."""
        line, self._changed_from = self._changed_from, None
        painted, self._painted_from = self._painted_from, None
        if line is None and painted is None:
            return
        rows, before = len(self.rows), self._line_total
        if line is not None:
            self.text_changed(line)
        if before != rows:
            self.set_line_count(rows)
        if self.cursor >= rows:
            self.set_reactive(ToolCallLog.cursor, -1)
        first = min(n for n in (line, painted) if n is not None)
        self.repaint_lines(first, max(rows, before) - first)

    def wants_follow(self) -> bool:
        return self.cursor < 0 and super().wants_follow()

    # Folding ------------------------------------------------------------------------------

    def action_toggle_fold(self) -> None:
        row = self._cursor_row_object()
        if isinstance(row, ToolCallRecord) and row.children is not None:
            self._fold(row, not row.folded)

    def _fold(self, row: ToolCallRecord, folded: bool) -> None:
        if row.subagent is not None:
            row.subagent.toggled = True
        if self.cursor < 0:  # following the end: the cursor stays on the row it is on
            self.set_reactive(ToolCallLog.cursor, self._cursor_row())
        self._table.set_folded(row, folded)
        self._repaint_row(row)
        self._show_changes()
        if self.cursor == len(self.rows) - 1:
            self.set_reactive(ToolCallLog.cursor, -1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self._table.filter is not None
        if action == "toggle_fold":  # otherwise the key goes on to the screen (replay's play/pause)
            row = self._cursor_row_object()
            return self._table.filter is None and isinstance(row, ToolCallRecord) and row.children is not None
        return super().check_action(action, parameters)

    # Search and filter --------------------------------------------------------------------

    def line_text(self, index: int) -> str:
        return row_text(self.rows[index])

    def search_origin(self) -> int:
        return self._cursor_row()

    def show_line(self, line: int) -> None:
        if line != self._cursor_row():  # moving the cursor repaints the whole log
            self._move_to(line)

    async def action_filter(self) -> None:
        shown = self._table.filter
        await self.open_bar("filter", shown.text if shown else "")

    def action_clear_filter(self) -> None:
        self._set_filter(None)

    def on_search_bar_submitted(self, event: SearchBar.Submitted) -> None:
        if event.purpose != "filter" or self._bar is None:
            return
        event.stop()
        try:
            call_filter = CallFilter.parse(event.value) if event.value.strip() else None
        except ValueError as exc:
            self.notify(str(exc), title="Filter", severity="warning", markup=False)  # it quotes what was typed
            return
        self._bar.close()
        self._set_filter(call_filter)

    def _set_filter(self, call_filter: CallFilter | None) -> None:
        """Show what ``call_filter`` keeps, the row under the cursor staying under it if it is kept."""
        row = self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None
        self._table.set_filter(call_filter)
        self._changed_from = None
        self.text_changed(0)
        self.set_line_count(len(self.rows))
        line = self._table.line_of(row) if row is not None else None
        self.cursor = -1 if line is None or line == len(self.rows) - 1 else line
        self._show_filter()
        self.refresh_bindings()
        self.refresh()

    def settle(self) -> None:
        super().settle()
        if self._table.filter is not None:
            self._show_filter()

    def _show_filter(self) -> None:
        """The filter and how many calls it shows, after the pane's title."""
        if self._title is None:
            self._title = self.border_title or ""
        shown = self._table.filter
        title = self._title
        if shown is not None:
            count = f"{self._table.calls_shown}/{self._table.calls}"
            title += f" · [b]{escape(shown.text)}[/b] {count} [dim]F clears[/]"
        if title != self.border_title:
            self.border_title = title

    # Drawing ----------------------------------------------------------------------------

    def line_key(self, index: int) -> object | None:
        if index >= len(self.rows):
            return None
        row = self.rows[index]
        if isinstance(row, TurnDivider):
            return row
        agent = row.subagent
        summary = (agent.status, agent.calls, agent.name, row.folded) if agent is not None else row.children is None
        return (row, row.status, self._seconds(row), summary)

    def paint_line(self, index: int) -> Strip:
        row = self.rows[index]
        if isinstance(row, TurnDivider):
            return Strip(paint_divider(row, self._paint_width))
        return Strip(paint_call(row, self._paint_width, self._seconds(row)))

    def line_style(self, index: int) -> Style | None:
        return self.component_style("tool-call-log--cursor", partial=False) if self._has_cursor(index) else None

    def _seconds(self, row: ToolCallRecord) -> float | None:
        if row.duration is not None or row.status != "running":
            return row.duration
        if self._now_t is None or row.t is None:
            return None
        return max(self._now_t - row.t, 0.0)

    # Cursor -----------------------------------------------------------------------------

    def _cursor_row(self) -> int:
        return len(self.rows) - 1 if self.cursor < 0 else self.cursor

    def _cursor_row_object(self) -> Row | None:
        rows = self.rows
        return rows[self._cursor_row()] if rows else None

    def _has_cursor(self, index: int) -> bool:
        return index == self._cursor_row() and (self.has_focus or self.cursor >= 0)

    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self._move_to(min(max(self._cursor_row() + delta, 0), len(self.rows) - 1))

    def action_cursor_to(self, row: int) -> None:
        if self.rows:
            self._move_to(row % len(self.rows))

    def _move_to(self, row: int) -> None:
        before = self._cursor_row()
        self.cursor = -1 if row == len(self.rows) - 1 else row
        top, height = self.scroll_offset.y, self.size.height
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)
        else:  # the view stays: only the two rows the cursor left and reached change
            self.refresh_lines(before)
            self.refresh_lines(row)
        self.refresh_bindings()

    def action_open(self) -> None:
        row = self._cursor_row_object()
        if isinstance(row, ToolCallRecord):
            self.post_message(self.Selected(row))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)  # ``event.y`` counts the border too
        if offset is None:
            return
        line = self.scroll_offset.y + offset.y
        if not 0 <= line < len(self.rows):
            return
        row = self.rows[line]
        self._move_to(line)
        if isinstance(row, ToolCallRecord) and row.children is not None:
            glyph = clock_width(self._paint_width) + 2 * row.depth + self.scroll_offset.x
            if glyph <= offset.x < glyph + 2:  # the fold mark
                self._fold(row, not row.folded)
                return
        self.action_open()


def _common(have: Sequence[RowT], want: Sequence[T], same: Callable[[RowT, T], bool]) -> int:
    """How many of the first rows of ``have`` match the first of ``want``."""
    count = min(len(have), len(want))
    for n in range(count):
        if not same(have[n], want[n]):
            return n
    return count
