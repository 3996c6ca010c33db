"""The output pane's content as a sequence of blocks that only grows at its end, cheap to copy.

A run state (``deep_tui.state``) keeps one for the main agent and one per subagent, and the timeline copies
them every few hundred events: finished blocks are shared by every copy that has them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, overload

BlockKind = Literal["prompt", "answer", "thinking", "error", "note"]


@dataclass(frozen=True, slots=True)
class OutputBlock:
    """One block of the output: a prompt, an answer's or thinking's text, an error or a note."""

    kind: BlockKind
    text: str
    turn: int


class Output(Sequence[OutputBlock]):
    """The output's blocks, append-only: only the last block, while text streams into it, grows.

    Finished blocks are shared, as the same objects, by every copy that has them, so a view
    that moves between two states redraws only the blocks after the last one they share.
    The open block's pieces are shared too, each copy knowing how many are its own: a copy
    costs no text, and the first of two to append after a copy takes its own list then.
    """

    __slots__ = ("_closed", "_count", "_open", "_parts", "_text")

    def __init__(self) -> None:
        self._closed: list[OutputBlock] = []
        self._open: tuple[BlockKind, int] | None = None
        """The kind and turn of the block text is streaming into, if any."""
        self._parts: list[str] = []
        """The open block's pieces; only ever appended to, and possibly shared with copies."""
        self._count = 0
        """How many of ``_parts`` are this output's."""
        self._text: tuple[int, str] = (0, "")
        """The open block's text as last joined, and how many pieces it joined."""

    def add(self, kind: BlockKind, text: str, turn: int) -> None:
        """Append ``text``: to the open block if it is answer or thinking text of the same kind and turn."""
        if self._open == (kind, turn):
            if len(self._parts) != self._count:  # a copy has appended to the pieces we share
                self._parts = self._parts[: self._count]
            self._parts.append(text)
            self._count += 1
            return
        self.close()
        if kind in ("answer", "thinking"):
            self._open, self._parts, self._count, self._text = (kind, turn), [text], 1, (0, "")
        else:
            self._closed.append(OutputBlock(kind, text, turn))

    def close(self) -> None:
        """End the open block: the next text starts a new one."""
        if self._open is not None:
            self._closed.append(OutputBlock(self._open[0], self._open_text(), self._open[1]))
            self._open, self._parts, self._count, self._text = None, [], 0, (0, "")

    def copy(self) -> Output:
        new = Output()
        new._closed = list(self._closed)
        new._open, new._parts, new._count, new._text = self._open, self._parts, self._count, self._text
        return new

    def _open_text(self) -> str:
        if self._text[0] != self._count:
            parts = self._parts if len(self._parts) == self._count else self._parts[: self._count]
            self._text = (self._count, "".join(parts))
        return self._text[1]

    def __len__(self) -> int:
        return len(self._closed) + (self._open is not None)

    @overload
    def __getitem__(self, index: int) -> OutputBlock: ...

    @overload
    def __getitem__(self, index: slice) -> list[OutputBlock]: ...

    def __getitem__(self, index: int | slice) -> OutputBlock | list[OutputBlock]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index == len(self._closed):
            assert self._open is not None
            return OutputBlock(self._open[0], self._open_text(), self._open[1])
        return self._closed[index]

    def __iter__(self) -> Iterator[OutputBlock]:
        yield from self._closed
        if self._open is not None:
            yield self[-1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Output) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Output({list(self)!r})"
