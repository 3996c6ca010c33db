"""The one-line input under a pane that finds text in it (``/``) or filters its rows (``f``).

It belongs to one pane (its ``owner``), which watches what is typed in ``field``
(a watcher runs with the keystroke, so the matches paint in the same frame as
the key; a message would paint a frame later) and writes the count back with
``show_count``; the bar tells the pane, not its own parents, the rest. Escape closes it and hands the focus back; Enter
is the owner's to accept (a bad filter keeps the bar open); leaving it for
another widget closes it and keeps what it found. Closing hides it rather than
removing it: the next ``/`` shows it again without mounting anything. For a pane
shown full screen it is docked above the footer, the only other widget shown.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import DescendantBlur
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Label

Purpose = Literal["search", "filter"]

PROMPTS: dict[Purpose, tuple[str, str]] = {
    "search": ("/", "find text (n/N or ↓/↑: next/previous, Enter keeps it, Escape closes)"),
    "filter": ("filter", "tool:NAME status:failed words (Enter applies, empty shows all, Escape leaves it)"),
}


class SearchBar(Horizontal):
    """A prompt, an input and a count, one line high; hidden while closed, and used again when reopened."""

    DEFAULT_CSS = """
    SearchBar { height: 1; background: $boost; display: none; }
    SearchBar.-open { display: block; }
    SearchBar.-docked { dock: bottom; margin-bottom: 1; }
    SearchBar > #search-prompt { width: auto; padding: 0 1; color: $accent; text-style: bold; }
    SearchBar > Input { width: 1fr; height: 1; border: none; padding: 0; background: $boost; }
    SearchBar > Input:focus { border: none; background-tint: transparent; }
    SearchBar > #search-count { width: 15; padding: 0 1; color: $text-muted; text-align: right; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", tooltip="Close and hand the focus back to the pane"),
        Binding("down", "step(True)", "Next match", show=False),
        Binding("up", "step(False)", "Previous match", show=False),
    ]

    class Submitted(Message):
        """Enter: the owner applies the text and closes the bar, or says what is wrong with it."""

        def __init__(self, purpose: Purpose, value: str) -> None:
            super().__init__()
            self.purpose = purpose
            self.value = value

    class Stepped(Message):
        """↓ or ↑: the next or the previous match."""

        def __init__(self, purpose: Purpose, forward: bool) -> None:
            super().__init__()
            self.purpose = purpose
            self.forward = forward

    class Closed(Message):
        """The bar closed: with Escape (``cancelled``), or because the focus went elsewhere."""

        def __init__(self, purpose: Purpose, cancelled: bool) -> None:
            super().__init__()
            self.purpose = purpose
            self.cancelled = cancelled

    def __init__(self, owner: Widget, *, docked: bool = False) -> None:
        super().__init__(classes="-docked" if docked else None)
        self.owner = owner
        self.purpose: Purpose = "search"

    def on_mount(self) -> None:
        if self.has_class("-docked"):  # above the footer, for a pane shown full screen: it goes when the pane does
            self.watch(self.screen, "maximized", self._check_owner_shown, init=False)

    def _check_owner_shown(self, maximized: Widget | None) -> None:
        if maximized is not self.owner:
            self.action_cancel()

    def compose(self) -> ComposeResult:
        yield Label("", id="search-prompt")
        yield Input(id="search-input", compact=True)
        yield Label("", id="search-count")

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    @property
    def field(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.field.value

    def open(self, purpose: Purpose, value: str = "") -> None:
        """Show the bar for ``purpose``, holding ``value`` (selected, so typing replaces it), and type into it."""
        self.purpose = purpose
        prompt, placeholder = PROMPTS[purpose]
        self.query_one("#search-prompt", Label).update(prompt)
        self.show_count("")
        field = self.field
        field.value = value
        field.placeholder = placeholder
        self.add_class("-open")
        field.focus()

    def show_count(self, text: str, found: bool = True) -> None:
        """What the owner found, such as "3/17" or "no match".

        On every keystroke: a fixed width and no class change, so that it costs no layout of the screen.
        """
        self.query_one("#search-count", Label).update(text if found else f"[$error]{text}[/]", layout=False)

    def close(self) -> None:
        """Hide the bar and give the focus back to its pane."""
        if self.is_open:
            self.remove_class("-open")
            self.owner.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.is_open:
            self.owner.post_message(self.Submitted(self.purpose, event.value))

    def action_step(self, forward: bool) -> None:
        self.owner.post_message(self.Stepped(self.purpose, forward))

    def action_cancel(self) -> None:
        if self.is_open:
            self.owner.post_message(self.Closed(self.purpose, cancelled=True))
            self.close()

    def on_descendant_blur(self, event: DescendantBlur) -> None:
        if self.is_open:
            self.remove_class("-open")
            self.owner.post_message(self.Closed(self.purpose, cancelled=False))
