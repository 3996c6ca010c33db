"""The run state: a fold over events, checked without a screen, on hand-made streams and a real run."""

from __future__ import annotations

import hashlib

from deep_tui.events import RunFinished, RunStarted, TextDelta, ToolCallFinished, Usage
from deep_tui.state import OutputBlock, RunState, fold
from tests.event_streams import CORE_VERSIONS, STARTED_AT, sample_session, version
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


def test_a_subagents_work_stays_out_of_the_main_agents_state_but_its_files_and_status_count():
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
        FilesChanged(origin=tester, changes=[FileChange(path="/t.py", change="created", size=3)]),
        SubagentFinished(origin=tester, task_id="t1", name="tester", status="completed"),
        MessageDelivered(message_id="m1", kind="steer", text="shorter please", step=4),
        TextDelta(text="main text"),
    ]
    state = fold(events)
    assert [call.call_id for call in state.calls] == ["task1"]
    assert state.todos == ()
    assert "/t.py" in state.files
    assert state.subagents == {"t1": "completed"}
    text = " ".join(block.text for block in state.output)
    assert "child text" not in text and "main text" in text and "↳ you (steer): shorter please" in text
