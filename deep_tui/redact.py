"""Keep secrets out of what deep-tui shows and saves.

Providers sometimes echo the key they were sent in an error message; agents
read environment variables. Any environment variable whose name says it holds a
secret is masked wherever deep-tui writes text: event errors, saved sessions
and logs.
"""

from __future__ import annotations

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


def redact(text: str, known: tuple[str, ...] | None = None) -> str:
    """``text`` with every secret masked: ``known`` ones, or those in the environment now."""
    for secret in secrets() if known is None else known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in log records before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
