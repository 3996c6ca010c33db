"""One tool call in full: its arguments, its result and, for a tool that raised, its traceback."""

from __future__ import annotations

import json
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from deep_tui.format import duration, size
from deep_tui.terminal_text import visible
from deep_tui.widgets.key_bar import KeyBar
from deep_tui.widgets.tool_call_log import ToolCallRecord

RESULT_LIMIT = 256 * 1024
"""Characters of a result shown; a 10 MB result must not freeze the screen."""


class ToolDetail(ModalScreen[None]):
    """Arguments as JSON, then the result; Escape closes it."""

    AUTO_FOCUS = "VerticalScroll"  # arrows and PgUp/PgDn scroll the content at once

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, record: ToolCallRecord, result: str | None) -> None:
        super().__init__()
        self.record = record
        self.result = result

    def compose(self) -> ComposeResult:
        record = self.record
        seconds = f" · {duration(record.duration)}" if record.duration is not None else ""
        call_id = visible(record.call_id)
        with Vertical(id="detail"):
            yield Static(
                Text.assemble(
                    (record.tool, "bold"),
                    f"  {record.status}{seconds}"
                    + (f" · started {record.clock}" if record.clock else "")
                    + f" · id {call_id}",
                ),
                id="detail-title",
            )
            with VerticalScroll():
                yield Static(Text("Arguments", style="bold underline"))
                yield Static(
                    Syntax(
                        visible(json.dumps(record.args, indent=2, ensure_ascii=False, default=str)),
                        "json",
                        theme="ansi_dark",
                        word_wrap=True,
                    )
                )
                yield Static(Text(f"\nResult ({size(record.size)})", style="bold underline"))
                yield Static(self._result(), id="detail-result")
                if record.traceback:
                    yield Static(Text("\nTraceback", style="bold underline"))
                    yield Static(Text(visible(record.traceback), style="dim"), id="detail-traceback")
        yield KeyBar()

    def _result(self) -> Text:
        if self.record.status == "running":
            return Text("Still running…", style="italic yellow")
        text = self.result if self.result is not None else self.record.preview
        shown = text[:RESULT_LIMIT]
        result = Text(visible(shown), style="red" if self.record.status in ("failed", "retried") else "")
        if len(text) > len(shown) or self.record.size > len(text):
            result.append(f"\n… {size(len(shown))} of {size(max(self.record.size, len(text)))} shown", style="dim")
        return result
