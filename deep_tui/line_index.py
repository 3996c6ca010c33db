"""Where each block of a pane begins, in lines, while the blocks' heights change.

The output pane draws a block only when it comes into view, and counts the others by an
estimate of their height until then: drawing one corrects its height and moves every
block after it. Keeping each block's first line in a list, recomputed from the first
block whose height changed only when a line is next looked up, makes a correction cost
nothing until then and a lookup a bisection; a pane of a thousand paragraphs
recomputes them in a fraction of a millisecond.
"""

from __future__ import annotations

from bisect import bisect_right


class LineIndex:
    """The heights of a sequence of blocks, and the line each one starts at."""

    __slots__ = ("_heights", "_starts")

    def __init__(self) -> None:
        self._heights: list[int] = []
        self._starts: list[int] = []
        """The first line of each block, up to the first block whose height changed since."""

    def __len__(self) -> int:
        return len(self._heights)

    def append(self, height: int) -> None:
        self._heights.append(height)

    def height(self, block: int) -> int:
        return self._heights[block]

    def set_height(self, block: int, height: int) -> None:
        if self._heights[block] != height:
            self._heights[block] = height
            del self._starts[block + 1 :]

    def truncate(self, blocks: int) -> None:
        """Keep the first ``blocks`` blocks."""
        del self._heights[blocks:], self._starts[blocks:]

    def start(self, block: int) -> int:
        """The first line of ``block`` (``len(self)`` for the line after the last block)."""
        starts, heights = self._starts, self._heights
        if len(starts) <= block:
            line = starts[-1] + heights[len(starts) - 1] if starts else 0
            for height in heights[len(starts) : block]:
                starts.append(line)
                line += height
            if block < len(heights):
                starts.append(line)
            return line
        return starts[block]

    @property
    def lines(self) -> int:
        """The lines of all the blocks."""
        return self.start(len(self._heights))

    def locate(self, line: int) -> tuple[int, int]:
        """The block that holds ``line`` (0 ≤ line < ``lines``), and the line's place in it."""
        self.start(len(self._heights) - 1)
        block = bisect_right(self._starts, line) - 1  # of blocks starting at one line, the last is not empty
        return block, line - self._starts[block]
