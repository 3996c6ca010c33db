"""The long panes' scrollbar: a new length or position repaints it only when the bar it draws changes."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from deep_tui.widgets.file_tree import FileTree
from deep_tui.widgets.line_view import LineView
from deep_tui.widgets.steady_scroll_bar import SteadyScrollBar


class Numbered(LineView):
    """Line ``i`` reads ``line i``."""

    DEFAULT_CSS = """
    Numbered { height: 12; border: round blue; }
    Numbered:focus { border: round red; }
    """

    def line_key(self, index: int) -> Hashable | None:
        return index if index < self._line_total else None

    def paint_line(self, index: int) -> Strip:
        return Strip([Segment(f"line {index}")])

    def line_text(self, index: int) -> str:
        return f"line {index}"


class Panes(App[None]):
    def compose(self) -> ComposeResult:
        yield Numbered()
        yield FileTree()


def drawn(bar: ScrollBar) -> list[list[tuple[str, str]]]:
    """The bar's lines as painted: each cell's text and style."""
    lines = bar.render_lines(Region(0, 0, bar.size.width, bar.size.height))
    return [[(text, str(style)) for text, style, _ in strip] for strip in lines]


async def long_view(pilot: Pilot[None], lines: int = 1_000) -> tuple[Numbered, ScrollBar]:
    """The app's view, ``lines`` long and at its end, and its scrollbar."""
    view = pilot.app.query_one(Numbered)
    view.set_line_count(lines)
    view.settle()
    await pilot.pause()
    return view, view.vertical_scrollbar


@pytest.fixture
def repaints(monkeypatch: pytest.MonkeyPatch) -> list[ScrollBar]:
    """The scrollbars Textual was asked to repaint, once a request."""
    asked: list[ScrollBar] = []
    textuals = ScrollBar.refresh

    def counted(self: ScrollBar, *regions: Region, **how: bool) -> ScrollBar:
        asked.append(self)
        return textuals(self, *regions, **how)

    monkeypatch.setattr(ScrollBar, "refresh", counted)
    return asked


async def test_a_pane_growing_at_its_end_repaints_its_scrollbar_only_when_the_thumb_moves(
    repaints: list[ScrollBar],
) -> None:
    async with Panes().run_test(size=(60, 30)) as pilot:
        view, bar = await long_view(pilot)
        assert isinstance(bar, SteadyScrollBar)
        assert isinstance(pilot.app.query_one(FileTree).vertical_scrollbar, SteadyScrollBar)
        await long_view(pilot, 1_001)  # the bar drawn at the end
        at_end = drawn(bar)
        repaints.clear()
        for lines in range(1_002, 1_021):  # one cell of this bar is ~90 lines: the thumb stays at the bottom
            view.set_line_count(lines)
            view.settle()
            await pilot.pause()
        assert view.scroll_offset.y == 1_020 - view.scrollable_content_region.height  # followed the end
        assert bar.window_virtual_size == 1_020  # Textual told the bar
        assert [each for each in repaints if each is bar] == []
        assert drawn(bar) == at_end

        view.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        assert bar in repaints
        at_start = drawn(bar)
        assert at_start != at_end


async def test_hovering_or_recolouring_the_scrollbar_repaints_it_and_a_focus_change_does_not(
    repaints: list[ScrollBar],
) -> None:
    async with Panes().run_test(size=(60, 30)) as pilot:
        view, bar = await long_view(pilot)
        plain = drawn(bar)
        repaints.clear()
        bar.mouse_over = True
        await pilot.pause()
        assert bar in repaints
        assert drawn(bar) != plain  # hover colours

        bar.mouse_over = False
        await pilot.pause()
        assert drawn(bar) == plain
        pilot.app.query_one(FileTree).focus()
        await pilot.pause()
        repaints.clear()
        view.focus()  # repaints the view (its border) and restyles its scrollbar, in the same colours
        await pilot.pause()
        assert view.has_focus and bar not in repaints
        assert drawn(bar) == plain

        view.styles.scrollbar_color = "red"
        await pilot.pause()
        assert bar in repaints
        red = drawn(bar)
        assert red != plain
        repaints.clear()
        pilot.app.theme = "nord" if pilot.app.theme != "nord" else "textual-dark"
        await pilot.pause()
        assert bar in repaints
        assert drawn(bar) != red


async def test_a_scrollbar_that_appears_once_the_pane_is_at_its_end_shows_its_thumb_there() -> None:
    async with Panes().run_test(size=(60, 30)) as pilot:
        view, bar = await long_view(pilot, 5)  # no scrollbar yet
        assert not view.show_vertical_scrollbar
        view.set_line_count(1_000)  # grows past its height and goes to its end in one batch, as a seek does
        view.settle()
        await pilot.pause()
        assert view.show_vertical_scrollbar and view.scroll_y == view.max_scroll_y > 0
        assert bar.position == view.scroll_y
        thumb = [y for y, cells in enumerate(drawn(bar)) if any("reverse" in style for _, style in cells)]
        assert thumb == [bar.size.height - 1]


class KeptColumn(App[None]):
    """A view that keeps its bar's column, as the dashboard's long panes do."""

    CSS = "Numbered { overflow-y: scroll; background: #102030; scrollbar-background: #ff0000; }"

    def compose(self) -> ComposeResult:
        yield Numbered()


async def test_a_view_that_keeps_its_bars_column_grows_past_its_height_without_a_layout(screen_layouts):
    async with KeptColumn().run_test(size=(40, 20)) as pilot:
        view = pilot.app.query_one(Numbered)
        view.set_line_count(3)
        view.settle()
        await pilot.pause()
        bar = view.vertical_scrollbar  # shown, in the view's background: no track
        assert bar.display and {style.split(" on ")[-1] for line in drawn(bar) for _, style in line} == {"#102030"}
        screen_layouts.clear()
        view.set_line_count(500)
        view.settle()
        await pilot.pause()
        assert not screen_layouts  # the bar was there: nothing moves
        assert view.scroll_y == view.max_scroll_y > 0  # following its end
        cells = [style for line in drawn(bar) for _, style in line]
        assert "on #ff0000" in " ".join(cells) and "reverse" in " ".join(cells)  # the track, and the thumb on it
