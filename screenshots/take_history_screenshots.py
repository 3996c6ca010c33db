"""Screenshots of a file's history, for the README: the list of its versions, and a diff of two.

    pip install -e '.[dev]' && python screenshots/take_history_screenshots.py

It runs the demo in the real dashboard headless (``App.run_test``), saving the session in a scratch
``DEEP_TUI_HOME``, reads that session back as a recording, and opens the history of the module the
demo writes and then fixes over the dashboard. It writes ``file-history`` and ``file-diff``, SVG and
(with cairosvg) PNG, next to itself.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
SIZE = (140, 42)
PATH = "/src/word_counter/core.py"


async def main() -> None:
    os.environ["DEEP_TUI_HOME"] = tempfile.mkdtemp(prefix="deep-tui-screenshots-")
    from take_screenshots import to_png, wait_for

    from deep_tui.app import DeepTUI
    from deep_tui.screens.file_history import FileHistory
    from deep_tui.source import Live, RecordingSource
    from deep_tui.spec import AgentSpec
    from deep_tui.state import fold

    app = DeepTUI(Live(AgentSpec(demo_speed=0)), prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.dashboard.status == "completed")
        (saved,) = (Path(os.environ["DEEP_TUI_HOME"]) / "sessions").iterdir()
        source = RecordingSource.open(saved)
        state = fold(source.recording.events)
        record = state.files[PATH]
        await wait_for(pilot, lambda: all(source.file(PATH, v.version) for v in record.versions), seconds=10)
        calls = {call.call_id: call.tool for call in state.calls}
        app.push_screen(FileHistory(record, source.file, calls))
        await wait_for(pilot, lambda: isinstance(app.screen, FileHistory))
        await pilot.pause(0.5)
        shots = [app.save_screenshot("file-history.svg", str(HERE))]
        await pilot.press("d")
        await pilot.pause(0.5)
        shots.append(app.save_screenshot("file-diff.svg", str(HERE)))
    for path in shots:
        to_png(Path(path))
        print(os.path.relpath(path))


if __name__ == "__main__":
    asyncio.run(main())
