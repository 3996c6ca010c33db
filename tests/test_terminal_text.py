"""Agent text never drives the terminal: the sanitizer, and every pane and screen of the dashboard."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from agents.escapes import ESCAPES
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget

from deep_tui.app import DeepTUI
from deep_tui.screens.file_viewer import FileViewer
from deep_tui.screens.tool_detail import ToolDetail
from deep_tui.source import Live
from deep_tui.spec import AgentSpec
from deep_tui.terminal_text import VisibleLogs, json_visible, visible
from deep_tui.widgets import FileTree, OutputView, StatusBar, TodoList, ToolCallLog

AGENTS = Path(__file__).parent / "agents"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Every control character but newline and tab."""
SHOWN = "␛]0;title␇ ␛[2J ␛]52;c;aGk=␇ \\x9b31m \\x9d0;t␇"
"""``ESCAPES`` as the user sees it."""
TITLE, C1 = "␛]0;title␇", "\\x9b31m"
"""Parts of it short enough not to be wrapped in a pane."""


def test_every_control_but_newline_and_tab_is_shown_not_kept():
    every = "".join(map(chr, range(0xA0)))
    shown = visible(every)
    assert not RAW.search(shown)
    assert "\n" in shown and "\t" in shown
    assert shown.startswith("␀␁␂␃␄␅␆␇␈\t\n␋␌␍␎␏") and "␛" in shown and "␡" in shown
    assert "\\x80" in shown and "\\x9b" in shown and "\\x9f" in shown
    assert visible(ESCAPES) == SHOWN


def test_clean_text_comes_back_as_it_is_and_crlf_is_a_line_end():
    clean = "plain — ünïcode ✓ text\n\twith tabs\n"
    assert visible(clean) is clean
    assert visible("one\r\ntwo\rthree") == "one\ntwo␍three"


def test_json_lines_escape_c1_and_delete_and_read_back_the_same():
    line = json.dumps({"text": ESCAPES + "\x7f"}, ensure_ascii=False)
    safe = json_visible(line)
    assert not RAW.search(safe)
    assert json.loads(safe) == {"text": ESCAPES + "\x7f"}


def test_log_records_quoting_agent_text_are_made_visible():
    record = logging.LogRecord("agent", logging.WARNING, __file__, 1, "tool said %s", (ESCAPES,), None)
    VisibleLogs().filter(record)
    assert record.getMessage() == f"tool said {SHOWN}"


# The dashboard ---------------------------------------------------------------------------------


def painted(screen: Screen) -> str:
    """Every character the screen's widgets paint, scrolled into view or not."""
    lines = []
    for widget in screen.walk_children(Widget):
        if widget.display and widget.outer_size.area:
            strips = widget.render_lines(Region(0, 0, *widget.outer_size))
            lines += ["".join(segment.text for segment in strip) for strip in strips]
    return "\n".join(lines)


def pane(app: DeepTUI, widget_type: type[Widget]) -> str:
    widget = app.query_one(widget_type)
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


def assert_safe(text: str, *markers: str) -> None:
    """No control character is left, and the user sees where each one was."""
    assert not RAW.search(text), repr(RAW.findall(text))
    for marker in markers:
        assert marker in text


async def until(pilot: Pilot, condition, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition never became true")


@pytest.fixture
def hostile_agent(tmp_path: Path) -> str:
    """The escapes agent, from a directory whose name is hostile too: the agent's name is shown."""
    folder = tmp_path / f"agent{ESCAPES.replace('/', '')}"
    folder.mkdir()
    shutil.copy(AGENTS / "escapes.py", folder / "escapes.py")
    return f"{folder}/escapes.py:build"


async def test_no_pane_or_screen_of_the_dashboard_passes_agent_escapes_to_the_terminal(hostile_agent):
    app = DeepTUI(Live(AgentSpec(agent=hostile_agent, save=False)), prompt=f"go {ESCAPES}")
    async with app.run_test(size=(200, 60), notifications=True) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        app.query_one(FileTree).flush()
        await pilot.pause()
        assert_safe(pane(app, StatusBar), TITLE, C1)
        assert_safe(pane(app, TodoList), f"Todo {TITLE}", f"Doing {TITLE}", C1)
        assert_safe(pane(app, FileTree), "notes␛[2J/", f"plan[b]{TITLE}")
        assert_safe(app.query_one(OutputView).plain_text, f"go {TITLE}", f"Thinking {TITLE}", f"Planning {TITLE}", C1)
        assert_safe(pane(app, OutputView), f"Report {TITLE}", f"Done: {TITLE}")
        assert_safe(pane(app, ToolCallLog), f"turn 1: go {TITLE}", f"topic {TITLE}", "no_such_tool␛]0;", C1)
        assert_safe(painted(app.screen), SHOWN)
        assert_safe(app.export_screenshot())

        await pilot.press("ctrl+b", "down", "down", "enter")  # the folder, then its file
        await until(pilot, lambda: isinstance(app.screen, FileViewer))
        await pilot.pause()
        assert_safe(painted(app.screen), f"plan[b]{TITLE}", f"line one {SHOWN}", "line two")
        assert "␍" not in painted(app.screen)  # a CRLF line end is a line end
        await pilot.press("d")
        await pilot.pause()
        assert_safe(painted(app.screen), f"+line one {SHOWN}")
        assert_safe(app.export_screenshot())
        await pilot.press("escape")

        app.query_one(FileTree).post_message(FileTree.FileSelected(f"/gone[b]{ESCAPES}"))
        await until(pilot, lambda: "exists." in painted(app.screen))
        assert_safe(painted(app.screen), f"/gone[b]{TITLE}")

        await pilot.press("ctrl+l", "end", "enter")  # the last call: the unknown tool
        await until(pilot, lambda: isinstance(app.screen, ToolDetail))
        await pilot.pause()
        assert_safe(painted(app.screen), f"no_such_tool{SHOWN}", "Unknown tool name")
        assert_safe(app.export_screenshot())
        await pilot.press("escape", "up", "enter")  # the call before it: lookup
        await until(pilot, lambda: isinstance(app.screen, ToolDetail))
        await pilot.pause()
        assert_safe(painted(app.screen), f"topic {SHOWN}", f"Result for topic {SHOWN}: {SHOWN}")
        assert_safe(app.export_screenshot())
