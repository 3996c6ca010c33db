"""What long runs meet: failing and huge tools, a cancel at any moment, odd input, secrets."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable

import pytest
from pydantic_ai.messages import SYNTHESIZED_TOOL_RETURN_METADATA_KEY, ModelRequest, ToolReturnPart
from scripted import collect, deep_session, of_type, plain_session, text_of
from test_app import SIZE, shown, submit, until
from textual.widgets import Input

from deep_tui.app import DeepTUI
from deep_tui.events import PREVIEW_LIMIT
from deep_tui.redact import MASK, RedactingFilter
from deep_tui.runner import Session
from deep_tui.screens.tool_detail import RESULT_LIMIT, ToolDetail
from deep_tui.sessions import SessionRecorder
from deep_tui.source import Live
from deep_tui.spec import AgentSpec
from deep_tui.widgets import FileTree, OutputView, ToolCallLog

TEN_MB = 10 * 1024 * 1024


def huge_result() -> str:
    """A tool that returns ten megabytes."""
    return "x" * TEN_MB


def binary_result() -> bytes:
    """A tool that returns bytes that are not UTF-8."""
    return b"\xff\xfe\x00binary\x80\x81"


async def slow(label: str) -> str:
    """A slow tool."""
    await asyncio.sleep(30)
    return label


def boom() -> str:
    """A tool that raises."""
    raise OSError("disk full")


# Tool failures --------------------------------------------------------------------------------------


async def test_huge_and_binary_results_are_capped_previews():
    session = plain_session([("tool", "huge_result", {}), ("tool", "binary_result", {})], ["done"],
                            tools=[huge_result, binary_result])  # fmt: skip
    events = await collect(session)
    results = {e.tool: e for e in of_type(events, "tool_call_finished")}
    assert results["huge_result"].size == TEN_MB and len(results["huge_result"].preview) == PREVIEW_LIMIT
    assert results["binary_result"].outcome == "success" and "binary" in results["binary_result"].preview
    assert events[-1].status == "completed"


async def test_a_deep_agent_moves_a_huge_result_into_its_workspace():
    session = deep_session([("tool", "huge_result", {})], ["done"], tools=[huge_result])
    events = await collect(session)
    assert (
        "Tool result too large, saved to: .deep/large_tool_results/" in of_type(events, "tool_call_finished")[0].preview
    )
    evicted = [c for e in of_type(events, "files_changed") for c in e.changes]
    assert len(evicted) == 1 and evicted[0].size == TEN_MB


async def test_the_dashboard_stays_usable_with_a_ten_megabyte_result():
    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source is not None)
        app.source.session = plain_session([("tool", "huge_result", {})], [("tool", "boom", {})], ["done"],
                                    tools=[huge_result, boom])  # fmt: skip
        await submit(pilot, "go")
        await until(pilot, lambda: app.dashboard.status == "failed")
        log = app.query_one(ToolCallLog)
        assert {r.tool: r.status for r in log.records} == {"huge_result": "success", "boom": "failed"}
        assert "OSError: disk full" in shown(app.query_one(OutputView))
        log.focus()
        row = next(i for i, r in enumerate(log.rows) if getattr(r, "tool", "") == "huge_result")
        await pilot.press("home", *["down"] * row, "enter")
        await until(pilot, lambda: isinstance(app.screen, ToolDetail))
        result = shown(app.screen.query_one("#detail-result"))
        assert "of 10.0 MB shown" in result and result.count("x") <= RESULT_LIMIT
        await pilot.press("escape")
        await submit(pilot, "still typing")
        assert app.query_one("#prompt", Input).value == ""  # the submit was taken


async def test_the_tool_detail_shows_where_the_tool_raised():
    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source is not None)
        app.source.session = plain_session([("tool", "boom", {})], tools=[boom])
        await submit(pilot, "go")
        await until(pilot, lambda: app.dashboard.status == "failed")
        log = app.query_one(ToolCallLog)
        log.focus()
        await pilot.press("end", "enter")
        await until(pilot, lambda: isinstance(app.screen, ToolDetail))
        trace = shown(app.screen.query_one("#detail-traceback"))
        assert f"line {boom.__code__.co_firstlineno + 2}, in boom" in trace
        assert 'raise OSError("disk full")' in trace and "OSError: disk full" in trace


# Cancel anywhere ------------------------------------------------------------------------------------

CANCEL_POINTS: dict[str, Callable[[list], bool]] = {
    "mid-delta": lambda events: text_of(events).startswith("one two"),
    # The second model request: the first response's tools have all run, the next response has not come.
    "between nodes": lambda events: any(
        e.type == "node_entered" and e.node == "ModelRequestNode" and e.step > 2 for e in events
    ),
    "mid-tool": lambda events: any(e.type == "files_changed" for e in events),
    "parallel calls": lambda events: len(of_type(events, "tool_call_started")) == 5,  # all three slow calls
}


def cancellable() -> Session:
    return deep_session(
        ["one ", "two ", ("sleep", 0.05), ("tool", "write_file", {"path": "/kept.txt", "content": "kept"}),
         ("tool", "write_todos", {"todos": [{"content": "Keep me", "active_form": "Keeping"}]})],
        [("tool", "slow", {"label": "a"}), ("tool", "slow", {"label": "b"}), ("tool", "slow", {"label": "c"})],
        tools=[slow],
    )  # fmt: skip


@pytest.mark.parametrize("point", CANCEL_POINTS)
async def test_a_cancel_at_any_point_ends_cleanly_and_the_session_goes_on(point):
    session = cancellable()
    tasks_before = asyncio.all_tasks()
    threads_before = set(threading.enumerate())
    events: list = []
    task = asyncio.create_task(session.run("go", events.append))
    while not CANCEL_POINTS[point](events):
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events[-1].type == "run_finished" and events[-1].status == "cancelled"
    started = {e.call_id for e in of_type(events, "tool_call_started")}
    assert started == {e.call_id for e in of_type(events, "tool_call_finished")}  # no call left running
    await asyncio.sleep(0.05)
    assert asyncio.all_tasks() - tasks_before == set()
    # Sync tools run on anyio's pooled worker threads, which idle for a while before they exit: those only.
    assert {t.name for t in set(threading.enumerate()) - threads_before} <= {"AnyIO worker thread"}
    if point != "mid-delta":
        assert session.files.read_bytes("/kept.txt") == b"kept"
        assert [t.content for t in session.todos()] == ["Keep me"]
    session.agent = deep_session(["resumed"]).agent
    again = await collect(session, "continue")
    assert again[-1].status == "completed" and again[-1].output == "resumed", again[-1].error


@pytest.mark.parametrize("nth_call", [1, 2, 3, 5])
async def test_a_call_that_ran_before_the_stop_is_logged_as_done_not_cancelled(nth_call):
    """Stopped the instant a call starts, the log still matches what really ran, as the history records it."""
    session = cancellable()
    events: list = []

    def stop_at_call(event) -> None:
        events.append(event)
        if len(of_type(events, "tool_call_started")) == nth_call:
            task.cancel()

    task = asyncio.create_task(session.run("go", stop_at_call))
    with pytest.raises(asyncio.CancelledError):
        await task
    ran = {
        part.tool_call_id
        for message in session.history
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart) and not (part.metadata or {}).get(SYNTHESIZED_TOOL_RETURN_METADATA_KEY)
    }
    finished = of_type(events, "tool_call_finished")
    assert finished and all((e.outcome == "success") == (e.call_id in ran) for e in finished)
    # Whether the first response's sync tools finish before the stop takes hold depends on the threads they run
    # in; whatever happened, a write the log calls a success is in the workspace.
    if {e.tool: e.outcome for e in finished}.get("write_file") == "success":
        assert session.files.read_bytes("/kept.txt") == b"kept"


# Bad and odd input ----------------------------------------------------------------------------------

ODD_PATHS = [
    "/naïve café/résumé.md",
    "/with spaces/a file name.txt",
    "/" + "long" * 50 + ".txt",
    "/" + "é" * 200 + ".txt",
    "/" + "/".join(f"level{i}" for i in range(40)) + "/deep.txt",
]


async def test_odd_paths_are_reported_shown_and_saved(tmp_path):
    session = deep_session(
        [("tool", "write_file", {"path": path, "content": f"content of {path}"}) for path in ODD_PATHS], ["done"]
    )
    events = await collect(session)
    assert sorted(c.path for e in of_type(events, "files_changed") for c in e.changes) == sorted(ODD_PATHS)
    recorder = SessionRecorder(session, tmp_path)
    path = recorder.close()
    for name in ODD_PATHS[:3] + ODD_PATHS[4:]:
        assert (path / "files" / name.lstrip("/")).read_text() == f"content of {name}"
    meta = (path / "session.json").read_text()
    assert "é" * 200 in meta  # a name too long for the disk is listed, and kept in workspace.json
    assert ("content of /" + "é" * 200) in (path / "workspace.json").read_text()


async def test_the_dashboard_shows_odd_paths():
    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source is not None)
        app.source.session = deep_session(
            [("tool", "write_file", {"path": p, "content": "x"}) for p in ODD_PATHS], ["done"]
        )
        await submit(pilot, "write odd files")
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause(0.4)
        assert app.query_one(FileTree).paths == sorted(ODD_PATHS)


async def test_a_megabyte_prompt_runs_and_is_shown_shortened():
    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source is not None)
        prompt = "build " + "a very long request " * 55_000
        app.query_one("#prompt", Input).value = prompt
        await pilot.press("enter")
        await until(pilot, lambda: app.dashboard.status == "completed", seconds=60)
        output = shown(app.query_one(OutputView))
        assert "MB in all)" in output and len(output) < 100_000


# Secrets --------------------------------------------------------------------------------------------


def leaky_tool() -> str:
    """A tool that reads a secret from the environment."""
    import os

    return f"token is {os.environ['SERVICE_TOKEN']}"


async def test_secrets_from_the_environment_are_masked_in_events_and_saves(monkeypatch, tmp_path):
    secret = "tok-0123456789abcdef"
    monkeypatch.setenv("SERVICE_TOKEN", secret)
    session = deep_session([("tool", "leaky_tool", {}), ("tool", "write_file", {"path": "/n.txt", "content": secret})],
                           [f"the token was {secret}"], tools=[leaky_tool])  # fmt: skip
    recorder = SessionRecorder(session, tmp_path)
    events = await collect(session)
    for event in events:
        recorder.record(event)
    path = recorder.close()
    preview = next(e.preview for e in of_type(events, "tool_call_finished") if e.tool == "leaky_tool")
    assert preview == f"token is {MASK}"
    for name in ("events.jsonl", "messages.json"):
        assert secret not in (path / name).read_text()
    assert (path / "files" / "n.txt").read_text() == secret  # the agent's own files are kept byte for byte


def test_logs_mask_secrets(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abcdefghijklmnop")
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "bad key %s", ("sk-abcdefghijklmnop",), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == f"bad key {MASK}"
