"""A file of the agent's workspace: its content, syntax-highlighted, and what its last change did."""

from __future__ import annotations

import difflib
import posixpath
from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from deep_tui.format import size
from deep_tui.terminal_text import visible

VIEW_LIMIT = 256 * 1024
"""Bytes of a file shown; the rest is one keystroke away in a real editor, not here."""


def _text(data: bytes) -> str | None:
    """The start of a file as a terminal may show it, or None for binary content."""
    try:
        return visible(data[:VIEW_LIMIT].decode("utf-8"))
    except UnicodeDecodeError:
        return None


class FileViewer(ModalScreen[None]):
    """Content and last-change tabs for one file; Escape closes it."""

    AUTO_FOCUS = "VerticalScroll"  # arrows and PgUp/PgDn scroll the content at once

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("c", "show_tab('content')", "Content"),
        Binding("d", "show_tab('diff')", "Last change"),
    ]

    def __init__(self, path: str, content: bytes, previous: bytes | None) -> None:
        super().__init__()
        self.path = path
        self.content = content
        self.previous = previous

    def compose(self) -> ComposeResult:
        with Vertical(id="viewer"):
            yield Static(self._title(), id="viewer-title")
            with TabbedContent(initial="content"):
                with TabPane("Content", id="content"), VerticalScroll():
                    yield Static(self._content(), id="viewer-content")
                with TabPane("Last change", id="diff"), VerticalScroll():
                    yield Static(self._diff(), id="viewer-diff")
        yield Footer()

    def _title(self) -> Text:
        state = "new file" if self.previous is None else "changed"
        return Text.assemble((visible(self.path), "bold"), f"  {size(len(self.content))} · {state}")

    def _content(self) -> Syntax | Text:
        text = _text(self.content)
        if text is None:
            return Text(f"Binary file, {size(len(self.content))}: not shown.", style="dim")
        lexer = Syntax.guess_lexer(posixpath.basename(self.path), text)
        syntax = Syntax(text, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark")
        if len(self.content) > VIEW_LIMIT:
            return Text.assemble(syntax.highlight(text), (f"\n… first {size(VIEW_LIMIT)} shown", "dim"))
        return syntax

    def _diff(self) -> Syntax | Text:
        before = b"" if self.previous is None else self.previous
        old, new = _text(before), _text(self.content)
        if old is None or new is None:
            return Text("Binary content: no line diff.", style="dim")
        lines = list(
            difflib.unified_diff(
                old.splitlines(),
                new.splitlines(),
                fromfile=f"a{visible(self.path)}" if self.previous is not None else "/dev/null",
                tofile=f"b{visible(self.path)}",
                lineterm="",
            )
        )
        if not lines:
            return Text("The last write left the content unchanged.", style="dim")
        return Syntax("\n".join(lines), "diff", theme="ansi_dark", word_wrap=False)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
