"""Keep libraries from writing to the terminal while deep-tui owns it.

pydantic-ai prints a banner on its first run, pydantic-deep's features warn and
log, and ``logging``'s last-resort handler writes straight to stderr. All of it
is routed to a handler deep-tui chooses: the app's log for the dashboard, stderr
for headless runs.
"""

from __future__ import annotations

import logging
import os

from deep_tui.redact import RedactingFilter
from deep_tui.terminal_text import VisibleLogs


def quiet_libraries(handler: logging.Handler) -> None:
    """Send warnings and library logging to ``handler`` and switch off pydantic-ai's banner.

    Call it before pydantic-ai is imported: the banner switch is read from the environment.
    """
    os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")
    logging.captureWarnings(True)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler.addFilter(RedactingFilter())
    handler.addFilter(VisibleLogs())
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
