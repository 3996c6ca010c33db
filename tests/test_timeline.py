"""Seeking: the state at any position equals a fold from the start, found from the nearest keyframe."""

from __future__ import annotations

import random
import threading

import pytest

from deep_tui.events import RunStarted
from deep_tui.recording import load
from deep_tui.state import fold
from deep_tui.timeline import Timeline
from tests.event_streams import STARTED_AT, sample_session
from tests.scripted import collect, deep_session


def long_session(turns: int = 6) -> list:
    """The sample's turns repeated, renumbered as one session's turns."""
    events = []
    for n in range(turns):
        for event in sample_session():
            if isinstance(event, RunStarted):
                event = event.model_copy(update={"turn": event.turn + 2 * n, "started_at": STARTED_AT + 120 * n})
            events.append(event)
    return events


@pytest.mark.parametrize("every", [1, 3, 7, 50, 10_000])
def test_seeking_anywhere_gives_the_state_folded_from_the_start(every):
    events = long_session()
    timeline = Timeline(events, every=every)
    positions = random.Random(every).sample(range(len(events) + 1), 40) + [0, len(events)]
    for position in positions:
        assert timeline.state_at(position) == fold(events[:position]), position


def test_seeking_backwards_and_forwards_in_any_order_agrees_with_the_fold():
    events = long_session()
    timeline = Timeline(events, every=10)
    for position in [len(events), 3, 150, 0, 77, 76, 78, len(events) - 1]:
        assert timeline.state_at(position) == fold(events[:position])


def test_keyframes_are_made_only_as_far_as_a_seek_reaches():
    events = long_session()
    timeline = Timeline(events, every=10)
    assert timeline.built == 0
    timeline.state_at(25)
    assert timeline.built == 20
    timeline.build()
    assert timeline.built == len(events)


def test_a_state_handed_out_is_the_callers():
    events = long_session()
    timeline = Timeline(events, every=10)
    state = timeline.state_at(30)
    for event in events[30:40]:
        state.apply(event)
    assert timeline.state_at(30) == fold(events[:30])
    assert timeline.state_at(40) == state


def test_a_build_in_another_thread_does_not_disturb_seeks():
    events = long_session(turns=30)
    timeline = Timeline(events, every=5)
    builder = threading.Thread(target=timeline.build)
    builder.start()
    positions = random.Random(1).sample(range(len(events) + 1), 60)
    states = [(position, timeline.state_at(position)) for position in positions]
    builder.join()
    for position, state in states:
        assert state == fold(events[:position])


def test_turns_are_marked_where_their_run_starts():
    events = sample_session()
    timeline = Timeline(events)
    assert [(mark.turn, mark.prompt, mark.position) for mark in timeline.turns] == [
        (1, "build core", 1),
        (2, "now the README", 28),
    ]
    assert timeline.turns[1].started_at == STARTED_AT + 60


def test_next_and_previous_turn_step_between_turn_starts_and_the_ends():
    timeline = Timeline(sample_session())
    end = len(timeline)
    assert [timeline.next_turn(p) for p in (0, 1, 10, 27, 28, end)] == [1, 28, 28, 28, end, end]
    assert [timeline.previous_turn(p) for p in (0, 1, 2, 28, 29, end)] == [0, 0, 1, 1, 28, 28]


def test_each_position_has_its_clock_time_from_the_turns_start():
    events = sample_session()
    timeline = Timeline(events)
    assert timeline.clock(0) == STARTED_AT
    assert timeline.clock(10) == STARTED_AT + events[9].t
    assert timeline.clock(31) == STARTED_AT + 60 + events[30].t
    assert timeline.t(31) == events[30].t and timeline.t(0) == 0.0
    assert timeline.turn_at(27).turn == 1 and timeline.turn_at(28).turn == 2  # type: ignore[union-attr]
    assert timeline.turn_at(0) is None


def test_a_recording_without_wall_clock_times_has_none():
    events = [e.model_copy(update={"started_at": None}) if isinstance(e, RunStarted) else e for e in sample_session()]
    timeline = Timeline(events)
    assert timeline.clock(0) is None and timeline.clock(10) is None


def test_positions_outside_the_recording_are_refused():
    timeline = Timeline(sample_session())
    with pytest.raises(IndexError):
        timeline.state_at(len(timeline) + 1)
    with pytest.raises(IndexError):
        timeline.state_at(-1)


def test_a_loaded_recording_seeks_without_parsing_what_it_skips(tmp_path):
    events = long_session()
    path = tmp_path / "run.jsonl"
    path.write_text("".join(e.model_dump_json() + "\n" for e in events))
    recording = load(path)
    timeline = Timeline.of(recording, every=20)
    assert [m.position for m in timeline.turns] == [m.position for m in Timeline(events).turns]
    for position in random.Random(7).sample(range(len(events) + 1), 20):
        assert timeline.state_at(position) == fold(events[:position])


async def test_a_real_run_seeks_to_the_same_states():
    session = deep_session(
        [("think", "planning"), "Writing.", ("tool", "write_file", {"path": "/a.md", "content": "1"})],
        [("tool", "write_file", {"path": "/a.md", "content": "2"}), ("tool", "read_file", {"path": "/a.md"})],
        ["All done."],
    )
    events = await collect(session, "first") + await collect(session, "second")
    timeline = Timeline(events, every=4)
    for position in range(len(events) + 1):
        assert timeline.state_at(position) == fold(events[:position])
    assert len(timeline.turns) == 2
