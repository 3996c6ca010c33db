"""The prompt: Textual's ``Input``, without laying out the whole screen for every key typed into it.

``Input`` keeps its text's width as its virtual size, and Textual lays out the whole screen whenever a widget's
virtual size changes. In the dashboard that is 7-10 ms a key, and up to 70 ms while a run fills the panes: of
the 352 layouts in a run of 3,000 tool calls with a key typed every 50 ms, 337 were the prompt's. The prompt's
box does not depend on its text (its height is its style's, its width the row's share), so its virtual size
only bounds how far it scrolls, which it reads when the cursor moves.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class Prompt(Input):
    """A one-line input whose text never moves the widgets around it."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))
    """Textual's, without ``layout=True``: repainted, not laid out."""
