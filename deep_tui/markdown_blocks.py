"""Where streamed markdown can be cut: the finished blocks render the same whatever text follows.

The headless display prints each finished block as rendered markdown once and
keeps only the block still streaming live. The rule is the output pane's: a
block ends after a blank line outside a fenced code block.
"""

from __future__ import annotations

import re

FENCE = re.compile(r"^\s{0,3}(```|~~~)")
"""A line opening or closing a fenced code block, inside which a blank line does not end a block."""


class MarkdownBlocks:
    """Finds where streamed markdown's finished blocks end: after a blank line outside a code fence.

    A finished block renders the same whatever follows, so it can be printed for good.
    """

    def __init__(self) -> None:
        self.scan = 0
        self.fenced = False

    def cut(self, text: str) -> int:
        """How much of ``text`` is finished blocks (0 for none); ``text`` is what was not cut yet, grown since."""
        end = 0
        while (newline := text.find("\n", self.scan)) >= 0:
            line = text[self.scan : newline]
            if FENCE.match(line):
                self.fenced = not self.fenced
            elif not self.fenced and not line.strip():
                end = newline + 1
            self.scan = newline + 1
        self.scan -= end
        return end

    def reset(self) -> None:
        self.scan, self.fenced = 0, False
