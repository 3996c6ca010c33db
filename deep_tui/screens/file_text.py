"""A file's bytes as the screens show them: highlighted content, and line diffs between two versions.

Shared by the file viewer and the file history, so a version opened from the history looks
the same as the file opened from the tree. File bytes are the agent's: every character goes
through ``visible`` before Rich sees it, and nothing here is Textual markup.
"""

from __future__ import annotations

import codecs
import difflib
import posixpath

from rich.syntax import Syntax
from rich.text import Text

from deep_tui.format import size
from deep_tui.terminal_text import visible

VIEW_LIMIT = 256 * 1024
"""Bytes of a file shown or diffed; the rest is one keystroke away in a real editor, not here."""


def shown_text(data: bytes) -> str | None:
    """The start of a file as a terminal may show it, or None for binary content.

    A character cut in two at ``VIEW_LIMIT`` is left out rather than taken for binary.
    """
    try:
        return visible(codecs.getincrementaldecoder("utf-8")().decode(data[:VIEW_LIMIT], final=False))
    except UnicodeDecodeError:
        return None


def content_view(path: str, data: bytes) -> Syntax | Text:
    """``data`` highlighted as its file name suggests, with line numbers; binary content is named, not shown."""
    text = shown_text(data)
    if text is None:
        return Text(f"Binary file, {size(len(data))}: not shown.", style="dim")
    lexer = Syntax.guess_lexer(posixpath.basename(path), text)
    syntax = Syntax(text, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark")
    if len(data) > VIEW_LIMIT:
        return Text.assemble(syntax.highlight(text), (f"\n… first {size(VIEW_LIMIT)} shown", "dim"))
    return syntax


def diff_view(
    before: bytes | None,
    after: bytes | None,
    old_name: str,
    new_name: str,
    same: str = "Both versions have the same content.",
) -> Syntax | Text:
    """A unified diff from ``before`` to ``after`` (None: no file), its headers naming them ``old_name`` and
    ``new_name`` (shown as they are: make them visible first); ``same``, dim, when they do not differ."""
    old, new = shown_text(before or b""), shown_text(after or b"")
    if old is None or new is None:
        return Text("Binary content: no line diff.", style="dim")
    lines = list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=old_name if before is not None else "/dev/null",
            tofile=new_name if after is not None else "/dev/null",
            lineterm="",
        )
    )
    if not lines:
        return Text(same, style="dim")
    diff = Syntax("\n".join(lines), "diff", theme="ansi_dark", word_wrap=False)
    if max(len(before or b""), len(after or b"")) > VIEW_LIMIT:
        return Text.assemble(diff.highlight(diff.code), (f"\n… the first {size(VIEW_LIMIT)} of each compared", "dim"))
    return diff
