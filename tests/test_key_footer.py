"""The footer rebuilds only when the keys it shows change, and keeps nothing of the keys it replaced."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets._footer import FooterKey

from deep_tui.widgets import KeyFooter


class Pane(Widget, can_focus=True):
    """A pane whose second key is disabled on odd rows, as the tool log's keys depend on its row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "down", "Down"),
        Binding("o", "open", "Open"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__(id=name)
        self.row = 0

    def action_down(self) -> None:
        self.row += 1
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return (self.row % 2 == 0 or None) if action == "open" else True


class Other(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("x", "noop", "Other key")]

    def action_noop(self) -> None:
        pass


class Panes(App[None]):
    def compose(self) -> ComposeResult:
        yield Pane("pane")
        yield Other(id="other")
        yield KeyFooter()


def keys(app: App[None]) -> dict[str, bool]:
    shown = [key for key in app.query(FooterKey) if key.action != "command_palette"]
    return {key.description: not key.has_class("-disabled") for key in shown}


def footer_watchers(footer: KeyFooter) -> int:
    return sum(len(bound) for bound in getattr(footer, "__watchers", {}).values())


async def test_a_refresh_that_changes_no_key_keeps_the_same_keys():
    app = Panes()
    async with app.run_test() as pilot:
        app.query_one("#pane").focus()
        await pilot.pause()
        await pilot.pause()
        before = list(app.query(FooterKey))
        assert keys(app) == {"Down": True, "Open": True}
        await pilot.press("j")
        await pilot.pause()
        assert keys(app) == {"Down": True, "Open": False}
        changed = list(app.query(FooterKey))
        assert changed != before
        app.query_one("#pane").refresh_bindings()  # nothing changed: the same key widgets stay
        await pilot.pause()
        await pilot.pause()
        assert list(app.query(FooterKey)) == changed


async def test_focus_changes_show_each_panes_keys_and_keep_no_replaced_key():
    app = Panes()
    async with app.run_test() as pilot:
        for _ in range(8):
            app.query_one("#pane").focus()
            await pilot.pause()
            await pilot.pause()
            assert "Down" in keys(app) and "Other key" not in keys(app)
            app.query_one("#other").focus()
            await pilot.pause()
            await pilot.pause()
            assert "Other key" in keys(app) and "Down" not in keys(app)
        footer = app.query_one(KeyFooter)
        shown = [key for key in app.query(FooterKey) if key.action != "command_palette"]
        assert footer_watchers(footer) == len(shown) == 1
