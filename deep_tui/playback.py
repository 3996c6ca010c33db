"""Playing a recording back at its own pace: how far the cursor moves in a moment of wall-clock time.

Within a turn, events come as far apart as their ``t`` says, divided by the speed. A new
turn starts at once (the time between two turns is the user's, not the agent's). "max"
moves a fixed number of events per frame, so the screen keeps up and the keys still answer.
Pure arithmetic on a ``Timeline``: no screen, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the replay screen imports this before its first frame: not the event models
    from deep_tui.timeline import Timeline

SPEEDS: tuple[float | None, ...] = (1.0, 2.0, 5.0, 20.0, None)
"""The speeds ``+`` and ``-`` step through; None is as fast as the screen can show."""

MOST_PER_FRAME = 400
"""Events shown in one frame at most: a frame of the busiest stream then costs ~20 ms (docs/performance.md),
which leaves the keys answering within the budget, whatever the speed."""


def speed_label(speed: float | None) -> str:
    return "max" if speed is None else f"{speed:g}×"


@dataclass
class Playback:
    """The play/pause state and the speed, and the recorded time the cursor has reached."""

    playing: bool = False
    speed_index: int = 0
    into_turn: float = field(default=0.0)
    """Seconds into the cursor's turn the playback has reached: a little past the last event shown."""

    @property
    def speed(self) -> float | None:
        return SPEEDS[self.speed_index]

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)

    def moved_to(self, timeline: Timeline, position: int) -> None:
        """The cursor was put at ``position`` (a seek): play on from that event's time."""
        self.into_turn = timeline.t(position)

    def advance(self, timeline: Timeline, position: int, seconds: float) -> int:
        """Where the cursor is after ``seconds`` of play from ``position``."""
        end = len(timeline)
        last = min(end, position + MOST_PER_FRAME)
        if self.speed is None:
            self.into_turn = timeline.t(last)
            return last
        self.into_turn += seconds * self.speed
        while position < last:
            if timeline.kind(position) == "run_started":
                self.into_turn = 0.0
            elif timeline.t(position + 1) > self.into_turn:
                break
            position += 1
        return position
