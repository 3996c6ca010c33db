"""The usage line: requests, tokens, tool calls, cost and time for the session, live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from deep_tui.format import cost, duration, tokens

if TYPE_CHECKING:
    from deep_tui.events import Usage


class UsageBar(Widget):
    """Session totals: finished turns plus the one running."""

    DEFAULT_CSS = """
    UsageBar { height: 1; padding: 0 1; color: $text-muted; }
    """

    usage: reactive[Usage | None] = reactive(None)
    """None until a turn reports: the event models need not be imported before the first frame."""
    turns: reactive[int] = reactive(0)
    elapsed: reactive[float] = reactive(0.0)
    """Seconds spent running turns in this session, the one running included."""

    def render(self) -> Text:
        u = self.usage
        requests, tokens_in, tokens_out, calls, dollars = (
            (u.requests, u.input_tokens, u.output_tokens, u.tool_calls, u.cost) if u else (0, 0, 0, 0, None)
        )
        return Text.assemble(
            (f"{requests}", "bold"), " requests · ",
            (tokens(tokens_in), "bold"), " in · ",
            (tokens(tokens_out), "bold"), " out · ",
            (f"{calls}", "bold"), " tool calls · ",
            "cost ", (cost(dollars), "bold"), " · ",
            (f"{self.turns}", "bold"), " turn in " if self.turns == 1 else " turns in ",
            (duration(self.elapsed), "bold"),
        )  # fmt: skip
