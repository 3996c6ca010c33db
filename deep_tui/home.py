"""Where deep-tui keeps its data, known without importing what keeps it (``deep_tui.sessions``).

``deep-tui replay ID`` looks a saved session up here before the dashboard starts, and the
session machinery imports the agent stack (1.6 s).
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "DEEP_TUI_HOME"


def home() -> Path:
    """Where deep-tui keeps its data: ``$DEEP_TUI_HOME``, else ``$XDG_DATA_HOME/deep-tui``."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "deep-tui"
