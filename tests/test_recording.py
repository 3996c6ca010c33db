"""Reading recordings back: saved sessions, events files, a run cut off by kill -9, and files that are not one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deep_tui.blobs import BlobStore
from deep_tui.events import Origin, RunFinished, RunStarted, ToolCallFinished, ToolCallStarted
from deep_tui.recording import EVENT_START, EventLog, RecordingError, load
from deep_tui.sessions import SessionRecorder
from deep_tui.state import fold
from deep_tui.timeline import Timeline
from tests.event_streams import CORE_VERSIONS, sample_session, version
from tests.scripted import deep_session

ROOT = Path(__file__).parent.parent


def write_events(path: Path, events, tail: bytes = b"") -> Path:
    path.write_bytes(b"".join(e.model_dump_json().encode() + b"\n" for e in events) + tail)
    return path


def saved_session(root: Path, events=None, name: str = "abc123def456") -> Path:
    directory = root / "sessions" / name
    directory.mkdir(parents=True)
    write_events(directory / "events.jsonl", events or sample_session())
    store = BlobStore(directory / "blobs")
    for content in CORE_VERSIONS:
        store.put(content)
    return directory


def test_an_events_file_loads_every_event_in_order(tmp_path):
    events = sample_session()
    recording = load(write_events(tmp_path / "run.jsonl", events))
    assert list(recording.events) == events
    assert recording.complete and recording.ending is None and recording.directory is None
    assert recording.events.kind(0) == "run_started" and recording.events.t(3) == events[3].t
    assert recording.events.turn_starts() == [0, 27]


def test_a_session_loads_by_directory_by_id_and_by_the_start_of_its_id(tmp_path):
    directory = saved_session(tmp_path)
    sessions = tmp_path / "sessions"
    for target in (directory, directory / "events.jsonl", "abc123def456", "abc1"):
        recording = load(target, sessions=sessions)
        assert recording.directory == directory and len(recording.events) == len(sample_session())
        assert recording.name == "abc123def456"


def test_a_session_file_at_any_version_comes_from_its_blobs(tmp_path):
    recording = load(saved_session(tmp_path))
    for content in CORE_VERSIONS:
        assert recording.file("/src/core.py", version(content)) == content
    assert recording.file("/src/core.py") == CORE_VERSIONS[-1]
    assert recording.file("/src/core.py", version(b"never written")) is None
    assert recording.file("/src/core.py", "../../etc/passwd") is None


def test_a_run_cut_off_mid_write_loads_to_its_last_complete_event(tmp_path):
    events = sample_session()[:20]
    cut = b'{"seq":20,"t":8.6,"type":"files_ch'  # a line the kill cut in the middle
    recording = load(write_events(tmp_path / "run.jsonl", events, tail=cut))
    assert list(recording.events) == events and not recording.complete and recording.cut_line
    assert recording.ending is not None
    assert "ends at event 20 (tool_call_finished, 8.5 s into its turn)" in recording.ending
    assert "cut mid-write" in recording.ending
    assert fold(recording.events).status == "running"


def test_a_run_cut_off_between_events_says_where_it_ended(tmp_path):
    recording = load(write_events(tmp_path / "run.jsonl", sample_session()[:12]))
    assert not recording.complete and not recording.cut_line
    assert "ends at event 12 (todos_changed, 5 s into its turn)" in (recording.ending or "")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "does not start with an event"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "does not start with an event"),
        (b"# notes\nnot json\n", "does not start with an event"),
        (b'{"name": "package.json"}\n', "is not a deep-tui recording"),
        (b'{"seq":0,"t":0.0,"type":"no_such_kind"}\n', "is not a deep-tui recording"),
    ],
)
def test_a_file_that_is_not_a_recording_gets_one_line_saying_so(tmp_path, content, says):
    path = tmp_path / "thing"
    path.write_bytes(content)
    with pytest.raises(RecordingError) as raised:
        load(path)
    message = str(raised.value)
    assert says in message and str(path) in message and "\n" not in message


def test_a_garbage_line_inside_is_named_when_it_is_read_not_when_the_turns_are_found(tmp_path):
    events = sample_session()
    path = write_events(tmp_path / "run.jsonl", events[:3])
    path.write_bytes(path.read_bytes() + b"garbage\n" + events[3].model_dump_json().encode() + b"\n")
    timeline = Timeline.of(load(path))  # the turns are found past it; the replay reads up to it (``Timeline.cut``)
    assert len(timeline) == 5 and [mark.turn for mark in timeline.turns] == [1]
    assert timeline.kind(3) == "" and timeline.state_at(3).position == 3
    with pytest.raises(RecordingError, match="line 4 is damaged"):
        timeline.state_at(5)


def test_a_damaged_last_line_with_its_newline_is_named(tmp_path):
    path = write_events(tmp_path / "run.jsonl", sample_session()[:3], tail=b'{"seq":3,"t":1.5,"type":"text\n')
    with pytest.raises(RecordingError, match="line 4 is not a deep-tui event"):
        load(path)


def test_a_line_that_starts_right_and_breaks_later_is_named_when_read(tmp_path):
    events = sample_session()
    path = write_events(tmp_path / "run.jsonl", events[:3])
    path.write_bytes(path.read_bytes() + b'{"seq":3,"t":1.5,"type":"text_delta","text":\n')
    path.write_bytes(path.read_bytes() + events[4].model_dump_json().encode() + b"\n")
    recording = load(path)
    with pytest.raises(RecordingError, match="line 4 is damaged"):
        list(recording.events)


def test_missing_targets_say_what_was_looked_for(tmp_path):
    (tmp_path / "sessions").mkdir()
    (tmp_path / "empty-dir").mkdir()
    with pytest.raises(RecordingError, match="no file, directory or saved session 'nope'"):
        load("nope", sessions=tmp_path / "sessions")
    with pytest.raises(RecordingError, match="is not a saved session: it has no events.jsonl"):
        load(tmp_path / "empty-dir")
    saved_session(tmp_path, name="aaa1")
    saved_session(tmp_path, name="aaa2")
    with pytest.raises(RecordingError, match="'aaa' is the start of 2 saved sessions"):
        load("aaa", sessions=tmp_path / "sessions")


def test_a_calls_whole_result_comes_from_the_saved_history_or_a_complete_preview(tmp_path):
    directory = saved_session(tmp_path)
    long_result = "x" * 5000
    history = [
        {"kind": "request", "parts": [{"part_kind": "tool-return", "tool_call_id": "c2", "content": long_result}]}
    ]
    (directory / "messages.json").write_text(json.dumps(history))
    recording = load(directory)
    assert recording.result("c2") == long_result
    assert recording.result("c1") == "ok"  # not in the history; its preview is all of it
    assert recording.result("c4") is None  # cancelled, nothing came back
    assert recording.result("unknown") is None


async def test_a_real_saved_session_replays_to_the_same_state_and_files(tmp_path):
    contents = [f"version {n}\n" for n in range(3)]
    session = deep_session(*[[("tool", "write_file", {"path": "/v.txt", "content": c})] for c in contents], ["done"])
    recorder = SessionRecorder(session, root=tmp_path)
    events = []
    await session.run("write v three times", lambda e: (recorder.record(e), events.append(e)))
    directory = recorder.close()
    recording = load(directory.name, sessions=tmp_path / "sessions")
    assert list(recording.events) == events
    state = fold(recording.events)
    versions = state.files["/v.txt"].versions
    assert [recording.file("/v.txt", v.version) for v in versions] == [c.encode() for c in contents]
    call = state.calls[0]
    assert recording.result(call.call_id) == session.tool_result(call.call_id)


def test_a_session_killed_with_sigkill_mid_run_loads_and_says_it_was_cut_off(tmp_path):
    home = tmp_path / "home"
    child = subprocess.Popen(
        [sys.executable, "-m", "deep_tui", "run", "--stress", "turns=5000,calls_per_turn=2,files=50,answer=10", "go"],
        env={**os.environ, "DEEP_TUI_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        events = None
        while time.monotonic() < deadline:
            found = list(home.glob("sessions/*/events.jsonl"))
            if found and found[0].stat().st_size > 20_000:
                events = found[0]
                break
            time.sleep(0.05)
        assert events is not None, "the run recorded nothing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    recording = load(events.parent)
    assert not recording.complete
    assert "without the turn's run_finished: the run was cut off" in (recording.ending or "")
    state = fold(recording.events)
    assert state.status == "running" and state.files
    # Blobs are written by the recorder's thread: the last few versions before a kill may be missing, never wrong.
    kept = {v.version: recording.file(path, v.version) for path, f in state.files.items() for v in f.versions}
    assert any(data is not None for data in kept.values())
    assert all(version(data) == name for name, data in kept.items() if data is not None)


def test_a_subagents_call_finds_its_own_result_not_the_main_agents_of_the_same_id(tmp_path):
    writer = Origin(task_id="w1", name="writer")
    events = [
        RunStarted(seq=0, t=0.0, run_id="r", session_id="s", turn=1, prompt="go", agent="a"),
        ToolCallStarted(seq=1, t=0.1, call_id="c1", tool="ls", args={}),
        ToolCallStarted(seq=2, t=0.2, origin=writer, call_id="c1", tool="read_file", args={"path": "/a"}),
        ToolCallFinished(
            seq=3,
            t=0.3,
            origin=writer,
            call_id="c1",
            tool="read_file",
            outcome="success",
            preview="the writer's",
            size=12,
        ),
        ToolCallFinished(seq=4, t=0.4, call_id="c1", tool="ls", outcome="success", preview="the main", size=8),
        RunFinished(seq=5, t=0.5, status="completed"),
    ]
    directory = saved_session(tmp_path, events)
    history = [{"kind": "request", "parts": [{"part_kind": "tool-return", "tool_call_id": "c1", "content": "whole"}]}]
    (directory / "messages.json").write_text(json.dumps(history))  # the main agent's history
    recording = load(directory)
    assert recording.result("c1") == "whole"
    assert recording.result("c1", "w1") == "the writer's"
    assert recording.result("c1", "h1") is None


def test_every_event_as_written_is_read_for_its_kind_and_time_without_parsing_it():
    events = [
        *sample_session(),
        ToolCallStarted(seq=9, t=1.5, origin=Origin(task_id="w1", name="writer"), call_id="c", tool="ls", args={}),
    ]
    for event in events:
        start = EVENT_START.match(event.model_dump_json().encode())
        assert start is not None and (start[3].decode(), float(start[2])) == (event.type, event.t), event
    older = b'{"seq":3,"t":2.5,"type":"run_finished","status":"completed"}'  # before events carried an origin
    assert EVENT_START.match(older) is not None
    odd = ToolCallStarted(seq=9, t=1.5, origin=Origin(task_id="w1", name="a {b}"), call_id="c", tool="ls", args={})
    log = EventLog([odd.model_dump_json().encode()], "test")  # a line the pattern leaves is parsed instead
    assert (log.kind(0), log.t(0)) == ("tool_call_started", 1.5)
