"""The agent's in-memory workspace, with the change notification it lacks.

pydantic-deep keeps files in a ``StateBackend`` that says nothing when they
change. ``TrackedStateBackend`` records each path a tool writes or removes as it
happens, so reporting a step's changes costs O(paths changed), never O(files in
the workspace). It also keeps each file's content before its last change, which
is what the file viewer diffs against, and names each new version by the SHA-256
of its bytes (hashed once, when the change is reported: O(size of the change)).

Each version is handed, as it is reported, to whoever keeps versions (a session's
recorder, through ``keep_versions``): before any event names it, so a consumer of the
events that lags behind the run, or reads them later, still finds every version kept.
"""

from __future__ import annotations

import difflib
import hashlib
import posixpath
from collections.abc import Callable, Mapping

from pydantic_ai.workspaces import WorkspaceRef
from pydantic_ai_backends import StateBackend
from pydantic_ai_backends.workspaces import StateWorkspaceBackend

from deep_tui.events import FileChange, FileChangeKind

VersionKeeper = Callable[[Mapping[str, bytes]], None]
"""Takes the versions one ``drain_changes`` reports, bytes by SHA-256; must not raise."""

DIFF_LIMIT = 200_000
"""Bytes above which a change is not diffed to count lines (the viewer still can)."""


def normal_path(path: str) -> str:
    """``path`` as the backend stores it: absolute, with ``.`` and ``..`` collapsed."""
    return posixpath.normpath(posixpath.join("/", path)).replace("//", "/")


class TrackedStateBackend(StateBackend):
    """A ``StateBackend`` that remembers what changed since ``drain_changes``."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: dict[str, FileChangeKind] = {}
        self._before_step: dict[str, bytes | None] = {}
        self.previous: dict[str, bytes] = {}
        """Each file's content before its last change (absent for new files)."""
        self._keepers: list[VersionKeeper] = []

    def write_bytes(self, path: str, data: bytes) -> None:
        path = normal_path(path)
        old = self.read_bytes(path) if path in self.files else None
        super().write_bytes(path, data)
        self._note(path, old)

    def remove(self, path: str) -> None:
        path = normal_path(path)
        if path in self.files:
            removed = [path]
        else:
            prefix = "/" if path == "/" else path + "/"
            removed = [p for p in self.files if p.startswith(prefix)]
        olds = {p: self.read_bytes(p) for p in removed}
        super().remove(path)
        for p, old in olds.items():
            self._note(p, old, deleted=True)

    def _note(self, path: str, old: bytes | None, *, deleted: bool = False) -> None:
        if path not in self._before_step:
            self._before_step[path] = old
        if old is not None:
            self.previous[path] = old
        else:
            self.previous.pop(path, None)
        first = self._before_step[path]
        if deleted:
            kind: FileChangeKind | None = "deleted" if first is not None else None
        else:
            kind = "created" if first is None else "modified"
        if kind is None:
            self._pending.pop(path, None)
        else:
            self._pending[path] = kind

    def keep_versions(self, keeper: VersionKeeper) -> Callable[[], None]:
        """Hand ``keeper`` the versions each ``drain_changes`` reports from now on; returns what stops it."""
        self._keepers.append(keeper)

        def stop() -> None:
            if keeper in self._keepers:
                self._keepers.remove(keeper)

        return stop

    def drain_changes(self) -> list[FileChange]:
        """The changes since the last call, one per path, in the order first touched."""
        if not self._before_step:
            return []
        changes = []
        versions: dict[str, bytes] = {}
        for path, kind in self._pending.items():
            before = self._before_step[path] or b""
            after = b"" if kind == "deleted" else self.read_bytes(path)
            added, removed = count_changed_lines(before, after)
            version = None if kind == "deleted" else hashlib.sha256(after).hexdigest()
            if version is not None:
                versions[version] = after
            changes.append(
                FileChange(path=path, change=kind, size=len(after), added=added, removed=removed, version=version)
            )
        self._pending.clear()
        self._before_step.clear()
        if versions:
            for keeper in list(self._keepers):
                keeper(versions)
        return changes

    def workspace(self, session_id: str) -> StateWorkspaceBackend:
        """This document as a pydantic-ai workspace backend to pass to ``agent.iter``."""
        ref = WorkspaceRef(provider="state", id=session_id)
        return StateWorkspaceBackend({session_id: self}, ref=ref)


def count_changed_lines(before: bytes, after: bytes) -> tuple[int, int]:
    """Lines added and removed between two versions; (0, 0) when too big to diff."""
    if len(before) > DIFF_LIMIT or len(after) > DIFF_LIMIT:
        return 0, 0
    old = before.decode("utf-8", "replace").splitlines()
    new = after.decode("utf-8", "replace").splitlines()
    added = removed = 0
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += i2 - i1
        if tag in ("replace", "insert"):
            added += j2 - j1
    return added, removed
