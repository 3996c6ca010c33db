"""Every key: those that work everywhere, then those of the pane that has the focus.

Read from the live bindings when the screen opens, so it cannot drift from what the
keys do, and it lists the keys a narrow footer has no room for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from deep_tui.widgets.key_bar import KeyBar

EVERYWHERE = "Everywhere"
SCREEN = "screen"


@dataclass
class KeyRow:
    """One action and every key that does it."""

    keys: list[str]
    what: str
    why: str = ""


@dataclass
class KeySection:
    """The keys of one place: the focused pane, or the whole app."""

    title: str
    rows: list[KeyRow] = field(default_factory=list)


def key_sections(screen: Screen, pane: str | None) -> list[KeySection]:
    """The keys active on ``screen``: first the app's (the ones a narrow footer hides), then those of its
    focused widget, titled ``pane``.

    Keys the focused widget takes for itself (``?`` in the prompt, which types it) are left out, as Textual does.
    """
    app = screen.app
    sections: dict[str, KeySection] = {}
    rows: dict[tuple[int, str], KeyRow] = {}
    for node, binding, _enabled, tooltip in screen.active_bindings.values():
        what = binding.description or tooltip
        if binding.system or not what:
            continue
        title = EVERYWHERE if node is app else SCREEN if node is screen else pane or type(node).__name__
        section = sections.setdefault(title, KeySection(title))
        row = rows.get((id(node), binding.action))
        if row is None:
            row = rows[id(node), binding.action] = KeyRow([], what, tooltip if tooltip != what else "")
            section.rows.append(row)
        key = app.get_key_display(binding)
        if key not in row.keys:
            row.keys.append(key)
    everywhere = sections.pop(EVERYWHERE, KeySection(EVERYWHERE))
    everywhere.rows += sections.pop(SCREEN, KeySection(SCREEN)).rows  # Tab and the like, after the app's own
    return [everywhere, *sections.values()]


class Help(ModalScreen[None]):
    """The keys of the app and of the focused pane; Escape closes it."""

    AUTO_FOCUS = "VerticalScroll"

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, sections: list[KeySection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(Text("Keys", style="bold"), id="help-title")
            with VerticalScroll():
                for section in self.sections:
                    yield Static(_table(section), classes="help-section")
        yield KeyBar()


def _table(section: KeySection) -> Table:
    table = Table(title=section.title, title_justify="left", title_style="bold underline", box=None, expand=True)
    table.show_header = False
    table.add_column("key", style="bold", no_wrap=True, min_width=12)
    table.add_column("does", ratio=1)
    for row in section.rows:
        what = Text(row.what)
        if row.why:
            what.append(f"  {row.why}", style="dim")
        table.add_row(Text(" ".join(row.keys)), what)
    return table
