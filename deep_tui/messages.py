"""Textual messages that carry the event stream from the agent worker to the dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from deep_tui.events import Event


class AgentEvents(Message):
    """Events the runner produced since the last such message was sent.

    A burst of deltas costs one message and one repaint, not one per delta.
    """

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events
