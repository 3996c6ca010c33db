"""Word wrap for text that streams in: each piece touches only the last line.

The output pane shows the paragraph still streaming as plain text wrapped here, since
rendering it as markdown on every delta would cost as much as the paragraph. A replay that
seeks back into a long paragraph goes back to a mark the wrap left every ``MARK_LINES``
lines, rather than wrapping the paragraph again from its start (about a millisecond per
kilobyte). Lines are kept as text, drawn (``strip``) when painted: a ``Strip`` is ten
objects for the garbage collector to walk, and a long paragraph has a thousand lines.
"""

from __future__ import annotations

import copy
import re
from bisect import bisect_right

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

TOKEN = re.compile(r"\n|[^\S\n]+|\S+")
MARK_LINES = 32
"""Lines between the marks a wrap leaves: going back to a shorter text wraps at most this many again."""


class LiveWrap:
    """Greedy word wrap that takes text in pieces, touching only the last line; it can go back to a shorter
    text from the last of the marks it leaves every ``MARK_LINES`` lines.

    Pieces wrap as the whole text would (a word cut between two pieces is carried to the next line whole),
    so a text wraps alike however it streamed in."""

    def __init__(self, width: int, style: Style) -> None:
        self.width = max(width, 1)
        self.style = style
        self.done: list[str] = []
        """The lines finished, as text."""
        self.line = ""
        self.cells = 0
        self.word_open = False
        self.fed = 0
        """Characters taken so far."""
        self.marks: list[tuple[int, int, str, int, bool]] = [(0, 0, "", 0, False)]
        """``fed``, lines done, ``line``, ``cells`` and ``word_open`` after a token, every ``MARK_LINES`` lines."""

    def feed(self, text: str) -> None:
        start, mark_at = self.fed, self.marks[-1][1] + MARK_LINES
        self.fed += len(text)
        for match in TOKEN.finditer(text):
            self._take(match.group())
            if len(self.done) >= mark_at:
                self.marks.append((start + match.end(), len(self.done), self.line, self.cells, self.word_open))
                mark_at = len(self.done) + MARK_LINES

    def copy(self) -> LiveWrap:
        """A wrap that goes on from here on its own: cutting or feeding either leaves the other as it is."""
        other = copy.copy(self)
        other.done, other.marks = list(self.done), list(self.marks)
        return other

    def same_as(self, other: LiveWrap) -> bool:
        """Whether the two wrap alike: the same width and style."""
        return self.width == other.width and self.style is other.style

    def cut(self, length: int) -> int:
        """Go back to the last mark within the first ``length`` characters; returns how many it has taken,
        for the caller to feed the rest."""
        where = bisect_right(self.marks, length, key=lambda mark: mark[0])
        del self.marks[where:]
        self.fed, lines, self.line, self.cells, self.word_open = self.marks[-1]
        del self.done[lines:]
        return self.fed

    def _take(self, token: str) -> None:
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
            part = take_cells(word, room)
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
        self.done.append(self.line)
        self.line, self.cells = "", 0

    def tail(self) -> list[str]:
        """The unfinished last line, if any."""
        return [self.line] if self.line else []

    def strip(self, line: str) -> Strip:
        """One of the lines, drawn."""
        return Strip([Segment(line, self.style)], cell_len(line))


def take_cells(text: str, cells: int) -> str:
    taken = 0
    for index, char in enumerate(text):
        taken += cell_len(char)
        if taken > cells:
            return text[:index]
    return text
