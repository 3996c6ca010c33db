"""The prompt: typing into it redraws it, and never lays out the screen around it."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static

from deep_tui.widgets import Prompt


class PromptApp(App[None]):
    def __init__(self, kind: type[Input]) -> None:
        super().__init__()
        self.kind = kind

    def compose(self) -> ComposeResult:
        yield Static("a pane above", id="pane")
        yield self.kind(id="prompt")


async def focused(pilot: Pilot[None], monkeypatch: pytest.MonkeyPatch) -> tuple[Input, list[Screen[object]]]:
    """The prompt, focused, and the list of each full layout of a screen from then on."""
    prompt = pilot.app.query_one("#prompt", Input)
    prompt.focus()
    await pilot.pause()
    return prompt, layouts(monkeypatch)


def layouts(monkeypatch: pytest.MonkeyPatch) -> list[Screen[object]]:
    made: list[Screen[object]] = []
    lay_out = Screen._refresh_layout

    def counted(self: Screen[object], *args: object, **kwargs: object) -> None:
        made.append(self)
        lay_out(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    return made


@pytest.mark.parametrize(("kind", "lays_out"), [(Input, True), (Prompt, False)])
async def test_typing_lays_out_the_screen_with_textuals_input_and_not_with_the_prompt(monkeypatch, kind, lays_out):
    app = PromptApp(kind)
    async with app.run_test(size=(40, 8)) as pilot:
        prompt, made = await focused(pilot, monkeypatch)
        await pilot.press(*"hello")
        await pilot.pause()
        assert prompt.value == "hello"
        assert bool(made) is lays_out


async def test_a_prompt_longer_than_its_box_scrolls_to_its_cursor_and_back(monkeypatch):
    app = PromptApp(Prompt)
    async with app.run_test(size=(40, 8)) as pilot:
        prompt, made = await focused(pilot, monkeypatch)
        text = "".join(f"x{index:02d}" for index in range(33))  # no part of it twice
        await pilot.press(*text)
        await pilot.pause()
        drawn = "".join(strip.text for strip in prompt.render_lines(Region(0, 0, *prompt.outer_size)))
        assert prompt.value == text and prompt.scroll_x > 0
        assert "x31x32" in drawn and "x00x01" not in drawn  # the end, where the cursor is
        await pilot.press("home")
        await pilot.pause()
        drawn = "".join(strip.text for strip in prompt.render_lines(Region(0, 0, *prompt.outer_size)))
        assert prompt.scroll_x == 0 and "x00x01" in drawn and "x31x32" not in drawn
        assert not made
