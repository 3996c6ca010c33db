"""Agent text made safe for a terminal: every control character but newline and tab shown, not obeyed.

Rich and Textual pass ESC, C1 controls and most of C0 through to the terminal,
so an agent that writes ``ESC ] 52 ; c ; … BEL`` sets the user's clipboard and
``ESC [ 2 J`` clears the screen. Everything an agent (or a model, a tool, a
file) produced goes through :func:`visible` before it becomes terminal text: C0
controls and DEL become their Unicode control pictures (``␛``, ``␇``, ``␡``), C1
controls their ``\\x9b`` spelling, so the user sees that something was there.
A CRLF line ending is a line ending, not a control: it becomes a newline.

It runs on every streamed delta, so clean text costs one regex search: about
9 ms per MB, ASCII or not, where ``str.translate`` of the same table takes
140 ms as soon as the text is not ASCII; text with a control in every eight
characters takes about 40 ms per MB (``benchmarks/run.py``, "agent text made
terminal-safe", on the 2-core machine of docs/performance.md).
"""

from __future__ import annotations

import logging
import re

KEPT = "\n\t"
"""The only controls text keeps: they lay text out and cannot drive a terminal."""

PICTURES: dict[str, str] = {
    **{chr(code): chr(0x2400 + code) for code in range(0x20) if chr(code) not in KEPT},
    "\x7f": "\u2421",
    **{chr(code): f"\\x{code:02x}" for code in range(0x80, 0xA0)},
}
"""What each control character is shown as."""

CONTROL = re.compile("[" + "".join(re.escape(char) for char in PICTURES) + "]")

C1_IN_JSON = str.maketrans({char: f"\\u{ord(char):04x}" for char in PICTURES if ord(char) >= 0x7F})
"""JSON escapes C0 controls itself but writes DEL and C1 raw; inside a JSON text they can only be in a string,
where ``\\u009b`` reads back as the same character."""


def visible(text: str) -> str:
    """``text`` with each control character but newline and tab replaced by a visible stand-in.

    Clean text, the usual case, costs one regex search and comes back as it is;
    otherwise each distinct control is replaced in one ``str.replace`` pass.
    """
    first = CONTROL.search(text)
    if first is None:
        return text
    found = set(CONTROL.findall(text, first.start()))
    if "\r" in found:
        text = text.replace("\r\n", "\n")
    for char in found:
        text = text.replace(char, PICTURES[char])
    return text


def json_visible(line: str) -> str:
    """A JSON text with DEL and C1 controls escaped too, so that printing it cannot drive a terminal."""
    return line.translate(C1_IN_JSON) if CONTROL.search(line) else line


class VisibleLogs(logging.Filter):
    """Makes a log record's message and traceback terminal-safe: logs quote agent text and go to stderr."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = visible(message)
        if shown != message:
            record.msg, record.args = shown, None
        if record.exc_info and not record.exc_text:
            record.exc_text = visible(logging.Formatter().formatException(record.exc_info))
        return True
