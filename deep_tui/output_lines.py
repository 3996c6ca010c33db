"""The output pane's blocks and their lines: text streamed into them, and each block drawn when first shown.

- An answer's finished paragraphs (text up to a blank line outside a code fence) are frozen
  one by one as they end, whatever pieces the text came in, so that a replayed state looks
  as it did live; each is drawn as markdown with Rich when it is first asked for, and kept.
  Until then a block counts for an estimate of its height (``LineIndex``), corrected when
  it is drawn: a pane of a thousand paragraphs draws the screenful in view, not all of them.
- The block still streaming is word-wrapped incrementally as plain text (``LiveWrap``): only
  its last line changes as text comes. A long one's wrap is kept when it stops streaming, so
  that going back into it (a replay's seek) starts from the wrap that has wrapped the most of
  it rather than from its start.

The view (``widgets.output_view``) says what to show and which lines it paints; this module
says what each line is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rich.console import RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.strip import Strip

from deep_tui.format import size
from deep_tui.line_index import LineIndex
from deep_tui.live_wrap import LiveWrap
from deep_tui.markdown_blocks import FENCE, markdown
from deep_tui.terminal_text import visible

BlockKind = Literal["prompt", "message", "thinking", "answer", "error", "note"]

STYLES: dict[BlockKind, Style] = {
    "prompt": Style(bold=True, color="cyan"),
    "message": Style(color="cyan"),
    "thinking": Style(dim=True, italic=True),
    "answer": Style(),
    "error": Style(color="red", bold=True),
    "note": Style(dim=True),
}
DrawingKey = tuple[str, bool, int]
"""An answer block's drawing: its source, whether more of the answer follows it (``cut``), and the width."""
PROMPT_SHOWN = 2000
"""Characters of a prompt shown above its answer; a pasted megabyte should not fill the pane."""
NEWLINES = re.compile(r"\n*")
SPARE_WRAPS = 4
"""Wraps of long paragraphs kept, once they stop streaming, for a seek back into them."""
BIG_CODE = 200
"""Lines of a fenced code block beyond which it is drawn off the event loop (``draw_later``): Rich highlights and
draws code at about 0.3 ms a line (300 lines 112 ms, 2,100 lines 690 ms), a freeze of the dashboard when the fence
closed. Until that drawing is ready the block shows its text as plain lines."""
RENDER_CACHE = 128
"""Answer paragraphs whose drawing is kept, about ten screens' worth: a seek back and forth to a place draws
it once. Not more: every line drawn is ten objects that each full garbage collection walks."""


@dataclass(slots=True)
class Block:
    """A run of text of one kind; ``lines`` is its rendering at the view's width, once it was asked for."""

    kind: BlockKind
    source: str = ""
    lines: list[Strip] | None = None
    """None until it is drawn; the block still streaming is drawn by the ``LiveWrap`` instead."""
    live: bool = True
    label: Text | None = None
    """How a prompt, error or note block is drawn (answers and thinking draw their source)."""
    cut: bool = False
    """An answer's paragraph that more of the answer follows."""


class OutputLines:
    """The blocks of the output, the line each starts at, and each line, drawn when asked for."""

    def __init__(
        self,
        render: Callable[[RenderableType], list[Strip]],
        width: Callable[[], int],
        changed: Callable[[int], object],
        draw_later: Callable[[DrawingKey], object] | None = None,
    ) -> None:
        """``render`` draws a renderable at the view's ``width``; ``changed`` is told the first line whose text
        changed (for a search to read them again); ``draw_later``, if given, is asked to draw a big code block off
        the event loop (``drawing``) and hand it back (``drawn``)."""
        self._render_lines = render
        self._width = width
        self._changed = changed
        self._draw_later = draw_later
        self.blocks: list[Block] = []
        self.index = LineIndex()
        """Each block's height (an estimate until it is drawn) and first line."""
        self.wrap: LiveWrap | None = None
        """How the last block, while it streams, is drawn."""
        self._tail: list[str] = []
        """The streaming block's last, unfinished line."""
        self._scan = 0
        """Where in the streaming block's source the next unscanned line starts."""
        self._fenced = False
        self._drawings: LRUCache[DrawingKey, list[Strip]] = LRUCache(RENDER_CACHE)
        """Answer paragraphs drawn, by source, ``cut`` and width."""
        self._spares: list[tuple[str, LiveWrap]] = []
        """The wraps of the last long blocks that stopped streaming, each with the text it wrapped, latest first."""

    @property
    def lines(self) -> int:
        return self.index.lines

    # Adding -------------------------------------------------------------------------------

    def add_prompt(self, prompt: str, turn: int) -> None:
        label = Text.assemble(
            (f" turn {turn} ", "reverse"), " ", ("> ", "bold cyan"), (visible(prompt[:PROMPT_SHOWN]), "bold")
        )
        if len(prompt) > PROMPT_SHOWN:
            label.append(f"… ({size(len(prompt))} in all)", style="dim")
        self._add_fixed("prompt", prompt, label)

    def add_message(self, text: str, kind: str) -> None:
        """A message the user sent (``kind``: "steer" or "follow-up")."""
        label = Text.assemble(("↳ you ", "bold cyan"), (f"({kind}): ", "cyan"), (visible(text[:PROMPT_SHOWN]), "bold"))
        if len(text) > PROMPT_SHOWN:
            label.append(f"… ({size(len(text))} in all)", style="dim")
        self._add_fixed("message", text, label)

    def add_error(self, message: str) -> None:
        message = visible(message)
        self._add_fixed("error", message, Text(f"✗ {message}", style=STYLES["error"]))

    def add_note(self, message: str) -> None:
        message = visible(message)
        self._add_fixed("note", message, Text(message, style=STYLES["note"]))

    def add_text(self, text: str, kind: Literal["answer", "thinking"]) -> None:
        """Stream ``text`` (made visible already) into the last block, or a new one if that is not ``kind``'s."""
        block = self.blocks[-1] if self.blocks else None
        if block is None or not block.live or block.kind != kind:
            self.finish()
            self.start(kind)
        self.feed(text)
        self.publish()

    def _add_fixed(self, kind: BlockKind, source: str, label: Text) -> None:
        self.finish()
        self._append(Block(kind, source, live=False, label=label))

    def _append(self, block: Block) -> None:
        self.blocks.append(block)
        self.index.append(self.estimate(block))

    # Streaming ----------------------------------------------------------------------------

    def start(self, kind: BlockKind) -> None:
        """A new block for text of ``kind`` to stream into."""
        self._append(Block(kind))
        self.wrap = LiveWrap(self._width(), STYLES[kind])
        self._tail = []
        self._scan = 0

    def feed(self, text: str) -> None:
        """Stream ``text`` into the last block; an answer's paragraphs are frozen as they end."""
        block = self.blocks[-1]
        assert self.wrap is not None
        if not block.source:  # the gap to the block above is the view's to draw
            text = text.lstrip("\n")
        block.source += text
        if block.kind != "answer" or (cut := self._next_boundary(block.source)) is None:
            self.wrap.feed(text)
            return
        source, start = block.source, 0
        self._changed(self.index.start(len(self.blocks) - 1))
        self._keep_wrap(source[:cut], self.wrap)
        while cut is not None:
            block.source, block.live, block.cut = source[start:cut], False, True
            self.index.set_height(len(self.blocks) - 1, self.estimate(block))
            start = self._scan = NEWLINES.match(source, cut).end()  # blank lines between paragraphs are gaps
            block = Block("answer")
            self._append(block)
            cut = self._next_boundary(source)
        block.source = source[start:]
        self._scan -= start
        self.wrap = LiveWrap(self._width(), STYLES["answer"])
        self.wrap.feed(block.source)
        self._tail = []

    def stream(self, text: str) -> None:
        """Make the streaming last block hold ``text``, which begins its source or which its source begins: from
        whichever wrap has wrapped the most of it already, its own or one kept, rather than from the start."""
        block, wrap = self.blocks[-1], self.wrap
        assert wrap is not None
        own = len(block.source) if text.startswith(block.source) else -1  # else its own wrap goes back
        best, most = None, own
        for source, spare in self._spares:
            if spare.same_as(wrap) and (covered := wrapped_of(source, text)) > most:
                best, most = spare, covered
        if best is None and own >= 0:
            self.feed(text[own:])
            return
        self._keep_wrap(block.source, wrap)
        self._rewind(best or wrap, text)

    def publish(self) -> None:
        """The streaming block's lines, after it took text."""
        last = len(self.blocks) - 1
        if last >= 0 and self.blocks[last].live and self.wrap is not None:
            self._changed(self.index.start(last))
            self._tail = self.wrap.tail()
            self.index.set_height(last, len(self.wrap.done) + len(self._tail))

    def finish(self) -> bool:
        """End the streaming block, to be drawn as markdown (or dropped, if it holds nothing); whether one was
        ended and kept."""
        if not self.blocks or not self.blocks[-1].live:
            return False
        block, last = self.blocks[-1], len(self.blocks) - 1
        block.live = False
        self._keep_wrap(block.source, self.wrap)
        self.wrap, self._tail = None, []
        self._fenced = False
        self._changed(self.index.start(last))
        if not block.source.strip():
            self.blocks.pop()
            self.index.truncate(last)
            return False
        self.index.set_height(last, self.estimate(block))
        return True

    def truncate(self, index: int) -> None:
        """Drop the blocks from ``index`` on (none streams but the last)."""
        if index < len(self.blocks):
            self._changed(self.index.start(index))
            del self.blocks[index:]
            self.index.truncate(index)
        self.wrap, self._tail, self._fenced = None, [], False

    def _rewind(self, wrap: LiveWrap, text: str) -> None:
        """Stream ``text`` into the last block from a copy of ``wrap``, which wrapped a text that ``text`` begins
        (or the other way round): from its last mark within ``text`` on, rather than from the start."""
        block = self.blocks[-1]
        self.wrap = wrap = wrap.copy()
        taken = wrap.cut(len(text))
        block.source, self._scan, self._fenced = text[:taken], 0, False
        if block.kind == "answer":
            self._next_boundary(block.source)  # there is no paragraph's end there: for the fences, and the scan
        self.feed(text[taken:])

    def _keep_wrap(self, source: str, wrap: LiveWrap | None) -> None:
        """Keep the wrap of a block that stops streaming (or is cut back), if long, for a seek back into it:
        re-wrapping a long paragraph costs about a millisecond per kilobyte. A wrap of a text that another
        kept one begins (or the other way round) keeps the longer of the two."""
        if wrap is None or len(wrap.marks) <= 1:
            return
        source, spares = source[: wrap.fed], self._spares
        if any(kept.startswith(source) and other.same_as(wrap) for kept, other in spares):
            return
        kept = [(s, w) for s, w in spares if w is not wrap and not (source.startswith(s) and w.same_as(wrap))]
        self._spares = [(source, wrap), *kept[: SPARE_WRAPS - 1]]

    def _next_boundary(self, source: str) -> int | None:
        """The end of the next blank line outside a code fence among the lines completed so far."""
        while (newline := source.find("\n", self._scan)) >= 0:
            line = source[self._scan : newline]
            self._scan = newline + 1
            if FENCE.match(line):
                self._fenced = not self._fenced
            elif not self._fenced and not line.strip():
                return newline + 1
        return None

    # Drawing ------------------------------------------------------------------------------

    def estimate(self, block: Block) -> int:
        """The lines ``block`` should take once drawn, without drawing it: its text's lines, each at least one,
        folded at the width, and the empty line under it."""
        if block.live:
            return 0
        text = block.label.plain if block.label is not None else block.source.strip("\n")
        width = self._width()
        return sum((len(line) + width - 1) // width or 1 for line in text.split("\n")) + 1

    def draw(self, index: int) -> bool:
        """Draw block ``index`` if it is not yet; whether it was not."""
        block = self.blocks[index]
        if block.lines is not None or block.live:
            return False
        block.lines = self._render(block)
        self._changed(self.index.start(index))
        self.index.set_height(index, len(block.lines))
        return True

    def draw_all(self) -> bool:
        """Draw every block; whether any was not."""
        return any([self.draw(index) for index in range(len(self.blocks))])

    def line(self, line: int) -> Strip | str | None:
        """Line ``line``: drawn, or as text for the block streaming (``wrap.strip`` draws it); its block drawn if
        it was not, which may move the lines after it."""
        index = self.index
        if not 0 <= line < index.lines:
            return None
        block, at = index.locate(line)
        while self.draw(block):
            if line >= index.lines:
                return None
            block, at = index.locate(line)
        drawn = self.blocks[block].lines
        if drawn is not None:
            return drawn[at]
        assert self.wrap is not None  # the block streaming
        done = self.wrap.done
        return done[at] if at < len(done) else self._tail[at - len(done)]

    def rewrap(self) -> None:
        """At a new width: every block drawn again when asked for, the streaming one wrapped again now."""
        self._spares = []
        self._changed(0)
        for index, block in enumerate(self.blocks):
            block.lines = None
            self.index.set_height(index, self.estimate(block))
        if self.blocks and self.blocks[-1].live:
            self.wrap = LiveWrap(self._width(), STYLES[self.blocks[-1].kind])
            self.wrap.feed(self.blocks[-1].source)
            self.publish()

    def _render(self, block: Block) -> list[Strip]:
        if block.kind == "answer":
            key = (block.source, block.cut, self._width())
            if (lines := self._drawings.get(key)) is None:
                if self._draw_later is not None and _big_code(block.source):
                    self._draw_later(key)
                    return _as_typed(block.source)  # not kept: the drawing replaces it (``drawn``)
                lines = self._drawings[key] = self._render_block(block)
            return lines
        return self._render_block(block)

    def drawing(self, key: DrawingKey) -> list[Strip]:
        """The drawing of the answer block ``key`` names; safe off the event loop (it reads no block)."""
        source, cut, _ = key
        return self._render_block(Block("answer", source, live=False, cut=cut))

    def drawn(self, key: DrawingKey, lines: list[Strip]) -> bool:
        """A drawing made off the event loop: the blocks it is of show it from now on; whether one is shown."""
        source, cut, width = key
        if width != self._width():
            return False  # drawn for a width the view no longer has: it was wrapped again since
        self._drawings[key] = lines
        shown = False
        for index, block in enumerate(self.blocks):
            if block.lines is not None and block.kind == "answer" and block.source == source and block.cut == cut:
                block.lines = None
                self.draw(index)
                shown = True
        return shown

    def _render_block(self, block: Block) -> list[Strip]:
        if block.label is not None:
            renderable: RenderableType = block.label
        elif block.kind == "answer":
            renderable = markdown(block.source.strip("\n"))
        else:
            renderable = Text(block.source.strip(), style=STYLES[block.kind])
        lines = self._render_lines(renderable)
        start = 0
        while start < len(lines) and not lines[start].cell_length:  # Rich opens a list or a table drawn alone so
            start += 1
        # One empty line between blocks, as Rich puts between elements; a code block's last line, blank but
        # painted, ends an answer well enough, but not a paragraph that more of the answer follows.
        if not lines or (lines[-1].cell_length if block.cut else lines[-1].text.strip()):
            lines.append(Strip.blank(0))
        return lines[start:]


def _big_code(source: str) -> bool:
    """Whether ``source`` is a fenced code block of more than ``BIG_CODE`` lines."""
    text = source.strip("\n")
    return FENCE.match(text) is not None and text.count("\n") > BIG_CODE


def _as_typed(source: str) -> list[Strip]:
    """``source``'s lines as they are, not wrapped (the view cuts them at its width), and the line under them:
    a stand-in drawn in a few milliseconds, where Rich takes a hundred to wrap two thousand lines."""
    lines = [Strip([Segment(line.expandtabs(4))]) for line in source.strip("\n").split("\n")]
    return [*lines, Strip.blank(0)]


def wrapped_of(wrapped: str, text: str) -> int:
    """How much of ``text`` a wrap of ``wrapped`` has wrapped: all of ``wrapped`` if it begins ``text``, about all
    of ``text`` if ``text`` begins it, and -1 if neither begins the other."""
    if text.startswith(wrapped):
        return len(wrapped)
    return len(text) if wrapped.startswith(text) else -1
