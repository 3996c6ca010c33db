"""The usage line: requests, tokens, tool calls and cost for the session, live."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from deep_tui.events import Usage
from deep_tui.format import cost, tokens


class UsageBar(Widget):
    """Session totals: finished turns plus the one running."""

    DEFAULT_CSS = """
    UsageBar { height: 1; padding: 0 1; color: $text-muted; }
    """

    usage: reactive[Usage] = reactive(Usage)
    turns: reactive[int] = reactive(0)

    def render(self) -> Text:
        u = self.usage
        parts = [
            (f"{u.requests}", "bold"),
            (" requests · ", ""),
            (tokens(u.input_tokens), "bold"),
            (" in · ", ""),
            (tokens(u.output_tokens), "bold"),
            (" out · ", ""),
            (f"{u.tool_calls}", "bold"),
            (" tool calls · ", ""),
            (cost(u.cost), "bold"),
            (" · ", ""),
            (f"{self.turns}", "bold"),
            (" turns" if self.turns != 1 else " turn", ""),
        ]
        return Text.assemble(*parts)
