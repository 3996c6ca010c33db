"""A recorded session read back: its events, where it ended, and its files at any version.

A recording is a saved session's directory (by path, or by id under
``$DEEP_TUI_HOME/sessions/``) or an ``events.jsonl`` file, such as ``deep-tui run --json``
prints. Opening one splits it into lines and validates only the first and the last: an
event is parsed with ``parse_event`` when it is read, and its ``type`` and ``t`` can be
read alone from the fixed start every event's JSON has. So opening 100,000 events costs
a split of the file (about a tenth of a second), not 100,000 validations (two seconds).

A recording cut off by ``kill -9`` loads up to its last complete event and says where it
ended (``Recording.ending``). A file that is not a recording raises ``RecordingError``,
whose message is the one line to show; a damaged line further on raises ``DamagedLine`` when it
is read, and the replay ends before it. Finding a recording, and telling at a glance
whether a file is one, needs no event model (``deep_tui.recording_files``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from pydantic import ValidationError

from deep_tui.blobs import BlobStore
from deep_tui.events import Event, ToolCallFinished, parse_event
from deep_tui.recording_files import DamagedLine, RecordingError, locate

EVENT_START = re.compile(rb'\{"seq":(\d+),"t":(-?[0-9.eE+-]+),(?:"origin":(?:null|\{[^{}]*\}),)?"type":"([a-z_]+)"')
"""How every event's JSON begins (pydantic writes the fields in their declared order; recordings made before
events carried their ``origin`` lack it). A line it does not match is parsed instead."""


class EventLog(Sequence[Event]):
    """A recording's events, each parsed when read (and not kept: the fold keeps what it needs).

    ``kind`` and ``t`` read one event's ``type`` and ``t`` without parsing it, and ``turn_starts``
    finds every ``run_started``: what the timeline needs of all the events at once.
    """

    def __init__(self, lines: list[bytes], origin: str) -> None:
        self._lines = lines
        self._origin = origin

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> Event: ...

    @overload
    def __getitem__(self, index: slice) -> list[Event]: ...

    def __getitem__(self, index: int | slice) -> Event | list[Event]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        try:
            return parse_event(self._lines[index])
        except ValidationError as exc:
            raise DamagedLine(f"{self._origin}: line {index + 1} is damaged: {_first_error(exc)}", index) from None

    def __iter__(self) -> Iterator[Event]:
        for index in range(len(self)):
            yield self[index]

    def line(self, index: int) -> bytes:
        """Event ``index`` as it is written in the file."""
        return self._lines[index]

    def kind(self, index: int) -> str:
        """Event ``index``'s ``type``; "" for a damaged line (reading the event says why)."""
        start = EVENT_START.match(self._lines[index])
        if start is not None:
            return start[3].decode()
        event = self.readable(index)
        return event.type if event is not None else ""

    def t(self, index: int) -> float:
        """Event ``index``'s ``t``: seconds into its turn; 0 for a damaged line (reading the event says why)."""
        start = EVENT_START.match(self._lines[index])
        if start is not None:
            return float(start[2])
        event = self.readable(index)
        return event.t if event is not None else 0.0

    def readable(self, index: int) -> Event | None:
        """Event ``index``, or None if its line is damaged: for a look that passes over it."""
        try:
            return self[index]
        except DamagedLine:
            return None

    def turn_starts(self) -> list[int]:
        """The index of every ``run_started`` (the first event of a turn, so the only one with ``seq`` 0)."""
        first = b'{"seq":0,'
        return [
            index
            for index, line in enumerate(self._lines)
            if (line.startswith(first) or not line.startswith(b'{"seq":')) and self.kind(index) == "run_started"
        ]


@dataclass
class Recording:
    """A loaded recording: its events and what the session directory beside them keeps."""

    path: Path
    """The events file."""
    directory: Path | None
    """The saved session's directory (its blobs, messages, files), or None for an events file alone."""
    events: EventLog
    cut_line: bool = False
    """Its last line was cut off mid-write and is left out."""
    _results: dict[str, str] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The session id, or the file's name."""
        return self.directory.name if self.directory is not None else self.path.name

    @property
    def complete(self) -> bool:
        """It ends with a ``run_finished``: nothing cut the run off."""
        return self.events.kind(-1) == "run_finished"

    @property
    def ending(self) -> str | None:
        """One line saying where a recording that was cut off ends; None for a complete one."""
        if self.complete:
            return None
        last = len(self.events) - 1
        cut = " (its last line was cut mid-write and is left out)" if self.cut_line else ""
        return (
            f"the recording ends at event {last + 1:,} ({self.events.kind(last)}, {self.events.t(last):g} s"
            f" into its turn) without the turn's run_finished: the run was cut off{cut}"
        )

    def file(self, path: str, version: str | None = None) -> bytes | None:
        """File ``path`` at ``version`` (a ``FileChange.version``), or as the recording last shows it.

        None when the recording did not keep it: a version deleted, older than the store, or never written.
        """
        if self.directory is None:
            return None
        if version is None:
            version = self._last_version(path)
        if version is None:
            return _read_inside(self.directory / "files", path) if self.complete else None
        return BlobStore(self.directory / "blobs").get(version)

    def result(self, call_id: str, task_id: str | None = None) -> str | None:
        """A call's whole result: from the saved message history (the main agent's), else its preview when that
        is all of it. ``task_id`` names the subagent that made the call: call ids repeat across agents."""
        if task_id is None:
            if self._results is None:
                self._results = _results(self.directory / "messages.json") if self.directory is not None else {}
            if call_id in self._results:
                return self._results[call_id]
        needle = json.dumps(call_id, ensure_ascii=False).encode()
        for index in range(len(self.events) - 1, -1, -1):
            if needle in self.events.line(index) and self.events.kind(index) == "tool_call_finished":
                event = self.events.readable(index)
                if not isinstance(event, ToolCallFinished) or event.call_id != call_id:
                    continue
                if (event.origin.task_id if event.origin is not None else None) == task_id:
                    came_back = event.size or event.outcome not in ("cancelled", "interrupted")
                    return event.preview if came_back and len(event.preview) == event.size else None
        return None

    def _last_version(self, path: str) -> str | None:
        needle = json.dumps(path, ensure_ascii=False).encode()
        for index in range(len(self.events) - 1, -1, -1):
            if needle in self.events.line(index) and self.events.kind(index) == "files_changed":
                for change in reversed(getattr(self.events.readable(index), "changes", [])):
                    if change.path == path:
                        return change.version
        return None


def load(target: str | Path, *, sessions: Path | None = None) -> Recording:
    """The recording at ``target``: a session directory, an events file, or a saved session's id (or the
    start of one) under ``sessions`` (``$DEEP_TUI_HOME/sessions`` by default)."""
    path, directory = locate(target, sessions)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not data.lstrip()[:2] == b'{"':
        raise RecordingError(f"{path} is not a deep-tui recording: it does not start with an event")
    lines = data.split(b"\n")
    cut_line = False
    if lines[-1]:  # no newline after the last line: the write was cut off, or the file was edited
        try:
            parse_event(lines[-1])
        except ValidationError:
            lines.pop()
            cut_line = True
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise RecordingError(f"{path} holds no complete event")
    for index in {0, len(lines) - 1}:
        try:
            parse_event(lines[index])
        except ValidationError as exc:
            if index == 0:
                raise RecordingError(f"{path} is not a deep-tui recording: {_first_error(exc)}") from None
            raise RecordingError(f"{path}: line {index + 1} is not a deep-tui event: {_first_error(exc)}") from None
    return Recording(path, directory, EventLog(lines, str(path)), cut_line)


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _read_inside(root: Path, path: str) -> bytes | None:
    target = (root / path.lstrip("/")).resolve()
    if root.resolve() not in target.parents:
        return None
    try:
        return target.read_bytes()
    except OSError:
        return None


def _results(messages: Path) -> dict[str, str]:
    """Each call's result text in a saved message history, by call id (as the runner makes it from a part)."""
    try:
        history: Any = json.loads(messages.read_bytes())
    except (OSError, ValueError):
        return {}
    found: dict[str, str] = {}
    for message in history if isinstance(history, list) else []:
        for part in message.get("parts", []) if isinstance(message, dict) else []:
            if isinstance(part, dict) and part.get("part_kind") in ("tool-return", "retry-prompt"):
                content = part.get("content")
                text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
                found[str(part.get("tool_call_id"))] = text
    return found
