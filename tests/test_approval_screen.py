"""The approval screen in the dashboard, driven by keys as a user drives it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from agents.gated import PLAN
from canned import CannedSource
from test_app import SIZE, footer, shown, until
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from deep_tui.app import DeepTUI
from deep_tui.approvals import NotWaiting
from deep_tui.events import ApprovalRequested, ApprovalResolved, Event, RunFinished, RunStarted
from deep_tui.screens.approval import ApprovalScreen
from deep_tui.source import Live
from deep_tui.spec import AgentSpec
from deep_tui.widgets import OutputView, StatusBar

AGENTS = Path(__file__).parent / "agents"


def gated_app(prompt: str, **spec: object) -> DeepTUI:
    return DeepTUI(Live(AgentSpec(agent=f"{AGENTS}/gated.py:interrupting", save=False, **spec)), prompt=prompt)


def modal(app: DeepTUI) -> ApprovalScreen:
    assert isinstance(app.screen, ApprovalScreen), app.screen
    return app.screen


def preview(app: DeepTUI) -> str:
    return shown(modal(app).query_one("#approval-content", Static))


def files(app: DeepTUI) -> dict[str, bytes]:
    assert app.source.session is not None
    return {path: app.source.session.files.read_bytes(path) for path in app.source.session.files.files}


async def asked(pilot: Pilot, count: int = 1) -> ApprovalScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ApprovalScreen) and len(app.screen.queue) >= count)
    await pilot.pause()
    return modal(app)


async def test_calls_are_answered_in_order_with_y_then_n_and_a_reason():
    app = gated_app("write two")
    async with app.run_test(size=SIZE) as pilot:
        screen = await asked(pilot, 2)
        title = shown(screen.query_one("#approval-title"))
        assert "write_file" in title and "asked by the agent" in title
        assert screen.query_one("#approval").border_title == "Waiting for approval · 2 waiting"
        assert "waiting for approval (2)" in shown(app.query_one(StatusBar))
        assert "+++ /notes/plan.md" in preview(app) and "+# Plan" in preview(app)
        assert footer(screen) == {
            "approve": "y Approve",
            "deny": "n Deny",
            "edit": "e Edit",
            "always": "a Always",
            "always_here": "A Always here",
            "cancel_turn": "esc Cancel turn",
        }

        await pilot.press("y")
        await pilot.pause()
        assert "+++ /notes/todo.md" in preview(app) and len(screen.queue) == 1
        await pilot.press("n")
        assert app.focused is screen.query_one("#approval-reason", Input)
        await pilot.press(*"later, please", "enter")
        await until(pilot, lambda: app.dashboard.status == "completed")
        assert not isinstance(app.screen, ApprovalScreen)
        assert files(app) == {"/notes/plan.md": PLAN.encode()}
        answer = " ".join(shown(app.query_one(OutputView)).split())
        assert "write_file: The user denied this call: later, please" in answer
        assert "waiting for approval" not in shown(app.query_one(StatusBar))


async def test_e_edits_the_arguments_before_approving():
    app = gated_app("write one")
    async with app.run_test(size=SIZE) as pilot:
        screen = await asked(pilot)
        await pilot.press("e")
        editor = screen.query_one("#approval-args", TextArea)
        assert app.focused is editor and '"path": "/notes/plan.md"' in editor.text
        editor.text = "not json"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ApprovalScreen)  # a mistake is said, and nothing is lost
        editor.text = '{"path": "/notes/edited.md", "content": "edited\\n"}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.dashboard.status == "completed")
        assert files(app) == {"/notes/edited.md": b"edited\n"}


async def test_escape_leaves_a_reason_then_cancels_the_turn_and_the_next_prompt_runs():
    app = gated_app("write two")
    async with app.run_test(size=SIZE) as pilot:
        screen = await asked(pilot, 2)
        await pilot.press("n")
        await pilot.pause()
        assert footer(screen) == {"leave": "esc Back"}
        await pilot.press("escape")
        assert screen.mode == "call" and isinstance(app.screen, ApprovalScreen)  # only the reason was left
        await pilot.press("escape")
        await until(pilot, lambda: app.dashboard.status == "cancelled")
        assert not isinstance(app.screen, ApprovalScreen) and files(app) == {}
        assert app.dashboard.waiting == 0
        app.query_one("#prompt", Input).value = "finish"
        await pilot.press("enter")
        await until(pilot, lambda: app.dashboard.status == "completed" and app.dashboard.turns == 2)


async def test_always_approves_the_tool_for_the_session_and_the_palette_removes_it():
    app = gated_app("write two")
    async with app.run_test(size=SIZE) as pilot:
        await asked(pilot, 2)
        await pilot.press("a")  # the second call is approved by the rule, without a key
        await until(pilot, lambda: app.dashboard.status == "completed")
        assert set(files(app)) == {"/notes/plan.md", "/notes/todo.md"}
        assert app.source is not None
        assert [r.describe() for r in app.source.session.approvals.rules] == ["always write_file"]

        await pilot.press("ctrl+p")
        await pilot.press(*"Remove the approval rule")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.source.session.approvals.rules == [])
        app.query_one("#prompt", Input).value = "write one again"
        await pilot.press("enter")
        await asked(pilot)  # asked again


async def test_always_here_approves_the_tool_under_the_calls_folder():
    app = gated_app("write two")
    async with app.run_test(size=SIZE) as pilot:
        await asked(pilot, 2)
        await pilot.press("A")
        await until(pilot, lambda: app.dashboard.status == "completed")
        assert set(files(app)) == {"/notes/plan.md", "/notes/todo.md"}
        assert [r.describe() for r in app.source.session.approvals.rules] == ["always write_file under /notes"]


async def test_the_demo_asks_before_writing_when_started_with_approve_write_file():
    app = DeepTUI(Live(AgentSpec(demo_speed=0, save=False, approve="write_file")), prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await asked(pilot)
        assert "+++ /notes/plan.md" in preview(app) and "+# Plan: Word Counter" in preview(app)
        await pilot.press("n")
        await pilot.press(*"not yet", "enter")
        await asked(pilot)  # the next write asks in turn
        assert "/notes/plan.md" not in files(app)
        await pilot.press("a")
        await until(pilot, lambda: app.dashboard.status == "completed")
        assert "/README.md" in files(app)


class DecidingSource(CannedSource):
    """A turn that asks for one call, then waits until the test lets the run confirm the decision."""

    def __init__(self, not_waiting: bool = False) -> None:
        super().__init__([], {}, {})
        self.not_waiting = not_waiting
        self.decisions: list[bool] = []
        self.confirm = asyncio.Event()

    async def turn(self, prompt: str) -> AsyncIterator[Event]:
        yield RunStarted(seq=0, t=0.0, run_id="r", session_id="s", turn=1, prompt=prompt, agent="canned")
        yield ApprovalRequested(seq=1, t=0.1, call_id="c1", tool="deploy", args={"target": "prod"})
        await self.confirm.wait()
        if not self.not_waiting:
            yield ApprovalResolved(seq=2, t=0.2, call_id="c1", tool="deploy", decision="approved", by="key")
        yield RunFinished(seq=3, t=0.3, status="completed")

    def approve(self, call_id: str, approve: bool, *, reason: str | None = None, args: dict | None = None) -> None:
        if self.not_waiting:
            raise NotWaiting(call_id)
        self.decisions.append(approve)


async def test_the_screen_closes_once_the_run_has_the_decision_so_the_tool_starts_first():
    source = DecidingSource()
    app = DeepTUI(source, prompt="go")
    async with app.run_test(size=SIZE) as pilot:
        screen = await asked(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert source.decisions == [True]
        assert app.screen is screen and shown(screen.query_one("#approval-title")).strip() == "Approved: deploy"
        assert not footer(screen).keys() & {"approve", "deny", "edit", "always"}
        await pilot.press("y", "n")
        assert source.decisions == [True]
        source.confirm.set()
        await until(pilot, lambda: not isinstance(app.screen, ApprovalScreen))
        await until(pilot, lambda: app.dashboard.status == "completed")


async def test_a_decision_the_run_no_longer_waits_for_closes_the_screen_at_once():
    source = DecidingSource(not_waiting=True)
    app = DeepTUI(source, prompt="go")
    async with app.run_test(size=SIZE) as pilot:
        await asked(pilot)
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ApprovalScreen))
        source.confirm.set()
        await until(pilot, lambda: app.dashboard.status == "completed")
