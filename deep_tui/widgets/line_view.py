"""The base of the long panes: a line-based scroll view that grows cheaply, follows its end and
paints a line only when it changed."""

from __future__ import annotations

from collections.abc import Hashable

from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

PAINT_CACHE = 2000
"""Painted lines kept; several screens' worth."""


class LineView(ScrollView):
    """A ``ScrollView`` whose line count changes often and whose lines rarely do.

    Setting ``virtual_size`` makes Textual lay out the whole screen, about 10 ms
    with the dashboard's panes; growing by a few lines only moves the scrollbar,
    so a layout is asked for only when the scrollbar appears or goes, and a batch
    of changes resizes and scrolls once. Every scroll repaints the view, so each
    line's final strip is cached under a key that changes when the line does.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._painted: LRUCache[int, tuple[Hashable, Strip]] = LRUCache(PAINT_CACHE)
        self._paint_style = Style()
        self._paint_width = 0
        self._pending_size: Size | None = None
        self._follow_after = False
        self._at_end = True
        """Whether the end was showing after the last scroll: kept, since a resize moves the end."""

    def set_line_count(self, lines: int, width: int = 0) -> None:
        """Resize to ``lines``; applied once after the current batch of changes, following the end
        if the view was at the end when the batch began."""
        if self._pending_size is None:
            self._follow_after = self.wants_follow()
            self.call_later(self.settle)
        self._pending_size = Size(width, lines)

    def follow_end(self) -> None:
        """Follow the end again from the next change on, wherever the reader had scrolled to."""
        self._at_end = True
        if self._pending_size is not None:
            self._follow_after = True

    def action_scroll_end(self) -> None:
        """End follows the end again. Not animated: an animated scroll aims at where the end was when it
        began, and stops short of it while lines keep coming."""
        self.follow_end()
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def wants_follow(self) -> bool:
        """Whether new lines should scroll into view: by default, when the end was showing."""
        return self._at_end

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._at_end = self.scroll_target_y >= self.max_scroll_y

    def watch_scroll_target_y(self, value: float) -> None:
        """Where a scroll is going decides whether to follow, from its first frame: a batch arriving while
        Home animates must not snap the view back to the end."""
        self._at_end = value >= self.max_scroll_y

    def on_resize(self) -> None:
        """A view that showed its end still does after a resize (which changes where the end is)."""
        if self._at_end:
            self.call_after_refresh(self.scroll_end, animate=False, x_axis=False, force=True)

    def settle(self) -> None:
        """Apply the pending resize and scroll now (the owner calls it at the end of a batch of changes,
        so they paint in the same frame; otherwise it runs after the current message)."""
        size, self._pending_size = self._pending_size, None
        if size is None:
            return
        old = self.virtual_size
        height = self.scrollable_content_region.height
        if (old.height > height) != (size.height > height) or old.width != size.width:
            self.virtual_size = size
        elif size != old:
            self.set_reactive(Widget.virtual_size, size)
            self._scroll_update(size)
            self.refresh()
        if self._follow_after:
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Looked up once per paint rather than once per line: each costs tens of microseconds.
        self._paint_style = self.rich_style
        self._paint_width = self.scrollable_content_region.width
        return super().render_lines(crop)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painted.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        key = self.line_key(index)
        if key is None:
            return Strip.blank(self._paint_width, self._paint_style)
        key = (key, scroll_x, self._paint_width, self._paint_style)
        cached = self._painted.get(index)
        if cached is not None and cached[0] == key:
            return cached[1]
        strip = self.paint_line(index).crop_extend(scroll_x, scroll_x + self._paint_width, self._paint_style)
        strip = strip.apply_style(self._paint_style)
        self._painted[index] = (key, strip)
        return strip

    def line_key(self, index: int) -> Hashable | None:
        """What line ``index`` depends on (equal keys paint the same), or None past the end."""
        raise NotImplementedError

    def paint_line(self, index: int) -> Strip:
        """Line ``index``, uncropped, before the view's style is applied."""
        raise NotImplementedError
