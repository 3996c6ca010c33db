"""The dashboard, driven with Textual's Pilot as a user would drive it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input

from deep_tui.app import DeepTUI, UnknownTheme
from deep_tui.events import RunFinished, RunStarted, ToolCallFinished, ToolCallStarted
from deep_tui.format import duration
from deep_tui.messages import AgentEvents
from deep_tui.screens.file_viewer import FileViewer
from deep_tui.screens.help import Help
from deep_tui.screens.tool_detail import ToolDetail
from deep_tui.source import Live
from deep_tui.spec import AgentSpec
from deep_tui.widgets import FileTree, KeyBar, OutputView, StatusBar, TodoList, ToolCallLog, UsageBar

AGENTS = Path(__file__).parent / "agents"
SIZE = (130, 40)


async def until(pilot: Pilot, condition: Callable[[], bool], seconds: float = 20) -> None:
    """Let the app run until ``condition`` holds (a failing test rather than a hang if it never does)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


def footer(screen: Screen[object]) -> dict[str, str]:
    """The keys a screen's key bar draws, by action: each as its key and label, checked against the line drawn."""
    bar = screen.query_one(KeyBar)
    keys = {key.action: f"{key.display} {key.description}" for key in bar.visible_keys}
    line = shown(bar)
    assert all(label in line for label in keys.values()), (keys, line)
    return keys


def shown(widget: Widget) -> str:
    """The text a widget draws, every line of it (scrolled out of view or not)."""
    if isinstance(widget, OutputView):
        return widget.plain_text
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


def demo(**kwargs) -> DeepTUI:
    return DeepTUI(Live(AgentSpec(demo_speed=0)), **kwargs)


async def submit(pilot: Pilot, prompt: str) -> None:
    pilot.app.query_one("#prompt", Input).focus()
    await pilot.press(*prompt)
    await pilot.press("enter")


async def test_the_demo_fills_every_pane_and_takes_a_second_prompt():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause()
        todos = shown(app.query_one(TodoList))
        for item in ("Sketch the plan", "Write the tests", "Document usage in the README"):
            assert f"✔ {item}" in todos
        assert app.query_one(TodoList).border_subtitle == "5/5 done"
        assert app.query_one(FileTree).paths == [
            "/README.md",
            "/notes/plan.md",
            "/src/word_counter/__init__.py",
            "/src/word_counter/core.py",
            "/tests/test_core.py",
        ]
        records = app.query_one(ToolCallLog).records
        assert all(r.status == "success" for r in records)
        assert len([r for r in records if r.origin_task is None]) == 15  # the main agent's own calls
        assert [r.tool for r in records if r.origin_task is not None] == ["write_file"]  # the tester's, nested
        assert {"write_todos", "write_file", "read_file", "hashline_edit"} <= {r.tool for r in records}
        output = shown(app.query_one(OutputView))
        assert "> build a word counter" in output and "Done: Word Counter" in output
        assert "A small package fits" in output  # the thinking, shown apart
        assert "Writing the tests." not in output  # the tester subagent's text is not the main answer's
        usage = shown(app.query_one(UsageBar))
        # The main agent's 10 requests and 15 calls, and its tester subagent's 2 requests and 1 call.
        assert "12 requests" in usage and "16 tool calls" in usage and "1 turn in" in usage
        assert "cost –" in usage  # a FunctionModel has no price
        first_turn = app.dashboard.elapsed
        status = shown(app.query_one(StatusBar))
        assert "demo" in status and "completed" in status and "step 22" in status
        assert app.focused is app.query_one("#prompt", Input)

        await submit(pilot, "add a changelog")
        await until(pilot, lambda: app.dashboard.status == "completed" and app.dashboard.turns == 2)
        await pilot.pause()
        assert "> add a changelog" in shown(app.query_one(OutputView))
        assert "/notes/changelog.md" in app.query_one(FileTree).paths
        assert "✔ Follow up: add a changelog" in shown(app.query_one(TodoList))
        assert (
            app.dashboard.session_time == first_turn + app.dashboard.elapsed
        )  # the usage line's time spans both turns
        assert f"2 turns in {duration(app.dashboard.session_time)}" in shown(app.query_one(UsageBar))


async def test_a_users_agent_shows_its_todos_files_tools_and_answer():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/custom.py:build")), prompt="plan the garden")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause()
        todos = shown(app.query_one(TodoList))
        assert "Survey the garden" in todos and "Plant the tulips" in todos
        assert app.query_one(FileTree).paths == ["/garden/beds.md"]
        assert {r.tool for r in app.query_one(ToolCallLog).records} == {"write_todos", "write_file", "count_petals"}
        assert "Garden planned: the north bed gets tulips, six petals each." in shown(app.query_one(OutputView))


async def test_escape_cancels_a_stream_keeps_files_and_the_next_prompt_continues():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/slow.py:streaming")), prompt="go slowly")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "slow3" in shown(app.query_one(OutputView)))
        assert "Cancel the run" in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("escape")
        await until(pilot, lambda: app.dashboard.status == "cancelled", seconds=1)
        streamed = shown(app.query_one(OutputView))
        assert "■ cancelled after" in streamed
        assert "Cancel the run" not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.pause(0.3)
        assert shown(app.query_one(OutputView)) == streamed  # the stream stopped
        assert app.query_one(FileTree).paths == ["/before.txt"]
        assert app.query_one("#cancel", Button).disabled

        await submit(pilot, "finish")
        await until(pilot, lambda: app.dashboard.status == "completed")
        assert "finished" in shown(app.query_one(OutputView))
        assert (
            app.source.session is not None and app.source.session.files.read_bytes("/before.txt") == b"written before"
        )


async def test_the_cancel_button_marks_the_running_tool_cancelled():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/slow.py:build")), prompt="build it")
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(ToolCallLog)
        await until(pilot, lambda: any(r.tool == "long_build" for r in log.records))
        await pilot.pause(0.2)
        assert "running" in shown(log).splitlines()[3]  # under the border, the turn and the write_file row
        await pilot.click("#cancel")
        await until(pilot, lambda: app.dashboard.status == "cancelled", seconds=1)
        assert {r.tool: r.status for r in log.records} == {"write_file": "success", "long_build": "cancelled"}
        assert app.query_one(FileTree).paths == ["/before.txt"]


async def test_selecting_a_file_opens_its_content_and_last_change():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause(0.3)
        tree = app.query_one(FileTree)
        tree.focus()
        tree.move_cursor(tree._by_path["/src/word_counter/core.py"])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FileViewer))
        viewer = app.screen
        assert viewer.path == "/src/word_counter/core.py"
        assert "def parse(text: str) -> list[Item]:" in shown(viewer.query_one("#viewer-content"))
        await pilot.press("d")
        await pilot.pause()
        diff = shown(viewer.query_one("#viewer-diff"))
        assert "+        if not line.strip():" in diff and "@@ -20,6 +20,8 @@" in diff
        await pilot.press("escape")
        assert not isinstance(app.screen, FileViewer)


async def test_a_tool_row_shows_the_full_arguments_and_result():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        log = app.query_one(ToolCallLog)
        log.focus()
        read_row = next(i for i, r in enumerate(log.rows) if getattr(r, "tool", "") == "read_file")
        await pilot.press("home", *["down"] * read_row, "enter")
        await until(pilot, lambda: isinstance(app.screen, ToolDetail))
        detail = app.screen
        assert detail.record.tool == "read_file"
        result = shown(detail.query_one("#detail-result"))
        assert "def summarize(items: list[Item]) -> dict[str, int]:" in result
        await pilot.press("escape")
        assert not isinstance(app.screen, ToolDetail)


async def test_a_provider_error_shows_in_the_output_and_the_status():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/failing.py:agent")), prompt="go")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "failed")
        await pilot.pause()
        output = shown(app.query_one(OutputView))
        assert "Starting the answer" in output and "✗ failed: ModelHTTPError" in output and "503" in output
        assert "failed" in shown(app.query_one(StatusBar))
        assert app.focused is app.query_one("#prompt", Input)


async def test_an_agent_that_cannot_load_ends_the_app_with_the_reason():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/custom.py:nope")))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.startup_error is not None)
    assert app.return_code == 2
    assert "has no attribute 'nope'" in app.startup_error


async def test_keys_move_focus_between_panes_and_the_palette_offers_the_actions():
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        for key, pane in (
            ("ctrl+t", "todos"),
            ("ctrl+b", "files"),
            ("ctrl+o", "output"),
            ("ctrl+l", "calls"),
            ("ctrl+n", "prompt"),
        ):
            await pilot.press(key)
            assert app.focused is not None and app.focused.id == pane
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Copy the last answer", "Focus Files", "Focus the prompt"} <= set(commands)


async def test_a_focus_change_repaints_the_two_panes_not_the_whole_screen():
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        await pilot.press("ctrl+t")
        screen = app.dashboard
        asked: list[dict[str, object]] = []
        refresh = screen.refresh
        screen.refresh = lambda *regions, **kwargs: asked.append(kwargs) or refresh(*regions, **kwargs)  # type: ignore[method-assign]
        await pilot.press("ctrl+l")
        assert app.focused is app.query_one(ToolCallLog)
        assert asked == []  # Textual's screen repaints itself whole on a focus change, a third of the key's time


async def test_a_focus_key_restyles_both_panes_as_it_is_handled_so_that_the_next_paint_draws_it():
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        await pilot.press("ctrl+t")
        todos, calls = app.query_one(TodoList), app.query_one(ToolCallLog)
        focus_border = todos.styles.border_top
        app.dashboard.action_focus_pane("calls")  # what ctrl+l does; no turn of the event loop after it
        assert app.focused is calls and calls.has_focus and not todos.has_focus
        assert calls.styles.border_top == focus_border != todos.styles.border_top
        await pilot.pause()
        assert app.focused is calls and calls.has_focus and not todos.has_focus


async def test_a_prompt_typed_while_the_agent_loads_runs_when_it_is_ready():
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await submit(pilot, "build a word counter")
        await until(pilot, lambda: app.dashboard.status == "completed")
        assert "> build a word counter" in shown(app.query_one(OutputView))


async def test_quit_during_a_run_cancels_it():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/slow.py:streaming")), prompt="go")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "slow2" in shown(app.query_one(OutputView)))
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_a_tiny_terminal_still_runs_and_shows_the_output():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=(40, 12)) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause()
        assert not app.query_one("#side").display
        assert "Done: Word Counter" in shown(app.query_one(OutputView))

        await pilot.press("ctrl+l")  # the tool calls, hidden at this height, fill the screen
        calls = app.query_one(ToolCallLog)
        assert app.screen.maximized is calls and calls.region.height >= 8
        assert shown(calls).count("✓ ") >= 8 and "/README.md" in shown(calls)
        await pilot.press("escape")
        assert app.screen.maximized is None and not calls.display

        await pilot.press("ctrl+t")  # the todos, full screen, show every item, not their usual 45%
        todos = app.query_one(TodoList)
        assert app.screen.maximized is todos and todos.region.height >= 8
        assert all(f"✔ {item}" in shown(todos) for item in ("Sketch the plan", "Document usage in the README"))


async def test_the_output_still_shows_the_end_after_the_terminal_shrinks():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        output = app.query_one(OutputView)
        await pilot.pause()
        assert output.is_vertical_scroll_end
        for size in ((100, 24), (50, 15), SIZE):
            await pilot.resize_terminal(*size)
            await pilot.pause(0.1)
            assert output.max_scroll_y > 0 and output.is_vertical_scroll_end, size

        output.scroll_home(animate=False)  # a reader who scrolled up stays where they are
        await pilot.resize_terminal(100, 24)
        await pilot.pause(0.1)
        assert output.scroll_y == 0


def panes_shown(app: DeepTUI) -> set[str]:
    """The panes a user sees: displayed, and given room on the screen."""
    return {pane for pane in ("todos", "files", "output", "calls") if visible(app.query_one(f"#{pane}"))}


def visible(widget: Widget) -> bool:
    return all(node.display for node in widget.ancestors_with_self if isinstance(node, Widget)) and bool(
        widget.region.area
    )


@pytest.mark.parametrize("sizes", [((60, 20), (160, 48), (60, 20)), ((160, 48), (60, 20), (160, 48))])
async def test_the_panes_shown_follow_the_size_the_terminal_has_now(sizes):
    expected = {(60, 20): {"output", "calls"}, (160, 48): {"todos", "files", "output", "calls"}}
    app = demo()
    async with app.run_test(size=sizes[0]) as pilot:
        await until(pilot, lambda: bool(app.query("#files")))
        await pilot.pause()
        assert panes_shown(app) == expected[sizes[0]]
        for size in sizes[1:]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert app.size == size and panes_shown(app) == expected[size], size


async def test_a_click_on_a_tool_row_opens_that_call_even_scrolled():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        log = app.query_one(ToolCallLog)
        for top in (0, 3):
            log.scroll_to(y=top, animate=False, immediate=True)
            await pilot.pause()
            assert log.scroll_offset.y == top
            row = top + 2  # from the top: the border, then (unscrolled) the turn's divider
            await pilot.click(log, offset=(10, 1 + row - top))
            await until(pilot, lambda: isinstance(app.screen, ToolDetail))
            assert app.screen.record is log.rows[row]
            await pilot.press("escape")
        log.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        await pilot.click(log, offset=(10, 1))  # the divider opens nothing
        await pilot.pause()
        assert not isinstance(app.screen, ToolDetail)


async def test_a_new_turn_follows_the_output_even_if_the_reader_had_scrolled_up():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        output = app.query_one(OutputView)
        await pilot.pause()
        output.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        assert not output.is_vertical_scroll_end

        await submit(pilot, "add a changelog")
        await until(pilot, lambda: app.dashboard.status == "completed" and app.dashboard.turns == 2)
        await pilot.pause()
        assert output.is_vertical_scroll_end
        assert "new output below" not in str(output.border_subtitle)


UNSEEN = "new output below ↓ (End)"


async def test_output_arriving_below_a_reader_who_scrolled_up_shows_a_hint_until_the_end():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/slow.py:streaming")), prompt="go")
    async with app.run_test(size=(60, 20)) as pilot:
        output = app.query_one(OutputView)
        await until(pilot, lambda: output.max_scroll_y > 2)
        assert not output.border_subtitle  # following the end: nothing to point at
        output.focus()
        await pilot.press("home")
        await pilot.pause()
        lines = output.virtual_size.height
        await until(pilot, lambda: output.virtual_size.height > lines)
        await pilot.pause()
        assert output.scroll_y == 0  # the reader stays where they are
        assert str(output.border_subtitle) == UNSEEN and output.has_class("-unseen")

        await pilot.press("end")
        await pilot.pause()
        assert not output.border_subtitle and not output.has_class("-unseen")
        lines = output.virtual_size.height
        await until(pilot, lambda: output.virtual_size.height > lines + 2)
        await pilot.pause()
        assert output.is_vertical_scroll_end and not output.border_subtitle  # following again

        await pilot.press("home")  # the hint is also a button
        await until(pilot, lambda: output.has_class("-unseen"))
        await pilot.click(output, offset=(20, output.outer_size.height - 1))
        await pilot.pause()
        assert output.is_vertical_scroll_end and not output.has_class("-unseen")
        await pilot.press("escape")
        await until(pilot, lambda: app.dashboard.status == "cancelled")


async def test_a_calls_outcome_has_one_word_in_its_row_and_its_detail():
    outcomes = ("success", "failed", "retried", "denied", "interrupted", "cancelled")
    events = [RunStarted(run_id="r", session_id="s", turn=1, prompt="delegate", agent="scripted")]
    for n, outcome in enumerate(outcomes):
        events += [
            ToolCallStarted(call_id=f"c{n}", tool="task", args={"description": f"subtask {n}"}),
            ToolCallFinished(call_id=f"c{n}", tool="task", outcome=outcome, preview="RuntimeError: crashed"),
        ]
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        app.post_message(AgentEvents([*events, RunFinished(status="completed")]))
        await until(pilot, lambda: app.dashboard.status == "completed")
        log = app.query_one(ToolCallLog)
        log.focus()
        for n, outcome in enumerate(outcomes):
            row = shown(log).splitlines()[1 + 1 + n]  # under the border and the turn's divider
            assert f"subtask {n}" in row and row.rstrip("│ ").split()[-3:] == [outcome, "0", "ms"], row
            await pilot.press("home", *["down"] * (1 + n), "enter")
            await until(pilot, lambda: isinstance(app.screen, ToolDetail))
            assert f"task  {outcome} ·" in shown(app.screen.query_one("#detail-title"))
            await pilot.press("escape")


async def test_a_narrow_status_line_keeps_the_status_and_the_elapsed_time():
    app = DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/slow.py:streaming")), prompt="go")  # a long agent label
    async with app.run_test(size=(60, 20)) as pilot:
        bar = app.query_one(StatusBar)
        await until(pilot, lambda: app.dashboard.node == "ModelRequestNode" and bar.elapsed >= 1)
        line = shown(bar).strip()
        assert "● running" in line and "step " in line
        assert line.endswith(f"· {duration(bar.elapsed)}"), line
        assert "…" in line  # the agent's long path gave way first, after the name and the node
        await pilot.press("escape")
        await until(pilot, lambda: app.dashboard.status == "cancelled")


async def test_escape_closes_the_keys_panel_opened_from_the_palette():
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        await pilot.press("ctrl+p", *"keys")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.screen.query("HelpPanel")))
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")


async def test_help_lists_the_keys_of_the_focused_pane_and_of_the_app():
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        await pilot.press("ctrl+l", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, Help))
        sections = [shown(s) for s in app.screen.query(".help-section")]
        assert sections[0].lstrip().startswith("Everywhere") and sections[1].lstrip().startswith("Tool calls")
        for key, does in (("^y", "Copy the last answer"), ("esc", "Stop the running turn"), ("^q", "Quit")):
            assert any(key in line and does in line for line in sections[0].splitlines()), (key, does)
        for key, does in (("↑", "Previous call"), ("⏎", "Details")):  # hidden from the footer, listed here
            assert any(key in line and does in line for line in sections[1].splitlines()), (key, does)
        await pilot.press("escape")
        assert not isinstance(app.screen, Help) and app.focused is app.query_one(ToolCallLog)


async def test_question_mark_types_into_the_prompt_and_f1_opens_help_from_it():
    app = demo()
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        prompt = app.query_one("#prompt", Input)
        assert app.focused is prompt
        await pilot.press(*"why", "question_mark")
        assert prompt.value == "why?" and not isinstance(app.screen, Help)
        # At 60 columns the footer has no room for ^l, ^n or ^y, but it shows how to see them.
        keys = footer(app.screen)
        assert "Help" in keys["help"] and not keys.keys() & {"screen.focus_pane('calls')", "copy_answer"}
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, Help))
        sections = [shown(s) for s in app.screen.query(".help-section")]
        assert "^l" in sections[0] and "^n" in sections[0] and sections[1].lstrip().startswith("Prompt")
        await pilot.press("f1")  # the key that opened it closes it
        assert not isinstance(app.screen, Help) and prompt.value == "why?"


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``XDG_CONFIG_HOME``; the preferences file it would hold."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path / "deep-tui" / "config.toml"


def toasts(app: DeepTUI) -> str:
    """The notifications on screen (``run_test`` shows them only when asked to), their lines joined."""
    return " ".join(" ".join(shown(toast).replace("▌", " ").split()) for toast in app.screen.query("Toast"))


async def test_the_theme_picked_and_the_side_column_are_kept_for_the_next_run(config_home: Path):
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        await pilot.press("ctrl+p", *"theme")
        await pilot.pause(0.3)
        await pilot.press("enter", *"nord")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "nord")
        await pilot.press("ctrl+t", "f2")
        await pilot.pause()
        assert "todos" not in panes_shown(app) and "files" not in panes_shown(app)
        assert app.focused is app.query_one("#prompt")  # not left in a hidden pane
    assert 'theme = "nord"' in config_home.read_text() and "side_column = false" in config_home.read_text()

    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        assert app.theme == "nord" and panes_shown(app) == {"output", "calls"}
        await pilot.press("f2")
        await pilot.pause()
        assert panes_shown(app) == {"todos", "files", "output", "calls"}
    assert "side_column = true" in config_home.read_text()


async def test_a_theme_on_the_command_line_is_for_this_run_only(config_home: Path):
    config_home.parent.mkdir(parents=True)
    config_home.write_text('# mine\ntheme = "nord"\n')
    app = demo(theme="gruvbox")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        assert app.theme == "gruvbox"
    assert config_home.read_text() == '# mine\ntheme = "nord"\n'
    with pytest.raises(UnknownTheme, match="unknown theme 'nope': choose one of .*gruvbox.*nord"):
        demo(theme="nope")


async def test_a_broken_preferences_file_is_a_notice_and_is_not_overwritten(config_home: Path):
    config_home.parent.mkdir(parents=True)
    config_home.write_text("theme = nord\n")  # no quotes: not TOML
    app = demo()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        await pilot.pause()
        assert "is not valid TOML" in toasts(app) and app.theme == "textual-dark"
        await pilot.press("f2")  # still works, for this run
        await pilot.pause()
        assert not {"todos", "files"} & panes_shown(app)
        assert "Not kept for the next run" in toasts(app)
    assert config_home.read_text() == "theme = nord\n"

    config_home.write_text('theme = "no-such-theme"\nside_column = "no"\nwidth = 3\n')
    app = demo()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: app.dashboard.status == "idle")
        await pilot.pause()
        notices = toasts(app)
        assert "unknown theme 'no-such-theme'" in notices and "side_column must be true or false" in notices
        assert "unknown setting 'width'" in notices
        assert panes_shown(app) == {"todos", "files", "output", "calls"}
