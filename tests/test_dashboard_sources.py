"""The dashboard on a source made here: nothing of the live runner is needed to fill every pane."""

from __future__ import annotations

from deep_tui.app import DeepTUI
from deep_tui.screens.file_viewer import FileViewer
from deep_tui.screens.tool_detail import ToolDetail
from deep_tui.widgets import FileTree, OutputView, TodoList, ToolCallLog, UsageBar
from tests.canned import CannedSource
from tests.event_streams import CORE_VERSIONS, sample_session, version
from tests.test_app import SIZE, shown, submit, until

SECOND_TURN = 27
"""Where the sample session's second turn starts."""


def canned() -> CannedSource:
    events = sample_session()
    return CannedSource(
        [events[:SECOND_TURN], events[SECOND_TURN:]],
        {version(data): data for data in CORE_VERSIONS},
        {"c1": "wrote /src/core.py (canned result)"},
    )


async def test_every_pane_shows_a_turn_of_a_source_made_in_the_test():
    source = canned()
    app = DeepTUI(source, prompt="build core")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause(0.3)
        output = shown(app.query_one(OutputView))
        assert "build core" in output and "Done: core written." in output
        assert "write tests" in shown(app.query_one(TodoList))
        assert app.query_one(FileTree).paths == ["/src/core.py"]
        assert [row.call_id for row in app.query_one(ToolCallLog).records] == ["c1", "c2", "c3"]
        assert "2 requests · 300 in · 50 out · 3 tool calls" in shown(app.query_one(UsageBar))
        assert "1 turn in 11.5 s" in shown(app.query_one(UsageBar))
        # The status line's times are the events': 11.5 s, whatever the test's clock did.
        assert app.dashboard.elapsed == 11.5 and app.dashboard.step == 6

        tree = app.query_one(FileTree)
        tree.focus()
        tree.move_cursor(tree._by_path["/src/core.py"])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FileViewer))
        assert "return 2" in shown(app.screen.query_one("#viewer-content"))
        await pilot.press("d")
        await pilot.pause()
        assert "+    return 2" in shown(app.screen.query_one("#viewer-diff"))
        await pilot.press("escape")

        log = app.query_one(ToolCallLog)
        log.focus()
        await pilot.press("home", "down", "enter")
        await until(pilot, lambda: isinstance(app.screen, ToolDetail))
        assert "canned result" in shown(app.screen.query_one("#detail-result"))
        await pilot.press("escape")

        await submit(pilot, "now the README")
        await until(pilot, lambda: app.dashboard.status == "cancelled")
        assert app.dashboard.turns == 2
        assert "■ cancelled after 3.0 s" in shown(app.query_one(OutputView))  # the recorded duration
    assert source.turns == []  # both turns were asked of the source, through its interface alone
