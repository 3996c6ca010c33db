"""The top line: which agent, what the run is doing, where in the graph, and for how long."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive

from deep_tui.format import duration, plural
from deep_tui.terminal_text import visible
from deep_tui.widgets.text_line import TextLine

STATUS_STYLES = {
    "idle": "dim",
    "loading": "yellow",
    "running": "bold yellow",
    "completed": "bold green",
    "cancelled": "bold magenta",
    "failed": "bold red",
    "timeout": "bold red",
}
AGENT_KEPT = 12
"""Cells of the agent's name kept, on a narrow line, before the step gives way."""


class StatusBar(TextLine):
    """``deep-tui · agent · status · N subagents running · step N · Node · elapsed``; a narrow line drops the parts
    least needed first: the running subagents' count is shortened once the step has gone, and goes last."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    agent: reactive[str] = reactive("")
    status: reactive[str] = reactive("idle")
    node: reactive[str] = reactive("")
    step: reactive[int] = reactive(0)
    elapsed: reactive[float] = reactive(0.0)
    waiting: reactive[int] = reactive(0)
    """Calls waiting for approval: while there are, the status says so."""
    subagents: reactive[int] = reactive(0)
    """Subagents running: while there are, the line counts them."""

    def line(self) -> Text:
        parts = {"name": Text("deep-tui", "bold magenta"), "agent": Text(visible(self.agent), "bold")}
        if self.waiting and self.status == "running":
            count = f" ({self.waiting})" if self.waiting > 1 else ""
            parts["status"] = Text(f"● waiting for approval{count}", "bold reverse yellow")
        else:
            parts["status"] = Text(f"● {self.status}", STATUS_STYLES.get(self.status, ""))
        if self.subagents:
            parts["subagents"] = Text(f"{self.subagents} {plural(self.subagents, 'subagent')} running", "bold cyan")
        if self.step:
            parts["step"] = Text(f"step {self.step}")
        if self.node:
            parts["node"] = Text(self.node, "cyan")
        if self.status not in ("idle", "loading"):
            parts["elapsed"] = Text(duration(self.elapsed), "dim")
        width = self.content_size.width
        for give_way in ("name", "node", "agent", "step", "subagents", "agent", "subagents"):
            overflow = _line(parts).cell_len - width
            if overflow <= 0:
                break
            if give_way == "subagents" and parts.get("subagents", Text()).plain.endswith(" running"):
                parts["subagents"] = Text(f"{self.subagents} {plural(self.subagents, 'subagent')}", "bold cyan")
            elif give_way == "agent":  # shortened: to a dozen cells, then, once the step went, to what is left
                agent = parts["agent"]
                agent.truncate(
                    max(agent.cell_len - overflow, AGENT_KEPT if "step" in parts else 1), overflow="ellipsis"
                )
            else:
                parts.pop(give_way, None)
        return _line(parts)


def _line(parts: dict[str, Text]) -> Text:
    return Text(" · ").join(parts.values())
