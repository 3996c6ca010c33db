"""The key bar: the focused screen's keys on one line, following focus and state, clickable."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from test_app import shown
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget

import deep_tui
from deep_tui.widgets import KeyBar

MOVE = Binding.Group("Move", compact=True)


class Pane(Widget, can_focus=True):
    """A pane whose Open key is disabled on odd rows, as the tool log's keys depend on its row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "down", "Down"),
        Binding("o", "open", "Open", tooltip="Open the row"),
        Binding("left", "step(-1)", "Back", key_display="←", group=MOVE),
        Binding("right", "step(1)", "On", key_display="→", group=MOVE),
    ]

    def __init__(self, name: str) -> None:
        super().__init__(id=name)
        self.row = 0
        self.opened = 0

    def action_down(self) -> None:
        self.row += 1
        self.refresh_bindings()

    def action_open(self) -> None:
        self.opened += 1

    def action_step(self, by: int) -> None:
        self.row += by

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return (self.row % 2 == 0 or None) if action == "open" else True


class Other(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "noop", "Other key")]

    def action_noop(self) -> None:
        pass


class Panes(App[None]):
    CSS_PATH = Path(deep_tui.__file__).parent / "app.tcss"  # where the bar's style is

    def compose(self) -> ComposeResult:
        yield Pane("pane")
        yield Other(id="other")
        yield KeyBar()


def keys(app: App[None]) -> dict[str, bool]:
    return {key.description: key.enabled for key in app.query_one(KeyBar).visible_keys}


async def settled(pilot) -> None:
    await pilot.pause()
    await pilot.pause()


async def test_the_bar_follows_the_focus_and_the_state_of_each_key():
    app = Panes()
    async with app.run_test(size=(80, 10)) as pilot:
        app.query_one("#pane").focus()
        await settled(pilot)
        assert keys(app) == {"Down": True, "Open": True, "Back": True, "On": True}
        line = shown(app.query_one(KeyBar))
        assert line.startswith(" j Down  o Open  ←→ Move ") and line.rstrip().endswith("^p palette")
        await pilot.press("j")
        await settled(pilot)
        assert keys(app) == {"Down": True, "Open": False, "Back": True, "On": True}
        app.query_one("#other").focus()
        await settled(pilot)
        assert keys(app) == {"Other key": True}
        assert not app.query_one(KeyBar).children  # one line, no widget per key


async def test_a_click_presses_its_key_and_a_disabled_key_does_nothing():
    app = Panes()
    async with app.run_test(size=(80, 10)) as pilot:
        pane = app.query_one("#pane", Pane)
        pane.focus()
        await settled(pilot)
        bar = app.query_one(KeyBar)
        column = shown(bar).index("o Open")
        await pilot.hover(KeyBar, offset=(column, 0))
        assert bar.tooltip == "Open the row"
        await pilot.click(KeyBar, offset=(column, 0))
        await settled(pilot)
        assert pane.opened == 1
        await pilot.click(KeyBar, offset=(shown(bar).index("j Down"), 0))
        await settled(pilot)
        assert pane.row == 1 and not keys(app)["Open"]
        await pilot.click(KeyBar, offset=(column, 0))
        await settled(pilot)
        assert pane.opened == 1


async def test_keys_that_do_not_fit_are_cut_whole_and_the_palette_stays_at_the_right():
    app = Panes()
    async with app.run_test(size=(32, 10)) as pilot:
        app.query_one("#pane").focus()
        await settled(pilot)
        line = shown(app.query_one(KeyBar))
        assert line.startswith(" j Down  o Open …") and line.endswith("^p palette ")
        assert list(keys(app)) == ["Down", "Open"]
