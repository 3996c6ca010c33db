"""The keys of the screen, on one line at its foot.

Textual's ``Footer`` is a container of one widget per key, rebuilt whenever the screen refreshes its
bindings: on every focus change and every move of the tool log's cursor. In the dashboard that rebuild, with
the layout of the whole screen it causes, took 90 of a focus key's 120 ms (p50), and each replaced key stayed
alive (Textual #6666), so every key cost more than the one before. This bar draws the same keys as one line
of text (a ``TextLine``: Textual's own path from ``render()`` cost 3 ms of each focus key, for one line): a change
repaints one line, and a click or a hover finds its key by column.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.events import Click, Leave, MouseMove
from textual.screen import Screen

from deep_tui.widgets.text_line import TextLine

ELLIPSIS = "…"


@dataclass(frozen=True)
class ShownKey:
    """One key as the bar shows it."""

    key: str
    """What a click presses."""
    display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    group: Binding.Group | None = None


class KeyBar(TextLine):
    """The focused screen's keys with a label each, grouped keys together, the command palette's at the right."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--disabled",
        "key-bar--hover",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: list[ShownKey] = []
        """The keys shown (and those cut off at the right, which the help panel lists)."""
        self.palette: ShownKey | None = None
        self._spans: list[tuple[int, int, ShownKey]] = []
        self._hover: ShownKey | None = None
        self._pending = False

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._update()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        """Bindings are refreshed many times a frame (each cursor move): read them once, after the frame."""
        if screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._update)

    def _update(self) -> None:
        self._pending = False
        if not self.is_attached:  # its screen closed before the frame
            return
        keys, palette = self._read()
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def _read(self) -> tuple[list[ShownKey], ShownKey | None]:
        """The screen's active keys, one per action (its first binding), as Textual's footer picks them."""
        app = self.app
        palette_key = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        keys: list[ShownKey] = []
        palette: ShownKey | None = None
        actions: set[str] = set()
        for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items():
            shown = ShownKey(
                key=key,
                display=app.get_key_display(binding),
                description=binding.description,
                action=binding.action,
                enabled=enabled,
                tooltip=tooltip or binding.tooltip or binding.description,
                group=binding.group,
            )
            if key == palette_key:
                palette = shown
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(shown)
        return keys, palette

    @property
    def visible_keys(self) -> list[ShownKey]:
        """The keys of the screen that the last frame drew (the palette's aside), left to right."""
        drawn = dict.fromkeys(shown for _, _, shown in self._spans if shown is not self.palette)
        return list(drawn)

    # Drawing -----------------------------------------------------------------------------------------------

    def line(self) -> Text:
        width = self.content_size.width
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        description_style = self.get_component_rich_style("key-bar--description", partial=True)
        disabled = self.get_component_rich_style("key-bar--disabled", partial=True)
        hover = self.get_component_rich_style("key-bar--hover", partial=True)
        blocks: list[list[tuple[str, Style, ShownKey]]] = []  # cut whole: a key and its label, or a group
        for group, members in groupby(self.keys, key=lambda shown: shown.group):
            grouped = list(members)
            if group is not None and len(grouped) > 1:
                pad = "" if group.compact else " "
                block = [
                    (f"{' ' if index == 0 else pad}{shown.display}", key_style, shown)
                    for index, shown in enumerate(grouped)
                ]
                block.append((f" {group.description} ", description_style, grouped[-1]))
                blocks.append(block)
            else:
                blocks.extend(
                    [(f" {shown.display} ", key_style, shown), (f"{shown.description} ", description_style, shown)]
                    for shown in grouped
                )
        right: list[tuple[str, Style, ShownKey]] = []
        if self.palette is not None:
            palette = self.palette
            right = [
                (f" {palette.display} ", key_style, palette),
                (f"{palette.description} ", description_style, palette),
            ]
        room = width - sum(cell_len(text) for text, _, _ in right)
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for block in blocks:
            if line.cell_len + sum(cell_len(text) for text, _, _ in block) > room:
                if line.cell_len < room:
                    line.append(ELLIPSIS, description_style)
                break
            self._append(line, block, disabled, hover)
        if right and room >= line.cell_len:
            line.append(" " * (room - line.cell_len))
            self._append(line, right, disabled, hover)
        return line

    def _append(self, line: Text, parts: list[tuple[str, Style, ShownKey]], disabled: Style, hover: Style) -> None:
        """Draw a key's parts, each key dimmed when disabled and lit under the mouse; note the columns of each."""
        for text, style, shown in parts:
            start = line.cell_len
            if not shown.enabled:
                style += disabled
            if shown is self._hover:
                style += hover
            line.append(text, style)
            self._spans.append((start, line.cell_len, shown))

    # The mouse ---------------------------------------------------------------------------------------------

    def _at(self, x: int) -> ShownKey | None:
        return next((shown for start, end, shown in self._spans if start <= x < end), None)

    def on_click(self, event: Click) -> None:
        shown = self._at(event.x)
        if shown is None:
            return
        if shown.enabled:
            self.app.simulate_key(shown.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: MouseMove) -> None:
        shown = self._at(event.x)
        if shown is not self._hover:
            self._hover = shown
            self.tooltip = shown.tooltip if shown is not None else None
            self.refresh()

    def on_leave(self, event: Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()
