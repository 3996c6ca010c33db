"""The replay's timeline: play state, speed, where the cursor is, its clock time and the turns, in one row.

``▶ 2× ━━━━━━━━●───┃────┃── 14:02:11 · 1,234/100,000 · turn 3/5``: the bar is the recording,
``●`` the cursor, ``┃`` where each turn starts. A click on the bar seeks there (``TimelineBar.Seek``);
playing, stepping and the speed are the screen's keys, so the bar has no keys and no timers of its own.
A narrow row keeps the play state, the bar and the position, and drops the rest (the turn first).
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive

from deep_tui.terminal_text import visible
from deep_tui.widgets.text_line import TextLine

PLAYING, PAUSED = "▶", "❚❚"
PLAYED, AHEAD, CURSOR, TURN = "━", "─", "●", "┃"
BAR_KEPT = 10
"""Cells of bar kept before the parts beside it give way."""
ENDING_KEPT = 16
"""Cells of the ending note kept, shortened, before it gives way too."""
SEPARATOR = Text(" · ")

STYLE_PLAYING = Style(bold=True, color="green")
STYLE_PAUSED = Style(bold=True, color="yellow")
STYLE_SPEED = Style(bold=True)
STYLE_PLAYED = Style(color="cyan")
STYLE_AHEAD = Style(dim=True)
STYLE_CURSOR = Style(bold=True, color="cyan")
STYLE_TURN_PLAYED = Style(bold=True, color="yellow")
STYLE_TURN_AHEAD = Style(color="yellow")
STYLE_CLOCK = Style(bold=True)
STYLE_DIM = Style(dim=True)
STYLE_ENDING = Style(bold=True, color="magenta")


class TimelineBar(TextLine):
    """Where a replay is: play state and speed, a bar with the cursor and turn marks, clock, position, turn."""

    DEFAULT_CSS = """
    TimelineBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    class Seek(Message):
        """The reader clicked the bar: show the state at ``position``."""

        def __init__(self, bar: TimelineBar, position: int) -> None:
            super().__init__()
            self.bar = bar
            self.position = position

        @property
        def control(self) -> TimelineBar:
            return self.bar

    position: reactive[int] = reactive(0)
    """The cursor: the state after this many events."""
    length: reactive[int] = reactive(0)
    """Events in the recording: the cursor's last position."""
    playing: reactive[bool] = reactive(False)
    speed: reactive[str] = reactive("1×")
    """The play speed's label, such as "2×" or "max"."""
    clock: reactive[float | None] = reactive(None)
    """Wall-clock time of the state at the cursor (epoch seconds), when the recording knows it."""
    ending: reactive[str | None] = reactive(None)
    """How the recording ends, said when the cursor is there (e.g. that it was cut off)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._turn_positions: list[int] = []
        self._turn_numbers: list[int] = []
        self._marks: tuple[int, int, list[int]] = (0, 0, [])
        """The turn marks' cells, for a bar of so many cells over so many events."""

    def set_turns(self, positions: Sequence[tuple[int, int]]) -> None:
        """Where each turn starts, as (position, turn number), in order: marks on the bar."""
        self._turn_positions = [position for position, _ in positions]
        self._turn_numbers = [turn for _, turn in positions]
        self._marks = (0, 0, [])
        self.refresh()

    def line(self) -> Text:
        before, bar_cells, after = self._layout(self.content_size.width)
        line = Text.assemble(*before)
        line.append_text(self._bar(bar_cells))
        line.append_text(Text.assemble(*after))
        return line

    def on_click(self, event: Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        before, cells, _ = self._layout(self.content_size.width)
        x = offset.x - sum(part.cell_len for part in before)
        if not 0 <= x < cells:
            return
        event.stop()
        self.post_message(self.Seek(self, round(x / (cells - 1) * self.length) if cells > 1 else 0))

    # Layout --------------------------------------------------------------------------------

    def _layout(self, width: int) -> tuple[list[Text], int, list[Text]]:
        """What goes before the bar, its cells, and what goes after, for a row of ``width`` cells."""
        parts = self._parts()
        for give_way in ("turn", "clock", "ending…", "speed", "ending", "length"):
            room = width - sum(part.cell_len for side in _arrange(parts) for part in side)
            if room >= BAR_KEPT:
                break
            if give_way == "length":  # the position alone
                parts["position"] = Text(f"{self.position:,}")
            elif give_way != "ending…":
                parts.pop(give_way, None)
            elif (ending := parts.get("ending")) is not None:
                ending.truncate(max(ending.cell_len - (BAR_KEPT - room), ENDING_KEPT), overflow="ellipsis")
        before, after = _arrange(parts)
        return before, max(width - sum(part.cell_len for part in before + after), 1), after

    def _parts(self) -> dict[str, Text]:
        parts = {
            "play": Text(PLAYING, STYLE_PLAYING) if self.playing else Text(PAUSED, STYLE_PAUSED),
            "speed": Text(self.speed, STYLE_SPEED),
        }
        if self.clock is not None:
            parts["clock"] = Text(time.strftime("%H:%M:%S", time.localtime(self.clock)), STYLE_CLOCK)
        parts["position"] = Text(f"{self.position:,}/{self.length:,}")
        turn = bisect.bisect_right(self._turn_positions, self.position) - 1
        if turn >= 0:
            parts["turn"] = Text(f"turn {self._turn_numbers[turn]}/{self._turn_numbers[-1]}", STYLE_DIM)
        if self.ending and self.position >= self.length:
            parts["ending"] = Text(visible(self.ending), STYLE_ENDING)
        return parts

    def _bar(self, cells: int) -> Text:
        """The bar: played up to the cursor, the turn marks on it."""
        at = min(max(round(self.position / self.length * (cells - 1)), 0), cells - 1) if self.length else 0
        glyphs = [PLAYED] * at + [CURSOR] + [AHEAD] * (cells - at - 1)
        styles = [STYLE_PLAYED] * at + [STYLE_CURSOR] + [STYLE_AHEAD] * (cells - at - 1)
        for mark in self._mark_cells(cells):
            if mark != at:
                glyphs[mark], styles[mark] = TURN, STYLE_TURN_PLAYED if mark < at else STYLE_TURN_AHEAD
        bar = Text()
        start = 0
        for index in range(1, cells + 1):
            if index == cells or styles[index] is not styles[start]:
                bar.append("".join(glyphs[start:index]), styles[start])
                start = index
        return bar

    def _mark_cells(self, cells: int) -> list[int]:
        if self._marks[:2] != (cells, self.length):
            marks = [round(p / self.length * (cells - 1)) for p in self._turn_positions] if self.length else []
            self._marks = (cells, self.length, [m for m in marks if 0 <= m < cells])
        return self._marks[2]


def _arrange(parts: dict[str, Text]) -> tuple[list[Text], list[Text]]:
    """The parts before the bar (play state and speed) and after it (clock, position, turn, ending)."""
    before = [parts["play"], Text(" ")]
    if "speed" in parts:
        before += [parts["speed"], Text(" ")]
    after: list[Text] = [Text(" ")]
    for name in ("clock", "position", "turn", "ending"):
        if name in parts:
            after += [parts[name], SEPARATOR]
    return before, after[:-1]
