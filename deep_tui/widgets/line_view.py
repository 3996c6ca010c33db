"""The base of the long panes: a line-based scroll view that grows cheaply, follows its end,
paints a line only when it changed, and finds text in its lines (``/``, ``n``, ``N``)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Hashable
from functools import partial
from typing import ClassVar

from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.markup import escape
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from deep_tui.search import LineSearch, highlight
from deep_tui.strips import fit
from deep_tui.widgets.search_bar import Purpose, SearchBar
from deep_tui.widgets.steady_scroll_bar import SteadyScrolling

PAINT_CACHE = 500
"""Painted lines kept; several screens' worth. Not more: each is ten objects that every full garbage collection
walks (2,000 made a replay's collections 10 ms longer)."""
STEPS = Binding.Group("Next/prev")
"""n and N, as one entry of the footer."""


class LineView(SteadyScrolling, ScrollView):
    """A ``ScrollView`` whose line count changes often and whose lines rarely do.

    Setting ``virtual_size`` makes Textual lay out the whole screen, about 10 ms
    with the dashboard's panes; growing by a few lines only moves the scrollbar,
    so a layout is asked for only when the scrollbar appears or goes, and a batch
    of changes resizes and scrolls once. Every scroll repaints the view, so each
    line's final strip is cached under a key that changes when the line does.

    ``/`` opens a ``SearchBar`` under the view that finds text as it is typed,
    over each line's ``line_text``; a view that replaces, inserts or removes lines
    says so with ``text_changed`` (lines added at the end need no word).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", tooltip="Find text in this pane as you type"),
        Binding(
            "n", "next_match(True)", "Next", tooltip="Go to the next line holding the text searched for", group=STEPS
        ),
        Binding("N", "next_match(False)", "Previous", tooltip="Go to the previous line holding it", group=STEPS),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"line-view--match", "line-view--match-current"}
    DEFAULT_CSS = """
    LineView > .line-view--match { background: $warning-muted; }
    LineView > .line-view--match-current { background: $warning; color: $background; text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._painted: LRUCache[int, tuple[Hashable, Strip]] = LRUCache(PAINT_CACHE)
        self._paint_style = Style()
        self._paint_width = 0
        self._pending_size: Size | None = None
        self._pending_lines: tuple[int, int] | None = None
        """The lines changed in the current batch, from the first to past the last, repainted once it settles."""
        self._settle_due = False
        self._follow_after = False
        self._at_end = True
        """Whether the end was showing after the last scroll: kept, since a resize moves the end."""
        self._line_total = 0
        self._search: LineSearch | None = None
        self._bar: SearchBar | None = None
        """The bar last opened: ``_bars[False]`` under the view, or ``_bars[True]`` while the view fills the screen."""
        self._bars: dict[bool, SearchBar] = {}
        self._search_from = 0
        """Where the view was when the search bar opened: a query's first match is the first from there."""
        self._component_paint: dict[tuple[str, bool], Style] = {}
        self._notes: dict[str, str] = {}
        self._subtitle = ""

    def set_line_count(self, lines: int, width: int = 0) -> None:
        """Resize to ``lines``; applied once after the current batch of changes, following the end
        if the view was at the end when the batch began."""
        self._line_total = lines
        if self._pending_size is None:
            self._follow_after = self.wants_follow()
        self._pending_size = Size(width, lines)
        self._settle_later()

    def repaint_lines(self, first: int, count: int = 1) -> None:
        """Lines ``first`` to ``first + count`` changed: repainted once, after the current batch of changes
        (each ``refresh_lines`` costs about 0.1 ms, which a batch of hundreds of events paid per event)."""
        end = first + count
        pending = self._pending_lines
        self._pending_lines = (first, end) if pending is None else (min(first, pending[0]), max(end, pending[1]))
        self._settle_later()

    def _settle_later(self) -> None:
        if not self._settle_due:
            self._settle_due = True
            self.call_later(self.settle)

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
            self.call_after_refresh(self._end_after_resize)

    def _end_after_resize(self) -> None:
        if self._at_end:  # unless the reader scrolled away meanwhile; at once, not after one more refresh
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

    def settle(self) -> None:
        """Apply the pending resize and scroll now (the owner calls it at the end of a batch of changes,
        so they paint in the same frame; otherwise it runs after the current message)."""
        self._settle_due = False
        if self._search is not None and self._search.query and self._search.sync():
            self._show_search()
        size, self._pending_size = self._pending_size, None
        lines, self._pending_lines = self._pending_lines, None
        if size is not None:
            old = self.virtual_size
            if old.width != size.width:
                self.virtual_size = size
            elif size != old:
                self.set_reactive(Widget.virtual_size, size)
                self._scroll_update(size)  # lays the screen out if the scrollbar appears or goes
                self.refresh()
            if self._follow_after:
                self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
        if lines is not None:
            self.refresh_lines(lines[0], lines[1] - lines[0])

    def render_lines(self, crop: Region) -> list[Strip]:
        # Looked up once per paint rather than once per line: each costs tens of microseconds.
        self._paint_style = self.rich_style
        self._paint_width = self.scrollable_content_region.width
        if self._search is not None and self._search.query:
            self._search.sync()
        return super().render_lines(crop)

    def notify_style_update(self) -> None:
        """A focus change restyles the view (its border, its cursor's colour) without changing its lines:
        painted lines are kept, since their keys hold the styles they were painted with."""
        super().notify_style_update()
        self._component_paint.clear()

    def component_style(self, name: str, *, partial: bool = True) -> Style:
        """A component class's style, looked up once per style change rather than once per line. Partial, only
        what it sets; or whole, its colours blended over the view's (a translucent background, such as a blurred
        cursor's, is otherwise drawn opaque)."""
        style = self._component_paint.get((name, partial))
        if style is None:
            style = self._component_paint[name, partial] = self.get_component_rich_style(name, partial=partial)
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        key = self.line_key(index)
        if key is None:
            return Strip.blank(self._paint_width, self._paint_style)
        search = self._search
        current = search.current == index if search is not None and search.is_match(index) else None
        match = None
        if current is not None and search is not None:
            match = (search.query, self.component_style("line-view--match-current" if current else "line-view--match"))
        over = self.line_style(index)
        key = (key, scroll_x, self._paint_width, self._paint_style, match, over)
        cached = self._painted.get(index)
        if cached is not None:
            if cached[0] == key:
                return cached[1]
            self._painted.discard(index)  # Textual's ``LRUCache`` keeps a key's first value: setting it again does not
        strip = self.paint_line(index)
        if match is not None and search is not None:
            strip = highlight(strip, search.spans(strip.text), match[1])
        if over is not None:
            strip = strip.apply_style(over)
        strip = fit(strip, scroll_x, self._paint_width, self._paint_style)
        strip = strip.apply_style(self._paint_style)
        self._painted[index] = (key, strip)
        return strip

    def line_key(self, index: int) -> Hashable | None:
        """What line ``index`` depends on (equal keys paint the same), or None past the end."""
        raise NotImplementedError

    def paint_line(self, index: int) -> Strip:
        """Line ``index``, uncropped, before the view's style is applied."""
        raise NotImplementedError

    def line_style(self, index: int) -> Style | None:
        """A style laid over line ``index`` once painted (a cursor's, from ``component_style``), or None."""
        return None

    # Search ----------------------------------------------------------------------------------

    def line_text(self, index: int) -> str:
        """The plain text of line ``index``, as a search reads it."""
        raise NotImplementedError

    def text_changed(self, line: int) -> None:
        """Lines from ``line`` on were replaced, inserted or removed: a search reads them again."""
        if self._search is not None:
            self._search.changed_from(line)

    @property
    def search(self) -> LineSearch:
        """What is searched for in this view, and where it was found."""
        if self._search is None:
            self._search = LineSearch(self.searchable_lines, self.line_text)
        return self._search

    def searchable_lines(self) -> int:
        """How many lines a search reads (a view that draws its lines as they come into view draws them all)."""
        return self._line_total

    def search_origin(self) -> int:
        """The line the reader is at: the current match if it shows, else the top line."""
        top, height = round(self.scroll_offset.y), self.scrollable_content_region.height
        current = self._search.current if self._search is not None else None
        return current if current is not None and top <= current < top + height else top

    def show_line(self, line: int) -> None:
        """Bring ``line``, a match, into view (a third down, if it has to scroll)."""
        top, height = round(self.scroll_offset.y), self.scrollable_content_region.height
        if not top <= line < top + height:
            self.scroll_to(y=max(line - height // 3, 0), animate=False, immediate=True)

    async def open_bar(self, purpose: Purpose, value: str) -> None:
        """Show the bar for ``purpose`` under the view (at the foot of the screen while the view fills it),
        and type into it."""
        docked = self.screen.maximized is self
        bar = self._bars.get(docked)
        if bar is None:
            bar = self._bars[docked] = SearchBar(self, docked=docked)
            if docked:
                await self.screen.mount(bar)
            else:
                assert self.parent is not None
                await self.parent.mount(bar, after=self)
            self.watch(bar.field, "value", partial(self._typed, bar), init=False)
        if self._bar is not None and self._bar is not bar:
            self._bar.close()
        self._bar = bar
        bar.open(purpose, value)

    def _bar_open(self, purpose: Purpose) -> SearchBar | None:
        bar = self._bar
        return bar if bar is not None and bar.is_open and bar.purpose == purpose else None

    async def action_search(self) -> None:
        search = self.search
        search.sync()
        self._search_from = self.search_origin()
        await self.open_bar("search", search.query)
        self._show_search()

    def action_next_match(self, forward: bool = True) -> None:
        """The next (or previous) match; always in the footer, as redrawing the footer when a search starts
        and ends would cost as much as the search."""
        search = self.search
        if not search.query:
            self.notify("Nothing is searched for: / finds text in this pane.")
            return
        search.sync()
        origin = self.search_origin()
        if forward:
            line = search.next_after(origin, inclusive=origin != search.current)
        else:
            line = search.previous_before(origin)
        if line is not None:
            before = self._marked_lines()
            self._go_to(line)
            self._repaint(before)
        self._show_search()

    def _go_to(self, line: int) -> None:
        self.search.current = line
        self.show_line(line)

    def _marked_lines(self) -> list[int]:
        """The lines on screen that show a match."""
        top, height = round(self.scroll_offset.y), self.scrollable_content_region.height
        matches = self.search.matches
        return matches[bisect_left(matches, top) : bisect_left(matches, top + height)]

    def _repaint(self, before: list[int]) -> None:
        """Repaint the lines that showed a match (``before``) or show one now, not the whole view:
        a keystroke should cost the lines it changes."""
        lines = sorted({*before, *self._marked_lines()})
        start = 0
        for n, line in enumerate(lines):
            if n + 1 == len(lines) or lines[n + 1] != line + 1:  # the end of a run of adjacent lines
                self.refresh_lines(lines[start], line - lines[start] + 1)
                start = n + 1

    def _show_search(self) -> None:
        """The count in the bar while it is open, and in the border once it is closed."""
        search = self.search
        summary = search.summary() if search.query else ""
        note = ""
        if (bar := self._bar_open("search")) is not None:
            bar.show_count(summary, found=bool(search.matches) or not search.query)
        elif search.query:
            note = f"/{escape(search.query)} {summary}"
        self.set_border_note("search", note)

    def set_border_note(self, name: str, markup: str) -> None:
        """Show ``markup`` in the bottom border, beside the other notes (the search, new output below),
        in the order of their names; empty removes it."""
        self._notes[name] = markup
        subtitle = " · ".join(note for _, note in sorted(self._notes.items()) if note)
        if subtitle != self._subtitle:  # setting it repaints the whole view
            self._subtitle = self.border_subtitle = subtitle

    def _typed(self, bar: SearchBar, value: str) -> None:
        """Find ``value`` as it is typed into the search bar."""
        if not bar.is_open or bar.purpose != "search":
            return
        search = self.search
        before = self._marked_lines()
        search.set_query(value)
        if search.query and (line := search.next_after(self._search_from, inclusive=True)) is not None:
            self._go_to(line)
        self._repaint(before)
        self._show_search()

    def on_search_bar_stepped(self, event: SearchBar.Stepped) -> None:
        if event.purpose == "search":
            event.stop()
            self.action_next_match(event.forward)

    def on_search_bar_submitted(self, event: SearchBar.Submitted) -> None:
        if event.purpose == "search" and self._bar is not None:
            event.stop()
            self._bar.close()
            self._show_search()

    def on_search_bar_closed(self, event: SearchBar.Closed) -> None:
        if event.purpose != "search":
            return
        event.stop()
        if event.cancelled:
            before = self._marked_lines()
            self.search.set_query("")
            self._repaint(before)
        self._show_search()
