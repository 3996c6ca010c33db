"""The agents view: the tree of subagents with how each does, kept up to date, and Enter to pick one."""

from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult

from deep_tui.state import fold
from deep_tui.widgets import AgentsView
from tests.event_streams import delegation_session
from tests.test_search import painted


class Agents(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str | None] = []

    def compose(self) -> ComposeResult:
        yield AgentsView(id="agents")

    def on_agents_view_selected(self, event: AgentsView.Selected) -> None:
        self.selected.append(event.task_id)


def lines(view: AgentsView) -> list[str]:
    return [line.rstrip() for line in painted(view) if line.strip()]


async def test_running_subagents_show_under_their_parent_with_elapsed_time_and_current_tool():
    app = Agents()
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(AgentsView)
        view.show(fold(delegation_session()[:9]).subagents)  # the writer waits on its helper, who reads
        view.now_t = 5.0
        await pilot.pause()
        main, writer, helper = lines(view)
        assert main.startswith("● main agent") and "2 subagents, 2 running" in main
        assert writer.startswith("  ◌ writer") and "4.0 s" in writer and "2 calls" in writer and "→ task" in writer
        assert helper.startswith("    ◌ helper") and "1.5 s" in helper and "→ read_file" in helper
        view.now_t = 65.0  # the app's tick, or replay's cursor, moves on
        await pilot.pause()
        assert "01:04" in lines(view)[1]


async def test_updates_show_how_each_ended_and_what_it_spent_and_keep_the_tree():
    app = Agents()
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(AgentsView)
        events = delegation_session()
        view.show(fold(events[:9]).subagents)
        for record in fold(events).subagents.values():
            view.update(record)
        await pilot.pause()
        main, writer, helper, tester = lines(view)
        assert "3 subagents" in main and "running" not in main
        assert writer.startswith("  ✓ writer") and "6.0 s" in writer and "48 tok" in writer and "→" not in writer
        assert helper.startswith("    ✓ helper") and "12 tok $0.0010" in helper
        assert tester.startswith("  ✗ tester") and "2.0 s" in tester and tester.endswith("2 tests failed")
        updated = lines(view)
        view.show(fold(events).subagents)
        await pilot.pause()
        assert lines(view) == updated  # fed one by one or shown at once: the same tree


async def test_enter_and_clicks_select_an_agent_and_the_cursor_keeps_its_agent():
    app = Agents()
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(AgentsView)
        events = delegation_session()
        view.show(fold(events[:9]).subagents)
        view.focus()
        await pilot.press("enter", "down", "down", "enter", "up", "enter")
        assert app.selected == [None, "h1", "w1"]
        await pilot.press("down")  # on the helper
        view.update(fold(events[:19]).subagents["t1"])  # the tester starts: a row after the writer's subtree
        await pilot.press("enter", "end", "enter", "home", "enter")
        assert app.selected[3:] == ["h1", "t1", None]
        await pilot.click(view, offset=(4, 1))
        assert app.selected[-1] == "w1"


async def test_an_agents_name_and_error_are_shown_as_text():
    app = Agents()
    async with app.run_test(size=(100, 10)) as pilot:
        view = app.query_one(AgentsView)
        state = fold(delegation_session())
        hostile = replace(state.subagents["t1"], name="[b]x[/b]\x1b[2J", error="[red]boom\x07")
        view.show({"t1": hostile})
        await pilot.pause()
        row = lines(view)[1]
        assert "[b]x[/b]" in row and "[red]boom" in row
        assert "\x1b" not in row and "\x07" not in row
