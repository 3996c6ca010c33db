"""A scrollbar that repaints for a new length, position or style only when the bar it draws changes.

Textual's ``ScrollBar`` repaints whenever its pane's length or scroll position changes: for a pane that grows
and follows its end, that is every frame, though the thumb it draws (a cell or two at the bottom of a long
pane) stays the same. Each repaint goes through Textual's line pipeline, about 1 ms for a bar 40 lines high;
the output's and the tool log's were a fifth of a frame of replay playing at "max", and of the frame that
draws a key pressed meanwhile.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.style import Style
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender

if TYPE_CHECKING:
    from textual.widget import Widget
    from typing_extensions import Self

    _Scrolling = Widget
else:
    _Scrolling = object  # a mixin: Textual takes a widget's CSS from its first base that is a DOM node


class SteadyScrollBar(ScrollBar):
    """A vertical ``ScrollBar`` that skips a repaint which would draw the bar it shows already.

    Textual asks for a repaint several times as its pane updates the bar's length, its window and its position
    one after another, and the bar is in between states meanwhile; so a request is weighed once they are done
    (at the bar's next message), against what the bar drew last. Every focus change restyles the pane and its
    bar, in the same colours: that is skipped too. What the bar draws is asked of Textual's own ``render``."""

    def __init__(self, *, thickness: int = 1) -> None:
        super().__init__(vertical=True, name="vertical", thickness=thickness)
        self._drawn: Hashable | None = None
        self._weighing = False

    def drawing(self, bar: RenderableType) -> Hashable:
        """What ``bar`` (this widget's ``render``) draws at the current size, with the widget's own colours: a
        length or position that moves nothing compares equal."""
        styles = self.styles
        if not isinstance(bar, ScrollBarRender):
            return self.size, self.rich_style, styles.tint, styles.opacity, bar
        laid_out = bar.render_bar(
            size=self.size.height,
            virtual_size=bar.virtual_size,
            window_size=bar.window_size,
            position=bar.position,
            thickness=bar.thickness,
            vertical=bar.vertical,
        )
        return self.size, self.rich_style, styles.tint, styles.opacity, bar.style, tuple(laid_out.segments)

    def render(self) -> RenderableType:
        bar = self._bar()
        self._drawn = self.drawing(bar)
        return bar

    def _bar(self) -> RenderableType:
        """Textual's bar; with nothing to scroll, drawn in the pane's background rather than as a track: a pane
        that keeps its bar's column (``overflow-y: scroll``) shows a blank column until it overflows."""
        bar = super().render()
        if isinstance(bar, ScrollBarRender) and not bar.window_size and self.parent is not None:
            bar.style = Style(bgcolor=self.parent.background_colors[1].rich_color)
        return bar

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if regions or layout or recompose or self._drawn is None:
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        if not self._weighing:
            self._weighing = True
            self.call_later(self._repaint_if_changed)
        return self

    def _repaint_if_changed(self) -> None:
        self._weighing = False
        if self.drawing(self._bar()) != self._drawn:
            super().refresh()


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
