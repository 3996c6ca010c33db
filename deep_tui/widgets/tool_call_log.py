"""The tool-call log: one row per call, with a live elapsed time while it runs.

``DataTable`` costs about 33 ms per appended row and ``ListView`` half a second
at 1,000 items, so this is a line-based view over a list of records: adding or
finishing a call is O(1), and only the visible rows are drawn. Enter or a click
on a row asks the app to show its full arguments and result.
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
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from deep_tui.format import duration, key_argument

ICONS = {
    "running": ("◌", "yellow"),
    "success": ("✓", "green"),
    "failed": ("✗", "red"),
    "retried": ("↻", "red"),
    "denied": ("⊘", "red"),
    "interrupted": ("◌", "magenta"),
    "cancelled": ("■", "magenta"),
}
STATUS_WORDS = {"running": "running", "success": "ok", "failed": "error", "retried": "error"}


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


class ToolCallLog(ScrollView, can_focus=True):
    """Every tool call of the session, newest at the bottom."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Previous call", show=False),
        Binding("down", "cursor(1)", "Next call", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First call", show=False),
        Binding("end", "cursor_to(-1)", "Last call", show=False),
        Binding("enter", "open", "Details", tooltip="Show the call's full arguments and result"),
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
        self.records: list[ToolCallRecord] = []
        self._index: dict[str, int] = {}
        self._running_rows: set[int] = set()

    def on_mount(self) -> None:
        self.set_interval(0.5, self._tick)

    # What the app calls -------------------------------------------------------------

    def call_started(self, call_id: str, tool: str, args: dict[str, object]) -> None:
        follow = self.cursor < 0 and self.is_vertical_scroll_end
        row = len(self.records)
        self.records.append(
            ToolCallRecord(call_id, tool, args, key_argument(tool, args), time.strftime("%H:%M:%S"), time.monotonic())
        )
        self._index[call_id] = row
        self._running_rows.add(row)
        self.virtual_size = Size(self.virtual_size.width, len(self.records))
        self.refresh_line(row)
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def call_finished(self, call_id: str, outcome: str, seconds: float, preview: str, size: int) -> None:
        row = self._index.get(call_id)
        if row is None:
            return
        record = self.records[row]
        record.status, record.duration, record.preview, record.size = outcome, seconds, preview, size
        self._running_rows.discard(row)
        self.refresh_line(row)

    def running_count(self) -> int:
        return len(self._running_rows)

    # Drawing ----------------------------------------------------------------------------

    def refresh_line(self, row: int) -> None:
        top = self.scroll_offset.y
        if top <= row < top + self.size.height:
            self.refresh_lines(row - top)

    def _tick(self) -> None:
        top = self.scroll_offset.y
        visible = range(top, top + self.size.height)
        for row in self._running_rows:
            if row in visible:
                self.refresh_lines(row - top)

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if row >= len(self.records):
            return Strip.blank(width, style)
        strip = Strip(self._row_segments(self.records[row], width))
        if row == self._cursor_row() and (self.has_focus or self.cursor >= 0):
            strip = strip.apply_style(self.get_component_rich_style("tool-call-log--cursor", partial=True))
        return strip.crop_extend(0, width, style).apply_style(style)

    def _row_segments(self, record: ToolCallRecord, width: int) -> list[Segment]:
        icon, colour = ICONS.get(record.status, ("?", "white"))
        seconds = record.duration if record.duration is not None else time.monotonic() - record.started
        word = STATUS_WORDS.get(record.status, record.status)
        right = f" {word:>9} {duration(seconds):>8}"
        tool = record.tool[:22]
        left = f"{record.clock} "
        room = max(width - cell_len(left) - 2 - 23 - cell_len(right), 0)
        key = record.key if cell_len(record.key) <= room else record.key[: max(room - 1, 0)] + "…"
        return [
            Segment(left, Style(dim=True)),
            Segment(f"{icon} ", Style(color=colour, bold=True)),
            Segment(f"{tool:<22} ", Style(bold=True)),
            Segment(f"{key:<{room}}", Style()),
            Segment(right, Style(color=colour)),
        ]

    # Cursor -----------------------------------------------------------------------------

    def _cursor_row(self) -> int:
        return len(self.records) - 1 if self.cursor < 0 else self.cursor

    def action_cursor(self, delta: int) -> None:
        if self.records:
            self._move_to(min(max(self._cursor_row() + delta, 0), len(self.records) - 1))

    def action_cursor_to(self, row: int) -> None:
        if self.records:
            self._move_to(row % len(self.records))

    def _move_to(self, row: int) -> None:
        self.cursor = -1 if row == len(self.records) - 1 else row
        self._scroll_to_row(row)
        self.refresh()

    def _scroll_to_row(self, row: int) -> None:
        top, height = self.scroll_offset.y, self.size.height
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def action_open(self) -> None:
        if self.records:
            self.post_message(self.Selected(self.records[self._cursor_row()]))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: Click) -> None:
        row = self.scroll_offset.y + event.y
        if 0 <= row < len(self.records):
            self._move_to(row)
            self.action_open()
