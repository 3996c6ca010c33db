"""The streamed output: each turn's prompt, the model's thinking, and its markdown answer.

Textual's ``Markdown`` re-parses the last block on every append and slows to a
crawl on long answers (about 40 deltas/s inside one long paragraph), so this is
a line-based view with a cost per update that does not grow with the answer:

- finished markdown blocks (text up to a blank line outside a code fence) are
  rendered with Rich when they first come into view, and kept as lines; until
  then a block counts for an estimate of its height, corrected when it is drawn;
- the block still streaming is word-wrapped incrementally as plain text, only
  its last visual line being redrawn (``deep_tui.live_wrap``), and is rendered
  as markdown once it ends.

Only visible lines are painted; the view follows the end unless the user has
scrolled up, and then a hint in the bottom border says that new output arrived
below. A new turn follows the end again. A block drawn above the lines in view (as
the reader scrolls up to it) leaves those lines where they are on the screen.

A replay shows the output of the run state at its cursor (``show_blocks``). Moving the
cursor a little changes the last block or two, so the view keeps the blocks the two
states share and starts again from the first that differs; an answer's finished
paragraphs are kept too. Paragraphs are frozen one by one, so how the text was cut into
pieces does not change what is drawn: a replayed state looks as it did live. A seek
draws what comes into view, about a screenful, however many blocks the state holds;
a search (``/``) and ``plain_text`` draw them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Literal

from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.events import Click
from textual.strip import Strip

from deep_tui.format import size
from deep_tui.line_index import LineIndex
from deep_tui.live_wrap import LiveWrap
from deep_tui.markdown_blocks import markdown
from deep_tui.terminal_text import visible
from deep_tui.widgets.line_view import LineView

if TYPE_CHECKING:
    from deep_tui.state import OutputBlock

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
NEWLINES = re.compile(r"\n*")
MESSAGE_NOTE = re.compile(r"↳ you \((steer|follow-up)\): ")
"""How the run state's fold notes a delivered message (``deep_tui.state``): drawn as ``add_message`` draws it."""
TEXT_KINDS = ("answer", "thinking")
SPARE_WRAPS = 4
"""Wraps of long paragraphs kept, once they stop streaming, for a seek back into them."""
RENDER_CACHE = 128
"""Answer paragraphs whose drawing is kept, about ten screens' worth: a seek back and forth to a place draws
it once. Not more: every line drawn is ten objects that each full garbage collection walks."""


@dataclass
class _Block:
    """A run of text of one kind; ``lines`` is its rendering at the view's width, once it came into view."""

    kind: BlockKind
    source: str = ""
    lines: list[Strip] | None = None
    """None until it is drawn; the block still streaming is drawn by the view's ``LiveWrap`` instead."""
    live: bool = True
    label: Text | None = None
    """How a prompt, error or note block is drawn (answers and thinking draw their source)."""
    cut: bool = False
    """An answer's paragraph that more of the answer follows."""


def _prompt_label(prompt: str, turn: int) -> Text:
    label = Text.assemble(
        (f" turn {turn} ", "reverse"), " ", ("> ", "bold cyan"), (visible(prompt[:PROMPT_SHOWN]), "bold")
    )
    if len(prompt) > PROMPT_SHOWN:
        label.append(f"… ({size(len(prompt))} in all)", style="dim")
    return label


def _message_label(text: str, kind: str) -> Text:
    label = Text.assemble(("↳ you ", "bold cyan"), (f"({kind}): ", "cyan"), (visible(text[:PROMPT_SHOWN]), "bold"))
    if len(text) > PROMPT_SHOWN:
        label.append(f"… ({size(len(text))} in all)", style="dim")
    return label


def _covered(wrapped: str, text: str) -> int:
    """How much of ``text`` a wrap of ``wrapped`` has wrapped: all of ``wrapped`` if it begins ``text``, about all
    of ``text`` if ``text`` begins it, and -1 if neither begins the other."""
    if text.startswith(wrapped):
        return len(wrapped)
    return len(text) if wrapped.startswith(text) else -1


def _continues(before: OutputBlock, after: OutputBlock) -> bool:
    """Whether ``after`` may be ``before`` grown or cut short: text of the same kind and turn."""
    return before.kind == after.kind and before.kind in TEXT_KINDS and before.turn == after.turn


class OutputView(LineView, can_focus=True):
    """The transcript of the session: prompts, thinking, answers and errors, streamed."""

    DEFAULT_CSS = """
    OutputView { background: $surface; scrollbar-gutter: stable; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._blocks: list[_Block] = []
        self._index = LineIndex()
        """Each block's height (an estimate until it is drawn) and first line."""
        self._wrap: LiveWrap | None = None
        """How the last block, while it streams, is drawn."""
        self._tail: list[str] = []
        """The streaming block's last, unfinished line, as drawn."""
        self._scan = 0
        """Where in the streaming block's source the next unscanned line starts."""
        self._fenced = False
        self._width = 0
        self._fresh = False
        """Whether output arrived since the last ``settle``, as opposed to a re-wrap after a resize."""
        self._anchoring = False
        """While the view scrolls to keep the lines in view in place."""
        self._deferred = False
        """While ``show_blocks`` adds blocks: what comes into view is drawn once, at the end."""
        self._shown: list[OutputBlock] = []
        """The run state's blocks ``show_blocks`` drew last, and where each one's blocks start in ``_blocks``."""
        self._shown_at: list[int] = []
        self._shown_live = False
        """Whether the last of them was left streaming."""
        self._drawings: LRUCache[tuple[str, bool, int], list[Strip]] = LRUCache(RENDER_CACHE)
        """Answer paragraphs drawn, by source, ``cut`` and width."""
        self._spares: list[tuple[str, LiveWrap]] = []
        """The wraps of the last long blocks that stopped streaming, each with the text it wrapped, latest first."""
        self._drawn: tuple[int, _Block | None, int, bool] = (0, None, 0, False)
        """``_blocks`` as ``show_blocks`` left it, to tell whether an ``add_*`` came since."""

    # What the app calls -------------------------------------------------------------

    def add_prompt(self, prompt: str, turn: int) -> None:
        """Start a turn: its prompt (the start of it, if it is long) above where its answer will stream.

        The view follows the end from here, even if the reader had scrolled up in an earlier turn."""
        self.follow_end()
        self._add_fixed("prompt", prompt, _prompt_label(prompt, turn))

    def add_message(self, text: str, kind: Literal["steer", "follow_up"]) -> None:
        """A message the user sent into the running turn, at the point where the model read it."""
        self._add_fixed("message", text, _message_label(text, kind.replace("_", "-")))

    def add_text(self, text: str, kind: Literal["answer", "thinking"] = "answer") -> None:
        """Append streamed text; thinking and answer text go to separate blocks."""
        block = self._blocks[-1] if self._blocks else None
        if block is None or not block.live or block.kind != kind:
            self._finish_live()
            self._start_live(kind)
        self._feed(visible(text))
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

    def show_blocks(self, blocks: Sequence[OutputBlock], *, streaming: bool = False) -> None:
        """Show exactly ``blocks`` (a run state's ``output``), as if each had been added with ``add_*``.

        ``streaming`` says that text is still streaming into the last block, as it is while the state's
        turn runs (pass ``state.running``): an answer's last paragraph is then drawn as it streams, not yet
        as markdown. The blocks this view shows already, the same objects or equal ones, are kept; an answer
        that grew or shrank keeps its paragraphs that did not change.
        """
        new = list(blocks)
        drawn = self._still_drawn()
        old = self._shown if drawn else []
        new_live = streaming and bool(new) and new[-1].kind in TEXT_KINDS
        same = 0
        for before, after in zip(old, new, strict=False):
            if before is not after and before != after:
                break
            same += 1
        if same and (self._shown_live and same == len(old)) != (new_live and same == len(new)):
            same -= 1  # the same text, but streaming in one and finished in the other
        if drawn and same == len(old) == len(new):
            return
        lines_before, fresh_before = self._index.lines, self._fresh
        self._deferred = True
        try:
            self._reset_to(new, old, same, new_live)
        finally:
            self._deferred = False
        self._update_size()
        self.refresh()
        self._fresh = fresh_before or self._index.lines > lines_before
        self._shown, self._shown_live = new, new_live
        last = self._blocks[-1] if self._blocks else None
        self._drawn = (len(self._blocks), last, len(last.source) if last else 0, last is not None and last.live)

    def _reset_to(self, new: list[OutputBlock], old: list[OutputBlock], same: int, new_live: bool) -> None:
        """Drop the blocks of ``old`` from ``same`` on (keeping what an answer that goes on keeps), and add those
        of ``new``."""
        if not old:
            self._truncate(0)
        elif same < len(old) and same < len(new) and _continues(old[same], new[same]):
            self._resume(same, new[same], live=new_live and same == len(new) - 1)
            same += 1
        else:
            self._truncate(self._shown_at[same] if same < len(old) else len(self._blocks))
        del self._shown_at[same:]
        for index in range(same, len(new)):
            self._shown_at.append(len(self._blocks))
            self._draw(new[index], live=new_live and index == len(new) - 1)
        if any(block.kind == "prompt" for block in islice(new, len(old), None)):
            self.follow_end()  # a new turn, as ``add_prompt`` does

    @property
    def plain_text(self) -> str:
        """Everything shown, as text (for copying and for tests): every block drawn."""
        self._draw_all()
        return "\n".join(self.line_text(line).rstrip() for line in range(self._index.lines))

    def answer_text(self) -> str:
        """The last turn's answer, as its markdown source."""
        answers: list[str] = []
        for block in reversed(self._blocks):
            if block.kind == "prompt":
                break
            if block.kind == "answer":
                answers.append(block.source)
        return "".join(reversed(answers)).strip()

    # A run state's blocks ----------------------------------------------------------------

    def _still_drawn(self) -> bool:
        """Whether ``_blocks`` are as ``show_blocks`` left them: no ``add_*`` since."""
        count, block, size, live = self._drawn
        last = self._blocks[-1] if self._blocks else None
        return (
            count == len(self._blocks)
            and block is last
            and (last is None or (size == len(last.source) and live == last.live))
        )

    def _draw(self, block: OutputBlock, *, live: bool) -> None:
        """Add ``block`` as ``add_*`` would have."""
        if block.kind in TEXT_KINDS:
            self._finish_live()
            self._start_live(block.kind)
            self._stream(visible(block.text).lstrip("\n"))
            self._end_text(live)
        elif block.kind == "prompt":
            self._add_fixed("prompt", block.text, _prompt_label(block.text, block.turn))
        elif block.kind == "error":
            self.add_error(block.text)
        elif message := MESSAGE_NOTE.match(block.text):
            text = block.text[message.end() :]
            self._add_fixed("message", text, _message_label(text, message.group(1)))
        else:
            self.add_note(block.text)

    def _resume(self, index: int, block: OutputBlock, *, live: bool) -> None:
        """Redraw text block ``index`` as ``block``, the same kind of text of the same turn: keep the paragraphs
        that start it still, and go on streaming into its last one if it streamed and only grew."""
        text = visible(block.text).lstrip("\n")
        start = self._shown_at[index]
        end = self._shown_at[index + 1] if index + 1 < len(self._shown_at) else len(self._blocks)
        keep, at = start, 0
        while keep < end - 1 and text.startswith(self._blocks[keep].source, at):  # paragraphs, frozen
            at = NEWLINES.match(text, at + len(self._blocks[keep].source)).end()
            keep += 1
        tail = self._blocks[keep] if keep < end else None
        rest = text[at:]
        if tail is None or not tail.live or _covered(tail.source, rest) < 0:
            self._truncate(keep)
            self._start_live(block.kind)  # type: ignore[arg-type]
        self._stream(rest)
        self._end_text(live)

    def _stream(self, text: str) -> None:
        """Make the streaming last block hold ``text``, which begins its source or which its source begins: from
        whichever wrap has wrapped the most of it already, its own or one kept, rather than from the start."""
        block, wrap = self._blocks[-1], self._wrap
        assert wrap is not None
        own = len(block.source) if text.startswith(block.source) else -1  # else its own wrap goes back
        best, most = None, own
        for source, spare in self._spares:
            if spare.same_as(wrap) and (covered := _covered(source, text)) > most:
                best, most = spare, covered
        if best is None and own >= 0:
            self._feed(text[own:])
            return
        self._keep_wrap(block.source, wrap)
        self._rewind(best or wrap, text)

    def _rewind(self, wrap: LiveWrap, text: str) -> None:
        """Stream ``text`` into the last block from a copy of ``wrap``, which wrapped a text that ``text`` begins
        (or the other way round): from its last mark within ``text`` on, rather than from the start."""
        block = self._blocks[-1]
        self._wrap = wrap = wrap.copy()
        taken = wrap.cut(len(text))
        block.source, self._scan, self._fenced = text[:taken], 0, False
        if block.kind == "answer":
            self._next_boundary(block.source)  # there is no paragraph's end there: for the fences, and the scan
        self._feed(text[taken:])

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

    def _end_text(self, live: bool) -> None:
        if live:
            self._publish()
        else:
            self._finish_live()

    def _truncate(self, index: int) -> None:
        """Drop the blocks from ``index`` on (none streams but the last)."""
        if index < len(self._blocks):
            self.text_changed(self._index.start(index))
            del self._blocks[index:]
            self._index.truncate(index)
        self._wrap, self._tail, self._fenced = None, [], False

    # Blocks ------------------------------------------------------------------------------

    def _append(self, block: _Block) -> None:
        self._blocks.append(block)
        self._index.append(self._estimate(block))

    def _start_live(self, kind: BlockKind) -> None:
        self._append(_Block(kind))
        self._wrap = LiveWrap(self._content_width(), STYLES[kind])
        self._tail = []
        self._scan = 0

    def _feed(self, text: str) -> None:
        """Stream ``text`` into the last block; an answer's paragraphs (up to a blank line outside a code fence)
        are frozen one by one as they end, whatever pieces the text came in, and drawn as markdown once they
        come into view."""
        block = self._blocks[-1]
        assert self._wrap is not None
        if not block.source:  # the gap to the block above is the view's to draw
            text = text.lstrip("\n")
        block.source += text
        if block.kind != "answer" or (cut := self._next_boundary(block.source)) is None:
            self._wrap.feed(text)
            return
        source, start = block.source, 0
        self.text_changed(self._index.start(len(self._blocks) - 1))
        self._keep_wrap(source[:cut], self._wrap)
        while cut is not None:
            block.source, block.live, block.cut = source[start:cut], False, True
            self._index.set_height(len(self._blocks) - 1, self._estimate(block))
            start = self._scan = NEWLINES.match(source, cut).end()  # blank lines between paragraphs are gaps
            block = _Block("answer")
            self._append(block)
            cut = self._next_boundary(source)
        block.source = source[start:]
        self._scan -= start
        self._wrap = LiveWrap(self._content_width(), STYLES["answer"])
        self._wrap.feed(block.source)
        self._tail = []

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

    def _finish_live(self) -> None:
        if not self._blocks or not self._blocks[-1].live:
            return
        block, last = self._blocks[-1], len(self._blocks) - 1
        block.live = False
        self._keep_wrap(block.source, self._wrap)
        self._wrap, self._tail = None, []
        self._fenced = False
        self.text_changed(self._index.start(last))
        if not block.source.strip():
            self._blocks.pop()
            self._index.truncate(last)
            self._update_size()
            return
        self._index.set_height(last, self._estimate(block))
        self._publish()

    def _add_fixed(self, kind: BlockKind, source: str, label: Text) -> None:
        self._finish_live()
        self._append(_Block(kind, source, live=False, label=label))
        self._publish()

    def _publish(self) -> None:
        """The last block changed (it streamed, or it was added): its lines are taken again."""
        last = len(self._blocks) - 1
        block = self._blocks[last]
        if block.live and self._wrap is not None:
            self.text_changed(self._index.start(last))
            self._tail = self._wrap.tail()
            self._index.set_height(last, len(self._wrap.done) + len(self._tail))
        self._fresh = True
        self._update_size()
        self.refresh()

    # Drawing ------------------------------------------------------------------------------

    def _content_width(self) -> int:
        """The width lines are drawn at: measured at each resize (looking it up costs 30 µs)."""
        return self._width or max(self.scrollable_content_region.width or self.size.width or 80, 10)

    def _estimate(self, block: _Block) -> int:
        """The lines ``block`` should take once drawn, without drawing it: its text's lines, each at least one,
        folded at the width, and the empty line under it."""
        if block.live:
            return 0
        text = block.label.plain if block.label is not None else block.source.strip("\n")
        width = self._content_width()
        return sum((len(line) + width - 1) // width or 1 for line in text.split("\n")) + 1

    def _draw_block(self, index: int) -> bool:
        """Draw block ``index`` if it is not yet; whether it was not."""
        block = self._blocks[index]
        if block.lines is not None or block.live:
            return False
        block.lines = self._render(block)
        self.text_changed(self._index.start(index))
        self._index.set_height(index, len(block.lines))
        return True

    def _draw_all(self) -> None:
        if any([self._draw_block(index) for index in range(len(self._blocks))]):
            self._update_size()

    def _draw_in_view(self, top: int, *, scrolled_up: bool = False) -> int:
        """Draw the blocks in view with ``top`` the first line shown (the last screenful when the view follows
        the end); where ``top`` has to be. A reader who scrolled up (but not to the start) sees blocks drawn
        above the lines that were in view, and those lines stay where they were on the screen."""
        height = self.scrollable_content_region.height
        index = self._index
        if self._following():
            need, block = height, len(self._blocks) - 1
            while need > 0 and block >= 0:
                self._draw_block(block)
                need -= index.height(block)
                block -= 1
            return max(index.lines - height, 0)
        while top < index.lines:
            first, _ = index.locate(top)
            shown = [first]
            while shown[-1] + 1 < len(self._blocks) and index.start(shown[-1] + 1) < top + height:
                shown.append(shown[-1] + 1)
            drawn = (block for block in shown if self._blocks[block].lines is not None)
            anchor = next(drawn, None) if scrolled_up and top > 0 else None
            anchored_at = index.start(anchor) if anchor is not None else 0
            if not any([self._draw_block(block) for block in shown]):
                break
            if anchor is not None:
                top = max(top + index.start(anchor) - anchored_at, 0)
        return top

    def _following(self) -> bool:
        """Whether the view shows its end after the changes of this batch."""
        return self._follow_after if self._pending_size is not None else self._at_end

    def _render(self, block: _Block) -> list[Strip]:
        if block.kind == "answer":
            key = (block.source, block.cut, self._content_width())
            if (lines := self._drawings.get(key)) is None:
                lines = self._drawings[key] = self._render_block(block)
            return lines
        return self._render_block(block)

    def _render_block(self, block: _Block) -> list[Strip]:
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

    def _render_lines(self, renderable: RenderableType) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(self._content_width())
        return [Strip(line) for line in console.render_lines(renderable, options, pad=False)]

    def _update_size(self) -> None:
        """Draw what comes into view, and size the view to every block's lines."""
        if not self._deferred:
            self._draw_in_view(self.scroll_offset.y)
        self.set_line_count(self._index.lines, self._content_width())

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
        if self._anchoring or self._pending_size is not None:
            return  # the batch under way draws what is in view once it settles
        lines = self._index.lines
        top = self._draw_in_view(round(new_value), scrolled_up=new_value < old_value)
        if self._index.lines != lines:
            self._anchoring = True
            try:
                self.set_line_count(self._index.lines, self._content_width())
                self.settle()
                if top != round(new_value):
                    self.scroll_to(y=top, animate=False, immediate=True)
            finally:
                self._anchoring = False

    def _show_unseen(self, unseen: bool) -> None:
        if unseen != self.has_class("-unseen"):
            self.set_class(unseen, "-unseen")
            self.set_border_note("unseen", UNSEEN_HINT if unseen else "")

    def on_click(self, event: Click) -> None:
        if self.has_class("-unseen") and event.y == self.outer_size.height - 1:
            self.scroll_end(animate=False)

    def on_resize(self) -> None:
        """At a new width every block is drawn again as it comes into view; a streaming one is wrapped again."""
        width = max(self.scrollable_content_region.width or self.size.width or 80, 10)
        if width != self._width:
            self._width = width
            self._spares = []
            self.text_changed(0)
            for index, block in enumerate(self._blocks):
                block.lines = None
                self._index.set_height(index, self._estimate(block))
            if self._blocks and self._blocks[-1].live:
                self._wrap = LiveWrap(width, STYLES[self._blocks[-1].kind])
                self._wrap.feed(self._blocks[-1].source)
                self._publish()
        self._update_size()
        self.refresh()

    # Lines ---------------------------------------------------------------------------------

    def searchable_lines(self) -> int:
        """A search reads every line: every block is drawn first."""
        self._draw_all()
        return self._index.lines

    def _line(self, line: int) -> Strip | str | None:
        """Line ``line``: drawn, or as text for the block streaming; its block drawn if it was not (painted
        before the batch settled)."""
        index = self._index
        if not 0 <= line < index.lines:
            return None
        block, at = index.locate(line)
        while self._draw_block(block):
            self.set_line_count(index.lines, self._content_width())
            if line >= index.lines:
                return None
            block, at = index.locate(line)
        drawn = self._blocks[block].lines
        if drawn is not None:
            return drawn[at]
        assert self._wrap is not None  # the block streaming
        done = self._wrap.done
        return done[at] if at < len(done) else self._tail[at - len(done)]

    def line_key(self, index: int) -> object | None:
        line = self._line(index)
        if isinstance(line, str):
            return line, self._blocks[-1].kind  # equal text in the same style paints the same
        return id(line) if line is not None else None

    def paint_line(self, index: int) -> Strip:
        line = self._line(index)
        assert line is not None
        if isinstance(line, str):
            assert self._wrap is not None
            return self._wrap.strip(line)
        return line

    def line_text(self, index: int) -> str:
        line = self._line(index)
        if isinstance(line, str):
            return line
        return line.text if line is not None else ""
