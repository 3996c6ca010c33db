"""Textual messages that carry the event stream from the agent worker to the dashboard."""

from __future__ import annotations

from textual.message import Message

from deep_tui.events import Event


class AgentEvents(Message):
    """Events the runner produced since the last such message was handled.

    The worker appends to ``events`` until the app handles the message, so a
    burst of deltas costs one message and one repaint, not one per delta.
    """

    def __init__(self, events: list[Event]) -> None:
        super().__init__()
        self.events = events
