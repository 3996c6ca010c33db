"""The streamed output: each turn's prompt, the model's thinking, and its markdown answer.

Textual's ``Markdown`` re-parses the last block on every append and slows to a
crawl on long answers (about 40 deltas/s inside one long paragraph), so this is
a line-based view with a cost per update that does not grow with the answer:

- finished markdown blocks (text up to a blank line outside a code fence) are
  rendered once with Rich and kept as lines;
- the block still streaming is word-wrapped incrementally as plain text, only
  its last visual line being redrawn, and is rendered as markdown once it ends.

Only visible lines are painted; the view follows the end unless the user has
scrolled up, and then a hint in the bottom border says that new output arrived
below. A new turn follows the end again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from rich.cells import cell_len
from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.events import Click
from textual.strip import Strip

from deep_tui.format import size
from deep_tui.terminal_text import visible
from deep_tui.widgets.line_view import LineView

BlockKind = Literal["prompt", "message", "thinking", "answer", "error", "note"]

STYLES: dict[BlockKind, Style] = {
    "prompt": Style(bold=True, color="cyan"),
    "message": Style(color="cyan"),
    "thinking": Style(dim=True, italic=True),
    "answer": Style(),
    "error": Style(color="red", bold=True),
    "note": Style(dim=True),
}
PROMPT_SHOWN = 2000
"""Characters of a prompt shown above its answer; a pasted megabyte should not fill the pane."""
UNSEEN_HINT = "new output below ↓ (End)"
"""The bottom border while output arrived below a reader who scrolled up; a click on it or End goes there."""
FENCE = re.compile(r"^\s{0,3}(```|~~~)")
TOKEN = re.compile(r"\n|[^\S\n]+|\S+")


@dataclass
class _Block:
    """A run of text of one kind; ``lines`` is its rendering at the view's width."""

    kind: BlockKind
    source: str = ""
    lines: list[Strip] = field(default_factory=list)
    live: bool = True
    label: Text | None = None
    """How a prompt, error or note block is drawn (answers and thinking draw their source)."""


class _LiveWrap:
    """Greedy word wrap that takes text in pieces, touching only the last line."""

    def __init__(self, width: int, style: Style) -> None:
        self.width = max(width, 1)
        self.style = style
        self.done: list[Strip] = []
        self.line = ""
        self.cells = 0
        self.word_open = False

    def feed(self, text: str) -> None:
        for token in TOKEN.findall(text):
            if token == "\n":
                self._commit()
                self.word_open = False
            elif token[0].isspace():
                self.word_open = False
                if self.cells + cell_len(token) <= self.width:
                    self.line += token
                    self.cells += cell_len(token)
                else:
                    self._commit()
            else:
                self._word(token)

    def _word(self, word: str) -> None:
        if self.word_open and self.cells + cell_len(word) > self.width:
            # The word began in an earlier piece: carry its start to the next line.
            cut = max(self.line.rfind(" "), self.line.rfind("\t"))
            if cut >= 0:
                head, word = self.line[: cut + 1], self.line[cut + 1 :] + word
                self.line, self.cells = head, cell_len(head)
                self._commit()
        elif self.cells + cell_len(word) > self.width and self.cells:
            self._commit()
        while cell_len(word) > self.width - self.cells:
            room = self.width - self.cells
            part = _take_cells(word, room)
            if not part:
                self._commit()
                continue
            self.line += part
            self.cells += cell_len(part)
            word = word[len(part) :]
            self._commit()
        self.line += word
        self.cells += cell_len(word)
        self.word_open = True

    def _commit(self) -> None:
        self.done.append(Strip([Segment(self.line, self.style)], self.cells))
        self.line, self.cells = "", 0

    def tail(self) -> list[Strip]:
        return [Strip([Segment(self.line, self.style)], self.cells)] if self.line else []


def _take_cells(text: str, cells: int) -> str:
    taken = 0
    for index, char in enumerate(text):
        taken += cell_len(char)
        if taken > cells:
            return text[:index]
    return text


class OutputView(LineView, can_focus=True):
    """The transcript of the session: prompts, thinking, answers and errors, streamed."""

    DEFAULT_CSS = """
    OutputView { background: $surface; scrollbar-gutter: stable; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._blocks: list[_Block] = []
        self._lines: list[Strip] = []
        self._live_start = 0
        """Index in ``_lines`` where the last block's lines begin."""
        self._wrap: _LiveWrap | None = None
        self._scan = 0
        """Where in the streaming block's source the next unscanned line starts."""
        self._fenced = False
        self._width = 0
        self._fresh = False
        """Whether output arrived since the last ``settle``, as opposed to a re-wrap after a resize."""

    # What the app calls -------------------------------------------------------------

    def add_prompt(self, prompt: str, turn: int) -> None:
        """Start a turn: its prompt (the start of it, if it is long) above where its answer will stream.

        The view follows the end from here, even if the reader had scrolled up in an earlier turn."""
        self.follow_end()
        shown = visible(prompt[:PROMPT_SHOWN])
        label = Text.assemble((f" turn {turn} ", "reverse"), " ", ("> ", "bold cyan"), (shown, "bold"))
        if len(prompt) > PROMPT_SHOWN:
            label.append(f"… ({size(len(prompt))} in all)", style="dim")
        self._add_fixed("prompt", prompt, label)

    def add_message(self, text: str, kind: Literal["steer", "follow_up"]) -> None:
        """A message the user sent into the running turn, at the point where the model read it."""
        label = Text.assemble(
            ("↳ you ", "bold cyan"), (f"({kind.replace('_', '-')}): ", "cyan"), (text[:PROMPT_SHOWN], "bold")
        )
        if len(text) > PROMPT_SHOWN:
            label.append(f"… ({size(len(text))} in all)", style="dim")
        self._add_fixed("message", text, label)

    def add_text(self, text: str, kind: Literal["answer", "thinking"] = "answer") -> None:
        """Append streamed text; thinking and answer text go to separate blocks."""
        text = visible(text)
        block = self._blocks[-1] if self._blocks else None
        if block is None or not block.live or block.kind != kind:
            self._finish_live()
            self._start_live(kind)
        if not self._blocks[-1].source:  # the gap to the block above is the view's to draw
            text = text.lstrip("\n")
        self._feed(text)
        self._publish()

    def add_error(self, message: str) -> None:
        """Show an error where the answer would be."""
        message = visible(message)
        self._add_fixed("error", message, Text(f"✗ {message}", style=STYLES["error"]))

    def add_note(self, message: str) -> None:
        """A dim line, such as "cancelled", under the turn."""
        message = visible(message)
        self._add_fixed("note", message, Text(message, style=STYLES["note"]))

    def end_turn(self) -> None:
        """Render whatever is still streaming as markdown."""
        self._finish_live()

    @property
    def plain_text(self) -> str:
        """Everything shown, as text (for copying and for tests)."""
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def answer_text(self) -> str:
        """The last turn's answer, as its markdown source."""
        answers: list[str] = []
        for block in reversed(self._blocks):
            if block.kind == "prompt":
                break
            if block.kind == "answer":
                answers.append(block.source)
        return "".join(reversed(answers)).strip()

    # Blocks ------------------------------------------------------------------------------

    def _start_live(self, kind: BlockKind, source: str = "") -> None:
        self._blocks.append(_Block(kind))
        self._live_start = len(self._lines)
        self._wrap = _LiveWrap(self._content_width(), STYLES[kind])
        self._scan = 0
        if source:
            self._feed(source)

    def _feed(self, text: str) -> None:
        block = self._blocks[-1]
        assert self._wrap is not None
        block.source += text
        if block.kind == "answer":
            boundary = self._scan_for_boundary(block)
            if boundary is not None:
                self._split(block, boundary)
                return
        self._wrap.feed(text)

    def _scan_for_boundary(self, block: _Block) -> int | None:
        """The end of the last blank line outside a code fence among the lines completed so far."""
        boundary = None
        while (newline := block.source.find("\n", self._scan)) >= 0:
            line = block.source[self._scan : newline]
            if FENCE.match(line):
                self._fenced = not self._fenced
            elif not self._fenced and not line.strip():
                boundary = newline + 1
            self._scan = newline + 1
        return boundary

    def _split(self, block: _Block, boundary: int) -> None:
        """Freeze the finished part of the streaming block as markdown; keep streaming the rest."""
        rest = block.source[boundary:]
        block.source, block.live = block.source[:boundary], False
        block.lines = self._render(block)
        self.text_changed(self._live_start)
        del self._lines[self._live_start :]
        self._lines.extend(block.lines)
        self._live_start = len(self._lines)
        self._blocks.append(_Block("answer", rest))
        self._scan -= boundary
        self._wrap = _LiveWrap(self._content_width(), STYLES["answer"])
        self._wrap.feed(rest)

    def _finish_live(self) -> None:
        if not self._blocks or not self._blocks[-1].live:
            return
        block = self._blocks[-1]
        block.live = False
        self._wrap = None
        self._fenced = False
        if not block.source.strip():
            self._blocks.pop()
            self.text_changed(self._live_start)
            del self._lines[self._live_start :]
            self._update_size()
            return
        block.lines = self._render(block)
        self._publish()

    def _add_fixed(self, kind: BlockKind, source: str, label: Text) -> None:
        self._finish_live()
        block = _Block(kind, source, live=False, label=label)
        block.lines = self._render(block)
        self._blocks.append(block)
        self._live_start = len(self._lines)
        self._publish()

    # Rendering ----------------------------------------------------------------------------

    def _content_width(self) -> int:
        return max(self.scrollable_content_region.width or self.size.width or 80, 10)

    def _render(self, block: _Block) -> list[Strip]:
        if block.label is not None:
            renderable: RenderableType = block.label
        elif block.kind == "answer":
            from rich.markdown import Markdown  # markdown-it is slow to import: not before the first frame

            renderable = Markdown(block.source.strip("\n"), code_theme="ansi_dark")
        else:
            renderable = Text(block.source.strip(), style=STYLES[block.kind])
        lines = self._render_lines(renderable)
        if not lines or lines[-1].text.strip():
            lines.append(Strip.blank(0))  # one blank line between blocks, as Rich puts between elements
        return lines

    def _render_lines(self, renderable: RenderableType) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(self._content_width())
        return [Strip(line) for line in console.render_lines(renderable, options, pad=False)]

    def _publish(self) -> None:
        """Replace the lines of the last block (the only one that changes)."""
        block = self._blocks[-1]
        self.text_changed(self._live_start)
        del self._lines[self._live_start :]
        if block.live and self._wrap is not None:
            self._lines.extend(self._wrap.done)
            self._lines.extend(self._wrap.tail())
        else:
            self._lines.extend(block.lines)
            self._live_start = len(self._lines)
        self._fresh = True
        self._update_size()
        self.refresh()

    # The hint ------------------------------------------------------------------------------

    def settle(self) -> None:
        fresh, self._fresh = self._fresh, False
        following = self._pending_size is None or self._follow_after
        super().settle()
        if fresh and not following:
            self._show_unseen(True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._at_end:
            self._show_unseen(False)

    def _show_unseen(self, unseen: bool) -> None:
        if unseen != self.has_class("-unseen"):
            self.set_class(unseen, "-unseen")
            self.set_border_note("unseen", UNSEEN_HINT if unseen else "")

    def on_click(self, event: Click) -> None:
        if self.has_class("-unseen") and event.y == self.outer_size.height - 1:
            self.scroll_end(animate=False)

    def _update_size(self) -> None:
        self.set_line_count(len(self._lines), self._content_width())

    def on_resize(self) -> None:
        width = self._content_width()
        if width == self._width:
            return
        self._width = width
        self._lines = []
        self.text_changed(0)
        for block in self._blocks:
            self._live_start = len(self._lines)
            if block.live:
                self._wrap = _LiveWrap(width, STYLES[block.kind])
                self._wrap.feed(block.source)
                self._lines.extend(self._wrap.done + self._wrap.tail())
            else:
                block.lines = self._render(block)
                self._lines.extend(block.lines)
                self._live_start = len(self._lines)
        self._update_size()
        self.refresh()

    def line_key(self, index: int) -> object | None:
        return id(self._lines[index]) if index < len(self._lines) else None

    def paint_line(self, index: int) -> Strip:
        return self._lines[index]

    def line_text(self, index: int) -> str:
        return self._lines[index].text
