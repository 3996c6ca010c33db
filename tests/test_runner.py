"""The runner on real pydantic-deep agents driven by scripted models."""

from __future__ import annotations

import asyncio
import inspect
import os

import pytest
from scripted import collect, deep_session, of_type, text_of

from deep_tui.agents import open_session
from deep_tui.events import TRACEBACK_LIMIT, RunFinished, parse_event
from deep_tui.spec import AgentSpec


async def slow_tool(seconds: float) -> str:
    """Sleep for a while, like a long build."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


def boom(reason: str) -> str:
    """A tool that always fails."""
    raise RuntimeError(f"kaboom: {reason}")


async def test_demo_emits_every_event_kind_and_round_trips_as_json():
    session = open_session(AgentSpec(demo_speed=0))
    events = await collect(session, "build a word counter")
    kinds = {e.type for e in events}
    assert kinds == {
        "run_started",
        "node_entered",
        "text_delta",
        "thinking_delta",
        "tool_call_started",
        "tool_call_finished",
        "todos_changed",
        "files_changed",
        "usage_updated",
        "run_finished",
    }
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(b.t >= a.t for a, b in zip(events, events[1:], strict=False))
    assert {e.node for e in of_type(events, "node_entered")} == {
        "UserPromptNode",
        "ModelRequestNode",
        "CallToolsNode",
        "End",
    }
    for event in events:
        assert parse_event(event.model_dump_json()) == event
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "completed"
    assert finished.output and finished.output in text_of(events)
    assert finished.usage.requests == 10 and finished.usage.tool_calls == 15


async def test_demo_plans_writes_reads_and_edits():
    session = open_session(AgentSpec(demo_speed=0))
    events = await collect(session, "build a word counter")
    tools = [e.tool for e in of_type(events, "tool_call_finished")]
    assert {"write_todos", "write_file", "read_file", "hashline_edit", "update_todo_statuses"} <= set(tools)
    assert all(e.outcome == "success" for e in of_type(events, "tool_call_finished"))
    last_todos = of_type(events, "todos_changed")[-1].todos
    assert 3 <= len(last_todos) <= 6 and all(t.status == "completed" for t in last_todos)
    changed = {c.path: c for e in of_type(events, "files_changed") for c in e.changes}
    assert set(changed) >= {"/README.md", "/notes/plan.md", "/src/word_counter/core.py", "/tests/test_core.py"}
    core = session.files.read_bytes("/src/word_counter/core.py").decode()
    assert "if not line.strip():" in core  # the edit landed
    edit = [c for e in of_type(events, "files_changed") for c in e.changes if c.change == "modified"]
    assert edit and edit[0].added == 2 and edit[0].removed == 0


async def test_first_token_arrives_in_the_part_start_and_is_kept():
    session = deep_session(["Hello", " world", "!"])
    events = await collect(session)
    deltas = of_type(events, "text_delta")
    assert deltas[0].text == "Hello"
    assert text_of(events) == "Hello world!" == events[-1].output


async def test_thinking_is_its_own_stream():
    session = deep_session([("think", "hmm, "), ("think", "let me see"), "answer"])
    events = await collect(session)
    assert "".join(e.text for e in of_type(events, "thinking_delta")) == "hmm, let me see"
    assert text_of(events) == "answer"


async def test_text_parts_of_separate_responses_are_separated():
    session = deep_session(["Planning.", ("tool", "ls", {"path": "/"})], ["Done."])
    events = await collect(session)
    assert text_of(events) == "Planning.\n\nDone."


async def test_tool_calls_are_timed():
    session = deep_session(
        [("tool", "slow_tool", {"seconds": 0.3}), ("tool", "ls", {"path": "/"})], ["ok"], tools=[slow_tool]
    )
    events = await collect(session)
    started = {e.call_id: e for e in of_type(events, "tool_call_started")}
    finished = {e.call_id: e for e in of_type(events, "tool_call_finished")}
    assert started.keys() == finished.keys() and len(started) == 2
    slow = next(e for e in finished.values() if e.tool == "slow_tool")
    assert slow.duration >= 0.3
    assert slow.preview == "slept 0.3" and slow.size == len("slept 0.3")
    assert started[slow.call_id].args == {"seconds": 0.3}


async def test_todo_snapshots_and_file_changes_follow_the_tools():
    session = deep_session(
        [
            (
                "tool",
                "write_todos",
                {
                    "todos": [
                        {"id": "a", "content": "Write it", "active_form": "Writing it", "status": "in_progress"},
                        {"id": "b", "content": "Check it", "active_form": "Checking it"},
                    ]
                },
            ),
            ("tool", "write_file", {"path": "/src/a.py", "content": "x = 1\n"}),
        ],
        [
            ("tool", "write_file", {"path": "/src/a.py", "content": "x = 2\ny = 3\n"}),
            ("tool", "update_todo_status", {"todo_id": "a", "status": "completed"}),
        ],
        ["done"],
    )
    events = await collect(session)
    snapshots = [
        [(t.id, t.content, t.status, t.active_form) for t in e.todos] for e in of_type(events, "todos_changed")
    ]
    assert snapshots == [
        [("a", "Write it", "in_progress", "Writing it"), ("b", "Check it", "pending", "Checking it")],
        [("a", "Write it", "completed", "Writing it"), ("b", "Check it", "pending", "Checking it")],
    ]
    changes = [
        (c.path, c.change, c.size, c.added, c.removed) for e in of_type(events, "files_changed") for c in e.changes
    ]
    assert changes == [("/src/a.py", "created", 6, 1, 0), ("/src/a.py", "modified", 12, 2, 1)]


async def test_cancel_mid_stream_keeps_history_and_the_next_turn_continues():
    session = deep_session(["one ", ("sleep", 0.1), "two ", ("sleep", 30), "never"])
    events: list = []
    task = asyncio.create_task(session.run("go", events.append))
    while text_of(events) != "one two ":
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events[-1].type == "run_finished" and events[-1].status == "cancelled"
    assert "one two" in str(session.history[-1].parts[0].content)
    session.agent = deep_session(["again"]).agent
    events2 = await collect(session, "continue")
    assert events2[-1].status == "completed" and events2[0].turn == 2
    prompts = [p.content for m in session.history for p in m.parts if p.part_kind == "user-prompt"]
    assert prompts == ["go", "continue"]


async def test_cancel_mid_tool_marks_the_call_and_keeps_files():
    session = deep_session(
        [("tool", "write_file", {"path": "/kept.txt", "content": "kept"}), ("tool", "slow_tool", {"seconds": 30})],
        tools=[slow_tool],
    )
    events: list = []
    task = asyncio.create_task(session.run("go", events.append))
    while not any(e.type == "files_changed" for e in events):
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    finished = {e.tool: e.outcome for e in of_type(events, "tool_call_finished")}
    assert finished == {"write_file": "success", "slow_tool": "cancelled"}
    assert events[-1].status == "cancelled"
    assert session.files.read_bytes("/kept.txt") == b"kept"
    session.agent = deep_session(["resumed"]).agent
    again = await collect(session, "continue")
    assert again[-1].status == "completed" and again[-1].output == "resumed"


async def test_session_cancel_ends_the_turn_cleanly():
    session = deep_session(["start ", ("sleep", 30)])
    events: list = []
    task = asyncio.create_task(session.run("go", events.append))
    while not of_type(events, "text_delta"):
        await asyncio.sleep(0.01)
    session.cancel()
    finished = await task
    assert finished.status == "cancelled" and events[-1] is finished


async def test_timeout_ends_a_stream_that_never_finishes():
    session = deep_session(["tick ", ("sleep", 60)])
    events = await collect(session, timeout=0.5)
    assert events[-1].status == "timeout"
    assert "0.5" in events[-1].error
    assert text_of(events) == "tick "


async def test_a_failing_tool_fails_the_run_with_its_message_and_the_session_goes_on():
    session = deep_session([("tool", "boom", {"reason": "disk"})], ["fine"], tools=[boom])
    events = await collect(session)
    call = of_type(events, "tool_call_finished")[0]
    assert call.outcome == "failed" and "kaboom: disk" in call.preview
    assert events[-1].status == "failed" and events[-1].error == "RuntimeError: kaboom: disk"
    again = await collect(session, "again")
    assert again[-1].status in ("completed", "failed")
    assert again[0].turn == 2


LEAKED_KEY = "sk-traceback-123"


def fails_deep(depth: int) -> str:
    """Calls itself ``depth`` times, then fails with a long message that quotes a key."""
    if depth:
        return fails_deep(depth - 1)
    raise RuntimeError("y" * 20_000 + f" (key {os.environ['OPENAI_API_KEY']})")


def line_of(function, text: str) -> int:
    lines, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(lines) if text in line)


async def test_a_failed_call_carries_its_traceback_masked_and_capped(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", LEAKED_KEY)
    session = deep_session([("tool", "boom", {"reason": "disk"})], tools=[boom])
    call = of_type(await collect(session), "tool_call_finished")[0]
    assert call.outcome == "failed"
    assert f"line {line_of(boom, 'raise')}, in boom" in call.traceback
    assert call.traceback.endswith("RuntimeError: kaboom: disk\n")

    session = deep_session([("tool", "fails_deep", {"depth": 150})], tools=[fails_deep])
    call = of_type(await collect(session), "tool_call_finished")[0]
    trace = call.traceback
    assert len(trace) <= TRACEBACK_LIMIT and trace.startswith("… (earlier frames are left out)")
    raised = f"line {line_of(fails_deep, 'raise')}, in fails_deep\n    raise RuntimeError("
    assert raised in trace and f"line {line_of(fails_deep, 'return')}, in fails_deep" in trace
    assert "RuntimeError: yyyy" in trace and trace.endswith("… (the rest of the message is left out)\n")
    assert LEAKED_KEY not in call.model_dump_json()


async def test_calls_that_did_not_raise_carry_no_traceback():
    session = deep_session([("tool", "slow_tool", {"seconds": 0}), ("tool", "boom", {"reason": "x"})],
                           tools=[slow_tool, boom])  # fmt: skip
    calls = {e.tool: e for e in of_type(await collect(session), "tool_call_finished")}
    assert calls["slow_tool"].traceback is None and calls["boom"].traceback is not None


async def test_a_model_error_is_a_failed_run_and_the_next_turn_works():
    class ProviderDown(Exception):
        pass

    session = deep_session(
        [("tool", "write_file", {"path": "/a.txt", "content": "a"})],
        ["partial ", ("raise", ProviderDown("503 Service Unavailable\n  retry later"))],
    )
    events = await collect(session)
    assert events[-1].status == "failed"
    assert events[-1].error == "ProviderDown: 503 Service Unavailable retry later"
    assert session.files.read_bytes("/a.txt") == b"a"
    session.agent = deep_session(["recovered"]).agent
    again = await collect(session, "try again")
    assert again[-1].status == "completed" and again[-1].output == "recovered"


async def test_history_files_and_todos_carry_into_the_next_turn():
    session = open_session(AgentSpec(demo_speed=0))
    await collect(session, "build a word counter")
    files_before = dict(session.files.files)
    events = await collect(session, "now add a changelog")
    assert events[-1].status == "completed" and events[0].turn == 2
    assert set(files_before) < set(session.files.files)
    assert session.files.read_bytes("/README.md").startswith(b"# Word Counter")
    todos = of_type(events, "todos_changed")[-1].todos
    assert len(todos) == 6 and todos[-1].content.startswith("Follow up") and todos[-1].status == "completed"


@pytest.mark.parametrize("calls_started", [1, 3, 8, 12, 15, 16])
async def test_the_demo_resumes_its_plan_after_a_cancel(calls_started):
    """A prompt after a cancel finishes the plan, whatever step the cancel cut (16: during the answer)."""
    session = open_session(AgentSpec(demo_speed=0))
    events: list = []

    def cut(event) -> None:
        events.append(event)
        answer_started = event.type == "text_delta" and "Done" in text_of(events)
        if len(of_type(events, "tool_call_started")) == calls_started or (calls_started > 15 and answer_started):
            task.cancel()

    task = asyncio.create_task(session.run("build a word counter", cut))
    with pytest.raises(asyncio.CancelledError):
        await task
    assert events[-1].status == "cancelled"
    again = await collect(session, "go on")
    assert again[-1].status == "completed"
    assert "Picking up the plan where it stopped." in text_of(again)
    assert "## Done: Word Counter" in again[-1].output
    assert [t.status for t in session.todos()] == ["completed"] * 5
    assert session.files.read_bytes("/README.md").startswith(b"# Word Counter")
    assert b"if not line.strip():" in session.files.read_bytes("/src/word_counter/core.py")
    follow_up = await collect(session, "now add a changelog")
    assert "/notes/changelog.md" in session.files.files and follow_up[-1].status == "completed"
