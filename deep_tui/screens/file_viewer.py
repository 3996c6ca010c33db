"""A file of the agent's workspace: its content, syntax-highlighted, what its last change did, and its history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static, TabbedContent, TabPane

from deep_tui.format import size
from deep_tui.screens.file_history import FileHistory, Reader
from deep_tui.screens.file_text import content_view, diff_view
from deep_tui.terminal_text import visible
from deep_tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from deep_tui.state import FileRecord


class FileViewer(ModalScreen[None]):
    """Content and last-change tabs for one file; ``h`` opens its history when it has one; Escape closes it."""

    AUTO_FOCUS = "VerticalScroll"  # arrows and PgUp/PgDn scroll the content at once

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("c", "show_tab('content')", "Content"),
        Binding("d", "show_tab('diff')", "Last change"),
        Binding("h", "history", "History", tooltip="Every version of the file: open any, diff any two"),
    ]

    def __init__(
        self,
        path: str,
        content: bytes,
        previous: bytes | None,
        *,
        record: FileRecord | None = None,
        read: Reader | None = None,
        calls: Mapping[str, str] | None = None,
    ) -> None:
        """``record`` and ``read`` (a source's ``file``) give the file's history; ``calls`` names each call's tool."""
        super().__init__()
        self.path = path
        self.content = content
        self.previous = previous
        self.record = record
        self.read = read
        self.calls = calls

    def compose(self) -> ComposeResult:
        with Vertical(id="viewer"):
            yield Static(self._title(), id="viewer-title")
            with TabbedContent(initial="content"):
                with TabPane("Content", id="content"), VerticalScroll():
                    yield Static(content_view(self.path, self.content), id="viewer-content")
                with TabPane("Last change", id="diff"), VerticalScroll():
                    yield Static(self._diff(), id="viewer-diff")
        yield KeyBar()

    def _title(self) -> Text:
        state = "new file" if self.previous is None else "changed"
        versions = len(self.record.versions) if self.record is not None else 0
        kept = f" · {versions} versions" if versions > 1 else ""
        return Text.assemble((visible(self.path), "bold"), f"  {size(len(self.content))} · {state}{kept}")

    def _diff(self) -> Syntax | Text:
        path = visible(self.path)
        return diff_view(
            self.previous, self.content, f"a{path}", f"b{path}", same="The last write left the content unchanged."
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "history":
            return self.record is not None and self.read is not None
        return True

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_history(self) -> None:
        if self.record is not None and self.read is not None:
            self.app.push_screen(FileHistory(self.record, self.read, self.calls))
