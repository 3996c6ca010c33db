"""Keep secrets out of what deep-tui shows and saves.

Providers sometimes echo the key they were sent in an error message; agents
read environment variables. Any environment variable whose name says it holds a
secret is masked wherever deep-tui writes text: events, saved sessions and
logs. The agent's own files are the exception: they are kept as written.

Masking covers every character of every occurrence: where occurrences of two
secrets overlap, the whole overlapping stretch becomes one mask, so no part of
either shows. Text that arrives in pieces (a streamed answer) goes through a
``StreamRedactor``, which masks a secret split across pieces exactly as if the
text had come whole.
"""

from __future__ import annotations

import json
import logging
import os
import re

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
MASK = "[redacted]"
MIN_LENGTH = 8
"""Shorter values are too likely to occur in ordinary text to be masked."""


def secrets() -> tuple[str, ...]:
    """The secret values in the environment now, longest first."""
    values = {value for name, value in os.environ.items() if SECRET_NAME.search(name) and len(value) >= MIN_LENGTH}
    return tuple(sorted(values, key=len, reverse=True))


def json_forms(known: tuple[str, ...]) -> tuple[str, ...]:
    """``known`` plus each secret as it reads inside a JSON string, escaped once and twice.

    A secret with a quote, a backslash or a non-ASCII character is spelt differently in JSON
    (and a tool call's arguments, saved as a JSON string inside JSON, are escaped twice), so
    masking serialised text must look for those spellings too.
    """
    forms = set(known)
    for secret in known:
        for ascii_only in (False, True):
            once = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
            forms.update((once, json.dumps(once, ensure_ascii=ascii_only)[1:-1]))
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, known: tuple[str, ...] | None = None) -> str:
    """``text`` with every secret masked: ``known`` ones, or those in the environment now."""
    if known is None:
        known = secrets()
    if not any(secret in text for secret in known):
        return text
    pieces, done = [], 0
    for start, end in _spans(text, known):
        pieces += [text[done:start], MASK]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


def _spans(text: str, known: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where secrets occur in ``text``, in order, overlapping occurrences merged into one span."""
    found = []
    for secret in known:
        start = text.find(secret)
        while start != -1:
            found.append((start, start + len(secret)))
            start = text.find(secret, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class StreamRedactor:
    """Masks secrets in a text that arrives in pieces.

    ``feed`` returns what can be shown now; it holds back only a tail that could still
    become a secret (a tail that is the start of one, or a secret that a longer one
    overlapping it may extend), at most the longest secret's length minus one. ``flush``
    returns the rest when the text ends. Joined, everything returned equals ``redact``
    of the whole text: nothing is lost, repeated or shown in clear.
    """

    def __init__(self, known: tuple[str, ...]) -> None:
        self._known = known
        self._window = max((len(secret) for secret in known), default=1) - 1
        self._pending = ""

    def feed(self, piece: str) -> str:
        if not self._known:
            return piece
        text = self._pending + piece
        cut = len(text) - self._unfinished(text)
        for start, end in _spans(text, self._known):
            if start < cut < end:  # never cut through a secret: hold it back whole
                cut = start
                break
        self._pending = text[cut:]
        return redact(text[:cut], self._known)

    def flush(self) -> str:
        """Whatever is held back, masked; the stream may go on afterwards as a new text."""
        if not self._pending:
            return ""
        text, self._pending = self._pending, ""
        return redact(text, self._known)

    def _unfinished(self, text: str) -> int:
        """The length of the longest end of ``text`` that is the start of a secret, but not all of it."""
        tail = text[-self._window :] if self._window else ""
        longest = 0
        for secret in self._known:
            start = tail.find(secret[0])
            while start != -1 and len(tail) - start > longest:
                if secret.startswith(tail[start:]) and len(tail) - start < len(secret):
                    longest = len(tail) - start
                    break
                start = tail.find(secret[0], start + 1)
        return longest


class RedactingFilter(logging.Filter):
    """Masks secrets in log records before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:  # a traceback quotes the error's message
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()
