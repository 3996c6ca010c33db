"""Seeking in a recording: the run state at any event, without folding from the start each time.

The timeline keeps a copy of the run state every ``every`` events (a keyframe). The
state at position ``p`` (after the first ``p`` events: 0 is before anything happened,
``len(timeline)`` is the end) is the keyframe at or before ``p``, copied, with fewer than
``every`` events folded onto it. Keyframes are made as far as a seek has reached, so
opening a recording costs nothing here; ``build`` makes them all, and may run in a
worker thread while the screen seeks (each takes a lock around one keyframe's worth
of folding, so a seek waits for one step at most).

It also knows where each turn starts, for ``[``/``]``, and the wall-clock time of every
position, for the timeline bar, from each event's ``t`` and its turn's ``started_at``.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deep_tui.events import Event, RunStarted
from deep_tui.recording_files import DamagedLine
from deep_tui.state import RunState

if TYPE_CHECKING:
    from deep_tui.recording import Recording

KEYFRAME_EVERY = 250
"""Events between keyframes. On two 100,000-event recordings (docs/performance.md) seeks took 6 and 10 ms
at p95 with a keyframe every 250 events, 9 and 19 ms every 500, 36 and 103 ms every 2,000: a seek parses
and folds up to this many events. The keyframes share their records (``deep_tui.shared``), so 400 of them
took a few MB more than 50."""


@dataclass(frozen=True, slots=True)
class TurnMark:
    """Where a turn starts: its ``run_started`` event and what it says."""

    index: int
    """The ``run_started`` event's index; the turn's first state is at position ``index + 1``."""
    turn: int
    prompt: str
    started_at: float | None

    @property
    def position(self) -> int:
        return self.index + 1


class Timeline:
    """Keyframes over a sequence of events, for seeking, with its turns and clock."""

    def __init__(
        self,
        events: Sequence[Event],
        *,
        every: int = KEYFRAME_EVERY,
        turn_starts: Sequence[int] | None = None,
        t: Callable[[int], float] | None = None,
    ) -> None:
        """``turn_starts`` (the index of every ``run_started``) and ``t`` (an event's ``t`` by index) are for
        events that can tell them without being parsed (``recording.EventLog``); else they are read from the
        events."""
        if every < 1:
            raise ValueError(f"keyframes need at least one event between them, not {every}")
        self.events = events
        self.every = every
        if turn_starts is None:
            turn_starts = [index for index, event in enumerate(events) if isinstance(event, RunStarted)]
        self._t = t if t is not None else (lambda index: events[index].t)
        marks: list[TurnMark] = []
        damage: DamagedLine | None = None
        for index in turn_starts:
            try:
                marks.append(_mark(index, events[index]))
            except DamagedLine as error:  # a turn's start that cannot be read: the timeline ends before it
                damage = error
                break
        self._set_turns(marks)
        self._keyframes = [RunState()]
        self._frontier = RunState()
        """The fold as far as it has gone, at position ``self.built``."""
        self._lock = threading.Lock()
        self._end: int | None = None
        """Where ``cut`` ended the timeline; None: with its last event."""
        self.ending: str | None = None
        """Where a recording that was cut off ends, in a line; None for a complete one."""
        if damage is not None:
            self.cut(damage)

    @classmethod
    def of(cls, recording: Recording, *, every: int = KEYFRAME_EVERY) -> Timeline:
        """The timeline of a loaded recording, made without parsing its events (but its turns' first)."""
        events = recording.events
        timeline = cls(events, every=every, turn_starts=events.turn_starts(), t=events.t)
        timeline.ending = timeline.ending or recording.ending
        return timeline

    def __len__(self) -> int:
        return len(self.events) if self._end is None else self._end

    def cut(self, damage: DamagedLine) -> None:
        """End the timeline before the event ``damage`` says cannot be read, and say so in ``ending``."""
        with self._lock:
            self._end = min(damage.index, len(self))
            self._set_turns([mark for mark in self.turns if mark.index < self._end])
            self.ending = f"{damage}: the replay ends before it"

    def _set_turns(self, marks: list[TurnMark]) -> None:
        self.turns = marks
        self._turn_indices = [mark.index for mark in marks]
        self._turn_positions = [mark.position for mark in marks]

    @property
    def built(self) -> int:
        """The position up to which keyframes have been made."""
        return self._frontier.position

    def build(self, until: int | None = None) -> None:
        """Make the keyframes up to position ``until`` (the end by default)."""
        until = len(self) if until is None else min(until, len(self))
        while self.built < until:
            with self._lock:
                start = self.built
                stop = min(until, (start // self.every + 1) * self.every)
                for event in self.events[start:stop]:
                    self._frontier.apply(event)
                if stop % self.every == 0 and stop // self.every == len(self._keyframes):
                    self._keyframes.append(self._frontier.copy())

    def state_at(self, position: int) -> RunState:
        """The state after the first ``position`` events: a new object, the caller's to keep or change."""
        if not 0 <= position <= len(self):
            raise IndexError(f"position {position} is outside 0..{len(self)}")
        keyframe = position // self.every
        self.build(keyframe * self.every)
        state = self._keyframes[keyframe].copy()
        for event in self.events[keyframe * self.every : position]:
            state.apply(event)
        return state

    def turn_at(self, position: int) -> TurnMark | None:
        """The turn the state at ``position`` is in (or last finished), if any has started."""
        where = bisect.bisect_left(self._turn_indices, position) - 1
        return self.turns[where] if where >= 0 else None

    def next_turn(self, position: int) -> int:
        """The first position of the next turn, or the end."""
        later = bisect.bisect_right(self._turn_positions, position)
        return self._turn_positions[later] if later < len(self.turns) else len(self)

    def previous_turn(self, position: int) -> int:
        """The first position of this turn if past it, else of the one before; the start before the first."""
        earlier = bisect.bisect_left(self._turn_positions, position) - 1
        return self._turn_positions[earlier] if earlier >= 0 else 0

    def kind(self, index: int) -> str:
        """The ``type`` of event ``index``, parsed only if the events cannot tell it without."""
        kind = getattr(self.events, "kind", None)
        return kind(index) if kind is not None else self.events[index].type

    def t(self, position: int) -> float:
        """Seconds into its turn of the last event applied at ``position`` (0 at the start)."""
        return self._t(position - 1) if position > 0 else 0.0

    def clock(self, position: int) -> float | None:
        """The wall-clock time (epoch seconds) of the state at ``position``, when its turn's start is known."""
        if position == 0:
            return self.turns[0].started_at if self.turns else None
        mark = self.turn_at(position)
        if mark is None or mark.started_at is None:
            return None
        return mark.started_at + self._t(position - 1)


def _mark(index: int, event: Event) -> TurnMark:
    assert isinstance(event, RunStarted)
    return TurnMark(index, event.turn, event.prompt, event.started_at)
