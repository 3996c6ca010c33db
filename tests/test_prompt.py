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


async def focused(pilot: Pilot[None], layouts: list[Screen[object]]) -> Input:
    """The prompt, focused, with the screen's layouts counted from then on."""
    prompt = pilot.app.query_one("#prompt", Input)
    prompt.focus()
    await pilot.pause()
    layouts.clear()
    return prompt


@pytest.mark.parametrize(("kind", "lays_out"), [(Input, True), (Prompt, False)])
async def test_typing_lays_out_the_screen_with_textuals_input_and_not_with_the_prompt(screen_layouts, kind, lays_out):
    app = PromptApp(kind)
    async with app.run_test(size=(40, 8)) as pilot:
        prompt = await focused(pilot, screen_layouts)
        await pilot.press(*"hello")
        await pilot.pause()
        assert prompt.value == "hello"
        assert bool(screen_layouts) is lays_out


async def test_a_prompt_longer_than_its_box_scrolls_to_its_cursor_and_back(screen_layouts):
    app = PromptApp(Prompt)
    async with app.run_test(size=(40, 8)) as pilot:
        prompt = await focused(pilot, screen_layouts)
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
        assert not screen_layouts
