"""The dashboard on a recording: the same panes, a timeline bar under them, and keys that move through time.

Moving on by a few events (playing, ``→``) folds them into the shown state and hands them to
the panes, as a live run does. Any other move (back, a turn, the ends, a click on the bar) is
a seek: the timeline gives the state at the new position from its nearest keyframe, and every
pane is reset to it. The keyframes are made in a thread once the recording is open, so the
first frame does not wait for them and later seeks do not either.

Once they are all made, they are moved out of the garbage collector's sight (``gc.freeze``):
they are most of the heap and live as long as the screen, and a full collection walked them
all, a pause of about 200 ms in one seek out of fifteen (40-70 ms after), and full
collections are made rarer (``FULL_COLLECTION_EVERY``).
"""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.worker import Worker, WorkerState, get_current_worker

from deep_tui.playback import Playback, speed_label
from deep_tui.recording_files import DamagedLine
from deep_tui.screens.dashboard import DashboardScreen
from deep_tui.widgets.output_view import OutputView
from deep_tui.widgets.timeline_bar import TimelineBar

if TYPE_CHECKING:
    from deep_tui.source import EventSource
    from deep_tui.state import RunState
    from deep_tui.timeline import Timeline

FRAME = 1 / 12
"""Seconds between two frames of playback."""

SPEED, EVENT, TURN, ENDS = (Binding.Group(name, compact=True) for name in ("Speed", "Event", "Turn", "Start/end"))

FULL_COLLECTION_EVERY = 100
"""Collections of the middle generation between two full ones once the keyframes are frozen (Python's default: 10).
What is left to walk is the panes' lines and the state at the cursor, and little of it is garbage. Over 300 seeks
(docs/performance.md) a full collection every 10 took 40-70 ms in one seek out of fifteen; every 100, seeks were
20-25 ms faster at p95, 20-30 ms slower at p99 (a rarer, longer collection), with 7 MB more at their peak."""

FRAME_WORK = 0.008
"""Seconds of folding one frame of playback takes at most: the rest of what it is due waits for the next frame,
so that a key pressed meanwhile waits for no more (tool calls fold at ~60 µs each, streamed text at ~20 µs)."""

CHUNK = 20
"""Events added at a time within a frame, between two looks at the clock (a tool call's two take ~0.15 ms)."""

KEY_FIRST = 0.1
"""Seconds after a key during which playback shows nothing new: the key's change is drawn on its own, not after
a frame of playback (12-20 ms to paint) nor a frame of Textual's after one."""

INPUT_TURNS = 10
"""Turns of the event loop a folded frame of playback waits for a key before it is painted. A key pressed while
the frame folded reaches this screen about seven turns after the fold (2-4 ms) and the app's bindings one turn
later: it is then drawn in the frame's paint, not in a paint of its own after the frame's (13-20 ms later)."""

STEP_ALONE = 50
"""A move forward by at most this many events is folded on the shown state; a longer one is a seek."""


class ReplayScreen(DashboardScreen):
    """A recorded run, read-only, at any moment of it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "play", "Play/pause", priority=True),
        Binding("plus,equals_sign", "speed(1)", "Faster", key_display="+", priority=True, group=SPEED),
        Binding("minus", "speed(-1)", "Slower", key_display="-", priority=True, group=SPEED),
        Binding("left", "step(-1)", "Back", key_display="←", priority=True, group=EVENT),
        Binding("right", "step(1)", "On", key_display="→", priority=True, group=EVENT),
        Binding("left_square_bracket", "turn(-1)", "Turn back", key_display="[", priority=True, group=TURN),
        Binding("right_square_bracket", "turn(1)", "Next turn", key_display="]", priority=True, group=TURN),
        Binding("home", "seek_end(False)", "Start", key_display="Home", priority=True, group=ENDS),
        Binding("end", "seek_end(True)", "End", key_display="End", priority=True, group=ENDS),
    ]

    def __init__(self, label: str, *, side_column: bool = True, play: bool = False) -> None:
        super().__init__(label, accepts_prompts=False, side_column=side_column)
        self.playback = Playback(playing=play)
        self._timer: Timer | None = None
        self._played_at = 0.0
        self._key_at = 0.0
        self._thresholds: tuple[int, int, int] | None = None
        """The collector's thresholds before this screen froze the heap (``gc.freeze``), to restore when it goes."""

    def compose_controls(self) -> ComposeResult:
        yield TimelineBar(id="timeline")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The keys that move wait for the recording to be attached."""
        if action in ("play", "speed", "step", "turn", "seek_end") and self.source is None:
            return False
        return super().check_action(action, parameters)

    def focus_first(self) -> None:
        """The output, once the recording is shown: a focus redraws the footer (100-300 ms of the main thread),
        which would take the GIL from the thread reading the recording half the time."""
        if self.focused is None and self.source is not None:
            self.query_one(OutputView).focus()

    @property
    def timeline(self) -> Timeline:
        assert self.source is not None and self.source.timeline is not None
        return self.source.timeline

    @property
    def position(self) -> int:
        return self.state.position if self.state is not None else 0

    def attach(self, source: EventSource, state: RunState) -> None:
        super().attach(source, state)
        self._show_extent()
        # After the frame that shows the recording: a thread folding from the start would take the GIL
        # half the time, and that frame with it.
        self.call_after_refresh(self._build_keyframes)
        self.call_after_refresh(self.focus_first)
        self._moved()
        if self.playback.playing:
            self._play()

    def show_state(self, state: RunState) -> None:
        super().show_state(state)
        self._moved()

    @work(thread=True, group="keyframes", exit_on_error=False)
    def _build_keyframes(self) -> None:
        """All the keyframes, one at a time, so that quitting does not wait for the rest."""
        timeline, worker = self.timeline, get_current_worker()
        while timeline.built < len(timeline) and not worker.is_cancelled:
            timeline.build(timeline.built + timeline.every)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "keyframes":
            return
        if event.state == WorkerState.ERROR and isinstance(event.worker.error, DamagedLine):
            self._damaged(event.worker.error)  # every keyframe up to the damage is made: the end's, now
        elif event.state != WorkerState.SUCCESS:
            return
        if self._thresholds is None:
            gc.collect()  # not to keep the garbage there is for as long
            gc.freeze()
            self._thresholds = gc.get_threshold()
            gc.set_threshold(*self._thresholds[:2], FULL_COLLECTION_EVERY)

    def on_unmount(self) -> None:
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            gc.unfreeze()

    # Moving ------------------------------------------------------------------------------------------

    def seek(self, position: int) -> None:
        """Show the state after the first ``position`` events (or as far as they can be read)."""
        if self.source is None or self.state is None:
            return
        try:
            self._seek(position)
        except DamagedLine as damage:
            self._damaged(damage)
            self._seek(position)

    def _seek(self, position: int) -> None:
        position = max(0, min(position, len(self.timeline)))
        if position == self.position:
            return
        ahead = position - self.position
        if 0 < ahead <= STEP_ALONE:
            self.show(self.timeline.events[self.position : position])
            self._moved()
        else:
            self.show_state(self.timeline.state_at(position))
        self.playback.moved_to(self.timeline, position)

    def _moved(self) -> None:
        bar = self.query_one(TimelineBar)
        bar.position = self.position
        bar.clock = self.timeline.clock(self.position)
        bar.playing = self.playback.playing
        bar.speed = speed_label(self.playback.speed)
        bar.ending = self.timeline.ending if self.position == len(self.timeline) else None

    def _show_extent(self) -> None:
        """The timeline bar's length and turn marks, as the timeline has them."""
        bar = self.query_one(TimelineBar)
        bar.length = len(self.timeline)
        bar.set_turns([(mark.position, mark.turn) for mark in self.timeline.turns])

    def _damaged(self, damage: DamagedLine) -> None:
        """A line that cannot be read: the recording is replayed up to it, and says so, at its end and at once."""
        if damage.index >= len(self.timeline):
            return
        self.timeline.cut(damage)
        self._show_extent()
        self._moved()
        self.notify(str(damage), title="The rest of the recording cannot be read", severity="error", timeout=10)

    def action_play(self) -> None:
        if self.playback.playing:
            self._pause()
            return
        if self.position >= len(self.timeline):  # at the end, play starts again from the start
            self.seek(0)
        self.playback.moved_to(self.timeline, self.position)
        self._play()

    def _play(self) -> None:
        self.playback.playing = True
        self._played_at = time.monotonic()
        if self._timer is None:
            self._timer = self.set_interval(FRAME, self._frame)
        self._moved()

    def _pause(self) -> None:
        self.playback.playing = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._moved()

    def on_key(self, event: events.Key) -> None:
        """A key for the panes (the replay's own keys do not come here): frames wait until it is drawn."""
        self._key_at = time.monotonic()

    async def _frame(self) -> None:
        """A frame of playback: what is due folded into the panes, then painted once a key pressed meanwhile is
        handled (``INPUT_TURNS``). Textual paints nothing during a batch of updates, and paints it all at its end."""
        now = time.monotonic()
        if now - self._key_at < KEY_FIRST:
            return
        try:
            with self.app.batch_update():
                self._fold_due(now)
                keyed = self._key_at
                for _ in range(INPUT_TURNS):
                    await asyncio.sleep(0)
                    if self._key_at != keyed:  # a key reached this screen: the app's bindings take it a turn later
                        await asyncio.sleep(0)
                        break
        finally:
            self.check_idle()  # a batch's end prompts the app only: this screen paints what the frame changed

    def _fold_due(self, now: float) -> None:
        """Fold what is due at ``now``, at most ``FRAME_WORK`` of it."""
        seconds, self._played_at = now - self._played_at, now
        target = self.playback.advance(self.timeline, self.position, seconds)
        recorded, start = self.timeline.events, self.position
        while self.position < target:
            try:
                chunk = recorded[self.position : min(self.position + CHUNK, target)]
            except DamagedLine as damage:
                self._damaged(damage)
                target = min(target, len(self.timeline))
                continue
            self.add(chunk)
            if time.monotonic() - now >= FRAME_WORK:
                break
        if self.position != start:
            self.settle()
        if self.position >= len(self.timeline):
            self._pause()
        else:
            self._moved()

    def action_speed(self, step: int) -> None:
        if step > 0:
            self.playback.faster()
        else:
            self.playback.slower()
        self._moved()

    def action_step(self, events: int) -> None:
        self.seek(self.position + events)

    def action_turn(self, turns: int) -> None:
        timeline = self.timeline
        self.seek(timeline.next_turn(self.position) if turns > 0 else timeline.previous_turn(self.position))

    def action_seek_end(self, end: bool) -> None:
        self.seek(len(self.timeline) if end else 0)

    @on(TimelineBar.Seek)
    def _clicked(self, event: TimelineBar.Seek) -> None:
        self.seek(event.position)
