"""Event sources: a live session, a recording, and one made here, all through the same interface."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from deep_tui.events import Event, RunFinished, RunStarted
from deep_tui.recording import load
from deep_tui.sessions import SessionRecorder
from deep_tui.source import EventSource, LiveSource, PromptRefused, RecordingSource
from deep_tui.state import RunState, fold
from tests.canned import CannedSource
from tests.event_streams import CORE_VERSIONS, sample_session, version
from tests.scripted import deep_session

CONTENTS = ["draft\n", "draft\nmore\n", "final\n"]


async def watch(source: EventSource, prompts: list[str]) -> tuple[RunState, dict[str, bytes | None], dict[str, str]]:
    """What a view does with any source: run the prompts (or seek to the end), then open every version and call."""
    if source.accepts_prompts:
        state = RunState()
        for prompt in prompts:
            async for event in source.turn(prompt):
                state.apply(event)
    else:
        assert source.timeline is not None
        state = source.timeline.state_at(len(source.timeline))
    versions = {
        v.version: source.file(path, v.version)
        for path, record in state.files.items()
        for v in record.versions
        if v.version
    }
    results = {call.call_id: source.result(call.call_id) or "" for call in state.calls}
    return state, versions, results


def writing_session():
    return deep_session(
        *[[("tool", "write_file", {"path": "/notes.md", "content": c})] for c in CONTENTS],
        ["Wrote the notes three times."],
    )


def test_every_source_is_an_event_source(tmp_path):
    recorded = tmp_path / "run.jsonl"
    recorded.write_text("".join(e.model_dump_json() + "\n" for e in sample_session()))
    for source in (
        LiveSource(writing_session()),
        RecordingSource.open(recorded),
        CannedSource([sample_session()], {}, {}),
    ):
        assert isinstance(source, EventSource)


async def test_a_live_run_its_recording_and_a_canned_copy_show_the_same_thing(tmp_path):
    session = writing_session()
    live = LiveSource(session, SessionRecorder(session, root=tmp_path))
    live_state, live_versions, live_results = await watch(live, ["write the notes"])
    saved = live.close()
    assert saved is not None

    replay = RecordingSource.open(saved.name, sessions=tmp_path / "sessions")
    replay_state, replay_versions, replay_results = await watch(replay, [])

    events = list(load(saved).events)
    canned = CannedSource([events], {v: data for v, data in replay_versions.items() if data}, replay_results)
    canned_state, canned_versions, canned_results = await watch(canned, ["write the notes"])

    assert live_state == replay_state == canned_state
    expected = {hashlib.sha256(c.encode()).hexdigest(): c.encode() for c in CONTENTS}
    assert live_versions == replay_versions == canned_versions == expected
    assert live_results == replay_results == canned_results
    assert [v.call_id for v in live_state.files["/notes.md"].versions] == [c.call_id for c in live_state.calls]


async def test_a_live_turn_is_recorded_whoever_consumes_it(tmp_path):
    session = writing_session()
    live = LiveSource(session, SessionRecorder(session, root=tmp_path))
    seen = [event async for event in live.turn("write")]
    saved = live.close()
    assert saved is not None
    lines = (saved / "events.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [json.loads(e.model_dump_json()) for e in seen]
    assert json.loads((saved / "session.json").read_text())["turns"] == 1


async def test_a_consumer_that_dies_mid_turn_still_leaves_a_run_finished_in_the_recording(tmp_path):
    session = deep_session([("tool", "write_file", {"path": "/a", "content": "1"}), ("sleep", 0.2)], ["done"])
    live = LiveSource(session, SessionRecorder(session, root=tmp_path))

    async def consumer() -> None:
        async for event in live.turn("go"):
            if event.type == "tool_call_started":
                raise ValueError("the view crashed")

    with pytest.raises(ValueError):
        await consumer()
    for _ in range(200):
        if not live.running:
            break
        await asyncio.sleep(0.02)
    saved = live.close()
    assert saved is not None
    last = json.loads((saved / "events.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "run_finished"


async def test_a_runner_that_dies_without_ending_its_turn_gets_a_run_finished_recorded_and_delivered(tmp_path):
    session = writing_session()

    async def broken_run(prompt, sink, *, timeout=None):
        sink(RunStarted(run_id="r", session_id=session.id, turn=1, prompt=prompt, agent="x"))
        sink(RunStarted(seq=1, t=0.5, run_id="r", session_id=session.id, turn=1, prompt=prompt, agent="x"))
        raise KeyError("lost its place")

    session.run = broken_run  # type: ignore[method-assign]
    live = LiveSource(session, SessionRecorder(session, root=tmp_path))
    events = [event async for event in live.turn("go")]
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "failed"
    assert finished.error == "KeyError: 'lost its place'" and finished.seq == 2 and finished.t == 0.5
    saved = live.close()
    assert saved is not None
    assert json.loads((saved / "events.jsonl").read_text().splitlines()[-1])["status"] == "failed"


async def test_cancel_ends_the_turn_with_its_run_finished_delivered_and_recorded(tmp_path):
    session = deep_session([("tool", "write_file", {"path": "/a", "content": "1"}), ("sleep", 30)], ["done"])
    live = LiveSource(session, SessionRecorder(session, root=tmp_path))
    seen: list[Event] = []
    async for event in live.turn("go"):
        seen.append(event)
        if event.type == "node_entered":
            live.cancel()
    assert seen[-1].type == "run_finished" and seen[-1].status == "cancelled"  # type: ignore[union-attr]
    saved = live.close()
    assert saved is not None
    assert json.loads((saved / "events.jsonl").read_text().splitlines()[-1])["status"] == "cancelled"


async def test_a_second_turn_while_one_runs_is_refused():
    live = LiveSource(deep_session([("sleep", 30)], ["done"]))
    first = live.turn("one")
    await first.__anext__()
    with pytest.raises(PromptRefused):
        await live.turn("two").__anext__()
    live.cancel()
    assert [event async for event in first][-1].type == "run_finished"


async def test_without_a_recorder_the_live_source_knows_the_last_two_versions():
    session = writing_session()
    live = LiveSource(session)
    state, versions, _ = await watch(live, ["write"])
    assert live.close() is None
    first, second, third = (hashlib.sha256(c.encode()).hexdigest() for c in CONTENTS)
    assert versions == {first: None, second: CONTENTS[1].encode(), third: CONTENTS[2].encode()}
    assert live.file("/notes.md") == CONTENTS[2].encode() and live.file("/missing") is None


def test_a_recording_takes_no_prompts_and_seeks(tmp_path):
    directory = tmp_path / "sessions" / "s1"
    directory.mkdir(parents=True)
    (directory / "events.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in sample_session()))
    source = RecordingSource.open(directory)
    assert not source.accepts_prompts and source.label == "replay · s1"
    with pytest.raises(PromptRefused, match="is a recording: it takes no prompts"):
        source.turn("hello")
    source.cancel()
    assert source.timeline is not None
    assert source.timeline.state_at(12).todos == fold(sample_session()[:12]).todos
    assert source.file("/src/core.py", version(CORE_VERSIONS[0])) is None  # this recording kept no blobs
    assert source.close() == directory
