"""Saved sessions: nothing the agent made is lost when deep-tui quits or is killed.

The workspace lives only in memory, so each session is kept on disk under
``$DEEP_TUI_HOME/sessions/<session-id>/`` (``DEEP_TUI_HOME`` defaults to the XDG
data directory, ``~/.local/share/deep-tui``):

- ``events.jsonl``: every event, appended and flushed as it happens, so even a
  ``kill -9`` keeps everything up to the last event;
- ``files/``: the workspace, byte for byte, and ``workspace.json``, every file
  as text or base64 (which also holds names too long for this disk);
- ``blobs/<sha256>``: every version of every file the agent wrote, named as
  ``files_changed`` events name them (``deep_tui.blobs``);
- ``todos.json`` and ``messages.json`` (pydantic-ai's message history);
- ``session.json``: which agent, how many turns, when.

Each event is written and flushed as it is made (microseconds into the page
cache); the workspace, which can be large, is written by a background thread at
the end of each turn and on quit, so saving never holds up the dashboard.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from deep_tui.blobs import BlobStore
from deep_tui.events import Event, FilesChanged
from deep_tui.redact import redact, secrets
from deep_tui.runner import Session, Snapshot

HOME_ENV = "DEEP_TUI_HOME"


def home() -> Path:
    """Where deep-tui keeps its data: ``$DEEP_TUI_HOME``, else ``$XDG_DATA_HOME/deep-tui``."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "deep-tui"


class SessionRecorder:
    """Keeps one session on disk: events at once, the workspace on a background thread."""

    def __init__(self, session: Session, root: Path | None = None) -> None:
        self.session = session
        self.path = (root or home()) / "sessions" / session.id
        self.path.mkdir(parents=True, exist_ok=True)
        self._secrets = secrets()
        self.blobs = BlobStore(self.path / "blobs")
        self._queue: queue.SimpleQueue[Snapshot | Callable[[], None] | None] = queue.SimpleQueue()
        self._events: IO[str] = (self.path / "events.jsonl").open("a", encoding="utf-8")
        self._thread = threading.Thread(target=self._write, name="deep-tui-recorder", daemon=True)
        self._thread.start()

    def record(self, event: Event) -> None:
        """Append ``event`` to events.jsonl and flush it, here and now.

        A write to the page cache takes microseconds; doing it in the caller, not the
        writer thread, is what lets a ``kill -9`` lose nothing but the event being made.
        """
        self._events.write(redact(event.model_dump_json(), self._secrets) + "\n")
        self._events.flush()
        if isinstance(event, FilesChanged):
            self._keep_versions(event)

    def _keep_versions(self, event: FilesChanged) -> None:
        """Hand the bytes of the versions ``event`` names to the writer thread (they are the workspace's last
        drained changes: ``record`` is called as each event is made)."""
        drained = self.session.files.drained
        versions = [change.version for change in event.changes if change.version in drained]
        for version in versions:
            self.blobs.add(version, drained[version])
        if versions:
            self._queue.put(self.blobs.write_pending)

    def save(self) -> None:
        """Write the workspace, todos and history as they are now."""
        self._queue.put(self.session.snapshot())

    def close(self, timeout: float = 10.0) -> Path:
        """Save the session a last time, finish writing and return its directory.

        The last snapshot is taken in the calling thread: call it once the session has stopped running.
        """
        self.save()
        self._queue.put(None)
        self._thread.join(timeout)
        return self.path

    def _write(self) -> None:
        while (job := self._queue.get()) is not None:
            if isinstance(job, Snapshot):
                self._write_snapshot(job)
            else:
                job()
        self._events.close()

    def _write_snapshot(self, snapshot: Snapshot) -> None:
        contents = snapshot.files()
        files = self.path / "files"
        staging = self.path / "files.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        unwritable = []
        for directory in snapshot.directories:
            target = _inside(staging, directory)
            if target is not None:
                try:
                    target.mkdir(parents=True, exist_ok=True)
                except OSError:
                    unwritable.append(directory)
        for path, data in contents.items():
            target = _inside(staging, path)
            try:
                if target is None:
                    raise OSError("outside the workspace")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            except OSError:
                unwritable.append(path)
        shutil.rmtree(files, ignore_errors=True)
        staging.rename(files)
        document = {
            "files": {path: _encoded(data) for path, data in contents.items()},
            "directories": snapshot.directories,
        }
        self._replace("workspace.json", json.dumps(document, ensure_ascii=False, indent=1))
        self._replace("todos.json", json.dumps([t.model_dump() for t in snapshot.todos], ensure_ascii=False, indent=1))
        self._replace_chunks("messages.json", snapshot.messages_json())
        meta = {
            "session_id": snapshot.session_id,
            "agent": snapshot.agent,
            "turns": snapshot.turns,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": len(contents),
            "not_in_files_dir": unwritable,
        }
        self._replace("session.json", json.dumps(meta, ensure_ascii=False, indent=1))

    def _replace(self, name: str, text: str) -> None:
        """Write ``name`` whole or not at all: a kill mid-write leaves the previous version."""
        self._replace_chunks(name, [text.encode("utf-8")])

    def _replace_chunks(self, name: str, chunks: Iterable[bytes]) -> None:
        temporary = self.path / f".{name}.tmp"
        with temporary.open("wb") as out:
            for chunk in chunks:
                out.write(redact(chunk.decode("utf-8", "replace"), self._secrets).encode("utf-8"))
                time.sleep(0)  # let the dashboard's thread run between pieces
        temporary.replace(self.path / name)


def _inside(root: Path, path: str) -> Path | None:
    """Where workspace ``path`` goes under ``root``, or None if it would land outside it."""
    target = (root / path.lstrip("/")).resolve()
    return target if target == root.resolve() or root.resolve() in target.parents else None


def _encoded(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}
