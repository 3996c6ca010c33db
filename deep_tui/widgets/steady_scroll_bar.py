"""A scrollbar that paints anew for a new length or position only when the bar it draws changes.

Textual's ``ScrollBar`` repaints whenever its pane's length or scroll position changes: for a pane that grows
and follows its end, that is every frame, though the thumb it draws (a cell or two at the bottom of a long
pane) stays the same. Each repaint goes through Textual's line pipeline, about 1 ms for a bar 40 lines high;
the output's and the tool log's were a fifth of a frame of replay playing at "max", and of the frame that
draws a key pressed meanwhile.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip

if TYPE_CHECKING:
    from textual.widget import Widget

    _Scrolling = Widget
else:
    _Scrolling = object  # a mixin: Textual takes a widget's CSS from its first base that is a DOM node


class SteadyScrollBar(ScrollBar):
    """A vertical ``ScrollBar`` that paints the lines it painted last when it would draw the same bar again.

    Textual repaints a scrollbar while its pane updates its length, its window and its position one after
    another, so whether the bar changed is only known when it paints. A restyle (every focus change restyles
    the pane and its scrollbar) repaints it only if its colours changed."""

    def __init__(self, *, thickness: int = 1) -> None:
        super().__init__(vertical=True, name="vertical", thickness=thickness)
        self._painted: tuple[Hashable, list[Strip]] | None = None

    def drawing(self) -> Hashable:
        """What the bar draws now: its size, its colours and its own, and the cells its renderer lays out, so
        that a length or position that moves nothing compares equal."""
        bar = self.render()
        if not isinstance(bar, ScrollBarRender):
            return bar
        laid_out = bar.render_bar(
            size=self.size.height,
            virtual_size=bar.virtual_size,
            window_size=bar.window_size,
            position=bar.position,
            thickness=bar.thickness,
            vertical=bar.vertical,
        )
        styles = self.styles
        return self.size, bar.style, self.rich_style, styles.tint, styles.opacity, tuple(laid_out.segments)

    def render_lines(self, crop: Region) -> list[Strip]:
        key = (crop, self.drawing())
        if self._painted is not None and self._painted[0] == key:
            return self._painted[1]
        lines = super().render_lines(crop)
        self._painted = (key, lines)
        return lines


class SteadyScrolling(_Scrolling):
    """Mixed into a scrolling widget (before its Textual base) to give it a ``SteadyScrollBar``, made the way
    Textual makes its own (which offers no other hook for it), with its thumb where the widget is scrolled to
    when it appears."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        if self._vertical_scrollbar is None:
            self._vertical_scrollbar = bar = SteadyScrollBar(thickness=self.scrollbar_size_vertical)
            bar.display = False
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        """Textual moves the thumb only while the bar shows: a pane that grew past its height and scrolled to its
        end at once (a replay's seek) showed its thumb at the top until it scrolled again."""
        if shown:
            self.vertical_scrollbar.position = self.scroll_y
