"""Saved sessions: nothing the agent made is lost when deep-tui quits or is killed.

The workspace lives only in memory, so each session is kept on disk under
``$DEEP_TUI_HOME/sessions/<session-id>/`` (``DEEP_TUI_HOME`` defaults to the XDG
data directory, ``~/.local/share/deep-tui``):

- ``events.jsonl``: every event, appended and flushed as it happens, so even a
  ``kill -9`` keeps everything up to the last event;
- ``files/``: the workspace, byte for byte, and ``workspace.json``, every file
  as text or base64 (which also holds names too long for this disk);
- ``blobs/<sha256>``: every version of every file the agent wrote, named as
  ``files_changed`` events name them (``deep_tui.blobs``), handed over by the workspace as
  it reports them, so they are kept however late the events are recorded;
- ``todos.json`` and ``messages.json`` (pydantic-ai's message history);
- ``session.json``: which agent, how many turns, when, and the always-rules of its approvals.

Each event is written and flushed as it is made (microseconds into the page
cache); the workspace, which can be large, is written by a background thread at
the end of each turn and on quit, so saving never holds up the dashboard. One
thread writes for every recorder of the process: a server with a thousand runs
has one writer, not a thousand.

Only the owner may read what is saved (directories 0700, files 0600): it holds the
conversation and, unmasked by design, the agent's files.

Saving never stops the session: a file that cannot be written is listed in
``session.json`` under ``not_in_files_dir`` (``workspace.json`` still holds it), and a
save or an event that fails is reported (``problems``, ``on_error``, else the log) while
later saves go on.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from deep_tui.blobs import BlobStore
from deep_tui.events import Event, json_safe
from deep_tui.home import home
from deep_tui.redact import json_forms, redact, secrets
from deep_tui.runner import Session, Snapshot

WRITER_THREAD = "deep-tui-recorder"
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600

log = logging.getLogger(__name__)


class _Writer:
    """The one thread that writes every recorder's snapshots, in the order they were asked for."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:  # started on first use, and again after a fork (where threads do not follow)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name=WRITER_THREAD, daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # jobs report their own failures: this only keeps the thread alive for the others
                log.exception("a session save failed")


_WRITER = _Writer()


class SessionRecorder:
    """Keeps one session on disk: events at once, the workspace on the shared writer thread.

    ``on_error`` is called with a one-line message each time something could not be saved,
    from whichever thread found out (the dashboard shows it); without it, the message is
    logged (stderr for ``run`` and ``serve``). ``problems`` keeps every such message.
    """

    def __init__(self, session: Session, root: Path | None = None, on_error: Callable[[str], object] | None = None):
        self.session = session
        sessions = (root or home()) / "sessions"
        _private_directory(sessions)
        self.path = sessions / session.id
        _private_directory(self.path)
        self.on_error = on_error
        self.problems: list[str] = []
        """What could not be saved, in order; empty when everything was."""
        self._secrets = json_forms(secrets())
        self._lock = threading.Lock()
        self._next: Snapshot | None = None
        self._waiting: list[threading.Event] = []
        self._queued = False
        self._events_lock = threading.Lock()
        self._events_failing = False
        self._events: int | None = os.open(
            self.path / "events.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, PRIVATE_FILE
        )
        os.fchmod(self._events, PRIVATE_FILE)
        self.blobs = BlobStore(self.path / "blobs")
        self._stop_keeping = session.files.keep_versions(self._keep_versions)

    def record(self, event: Event) -> None:
        """Append ``event`` to events.jsonl, here and now; never raises.

        A write to the page cache takes microseconds; doing it in the caller, not the
        writer thread, is what lets a ``kill -9`` lose nothing but the event being made.
        A line is written whole or not at all, so every line of the file parses.
        """
        try:
            try:
                line = event.model_dump_json()
            except ValueError:  # text JSON cannot carry (a lone surrogate) from a source other than the runner
                line = json_safe(json.dumps(event.model_dump(mode="json"), ensure_ascii=False))
            data = (redact(line, self._secrets) + "\n").encode("utf-8")
            with self._events_lock:
                if self._events is not None:
                    _append(self._events, data)
            self._events_failing = False
        except Exception as exc:
            if not self._events_failing:  # once per outage, not once per delta
                self._events_failing = True
                self._failed(f"events are not being saved: {_reason(exc)}")

    def _keep_versions(self, versions: Mapping[str, bytes]) -> None:
        """Hand the versions a step reported to the writer thread, before the ``files_changed`` naming them
        is made; never raises (it runs inside the agent's step)."""
        try:
            for version, data in versions.items():
                self.blobs.add(version, data)
            _WRITER.submit(self.blobs.write_pending)
        except Exception as exc:
            self._failed(f"file versions are not being saved: {_reason(exc)}")

    def save(self) -> None:
        """Write the workspace, todos and history as they are now (on the writer thread)."""
        self._save()

    def close(self, timeout: float = 10.0) -> Path:
        """Save the session a last time, finish writing and return its directory.

        The last snapshot is taken in the calling thread: call it once the session has stopped running.
        """
        self._stop_keeping()
        if not self._save().wait(timeout):
            self._failed(f"the last save did not finish within {timeout:g} s")
        with self._events_lock:
            if self._events is not None:
                os.close(self._events)
                self._events = None
        return self.path

    def _save(self) -> threading.Event:
        """Queue a snapshot; the event is set once it (or a later one that replaced it) is written."""
        done = threading.Event()
        try:
            snapshot = self.session.snapshot()
        except Exception as exc:
            self._failed(f"the session could not be copied to save it: {_reason(exc)}")
            done.set()
            return done
        with self._lock:  # a snapshot not yet written is replaced: only the newest matters
            self._next = snapshot
            self._waiting.append(done)
            queued, self._queued = self._queued, True
        if not queued:
            _WRITER.submit(self._write_next)
        return done

    def _write_next(self) -> None:
        with self._lock:
            snapshot, waiting = self._next, self._waiting
            self._next, self._waiting, self._queued = None, [], False
        try:
            if snapshot is not None:
                self._write_snapshot(snapshot)
        except Exception as exc:
            shutil.rmtree(self.path / "files.new", ignore_errors=True)
            self._failed(f"saving failed: {_reason(exc)}")
        finally:
            for done in waiting:
                done.set()

    def _failed(self, message: str) -> None:
        message = f"session {self.session.id}: {message}"
        self.problems.append(message)
        if self.on_error is None:
            log.error("%s", message)
            return
        try:
            self.on_error(message)
        except Exception:
            log.exception("could not report: %s", message)

    def _write_snapshot(self, snapshot: Snapshot) -> None:
        contents = snapshot.files()
        unwritable = self._write_files(snapshot.directories, contents)
        document = {
            "files": {path: _encoded(data) for path, data in contents.items()},
            "directories": snapshot.directories,
        }
        meta = {
            "session_id": snapshot.session_id,
            "agent": snapshot.agent,
            "turns": snapshot.turns,
            "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": len(contents),
            "not_in_files_dir": unwritable,
            "approval_rules": [rule.model_dump() for rule in snapshot.approval_rules],
        }
        writes: list[tuple[str, Callable[[], Iterable[bytes]]]] = [
            ("workspace.json", lambda: [_json(document)]),
            ("todos.json", lambda: [_json([t.model_dump() for t in snapshot.todos])]),
            ("messages.json", snapshot.messages_json),
            ("session.json", lambda: [_json(meta)]),
        ]
        failed = []
        for name, chunks in writes:  # each on its own: one that fails does not keep the others from disk
            try:
                self._replace(name, chunks())
            except Exception as exc:
                failed.append(f"{name}: {_reason(exc)}")
        if failed:
            raise OSError("; ".join(failed))

    def _write_files(self, directories: list[str], contents: dict[str, bytes]) -> list[str]:
        """Write the workspace into ``files/``; the paths that could not be written there."""
        files = self.path / "files"
        staging = self.path / "files.new"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=PRIVATE_DIRECTORY)
        unwritable = []
        for directory in directories:
            try:
                _make_directories(staging, _inside(staging, directory))
            except (OSError, ValueError):  # ValueError: a NUL, or a lone surrogate the file system cannot encode
                unwritable.append(directory)
        for path, data in contents.items():
            try:
                target = _inside(staging, path)
                _make_directories(staging, target.parent)
                _write_private(target, [data])
            except (OSError, ValueError):
                unwritable.append(path)
        shutil.rmtree(files, ignore_errors=True)
        staging.rename(files)
        return unwritable

    def _replace(self, name: str, chunks: Iterable[bytes]) -> None:
        """Write ``name`` whole or not at all: a kill mid-write leaves the previous version."""
        handle, temporary = tempfile.mkstemp(dir=self.path, prefix=f".{name}.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in chunks:
                    text = redact(chunk.decode("utf-8", "replace"), self._secrets)
                    out.write(text.encode("utf-8", "backslashreplace"))
                    time.sleep(0)  # let the dashboard's thread run between pieces
            os.replace(temporary, self.path / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _private_directory(path: Path) -> None:
    """Create ``path`` (and its parents) if needed, and make it the owner's alone."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIRECTORY)
    with contextlib.suppress(OSError):  # one made earlier and shared on purpose (not ours to change) still works
        os.chmod(path, PRIVATE_DIRECTORY)


def _make_directories(root: Path, directory: Path) -> None:
    """``directory`` and any missing parents below ``root``, each 0700 (``mkdir -p`` would make parents 0755)."""
    missing = []
    while directory != root and not directory.is_dir():
        missing.append(directory)
        directory = directory.parent
    for each in reversed(missing):
        each.mkdir(mode=PRIVATE_DIRECTORY)


def _write_private(path: Path, chunks: Iterable[bytes]) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE)
    with os.fdopen(handle, "wb") as out:
        for chunk in chunks:
            out.write(chunk)


def _append(handle: int, data: bytes) -> None:
    """Append ``data`` whole; if the disk takes only part of it, take that part back."""
    written = 0
    try:
        while written < len(data):
            written += os.write(handle, data[written:])
    except OSError:
        if written:
            os.ftruncate(handle, os.lseek(handle, 0, os.SEEK_END) - written)
        raise


def _inside(root: Path, path: str) -> Path:
    """Where workspace ``path`` goes under ``root``; OSError if it would land outside it.

    Raises ValueError for a name the file system cannot take (a NUL, a lone surrogate).
    """
    target = (root / path.lstrip("/")).resolve()
    if target != root.resolve() and root.resolve() not in target.parents:
        raise OSError(f"{path!r} is outside the workspace")
    return target


def _json(value: object) -> bytes:
    """``value`` as UTF-8 JSON; a lone surrogate (as in a file name) is kept as its ``\\udXXX`` escape."""
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8", "backslashreplace")


def _reason(exc: BaseException) -> str:
    return json_safe(f"{type(exc).__name__}: {exc}")


def _encoded(data: bytes) -> dict[str, str]:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}
