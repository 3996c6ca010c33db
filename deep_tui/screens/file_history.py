"""Every version of one file: the turn, step and tool call that made each, any one opened, any two diffed.

The versions come from the run state (``FileRecord``, folded from ``files_changed`` events) and
their bytes from a reader (an ``EventSource.file``: the live session or a recording's store),
read only when a version is opened or diffed, so a file written a hundred times costs a hundred
rows, not a hundred reads. A version whose bytes were not kept (a recording older than the
store, a blob that could not be written) is said to be so in one line.

Everything shown is the agent's, paths, tool names and call ids included: it goes through
``visible`` into Rich ``Text``, never into Textual markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from deep_tui.format import size
from deep_tui.screens.file_text import content_view, diff_view
from deep_tui.terminal_text import visible
from deep_tui.widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from deep_tui.state import FileRecord, FileVersion

Reader = Callable[[str, str | None], bytes | None]
"""A file's bytes at a version (``EventSource.file``); None when they are not kept."""

COLUMNS = ("Version", "Turn", "Step", "Made by", "Time", "Size", "Change")
MARK = "●"


class VersionTable(DataTable[Text]):
    """The list of versions; Enter (shown in the footer, which a plain ``DataTable`` hides) opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", tooltip="The highlighted version's content"),
    ]


class FileHistory(ModalScreen[None]):
    """The versions, newest first; Enter opens one, ``d`` diffs it, ``m`` marks one to diff another against.

    Escape goes back one level: from a version or a diff to the list, from the list to where it was opened.
    """

    CSS_PATH = "file_history.tcss"
    AUTO_FOCUS = "#history-versions"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the list, or close the history"),
        Binding("d", "diff", "Diff", tooltip="The highlighted version against the one before it, or the marked one"),
        Binding("m", "mark", "Mark", tooltip="Mark this version: d on another diffs the two"),
    ]

    def __init__(self, record: FileRecord, read: Reader, calls: Mapping[str, str] | None = None) -> None:
        """``calls`` gives the tool of each call by id, to name the tool that made each version."""
        super().__init__()
        self.record = record
        self.read = read
        self.calls: Mapping[str, str] = calls or {}
        self.marked: int | None = None
        """The marked version's index in ``record.versions``."""
        self.showing: tuple[int | None, int] | None = None
        """What is open: (None, n) version n's content, (a, b) the diff from a (None: no file) to b; None: the list."""

    def compose(self) -> ComposeResult:
        with Vertical(id="history"):
            yield Static(self._title(), id="history-title")
            yield VersionTable(id="history-versions", cursor_type="row")
            yield Static(id="history-view-title")
            with VerticalScroll(id="history-view"):
                yield Static(id="history-view-body")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        self._mark_column = table.add_column("", width=1)
        table.add_columns(*COLUMNS)
        for number in reversed(range(len(self.record.versions))):
            table.add_row(*self._row(number), key=str(number))

    @property
    def highlighted(self) -> int:
        """The index in ``record.versions`` of the version under the cursor."""
        return len(self.record.versions) - 1 - self.query_one(DataTable).cursor_row

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("diff", "mark"):
            return self.showing is None
        return True

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_version(len(self.record.versions) - 1 - event.cursor_row)

    def open_version(self, number: int) -> None:
        """Show version ``number``'s content (its index in ``record.versions``)."""
        version = self.record.versions[number]
        if version.change == "deleted":
            body: Syntax | Text = Text(f"v{number + 1} deleted the file.", style="dim")
        elif (data := self._bytes(version)) is None:
            body = self._not_kept(number)
        else:
            body = content_view(self.record.path, data)
        self._show((None, number), self._describe(number), body)

    def action_diff(self) -> None:
        new = self.highlighted
        old = self.marked if self.marked is not None and self.marked != new else new - 1
        self._unmark()
        title = self._describe(old) if old >= 0 else Text("no file", style="bold")
        title.append_text(Text.assemble("\n→ ", self._describe(new)))
        before, after = self._side(old), self._side(new)
        body: Syntax | Text
        if isinstance(before, Text):
            body = before
        elif isinstance(after, Text):
            body = after
        else:
            path = visible(self.record.path)
            body = diff_view(before, after, f"a{path} (v{old + 1})", f"b{path} (v{new + 1})")
        self._show((old if old >= 0 else None, new), title, body)

    def action_mark(self) -> None:
        number = self.highlighted
        previous = self.marked
        self._unmark()
        if previous != number:
            self.marked = number
            self._set_mark(number, MARK)
        self.query_one("#history-title", Static).update(self._title())

    def action_back(self) -> None:
        if self.showing is None:
            self.dismiss()
            return
        self.showing = None
        self.remove_class("-viewing")
        self.query_one(DataTable).focus()
        self.refresh_bindings()

    def _show(self, showing: tuple[int | None, int], title: Text, body: Syntax | Text) -> None:
        self.showing = showing
        self.query_one("#history-view-title", Static).update(title)
        self.query_one("#history-view-body", Static).update(body)
        self.add_class("-viewing")
        view = self.query_one("#history-view", VerticalScroll)
        view.scroll_home(animate=False)
        view.focus()
        self.refresh_bindings()

    def _side(self, number: int) -> bytes | None | Text:
        """One side of a diff: its bytes, None for no file (before v1, or deleted), or why they are unknown."""
        if number < 0:
            return None
        version = self.record.versions[number]
        if version.change == "deleted":
            return None
        data = self._bytes(version)
        return data if data is not None else self._not_kept(number)

    def _bytes(self, version: FileVersion) -> bytes | None:
        if version.version is None:
            return None
        try:
            return self.read(self.record.path, version.version)
        except OSError:  # a store that cannot be read is a version not kept, not a crash
            return None

    def _not_kept(self, number: int) -> Text:
        name = self.record.versions[number].version
        which = f" ({name[:12]}…)" if name else ""
        return Text(f"The content of v{number + 1}{which} was not kept in this session.", style="yellow")

    def _unmark(self) -> None:
        if self.marked is not None:
            self._set_mark(self.marked, "")
            self.marked = None
            self.query_one("#history-title", Static).update(self._title())

    def _set_mark(self, number: int, mark: str) -> None:
        self.query_one(DataTable).update_cell(str(number), self._mark_column, Text(mark, style="bold yellow"))

    def _title(self) -> Text:
        count = len(self.record.versions)
        title = Text.assemble((visible(self.record.path), "bold"), f"  {count} version{'s' if count != 1 else ''}")
        if self.record.deleted:
            title.append(" · deleted", style="red")
        if self.marked is not None:
            title.append(f" · v{self.marked + 1} marked: d on another version diffs the two", style="italic")
        return title

    def _row(self, number: int) -> tuple[Text, ...]:
        version = self.record.versions[number]
        if version.change == "deleted":
            change = Text("deleted", style="red")
        else:
            change = Text.assemble(
                (f"+{version.added}", "green" if version.added else "dim"),
                " ",
                (f"−{version.removed}", "red" if version.removed else "dim"),
            )
        return (
            Text(MARK if number == self.marked else "", style="bold yellow"),
            Text(f"v{number + 1}", style="bold"),
            Text(str(version.turn)),
            Text(str(version.step)),
            self._made_by(version),
            Text(_clock(version.at)),
            Text("" if version.change == "deleted" else size(version.size), justify="right"),
            change,
        )

    def _made_by(self, version: FileVersion) -> Text:
        if version.call_id is None:
            return Text("—", style="dim")
        tool = self.calls.get(version.call_id)
        made_by = Text(visible(tool) + " " if tool else "")
        made_by.append(short_id(visible(version.call_id)), style="dim")
        return made_by

    def _describe(self, number: int) -> Text:
        """One version in a line: its number, then what made it and when."""
        version = self.record.versions[number]
        details = [f"turn {version.turn}", f"step {version.step}"]
        if version.call_id is not None:
            tool = self.calls.get(version.call_id)
            details.append(f"{visible(tool) + ' ' if tool else ''}{short_id(visible(version.call_id))}")
        if version.at is not None:
            details.append(_clock(version.at))
        details.append("deleted" if version.change == "deleted" else size(version.size))
        return Text.assemble((f"v{number + 1}", "bold"), f" ({' · '.join(details)})")


def short_id(call_id: str) -> str:
    """A call id short enough for a column: its end, where ids differ (``call_…``, ``toolu_…`` share a start)."""
    return call_id if len(call_id) <= 12 else "…" + call_id[-10:]


def _clock(at: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at is not None else ""
