"""Playing a recording at its own pace, without a screen: how far the cursor moves in so many seconds."""

from __future__ import annotations

from deep_tui.playback import MOST_PER_FRAME, SPEEDS, Playback, speed_label
from deep_tui.timeline import Timeline
from tests.event_streams import sample_session

SECOND_TURN = 27


def test_at_1x_the_cursor_moves_as_far_as_the_events_times_say():
    timeline = Timeline(sample_session())
    playback = Playback(playing=True)
    position = playback.advance(timeline, 0, 0.0)
    assert position == 1  # the turn's start is shown at once
    position = playback.advance(timeline, position, 1.0)  # the events at t <= 1.0 s
    assert position == 3 and all(timeline.t(p) <= 1.0 for p in range(1, position + 1))
    assert timeline.t(position + 1) > 1.0


def test_faster_speeds_cover_more_recorded_time_and_a_new_turn_starts_at_once():
    timeline = Timeline(sample_session())
    playback = Playback(playing=True)
    playback.faster()
    playback.faster()  # 5×
    assert playback.speed == 5.0
    position = playback.advance(timeline, 1, 1.0)  # five recorded seconds
    assert timeline.t(position) <= 5.0 < timeline.t(position + 1)
    # Past the first turn's end, the second starts without waiting for the time between the turns.
    playback.moved_to(timeline, SECOND_TURN - 1)
    assert playback.advance(timeline, SECOND_TURN - 1, 0.4) >= SECOND_TURN + 1


def test_max_moves_a_frame_s_worth_of_events_whatever_their_times():
    events = sample_session() * 40
    timeline = Timeline(events)
    playback = Playback(playing=True, speed_index=len(SPEEDS) - 1)
    assert speed_label(playback.speed) == "max"
    assert playback.advance(timeline, 0, 0.0) == min(MOST_PER_FRAME, len(events))


def test_the_speed_stays_within_its_steps():
    playback = Playback()
    playback.slower()
    assert speed_label(playback.speed) == "1×"
    for _ in range(10):
        playback.faster()
    assert playback.speed is None
