"""The top line: which agent, what the run is doing, where in the graph, and for how long."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from deep_tui.format import duration
from deep_tui.terminal_text import visible

STATUS_STYLES = {
    "idle": "dim",
    "loading": "yellow",
    "running": "bold yellow",
    "completed": "bold green",
    "cancelled": "bold magenta",
    "failed": "bold red",
    "timeout": "bold red",
}


class StatusBar(Widget):
    """``deep-tui · agent · status · step N · Node · elapsed``."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    agent: reactive[str] = reactive("")
    status: reactive[str] = reactive("idle")
    node: reactive[str] = reactive("")
    step: reactive[int] = reactive(0)
    elapsed: reactive[float] = reactive(0.0)

    def render(self) -> Text:
        text = Text.assemble(("deep-tui", "bold magenta"), " · ", (visible(self.agent), "bold"), " · ")
        text.append(f"● {self.status}", style=STATUS_STYLES.get(self.status, ""))
        if self.step:
            text.append(f" · step {self.step}")
        if self.node:
            text.append(f" · {self.node}", style="cyan")
        if self.status not in ("idle", "loading"):
            text.append(f" · {duration(self.elapsed)}", style="dim")
        return text
