"""Finding text in a long pane: which of its lines hold a query, kept up to date as lines arrive.

A pane has tens of thousands of lines (10,000 tool calls, a megabyte of output), and
the search runs on every keystroke, so it does no work twice:

- each line's plain text (and its lower-case form) is taken once and kept; a pane
  says which lines it replaced (``changed_from``), lines added at the end are
  noticed by their count, and only those are read again;
- a query that contains the previous one can only match lines that matched
  before, so typing a longer query re-checks those lines alone;
- the matches are a sorted list of line numbers: the count, "3 of 17", the next
  and the previous match are a bisection away.

A match is a line holding the query; the pane highlights each occurrence on the
lines it paints. Smart case: the query matches regardless of case unless it
holds a capital letter.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip


class LineSearch:
    """The lines of one pane that hold the query, and which of them is the current match."""

    def __init__(self, line_count: Callable[[], int], line_text: Callable[[int], str]) -> None:
        self._line_count = line_count
        self._line_text = line_text
        self._texts: list[str] = []
        self._folded: list[str] = []
        """The lower-case form of each text, for queries without a capital."""
        self._read = 0
        """Lines of ``_texts`` still true to the pane; the rest are read again on the next sync."""
        self._scanned = 0
        """Lines ``matches`` accounts for."""
        self.query = ""
        self.matches: list[int] = []
        """The numbers of the lines that hold the query, in order."""
        self.current: int | None = None
        """The line of the current match."""
        self._pattern: re.Pattern[str] | None = None

    @property
    def case_sensitive(self) -> bool:
        return self.query != self.query.lower()

    def changed_from(self, line: int) -> None:
        """Lines from ``line`` on may show other text now (replaced, inserted or removed)."""
        self._read = min(self._read, line)
        self._scanned = min(self._scanned, line)

    def sync(self) -> bool:
        """Catch up with the pane's lines; whether the matches changed."""
        count = self._line_count()
        read = min(self._read, count, len(self._texts))
        if read < len(self._texts) or read < count:
            del self._texts[read:], self._folded[read:]
            new = [self._line_text(line) for line in range(read, count)]
            self._texts.extend(new)
            self._folded.extend(text.lower() for text in new)
            self._read = count
        if not self.query:
            self._scanned = count
            return False
        start = min(self._scanned, count)
        cut = bisect_left(self.matches, start)
        if start == count and cut == len(self.matches):
            return False
        del self.matches[cut:]
        self.matches.extend(self._scan(range(start, count)))
        self._scanned = count
        if self.current is not None and not self.is_match(self.current):
            self.current = self.next_after(self.current, inclusive=True, wrap=False)
        return True

    def set_query(self, query: str) -> None:
        """Search for ``query`` (empty: no search); the current match is left to the caller."""
        query = "".join(char for char in query if char.isprintable())
        previous = self.query
        self.sync()
        narrowing = bool(previous) and previous in self._fold(query, previous)
        self.query, self.current = query, None
        if not query:
            self._pattern = None
            self.matches = []
            return
        self._pattern = re.compile(re.escape(query), 0 if self.case_sensitive else re.IGNORECASE)
        self.matches = self._scan(self.matches if narrowing else range(len(self._texts)))
        self._scanned = len(self._texts)

    @staticmethod
    def _fold(query: str, previous: str) -> str:
        """``query`` as the previous (case-insensitive, so lower-case) query's matches were found."""
        return query.lower() if previous == previous.lower() else query

    def _scan(self, lines: Iterable[int]) -> list[int]:
        if self.case_sensitive:
            texts, query = self._texts, self.query
        else:
            texts, query = self._folded, self.query.lower()
        return [line for line in lines if query in texts[line]]

    # Moving between matches ----------------------------------------------------------------

    def is_match(self, line: int) -> bool:
        at = bisect_left(self.matches, line)
        return at < len(self.matches) and self.matches[at] == line

    def next_after(self, line: int, *, inclusive: bool = False, wrap: bool = True) -> int | None:
        """The first match after ``line`` (or at it), wrapping to the first match."""
        at = (bisect_left if inclusive else bisect_right)(self.matches, line)
        if at < len(self.matches):
            return self.matches[at]
        return self.matches[0] if wrap and self.matches else None

    def previous_before(self, line: int) -> int | None:
        """The last match before ``line``, wrapping to the last match."""
        at = bisect_left(self.matches, line)
        if at > 0:
            return self.matches[at - 1]
        return self.matches[-1] if self.matches else None

    def position(self) -> int:
        """The current match's place among the matches, from 1; 0 without one."""
        if self.current is None or not self.is_match(self.current):
            return 0
        return bisect_left(self.matches, self.current) + 1

    def summary(self) -> str:
        """The count, as "3/17", or "no match"."""
        if not self.matches:
            return "no match"
        return f"{self.position() or '–'}/{len(self.matches)}"

    # Painting --------------------------------------------------------------------------------

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where the query occurs in ``text``, as character offsets."""
        if self._pattern is None:
            return []
        return [match.span() for match in self._pattern.finditer(text)]


def highlight(strip: Strip, spans: list[tuple[int, int]], style: Style) -> Strip:
    """``strip`` with ``style`` laid over the characters in ``spans`` (character offsets, in order)."""
    if not spans:
        return strip
    segments: list[Segment] = []
    offset = 0
    spans_left = iter(spans)
    span = next(spans_left, None)
    for segment in strip:
        text, seg_style, control = segment
        end = offset + len(text)
        if control or span is None or span[0] >= end:
            segments.append(segment)
            offset = end
            continue
        at = offset
        while span is not None and span[0] < end:
            start, stop = max(span[0], at), min(span[1], end)
            if start > at:
                segments.append(Segment(text[at - offset : start - offset], seg_style))
            segments.append(Segment(text[start - offset : stop - offset], (seg_style or Style()) + style))
            at = stop
            if span[1] <= end:
                span = next(spans_left, None)
            else:
                break
        if at < end:
            segments.append(Segment(text[at - offset :], seg_style))
        offset = end
    return Strip(segments, strip.cell_length)
