"""The agents view: the main agent and, under each agent, the subagents it started, with how each is doing.

A row per agent: its status, its name, how long it has run (live while it runs, from
``now_t``, the seconds into the turn that the app sets from its tick or replay's
cursor), the tool it is in or how it ended, its calls, and what it spent (a subagent's
usage comes with its end). Enter or a click on a row asks the app to show that agent's
own output, calls and todos.

A session has tens of subagents, not thousands: a new one is placed by a pass over
the rows, a change to a known one repaints its line alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.message import Message
from textual.strip import Strip

from deep_tui.format import cost, duration, plural, tokens
from deep_tui.terminal_text import visible
from deep_tui.widgets.line_view import LineView

if TYPE_CHECKING:
    from deep_tui.state import SubagentRecord

MARKS = {
    "running": ("◌", Style(color="yellow", bold=True)),
    "completed": ("✓", Style(color="green", bold=True)),
    "failed": ("✗", Style(color="red", bold=True)),
    "cancelled": ("■", Style(color="magenta", bold=True)),
}
NAME_WIDTH = 16
DIM = Style(dim=True)
BOLD = Style(bold=True)
PLAIN = Style()
MAIN = Style(color="magenta", bold=True)


@dataclass(eq=False, slots=True)
class AgentRow:
    """One row: the main agent (``record`` None) or a subagent."""

    task_id: str | None
    record: SubagentRecord | None = None
    depth: int = 0
    """0 for the main agent, 1 for its subagents, ..."""


class AgentsView(LineView, can_focus=True):
    """Every agent of the session as a tree, the main agent at the root; Enter shows the one under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous agent", show=False),
        Binding("down", "cursor(1)", "Next agent", show=False),
        Binding("home", "cursor_to(0)", "Main agent", show=False),
        Binding("end", "cursor_to(-1)", "Last agent", show=False),
        Binding("enter", "open", "Show its work", tooltip="Show this agent's own output, tool calls and todos"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"agents-view--cursor"}
    DEFAULT_CSS = """
    AgentsView { background: $surface; }
    AgentsView > .agents-view--cursor { background: $block-cursor-blurred-background; }
    AgentsView:focus > .agents-view--cursor { background: $block-cursor-background; }
    """

    class Selected(Message):
        """The user chose an agent: ``task_id`` names a subagent, None the main agent."""

        def __init__(self, task_id: str | None) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[AgentRow] = [AgentRow(None)]
        self._where: dict[str, AgentRow] = {}
        self.cursor = 0
        self._now_t: float | None = None

    @property
    def now_t(self) -> float | None:
        """Seconds into the running turn, which running subagents' elapsed times count to; None shows none."""
        return self._now_t

    @now_t.setter
    def now_t(self, value: float | None) -> None:
        self._now_t = value
        running = [line for line, row in enumerate(self.rows) if row.record is not None and row.record.running]
        if running:  # one refresh: each costs as much as the lines it repaints
            self.refresh_lines(running[0], running[-1] - running[0] + 1)

    def on_mount(self) -> None:
        self.set_line_count(len(self.rows))

    # What the app calls -------------------------------------------------------------------

    def show(self, subagents: Mapping[str, SubagentRecord]) -> None:
        """Show exactly ``subagents`` (a run state's, in the order they started); the cursor stays on its agent."""
        at = self.rows[self.cursor].task_id if self.cursor < len(self.rows) else None
        self.rows = [AgentRow(None)]
        self._where = {}
        for record in subagents.values():
            self._insert(record)
        self.cursor = next((n for n, row in enumerate(self.rows) if row.task_id == at), 0)
        self._changed(0)

    def update(self, record: SubagentRecord) -> None:
        """A subagent started or changed."""
        row = self._where.get(record.task_id)
        if row is not None:
            row.record = record
            self.repaint_lines(0, self.rows.index(row) + 1)  # its row, and the main agent's, which counts them
            return
        line = self._insert(record)
        if line <= self.cursor:
            self.cursor += 1
        self._changed(line)

    def _insert(self, record: SubagentRecord) -> int:
        """Put ``record`` after the last row under its parent (at the end if its parent is not shown); its line."""
        parent = self._where.get(record.parent) if record.parent is not None else self.rows[0]
        if parent is None:
            line, depth = len(self.rows), 1
        else:
            line = self.rows.index(parent) + 1
            while line < len(self.rows) and self.rows[line].depth > parent.depth:
                line += 1
            depth = parent.depth + 1
        row = AgentRow(record.task_id, record, depth)
        self.rows.insert(line, row)
        self._where[record.task_id] = row
        return line

    def _changed(self, line: int) -> None:
        self.text_changed(line)
        self.set_line_count(len(self.rows))
        self.refresh()

    # Drawing -------------------------------------------------------------------------------

    def line_key(self, index: int) -> object | None:
        if index >= len(self.rows):
            return None
        row = self.rows[index]
        if row.record is None:
            return ("main", self._counts())
        seconds = row.record.elapsed(self._now_t) if self._now_t is not None or not row.record.running else None
        return (row.record, row.depth, None if seconds is None else round(seconds, 1))

    def paint_line(self, index: int) -> Strip:
        row = self.rows[index]
        width = self._paint_width
        segments = _main(self._counts(), width) if row.record is None else _agent(row, width, self._now_t)
        return Strip(segments)

    def line_style(self, index: int) -> Style | None:
        return self.component_style("agents-view--cursor", partial=False) if self._has_cursor(index) else None

    def line_text(self, index: int) -> str:
        row = self.rows[index]
        if row.record is None:
            return "main agent"
        record = row.record
        return f"{visible(record.name)} {record.status} {record.current_tool or ''} {visible(record.error or '')}"

    def _counts(self) -> tuple[int, int]:
        """The subagents, and how many of them run."""
        records = [row.record for row in self.rows if row.record is not None]
        return len(records), sum(record.running for record in records)

    # Cursor --------------------------------------------------------------------------------

    def _has_cursor(self, index: int) -> bool:
        return index == self.cursor

    def action_cursor(self, delta: int) -> None:
        self._move_to(min(max(self.cursor + delta, 0), len(self.rows) - 1))

    def action_cursor_to(self, line: int) -> None:
        self._move_to(line % len(self.rows))

    def _move_to(self, line: int) -> None:
        before, self.cursor = self.cursor, line
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if line < top:
            self.scroll_to(y=line, animate=False, immediate=True)
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False, immediate=True)
        self.refresh_lines(before)
        self.refresh_lines(line)

    def search_origin(self) -> int:
        return self.cursor

    def show_line(self, line: int) -> None:
        self._move_to(line)

    def action_open(self) -> None:
        self.post_message(self.Selected(self.rows[self.cursor].task_id))

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        line = self.scroll_offset.y + offset.y
        if 0 <= line < len(self.rows):
            self._move_to(line)
            self.action_open()


def _main(counts: tuple[int, int], width: int) -> list[Segment]:
    total, running = counts
    summary = f"{total} {plural(total, 'subagent')}" + (f", {running} running" if running else "")
    return [Segment("● ", MAIN), Segment("main agent", BOLD), Segment(f"  {summary}"[: max(width - 12, 0)], DIM)]


def _agent(row: AgentRow, width: int, now_t: float | None) -> list[Segment]:
    """``indent mark name elapsed calls tokens cost  tool-or-outcome``; a narrow pane keeps the first columns."""
    record = row.record
    assert record is not None
    mark, style = MARKS.get(record.status, ("?", PLAIN))
    lead = "  " * row.depth
    name = visible(record.name)
    room = max(NAME_WIDTH - len(lead), 4)  # the indent comes out of the name's room: the columns line up
    name = name if cell_len(name) <= room else name[: room - 1] + "…"
    seconds = record.elapsed(now_t) if now_t is not None or not record.running else None
    elapsed = duration(seconds) if seconds is not None else ""
    calls = f"{record.calls} {plural(record.calls, 'call')}"
    usage = record.usage
    spent = ""
    if usage is not None:
        spent = f"{tokens(usage.input_tokens + usage.output_tokens)} tok" + (
            f" {cost(usage.cost)}" if usage.cost is not None else ""
        )
    if record.running:
        doing, doing_style = (f"→ {visible(record.current_tool)}" if record.current_tool else ""), PLAIN
    else:
        doing = visible(record.error or "") if record.status != "completed" else ""
        doing_style = style if doing else PLAIN
    segments = [
        Segment(lead, DIM),
        Segment(f"{mark} ", style),
        Segment(f"{name:<{room}} ", BOLD),
        Segment(f"{elapsed:>8} ", DIM),
        Segment(f"{calls:>9} ", PLAIN),
        Segment(f"{spent:>16}  ", DIM),
    ]
    used = sum(cell_len(segment.text) for segment in segments)
    room = width - used
    if room < 0:  # narrow: cut the line at the pane's edge
        return list(Strip(segments).crop(0, width))
    if cell_len(doing) > room:
        doing = doing[: max(room - 1, 0)] + "…"
    segments.append(Segment(doing, doing_style))
    return segments
