"""The status line counts the running subagents, and keeps the count on a narrow line while it fits."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult

from deep_tui.widgets import StatusBar
from tests.test_app import shown


class Line(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")


async def line(width: int, **state: object) -> str:
    app = Line()
    async with app.run_test(size=(width, 3)) as pilot:
        bar = app.query_one(StatusBar)
        for name, value in state.items():
            setattr(bar, name, value)
        await pilot.pause()
        return shown(bar).strip()


RUNNING = {
    "agent": "openai:gpt-5.1-codex-mini",
    "status": "running",
    "step": 12,
    "node": "CallToolsNode",
    "elapsed": 31,
}


async def test_the_running_subagents_are_counted_beside_the_status():
    assert "● running · 2 subagents running · step 12" in await line(120, subagents=2, **RUNNING)
    assert "1 subagent running" in await line(120, subagents=1, **RUNNING)
    assert "subagent" not in await line(120, subagents=0, **RUNNING)


@pytest.mark.parametrize(
    ("width", "count", "step"),
    [(70, "2 subagents running", True), (50, "2 subagents", False), (32, None, False)],
)
async def test_a_narrow_line_shortens_the_count_once_the_step_has_gone_and_drops_it_last(width, count, step):
    shown_line = await line(width, subagents=2, **RUNNING)
    assert "● running" in shown_line and shown_line.endswith("· 31.0 s"), shown_line
    assert ("step 12" in shown_line) == step
    if count is None:
        assert "subagent" not in shown_line
    else:
        assert f"· {count} ·" in shown_line
