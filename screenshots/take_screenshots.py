"""Screenshots of the dashboard on the demo agent, for the README.

Run it after any change to the UI:

    pip install -e '.[dev]' && python screenshots/take_screenshots.py

It drives the real app headless (``App.run_test``) and writes an SVG and a PNG
of a run in progress (steered on the way, its tester subagent at work), of a finished run (with a second
turn), of that session replayed (``deep-tui replay``, paused in the middle) and of an edit waiting for
approval (``--approve hashline_edit``) next to itself.
PNGs need cairosvg (in the ``dev`` extra); the SVGs are written either way.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from textual.widgets import Input

from deep_tui.app import DeepTUI
from deep_tui.source import Live, RecordingSource
from deep_tui.spec import AgentSpec

HERE = Path(__file__).parent
SIZE = (140, 42)


async def wait_for(pilot, condition, seconds: float = 120) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise TimeoutError("the demo did not get there")


def to_png(svg: Path) -> None:
    try:
        import cairosvg
    except ImportError:
        print(f"  (no cairosvg: {svg.with_suffix('.png').name} not written)")
        return
    # The SVG asks for Fira Code; DejaVu Sans Mono is the monospace font this machine has.
    source = svg.read_text().replace("Fira Code", "DejaVu Sans Mono")
    cairosvg.svg2png(bytestring=source.encode(), write_to=str(svg.with_suffix(".png")), output_width=1600)


async def main() -> None:
    app = DeepTUI(Live(AgentSpec(demo_speed=2)), prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        board = app.dashboard
        await wait_for(pilot, lambda: board.status == "running" and board.step >= 4)
        prompt = app.query_one("#prompt", Input)
        prompt.focus()
        prompt.value = "keep the module under 50 lines"
        await pilot.press("enter")  # steers the running agent
        await wait_for(pilot, lambda: board.subagents > 0)  # the tester subagent at work
        await pilot.pause(0.8)
        shots = [("running", app.save_screenshot("running.svg", str(HERE)))]
        await wait_for(pilot, lambda: board.status == "completed")
        app.query_one("#prompt").focus()
        await pilot.press(*"now add a changelog", "enter")
        await wait_for(pilot, lambda: board.status == "completed" and board.turns == 2)
        await pilot.pause(0.5)
        shots.append(("finished", app.save_screenshot("finished.svg", str(HERE))))
        saved = app.close_session()
    assert saved is not None
    shots.append(("replay", await replay(saved)))
    shots.append(("approval", await approval()))
    for name, path in shots:
        to_png(Path(path))
        print(f"{name}: {os.path.relpath(path)}")


async def replay(saved: Path) -> str:
    """The session just recorded, replayed and paused where its tester subagent runs."""
    from deep_tui.screens.replay import ReplayScreen

    source = RecordingSource.open(saved)
    app = DeepTUI(source)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.dashboard.source is not None and bool(app.query("#files")))
        screen = app.dashboard
        assert isinstance(screen, ReplayScreen) and source.timeline is not None
        events = source.timeline.events
        started = next(i for i in range(len(events)) if source.timeline.kind(i) == "subagent_started")
        screen.seek(started + 6)
        await pilot.pause(0.5)
        return app.save_screenshot("replay.svg", str(HERE))


async def approval() -> str:
    """The demo's fix to its parser, waiting for approval with its diff."""
    from deep_tui.screens.approval import ApprovalScreen

    app = DeepTUI(Live(AgentSpec(demo_speed=0, approve="hashline_edit", save=False)), prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.pause(0.5)
        return app.save_screenshot("approval.svg", str(HERE))


if __name__ == "__main__":
    asyncio.run(main())
