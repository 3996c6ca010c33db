"""The usage line: requests, tokens, tool calls, cost and time for the session, live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive

from deep_tui.format import cost, duration, plural, tokens
from deep_tui.widgets.text_line import TextLine

if TYPE_CHECKING:
    from deep_tui.events import Usage


class UsageBar(TextLine):
    """Session totals: finished turns plus the one running."""

    DEFAULT_CSS = """
    UsageBar { height: 1; padding: 0 1; color: $text-muted; }
    """

    usage: reactive[Usage | None] = reactive(None)
    """None until a turn reports: the event models need not be imported before the first frame."""
    turns: reactive[int] = reactive(0)
    elapsed: reactive[float] = reactive(0.0)
    """Seconds spent running turns in this session, the one running included."""

    def line(self) -> Text:
        u = self.usage
        requests, tokens_in, tokens_out, calls, dollars = (
            (u.requests, u.input_tokens, u.output_tokens, u.tool_calls, u.cost) if u else (0, 0, 0, 0, None)
        )
        turns = plural(self.turns, "turn")
        full = Text.assemble(
            (f"{requests}", "bold"), f" {plural(requests, 'request')} · ",
            (tokens(tokens_in), "bold"), " in · ",
            (tokens(tokens_out), "bold"), " out · ",
            (f"{calls}", "bold"), f" tool {plural(calls, 'call')} · ",
            "cost ", (cost(dollars), "bold"), " · ",
            (f"{self.turns}", "bold"), f" {turns} in ", (duration(self.elapsed), "bold"),
        )  # fmt: skip
        if full.cell_len <= self.content_size.width:
            return full
        # A narrow terminal: the same figures with fewer words, so none is cut off.
        return Text.assemble(
            (f"{requests}", "bold"), " req · ",
            (tokens(tokens_in), "bold"), "↑ ",
            (tokens(tokens_out), "bold"), "↓ · ",
            (f"{calls}", "bold"), f" {plural(calls, 'call')} · ",
            (cost(dollars), "bold"), " · ",
            (f"{self.turns}", "bold"), f" {turns} ", (duration(self.elapsed), "bold"),
        )  # fmt: skip
