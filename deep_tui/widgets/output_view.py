"""The streamed output: each turn's prompt, the model's thinking, and its markdown answer.

Textual's ``Markdown`` re-parses the last block on every append and slows to a
crawl on long answers (about 40 deltas/s inside one long paragraph), so this is
a line-based view with a cost per update that does not grow with the answer: its
blocks and lines are ``deep_tui.output_lines``'s, finished markdown blocks drawn
once, when they first come into view, and the block still streaming word-wrapped
as plain text until it ends.

Only visible lines are painted; the view follows the end unless the user has
scrolled up, and then a hint in the bottom border says that new output arrived
below. A new turn follows the end again. Blocks drawn above the lines in view, as
the reader scrolls up to them, leave those lines where they are on the screen.

A replay shows the output of the run state at its cursor (``show_blocks``). Moving the
cursor a little changes the last block or two, so the view keeps the blocks the two
states share and starts again from the first that differs; an answer's finished
paragraphs are kept too. A seek draws what comes into view, about a screenful, however
many blocks the state holds; a search (``/``) and ``plain_text`` draw them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Literal

from rich.console import RenderableType
from textual import work
from textual.events import Click
from textual.strip import Strip

from deep_tui.output_lines import DrawingKey, OutputLines, wrapped_of
from deep_tui.terminal_text import visible
from deep_tui.widgets.line_view import LineView

if TYPE_CHECKING:
    from deep_tui.state import OutputBlock

UNSEEN_HINT = "new output below ↓ (End)"
"""The bottom border while output arrived below a reader who scrolled up; a click on it or End goes there."""
NEWLINES = re.compile(r"\n*")
MESSAGE_NOTE = re.compile(r"↳ you \((steer|follow-up)\): ")
"""How the run state's fold notes a delivered message (``deep_tui.state``): drawn as ``add_message`` draws it."""
TEXT_KINDS = ("answer", "thinking")


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
        self._out = OutputLines(self._render_lines, self._content_width, self.text_changed, self._draw_later)
        self._drawing: set[DrawingKey] = set()
        """Big code blocks being drawn in a thread."""
        self._width = 0
        self._fresh = False
        """Whether output arrived since the last ``settle``, as opposed to a re-wrap after a resize."""
        self._anchoring = False
        """While the view scrolls to keep the lines in view in place."""
        self._deferred = False
        """While ``show_blocks`` adds blocks: what comes into view is drawn once, at the end."""
        self._shown: list[OutputBlock] = []
        """The run state's blocks ``show_blocks`` drew last, and where each one's blocks start in ``_out.blocks``."""
        self._shown_at: list[int] = []
        self._shown_live = False
        """Whether the last of them was left streaming."""
        self._drawn: tuple[int, object, int, bool] = (0, None, 0, False)
        """The blocks as ``show_blocks`` left them, to tell whether an ``add_*`` came since."""

    # What the app calls -------------------------------------------------------------

    def add_prompt(self, prompt: str, turn: int) -> None:
        """Start a turn: its prompt (the start of it, if it is long) above where its answer will stream.

        The view follows the end from here, even if the reader had scrolled up in an earlier turn."""
        self.follow_end()
        self._out.add_prompt(prompt, turn)
        self._changed()

    def add_message(self, text: str, kind: Literal["steer", "follow_up"]) -> None:
        """A message the user sent into the running turn, at the point where the model read it."""
        self._out.add_message(text, kind.replace("_", "-"))
        self._changed()

    def add_text(self, text: str, kind: Literal["answer", "thinking"] = "answer") -> None:
        """Append streamed text; thinking and answer text go to separate blocks."""
        self._out.add_text(visible(text), kind)
        self._changed()

    def add_error(self, message: str) -> None:
        """Show an error where the answer would be."""
        self._out.add_error(message)
        self._changed()

    def add_note(self, message: str) -> None:
        """A dim line, such as "cancelled", under the turn."""
        self._out.add_note(message)
        self._changed()

    def end_turn(self) -> None:
        """Render whatever is still streaming as markdown."""
        self._changed(fresh=self._out.finish())

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
        lines_before = self._out.lines
        self._deferred = True
        try:
            self._reset_to(new, old, same, new_live)
        finally:
            self._deferred = False
        self._changed(fresh=self._out.lines > lines_before)
        self._shown, self._shown_live = new, new_live
        last = self._out.blocks[-1] if self._out.blocks else None
        self._drawn = (len(self._out.blocks), last, len(last.source) if last else 0, last is not None and last.live)

    @property
    def plain_text(self) -> str:
        """Everything shown, as text (for copying and for tests): every block drawn."""
        if self._out.draw_all():
            self._update_size()
        return "\n".join(self.line_text(line).rstrip() for line in range(self._out.lines))

    def answer_text(self) -> str:
        """The last turn's answer, as its markdown source."""
        answers: list[str] = []
        for block in reversed(self._out.blocks):
            if block.kind == "prompt":
                break
            if block.kind == "answer":
                answers.append(block.source)
        return "".join(reversed(answers)).strip()

    # A run state's blocks ----------------------------------------------------------------

    def _still_drawn(self) -> bool:
        """Whether the blocks are as ``show_blocks`` left them: no ``add_*`` since."""
        count, block, size, live = self._drawn
        blocks = self._out.blocks
        last = blocks[-1] if blocks else None
        return (
            count == len(blocks)
            and block is last
            and (last is None or (size == len(last.source) and live == last.live))
        )

    def _reset_to(self, new: list[OutputBlock], old: list[OutputBlock], same: int, new_live: bool) -> None:
        """Drop the blocks of ``old`` from ``same`` on (keeping what an answer that goes on keeps), and add those
        of ``new``."""
        if not old:
            self._out.truncate(0)
        elif same < len(old) and same < len(new) and _continues(old[same], new[same]):
            self._resume(same, new[same], live=new_live and same == len(new) - 1)
            same += 1
        else:
            self._out.truncate(self._shown_at[same] if same < len(old) else len(self._out.blocks))
        del self._shown_at[same:]
        for index in range(same, len(new)):
            self._shown_at.append(len(self._out.blocks))
            self._add(new[index], live=new_live and index == len(new) - 1)
        if any(block.kind == "prompt" for block in islice(new, len(old), None)):
            self.follow_end()  # a new turn, as ``add_prompt`` does

    def _add(self, block: OutputBlock, *, live: bool) -> None:
        """Add ``block`` as ``add_*`` would have."""
        out = self._out
        if block.kind in TEXT_KINDS:
            out.finish()
            out.start(block.kind)  # type: ignore[arg-type]
            out.stream(visible(block.text).lstrip("\n"))
            self._end_text(live)
        elif block.kind == "prompt":
            out.add_prompt(block.text, block.turn)
        elif block.kind == "error":
            out.add_error(block.text)
        elif message := MESSAGE_NOTE.match(block.text):
            out.add_message(block.text[message.end() :], message.group(1))
        else:
            out.add_note(block.text)

    def _resume(self, index: int, block: OutputBlock, *, live: bool) -> None:
        """Redraw text block ``index`` as ``block``, the same kind of text of the same turn: keep the paragraphs
        that start it still, and go on streaming into its last one if it streamed and only grew."""
        blocks = self._out.blocks
        text = visible(block.text).lstrip("\n")
        start = self._shown_at[index]
        end = self._shown_at[index + 1] if index + 1 < len(self._shown_at) else len(blocks)
        keep, at = start, 0
        while keep < end - 1 and text.startswith(blocks[keep].source, at):  # paragraphs, frozen
            at = NEWLINES.match(text, at + len(blocks[keep].source)).end()
            keep += 1
        tail = blocks[keep] if keep < end else None
        rest = text[at:]
        if tail is None or not tail.live or wrapped_of(tail.source, rest) < 0:
            self._out.truncate(keep)
            self._out.start(block.kind)  # type: ignore[arg-type]
        self._out.stream(rest)
        self._end_text(live)

    def _end_text(self, live: bool) -> None:
        if live:
            self._out.publish()
        else:
            self._out.finish()

    # Drawing what is in view ------------------------------------------------------------------

    def _content_width(self) -> int:
        """The width lines are drawn at: measured at each resize (looking it up costs 30 µs)."""
        return self._width or max(self.scrollable_content_region.width or self.size.width or 80, 10)

    def _draw_later(self, key: DrawingKey) -> None:
        """Draw a big code block in a thread: the pane goes on meanwhile, the block shown as plain text."""
        if key not in self._drawing and self.is_attached:
            self._drawing.add(key)
            self._draw_in_thread(key)

    @work(thread=True, group="draw", exit_on_error=False)
    def _draw_in_thread(self, key: DrawingKey) -> None:
        lines: list[Strip] | None = None
        try:
            lines = self._out.drawing(key)
        finally:  # a drawing that failed leaves the block as text, and may be asked for again
            self.app.call_from_thread(self._drawing_done, key, lines)

    def _drawing_done(self, key: DrawingKey, lines: list[Strip] | None) -> None:
        self._drawing.discard(key)
        if lines is not None and self._out.drawn(key, lines):
            self._changed(fresh=False)

    def _render_lines(self, renderable: RenderableType) -> list[Strip]:
        console = self.app.console
        options = console.options.update_width(self._content_width())
        return [Strip(line) for line in console.render_lines(renderable, options, pad=False)]

    def _changed(self, *, fresh: bool = True) -> None:
        """The blocks changed: draw what comes into view, and size the view to them (after ``show_blocks``, if
        it is under way)."""
        if self._deferred:
            return
        self._fresh = self._fresh or fresh
        self._update_size()
        self.refresh()

    def _update_size(self) -> None:
        self._draw_in_view(self.scroll_offset.y)
        self.set_line_count(self._out.lines, self._content_width())

    def _draw_in_view(self, top: int, *, scrolled_up: bool = False) -> int:
        """Draw the blocks in view with ``top`` the first line shown (the last screenful when the view follows
        the end); where ``top`` has to be. A reader who scrolled up (but not to the start) sees blocks drawn
        above the lines that were in view, and those lines stay where they were on the screen."""
        height = self.scrollable_content_region.height
        out, index = self._out, self._out.index
        if self._following():
            need, block = height, len(out.blocks) - 1
            while need > 0 and block >= 0:
                out.draw(block)
                need -= index.height(block)
                block -= 1
            return max(index.lines - height, 0)
        while top < index.lines:
            first, _ = index.locate(top)
            shown = [first]
            while shown[-1] + 1 < len(out.blocks) and index.start(shown[-1] + 1) < top + height:
                shown.append(shown[-1] + 1)
            drawn = (block for block in shown if out.blocks[block].lines is not None)
            anchor = next(drawn, None) if scrolled_up and top > 0 else None
            anchored_at = index.start(anchor) if anchor is not None else 0
            if not any([out.draw(block) for block in shown]):
                break
            if anchor is not None:
                top = max(top + index.start(anchor) - anchored_at, 0)
        return top

    def _following(self) -> bool:
        """Whether the view shows its end after the changes of this batch."""
        return self._follow_after if self._pending_size is not None else self._at_end

    # Scrolling and the hint -----------------------------------------------------------------

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
        lines = self._out.lines
        top = self._draw_in_view(round(new_value), scrolled_up=new_value < old_value)
        if self._out.lines != lines:
            self._anchoring = True
            try:
                self.set_line_count(self._out.lines, self._content_width())
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
            self._out.rewrap()
        self._changed(fresh=False)

    # Lines ---------------------------------------------------------------------------------

    def searchable_lines(self) -> int:
        """A search reads every line: every block is drawn first."""
        if self._out.draw_all():
            self._update_size()
        return self._out.lines

    def _line(self, index: int) -> Strip | str | None:
        """Line ``index``; its block drawn if it was not (painted before the batch settled), the view resized."""
        lines = self._out.lines
        line = self._out.line(index)
        if self._out.lines != lines:
            self.set_line_count(self._out.lines, self._content_width())
        return line

    def line_key(self, index: int) -> object | None:
        line = self._line(index)
        if isinstance(line, str):
            return line, self._out.blocks[-1].kind  # equal text in the same style paints the same
        return id(line) if line is not None else None

    def paint_line(self, index: int) -> Strip:
        line = self._line(index)
        assert line is not None
        if isinstance(line, str):
            assert self._out.wrap is not None
            return self._out.wrap.strip(line)
        return line

    def line_text(self, index: int) -> str:
        line = self._line(index)
        if isinstance(line, str):
            return line
        return line.text if line is not None else ""
