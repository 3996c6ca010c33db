"""The base of the one-line bars (status, usage, timeline, keys): a Rich ``Text`` painted straight into the line.

Textual's own path from ``render()`` to the screen (a visual, content, wrapping, a strip per line) costs about
1 ms for a line of fifty cells; a replay playing at "max" repaints three such bars on every frame, and a frame
of playback that paints for longer than one of Textual's frames makes the next paint, and the key pressed
meanwhile, wait two of them. Here the line is the text's segments, cropped or padded to the width: a tenth of
that.
"""

from __future__ import annotations

from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from deep_tui.strips import fit


class TextLine(Widget):
    """A widget one line high whose line is ``line()``: no wrapping, cut at the width."""

    DEFAULT_CSS = """
    TextLine { height: 1; }
    """

    def line(self) -> Text:
        """The line, laid out for ``content_size.width`` cells."""
        raise NotImplementedError

    def render_line(self, y: int) -> Strip:
        width, style = self.content_size.width, self.rich_style
        if y:
            return Strip.blank(width, style)
        text = self.line()
        return fit(Strip(text.render(self.app.console), text.cell_len), 0, width, None).apply_style(style)
