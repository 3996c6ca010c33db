"""The long panes' base: each line is painted once per change."""

from __future__ import annotations

from collections.abc import Hashable

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.strip import Strip

from deep_tui.widgets.line_view import LineView


class Versioned(LineView):
    """Line ``i`` reads ``line i`` and the number of times it was changed; every paint is counted."""

    DEFAULT_CSS = """
    Versioned { height: 12; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[int, int] = {}
        self.painted: list[int] = []

    def change(self, index: int) -> None:
        self.versions[index] = self.versions.get(index, 0) + 1
        self.repaint_lines(index)
        self.settle()

    def line_key(self, index: int) -> Hashable | None:
        return (index, self.versions.get(index, 0)) if index < self._line_total else None

    def paint_line(self, index: int) -> Strip:
        self.painted.append(index)
        return Strip([Segment(self.line_text(index))])

    def line_text(self, index: int) -> str:
        return f"line {index} v{self.versions.get(index, 0)}"


class Views(App[None]):
    def compose(self) -> ComposeResult:
        yield Versioned()


async def long_view(pilot: Pilot[None], lines: int = 100) -> Versioned:
    view = pilot.app.query_one(Versioned)
    view.set_line_count(lines)
    view.settle()
    await pilot.pause()
    return view


async def test_a_line_changed_twice_is_painted_once_per_change() -> None:
    async with Views().run_test(size=(60, 20)) as pilot:
        view = await long_view(pilot)
        view.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        view.painted.clear()
        for _ in range(2):
            view.change(3)
            await pilot.pause()
            for scroll in (view.scroll_down, view.scroll_up):  # each paints every row again: none changed
                scroll(animate=False, immediate=True)
                await pilot.pause()
        assert view.painted.count(3) == 2
