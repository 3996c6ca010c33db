"""The run state: a fold over events, checked without a screen, on hand-made streams and a real run."""

from __future__ import annotations

import hashlib

import pytest
from pydantic_deep import create_deep_agent

from deep_tui.agents import QUIET_FEATURES
from deep_tui.events import RunFinished, RunStarted, TextDelta, ToolCallFinished, Usage
from deep_tui.state import OutputBlock, RunState, fold
from deep_tui.timeline import Timeline
from tests.event_streams import CORE_VERSIONS, STARTED_AT, delegation_session, sample_session, version
from tests.scripted import collect, deep_session


def test_nothing_folded_is_idle_and_empty():
    state = RunState()
    assert (state.status, state.node, state.step, state.elapsed) == ("idle", "", 0, 0.0)
    assert state.usage is None and state.turn is None and list(state.output) == []


def test_status_node_step_and_elapsed_come_from_the_events():
    events = sample_session()
    state = fold(events[:15])
    assert (state.status, state.node, state.step, state.elapsed) == ("running", "CallToolsNode", 5, 6.5)
    assert state.session_id == "sess" and state.agent == "demo" and state.position == 15
    done = fold(events[:27])
    assert (done.status, done.node, done.elapsed) == ("completed", "", 11.5)
    assert fold(events).status == "cancelled"


def test_a_turn_in_progress_counts_its_elapsed_time_into_the_session_time():
    events = sample_session()
    state = fold(events[:31])
    assert state.elapsed == 1.5
    assert state.session_time == 11.5 + 1.5
    assert fold(events).session_time == 11.5 + 3.0


def test_todos_are_the_last_snapshot():
    events = sample_session()
    assert [t.status for t in fold(events[:11]).todos] == ["in_progress", "pending", "pending"]
    assert [t.status for t in fold(events[:12]).todos] == ["completed", "in_progress", "pending"]


def test_every_file_version_is_kept_with_what_made_it():
    state = fold(sample_session())
    record = state.files["/src/core.py"]
    assert [v.version for v in record.versions] == [version(c) for c in CORE_VERSIONS]
    assert [v.change for v in record.versions] == ["created", "modified", "modified"]
    assert [(v.turn, v.step, v.call_id, v.seq, v.index) for v in record.versions] == [
        (1, 3, "c1", 10, 10),
        (1, 5, "c2", 17, 17),
        (1, 5, "c3", 20, 20),
    ]
    assert record.latest.at == STARTED_AT + 8.5
    assert record.size == len(CORE_VERSIONS[2]) and not record.deleted


def test_tool_calls_carry_their_clock_time_from_the_turns_start():
    state = fold(sample_session())
    assert [(c.call_id, c.turn, c.status) for c in state.calls] == [
        ("c1", 1, "success"),
        ("c2", 1, "success"),
        ("c3", 1, "success"),
        ("c4", 2, "cancelled"),
    ]
    first, last = state.calls[0], state.calls[-1]
    assert first.started_at == STARTED_AT + 4.0 and first.duration == 0.4 and first.preview == "ok"
    assert first.args["path"] == "/src/core.py" and first.index == 8
    assert last.started_at == STARTED_AT + 60 + 1.5


def test_a_call_still_running_shows_running():
    state = fold(sample_session()[:31])
    assert state.calls[-1].status == "running" and state.calls[-1].duration is None


def test_a_result_without_its_start_still_makes_a_row():
    events = [
        RunStarted(run_id="r", session_id="s", turn=1, prompt="p", agent="a", started_at=100.0),
        ToolCallFinished(seq=1, t=3.0, call_id="x", tool="ls", outcome="failed", duration=1.0),
    ]
    (call,) = fold(events).calls
    assert (call.call_id, call.status, call.t, call.started_at) == ("x", "failed", 2.0, 102.0)


def test_usage_sums_the_finished_turns_and_the_running_ones_latest():
    events = sample_session()
    assert fold(events[:12]).usage is None
    assert fold(events[:13]).usage == Usage(requests=1, input_tokens=100, output_tokens=20, tool_calls=1)
    first = Usage(requests=2, input_tokens=300, output_tokens=50, tool_calls=3)
    assert fold(events[:27]).usage == first
    assert fold(events[:32]).usage == first + Usage(requests=1, input_tokens=50, output_tokens=5, tool_calls=1)
    assert fold(events).usage == first + Usage(requests=1, input_tokens=50, output_tokens=5)


def test_turns_record_their_prompt_status_and_duration():
    state = fold(sample_session())
    assert [(t.turn, t.prompt, t.status, t.duration, t.index) for t in state.turns] == [
        (1, "build core", "completed", 11.5, 0),
        (2, "now the README", "cancelled", 3.0, 27),
    ]
    assert state.turns[0].started_at == STARTED_AT and state.turns[0].output.endswith("core written.")
    assert fold(sample_session()[:30]).turn.status == "running"  # type: ignore[union-attr]


def test_output_blocks_follow_the_stream():
    assert list(fold(sample_session()).output) == [
        OutputBlock("prompt", "build core", 1),
        OutputBlock("thinking", "Let me plan.", 1),
        # Tool calls do not end the answer: text after them goes on in the same block, as the pane shows it.
        OutputBlock("answer", "Planning\n\nDone: core written.", 1),
        OutputBlock("prompt", "now the README", 2),
        OutputBlock("note", "■ cancelled after 3.0 s", 2),
    ]


def test_answer_text_streams_into_one_block_until_another_kind_comes():
    state = fold(sample_session()[:6])
    assert [(b.kind, b.text) for b in state.output] == [
        ("prompt", "build core"),
        ("thinking", "Let me plan."),
        ("answer", "Planning"),
    ]


def test_a_failed_turn_ends_its_output_with_the_error():
    events = [
        RunStarted(run_id="r", session_id="s", turn=1, prompt="p", agent="a"),
        TextDelta(seq=1, t=0.1, text="half"),
        RunFinished(seq=2, t=0.2, status="failed", error="ValueError: boom", duration=0.2),
    ]
    state = fold(events)
    assert [(b.kind, b.text) for b in state.output] == [
        ("prompt", "p"),
        ("answer", "half"),
        ("error", "failed: ValueError: boom"),
    ]
    assert state.turns[0].error == "ValueError: boom" and state.clock(1.0) is None


def test_a_copy_does_not_move_when_the_original_does():
    events = sample_session()
    state = fold(events[:25])
    copy = state.copy()
    for event in events[25:]:
        state.apply(event)
    assert copy == fold(events[:25])
    assert copy != state
    copy.apply(events[25])
    assert copy == fold(events[:26])


def test_copies_taken_mid_answer_stream_on_without_seeing_each_other():
    state = fold(sample_session()[:25])  # the answer is streaming
    copy = state.copy()
    state.output.add("answer", " from the original", 1)
    copy.output.add("answer", " from the copy", 1)
    copy.output.add("answer", "!", 1)
    assert state.output[-1].text == "Planning\n\nDone:  from the original"
    assert copy.output[-1].text == "Planning\n\nDone:  from the copy!"
    assert fold(sample_session()[:25]).output[-1].text == "Planning\n\nDone: "


def test_copies_share_finished_output_blocks():
    state = fold(sample_session())
    copy = state.copy()
    assert all(a is b for a, b in zip(state.output, copy.output, strict=True))


def test_fold_leaves_its_start_as_it_was():
    events = sample_session()
    start = fold(events[:10])
    assert fold(events[10:], start) == fold(events)
    assert start == fold(events[:10])


async def test_a_real_run_folds_into_the_files_and_calls_it_made():
    session = deep_session(
        [("tool", "write_file", {"path": "/a.txt", "content": "one"})],
        [("tool", "write_file", {"path": "/a.txt", "content": "two"})],
        ["done"],
    )
    events = await collect(session, "write a twice")
    state = fold(events)
    assert state.status == "completed"
    versions = state.files["/a.txt"].versions
    assert [v.version for v in versions] == [hashlib.sha256(b"one").hexdigest(), hashlib.sha256(b"two").hexdigest()]
    assert [v.call_id for v in versions] == [c.call_id for c in state.calls]
    assert all(c.status == "success" for c in state.calls)
    assert state.calls[0].started_at is not None
    assert state.turns[0].started_at is not None and abs(state.calls[0].started_at - state.turns[0].started_at) < 60
    assert state.output[-1] == OutputBlock("answer", "done", 1)


def test_a_subagents_work_stays_out_of_the_main_agents_output_and_todos_but_its_calls_and_files_count():
    from deep_tui.events import (
        FileChange,
        FilesChanged,
        MessageDelivered,
        Origin,
        SubagentFinished,
        SubagentStarted,
        TodoItem,
        TodosChanged,
        ToolCallStarted,
    )

    tester = Origin(task_id="t1", name="tester")
    events = [
        RunStarted(run_id="r", session_id="s", turn=1, prompt="go", agent="demo"),
        ToolCallStarted(call_id="task1", tool="task", args={}),
        SubagentStarted(origin=tester, task_id="t1", name="tester", description="d", mode="sync", call_id="task1"),
        TextDelta(origin=tester, text="child text"),
        ToolCallStarted(origin=tester, call_id="c1", tool="write_file", args={"path": "/t.py"}),
        TodosChanged(origin=tester, todos=[TodoItem(id="x", content="child todo", status="pending")]),
        FilesChanged(origin=tester, changes=[FileChange(path="/t.py", change="created", size=3)], call_id="c1"),
        SubagentFinished(origin=tester, task_id="t1", name="tester", status="completed"),
        MessageDelivered(message_id="m1", kind="steer", text="shorter please", step=4),
        TextDelta(text="main text"),
    ]
    state = fold(events)
    assert [(call.call_id, call.origin_task, call.depth) for call in state.calls] == [
        ("task1", None, 0),
        ("c1", "t1", 1),
    ]
    assert state.todos == ()
    assert state.files["/t.py"].latest.origin_task == "t1"
    assert state.subagents["t1"].status == "completed"
    text = " ".join(block.text for block in state.output)
    assert "child text" not in text and "main text" in text and "↳ you (steer): shorter please" in text
    child = state.agents["t1"]
    assert [(b.kind, b.text) for b in child.output] == [("prompt", "d"), ("answer", "child text")]
    assert [t.content for t in child.todos] == ["child todo"]


# Subagents ----------------------------------------------------------------------------------------------


def test_each_subagent_is_recorded_with_its_parent_depth_times_status_and_own_usage():
    state = fold(delegation_session())
    assert list(state.subagents) == ["w1", "h1", "t1"]  # in the order they started
    writer, helper, tester = state.subagents.values()
    assert [(s.name, s.parent, s.call_id, s.depth, s.mode) for s in (writer, helper, tester)] == [
        ("writer", None, "c1", 0, "sync"),
        ("helper", "w1", "c2", 1, "sync"),
        ("tester", None, "c2", 0, "async"),
    ]
    assert [(s.status, s.duration, s.calls, s.current_tool) for s in (writer, helper, tester)] == [
        ("completed", 6.0, 2, None),
        ("completed", 1.5, 1, None),
        ("failed", 2.0, 1, None),
    ]
    assert writer.description == "write the code" and writer.preview == "Writing. Done."
    assert tester.error == "2 tests failed" and writer.error is None
    assert helper.usage == Usage(requests=1, input_tokens=10, output_tokens=2, tool_calls=1, cost=0.001)
    assert (writer.turn, writer.t, writer.started_at) == (1, 1.0, STARTED_AT + 1.0)
    assert tester.started_at == STARTED_AT + tester.t and tester.elapsed(100.0) == 2.0
    assert state.subagents_running == 0


def test_while_a_subagent_runs_it_shows_its_latest_running_tool_its_calls_and_no_usage_yet():
    events = delegation_session()
    writer = fold(events[:7]).subagents["w1"]  # its write_file runs, then its task call starts
    assert (writer.status, writer.calls, writer.current_tool, writer.usage) == ("running", 2, "task", None)
    assert writer.elapsed(10.0) == 10.0 - writer.t
    after_task = fold(events[:12]).subagents["w1"]  # the task call is back; write_file still runs
    assert after_task.current_tool == "write_file"
    assert fold(events[:13]).subagents["w1"].current_tool is None
    assert fold(events[:8]).subagents_running == 2
    assert fold(events[:19]).subagents_running == 1


def test_the_sessions_calls_hold_every_agents_with_its_origin_and_depth_and_the_same_ids_do_not_clash():
    state = fold(delegation_session())
    assert [(c.origin_task, c.call_id, c.tool, c.depth, c.status) for c in state.calls] == [
        (None, "c1", "task", 0, "success"),
        ("w1", "c1", "write_file", 1, "success"),
        ("w1", "c2", "task", 1, "success"),
        ("h1", "c1", "read_file", 2, "success"),
        (None, "c2", "task", 0, "success"),
        ("t1", "c1", "execute", 1, "failed"),
        (None, "c3", "wait_tasks", 0, "success"),
    ]
    assert state.calls[1].duration == 4.0 and state.calls[3].duration == 0.5
    assert state.calls[1].started_at == STARTED_AT + 4 * 0.5


def test_a_subagents_own_state_holds_its_output_todos_and_the_calls_under_it():
    state = fold(delegation_session())
    writer, helper, tester = (state.agents[task] for task in ("w1", "h1", "t1"))
    assert [(b.kind, b.text) for b in writer.output] == [("prompt", "write the code"), ("answer", "Writing. Done.")]
    assert [(c.origin_task, c.call_id) for c in writer.calls] == [("w1", "c1"), ("w1", "c2"), ("h1", "c1")]
    assert [t.status for t in writer.todos] == ["in_progress", "pending", "pending"]
    assert [(c.origin_task, c.call_id) for c in helper.calls] == [("h1", "c1")] and helper.todos == ()
    assert [(b.kind, b.text) for b in tester.output] == [("prompt", "test it"), ("error", "failed: 2 tests failed")]
    assert state.todos == () and [b.text for b in state.output] == ["build it", "All done."]


def test_events_of_a_subagent_whose_start_is_missing_make_one():
    from deep_tui.events import Origin, ToolCallStarted

    lost = Origin(task_id="x9", name="lost", parent="gone")
    events = [
        RunStarted(run_id="r", session_id="s", turn=1, prompt="go", agent="demo", started_at=50.0),
        ToolCallStarted(seq=1, t=2.0, origin=lost, call_id="c1", tool="ls", args={}),
    ]
    state = fold(events)
    record = state.subagents["x9"]
    assert (record.name, record.parent, record.status, record.calls, record.current_tool) == (
        "lost",
        "gone",
        "running",
        1,
        "ls",
    )
    assert [(c.origin_task, c.depth) for c in state.calls] == [("x9", 1)] and len(state.agents["x9"].calls) == 1


@pytest.mark.parametrize("every", [1, 2, 3, 5, 8])
def test_seeking_a_delegating_run_agrees_with_the_fold_and_copies_do_not_see_each_other(every):
    events = delegation_session()
    timeline = Timeline(events, every=every)
    for position in [*range(len(events) + 1), 13, 4, 9]:
        assert timeline.state_at(position) == fold(events[:position]), position
    state = fold(events[:6])
    copy = state.copy()
    for event in events[6:]:
        state.apply(event)
    assert copy == fold(events[:6])
    assert copy.agents["w1"] == fold(events[:6]).agents["w1"] and len(state.agents["w1"].calls) == 3


async def test_a_real_delegating_run_folds_into_its_subagents_at_depth_two_and_in_the_background():
    from tests.test_subagents import WAIT, delegating, subagent, task

    helper = subagent("helper", [("tool", "write_file", {"path": "/gc.txt", "content": "gc"})], ["helper done"])
    writer = subagent("writer", ["Delegating.", task("write gc", "helper")], ["writer done"])
    writer["agent_factory"] = lambda config: create_deep_agent(
        model=config["model"], subagents=[helper], workspace=False, **QUIET_FEATURES
    )
    tester = subagent("tester", [("tool", "slow", {"seconds": 0.01})], ["tested"])
    session = delegating(
        [task("delegate gc", "writer")],
        [task("test it", "tester", "async")],
        [WAIT],
        ["parent done"],
        subagents=[writer, tester],
    )
    events = await collect(session)
    state = fold(events)

    names = {record.name: record for record in state.subagents.values()}
    assert list(names) == ["writer", "helper", "tester"]
    writer_rec, helper_rec, tester_rec = names.values()
    assert (helper_rec.parent, helper_rec.depth, tester_rec.mode, tester_rec.depth) == (
        writer_rec.task_id,
        1,
        "async",
        0,
    )
    finished = {e.task_id: e for e in events if e.type == "subagent_finished"}
    for record in names.values():
        assert record.status == "completed" and record.usage == finished[record.task_id].usage
        assert record.started_at == state.turns[0].started_at + record.t  # type: ignore[operator]
    assert helper_rec.calls == 1 and tester_rec.calls == 1 and writer_rec.calls == 1

    main_task_calls = [c for c in state.calls if c.origin_task is None and c.tool == "task"]
    assert [c.call_id for c in main_task_calls] == [writer_rec.call_id, tester_rec.call_id]
    nested = [(c.tool, c.depth) for c in state.calls if c.origin_task is not None]
    assert sorted(nested) == [("slow", 1), ("task", 1), ("write_file", 2)]
    assert [c.tool for c in state.agents[writer_rec.task_id].calls] == ["task", "write_file"]
    assert "".join(b.text for b in state.agents[writer_rec.task_id].output if b.kind == "answer") == (
        "Delegating.\n\nwriter done"
    )
    assert [b.text for b in state.output if b.kind == "answer"] == ["parent done"]
