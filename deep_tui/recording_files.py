"""A recording on disk: where it is, and whether a file is one, with the standard library alone.

``deep-tui replay`` asks this before the dashboard starts, so that what is not a recording
is one line and exit code 2 before any screen opens. Reading the events
(``deep_tui.recording``: the event models, and splitting 100,000 lines, about half a
second) waits for the dashboard's first frame.
"""

from __future__ import annotations

import json
from pathlib import Path

from deep_tui.home import home

EVENTS_FILE = "events.jsonl"

EVENT_TYPES = frozenset(
    {
        "approval_requested",
        "approval_resolved",
        "files_changed",
        "message_delivered",
        "message_queued",
        "node_entered",
        "run_finished",
        "run_started",
        "subagent_finished",
        "subagent_started",
        "text_delta",
        "thinking_delta",
        "todos_changed",
        "tool_call_finished",
        "tool_call_started",
        "usage_updated",
    }
)
"""The ``type`` of every kind of event (``events.Event``; a test keeps the two the same), known without the models."""


class RecordingError(Exception):
    """Why something cannot be replayed, in one line for the command to print."""


class DamagedLine(RecordingError):
    """Event ``index`` of a recording cannot be read, found as it is read: the replay ends before it."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def check(target: str | Path, sessions: Path | None = None) -> tuple[Path, Path | None]:
    """The events file ``target`` names and the session directory it belongs to (see ``locate``), if it starts
    with an event: a JSON object whose ``type`` is a kind of event. ``RecordingError`` says why it is not one.

    Only the first line is read: the rest is read, and every event checked as it is shown, once the dashboard
    is up (``recording.load``)."""
    path, directory = locate(target, sessions)
    try:
        with path.open("rb") as file:
            first = file.readline()
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not first.strip():
        empty = "its first line is empty" if first else "it is empty"
        raise RecordingError(f"{path} is not a deep-tui recording: {empty}")
    if first.lstrip()[:2] != b'{"':
        raise RecordingError(f"{path} is not a deep-tui recording: it does not start with an event")
    try:
        kind = json.loads(first).get("type")
    except (ValueError, AttributeError):
        raise RecordingError(f"{path} is not a deep-tui recording: its first line is not JSON") from None
    if kind not in EVENT_TYPES:
        shown = f"{kind!r}"[:60] if kind is not None else "none"
        raise RecordingError(f"{path} is not a deep-tui recording: its first line's type is {shown}, not an event's")
    return path, directory


def locate(target: str | Path, sessions: Path | None = None) -> tuple[Path, Path | None]:
    """The events file ``target`` names, and the session directory it belongs to, if any: a session directory,
    an events file, or a saved session's id (or the start of one) under ``sessions``
    (``$DEEP_TUI_HOME/sessions`` by default)."""
    path = Path(target).expanduser()
    if path.is_dir():
        if not (path / EVENTS_FILE).is_file():
            raise RecordingError(f"{path} is not a saved session: it has no {EVENTS_FILE}")
        return path / EVENTS_FILE, path
    if path.is_file():
        in_session = (path.parent / "blobs").is_dir() or (path.parent / "session.json").is_file()
        return path, path.parent if in_session else None
    if path.exists():
        raise RecordingError(f"{path} is neither a file nor a directory")
    root = sessions if sessions is not None else home() / "sessions"
    name = str(target)
    if name and "/" not in name and root.is_dir():
        found = sorted(p for p in root.iterdir() if p.name.startswith(name) and (p / EVENTS_FILE).is_file())
        if len(found) == 1:
            return found[0] / EVENTS_FILE, found[0]
        if len(found) > 1:
            names = ", ".join(p.name for p in found[:5])
            raise RecordingError(f"{name!r} is the start of {len(found)} saved sessions ({names}…): give more of it")
    raise RecordingError(f"no file, directory or saved session {name!r} (saved sessions are in {root})")
