"""The tool-call log: one row per call, with a live elapsed time while it runs.

``DataTable`` costs about 33 ms per appended row and ``ListView`` half a second
at 1,000 items, so this is a line-based view over a list of records: adding or
finishing a call is O(1), and only the visible rows are drawn. Enter or a click
on a row asks the app to show its full arguments and result. Each turn starts
with a divider row naming its prompt. ``f`` filters the rows (see ``tool_filter``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.markup import escape
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip

from deep_tui.format import duration, key_argument
from deep_tui.terminal_text import visible
from deep_tui.tool_filter import CallFilter, CallTable
from deep_tui.widgets.line_view import LineView
from deep_tui.widgets.search_bar import SearchBar

ICONS = {
    status: (icon, Style(color=colour, bold=True), Style(color=colour))
    for status, icon, colour in (
        ("running", "◌", "yellow"),
        ("success", "✓", "green"),
        ("failed", "✗", "red"),
        ("retried", "↻", "red"),
        ("denied", "⊘", "red"),
        ("interrupted", "◌", "magenta"),
        ("cancelled", "■", "magenta"),
    )
}
"""Per status: its mark, and the styles of the mark and of the status, made once (parsing a colour is slow)."""
KEPT_PREVIEW = 300
"""Characters of a result kept per row: the detail view reads the whole result from the session, and
10,000 rows of full previews would be 20 MB."""
DIM = Style(dim=True)
BOLD = Style(bold=True)
PLAIN = Style()


@dataclass
class ToolCallRecord:
    """One call as the log shows it; args and the result preview are kept for the detail view."""

    call_id: str
    tool: str
    args: dict[str, object]
    key: str
    clock: str
    """Wall-clock time the call started, HH:MM:SS."""
    started: float
    """``time.monotonic()`` when the call started, for the live elapsed time."""
    status: str = "running"
    duration: float | None = None
    preview: str = ""
    size: int = 0
    traceback: str | None = None
    """Where the tool raised, for a failed call."""


@dataclass(frozen=True)
class TurnDivider:
    """The row that starts a turn's calls."""

    turn: int
    prompt: str


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
        """The user asked for the details of a call."""

        def __init__(self, record: ToolCallRecord) -> None:
            super().__init__()
            self.record = record

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._table: CallTable[ToolCallRecord | TurnDivider] = CallTable(
            lambda row: isinstance(row, ToolCallRecord), _row_text
        )
        self._index: dict[str, ToolCallRecord] = {}
        self._title: str | None = None
        """The title the pane was given, which the filter is shown after."""

    @property
    def rows(self) -> list[ToolCallRecord | TurnDivider]:
        """The rows shown: every row, or those the filter keeps."""
        return self._table.shown

    @property
    def records(self) -> list[ToolCallRecord]:
        """The calls, without the turn dividers (filtered out or not)."""
        return [row for row in self._table.rows if isinstance(row, ToolCallRecord)]

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)

    # What the app calls -------------------------------------------------------------

    def turn_started(self, turn: int, prompt: str) -> None:
        """A divider for the new turn; the log follows the newest call again."""
        self.cursor = -1
        self.follow_end()
        self._append(TurnDivider(turn, visible(" ".join(prompt[:500].split()))))

    def call_started(self, call_id: str, tool: str, args: dict[str, object]) -> None:
        record = ToolCallRecord(
            call_id, visible(tool), args, key_argument(tool, args), time.strftime("%H:%M:%S"), time.monotonic()
        )
        self._index[call_id] = record
        self._append(record)

    def call_finished(
        self, call_id: str, outcome: str, seconds: float, preview: str, size: int, traceback: str | None = None
    ) -> None:
        record = self._index.get(call_id)
        if record is None:
            return
        record.status, record.duration, record.size = outcome, seconds, size
        record.preview = preview[:KEPT_PREVIEW]
        record.traceback = traceback
        shown = len(self.rows)
        line = self._table.changed(record)  # a filter on the outcome may show or hide it now
        if line is not None:
            self.text_changed(line)
            if len(self.rows) == shown:
                self.refresh_lines(line)
            else:
                self.set_line_count(len(self.rows))
                self.refresh()

    def _append(self, row: ToolCallRecord | TurnDivider) -> None:
        line = self._table.append(row)
        if line is not None:
            self.set_line_count(len(self.rows))
            self.refresh_lines(line, len(self.rows) - line)

    def wants_follow(self) -> bool:
        return self.cursor < 0 and super().wants_follow()

    # Search and filter --------------------------------------------------------------------

    def line_text(self, index: int) -> str:
        return _row_text(self.rows[index])

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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self._table.filter is not None
        return super().check_action(action, parameters)

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

    def _tick(self) -> None:
        top = self.scroll_offset.y
        for line in range(top, min(top + self.size.height, len(self.rows))):
            row = self.rows[line]
            if isinstance(row, ToolCallRecord) and row.status == "running":
                self.refresh_lines(line)

    def line_key(self, index: int) -> object | None:
        if index >= len(self.rows):
            return None
        row = self.rows[index]
        if isinstance(row, TurnDivider):
            return row
        # A running call's elapsed time changes every tick: it is never the same line twice.
        live = time.monotonic() if row.status == "running" else row.duration
        return (row.status, live, self._has_cursor(index))

    def paint_line(self, index: int) -> Strip:
        row = self.rows[index]
        if isinstance(row, TurnDivider):
            return Strip(_divider(row, self._paint_width))
        strip = Strip(_call(row, self._paint_width))
        if self._has_cursor(index):
            strip = strip.apply_style(self.get_component_rich_style("tool-call-log--cursor", partial=True))
        return strip

    # Cursor -----------------------------------------------------------------------------

    def _cursor_row(self) -> int:
        return len(self.rows) - 1 if self.cursor < 0 else self.cursor

    def _has_cursor(self, index: int) -> bool:
        return index == self._cursor_row() and (self.has_focus or self.cursor >= 0)

    def action_cursor(self, delta: int) -> None:
        if self.rows:
            self._move_to(min(max(self._cursor_row() + delta, 0), len(self.rows) - 1))

    def action_cursor_to(self, row: int) -> None:
        if self.rows:
            self._move_to(row % len(self.rows))

    def _move_to(self, row: int) -> None:
        self.cursor = -1 if row == len(self.rows) - 1 else row
        top, height = self.scroll_offset.y, self.size.height
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)
        self.refresh()

    def action_open(self) -> None:
        if self.rows:
            row = self.rows[self._cursor_row()]
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
        row = self.scroll_offset.y + offset.y
        if 0 <= row < len(self.rows):
            self._move_to(row)
            self.action_open()


def _row_text(row: ToolCallRecord | TurnDivider) -> str:
    """A row as search and the filter's words read it: what it shows, but the changing duration."""
    if isinstance(row, TurnDivider):
        return f"turn {row.turn}: {row.prompt}"
    return f"{row.clock} {row.tool} {row.key} {row.status}"


def _call(record: ToolCallRecord, width: int) -> list[Segment]:
    """``time icon tool key-argument status duration``; small panes drop the time, then the status word."""
    icon, mark_style, status_style = ICONS.get(record.status, ICONS["interrupted"])
    seconds = record.duration if record.duration is not None else time.monotonic() - record.started
    # The outcome's own word, as the detail, the headless lines and the events say it. Narrow: the icon says it.
    word = f" {record.status:>9}" if width >= 50 else ""
    right = f"{word} {duration(seconds):>8}"
    clock = f"{record.clock} " if width >= 70 else ""
    # The tool name takes at most half of what is left: on a small pane the argument says as much.
    tool_width = max(min(22, (width - len(clock) - 2 - len(right)) // 2), 6)
    tool = record.tool if len(record.tool) <= tool_width else record.tool[: tool_width - 1] + "…"
    room = max(width - len(clock) - 2 - tool_width - 1 - len(right), 0)
    key = record.key if cell_len(record.key) <= room else record.key[: max(room - 1, 0)] + "…"
    return [
        Segment(clock, DIM),
        Segment(f"{icon} ", mark_style),
        Segment(f"{tool:<{tool_width}} ", BOLD),
        Segment(key + " " * max(room - cell_len(key), 0), PLAIN),
        Segment(right, status_style),
    ]


def _divider(divider: TurnDivider, width: int) -> list[Segment]:
    label = f"── turn {divider.turn}: {divider.prompt}"
    if cell_len(label) > width - 1:
        label = label[: max(width - 2, 0)] + "…"
    return [Segment(label + " " + "─" * max(width - cell_len(label) - 1, 0), DIM)]
