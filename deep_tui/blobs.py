"""Every version of every file, kept once: a content-addressed store in a session's directory.

A version is named by the SHA-256 of its bytes (``FileChange.version``) and kept as
``blobs/<sha256>``, so a file written back to an earlier content, or two files with the
same content, cost nothing more. A blob is written to a temporary file and renamed into
place, so a kill leaves it whole or absent, never half written. Blobs hold the agent's
files byte for byte: files are 0600 and the directory 0700.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path

BLOB_ID = re.compile(r"[0-9a-f]{64}")
"""What a version's name looks like; anything else is refused rather than joined to a path."""


class BlobStore:
    """``root/<sha256>`` files, and the versions handed over but not yet written, readable meanwhile."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pending: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.unwritten: list[tuple[str, str]] = []
        """Versions handed over that could not be written, with why (a full disk, say)."""

    def put(self, data: bytes) -> str:
        """Keep ``data`` (if it is not kept already) and return its id."""
        blob_id = hashlib.sha256(data).hexdigest()
        target = self.root / blob_id
        if target.exists():
            return blob_id
        self.root.mkdir(mode=0o700, exist_ok=True)
        temporary = self.root / f".{blob_id}.{os.getpid()}.{threading.get_ident()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return blob_id

    def get(self, blob_id: str) -> bytes | None:
        """The bytes of version ``blob_id``, or None if it was never kept (or is not a version's name)."""
        if not BLOB_ID.fullmatch(blob_id):
            return None
        with self._lock:
            pending = self._pending.get(blob_id)
        if pending is not None:
            return pending
        try:
            return (self.root / blob_id).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def __contains__(self, blob_id: object) -> bool:
        if not isinstance(blob_id, str) or not BLOB_ID.fullmatch(blob_id):
            return False
        with self._lock:
            if blob_id in self._pending:
                return True
        return (self.root / blob_id).exists()

    def add(self, blob_id: str, data: bytes) -> None:
        """Hand over ``data``, whose SHA-256 is ``blob_id``, to be written by ``write_pending``; ``get`` finds
        it at once.

        Costs a dictionary entry: the hashing and the writing are left to whichever thread writes.
        """
        with self._lock:
            self._pending[blob_id] = data

    def write_pending(self) -> None:
        """Write every version handed over; each is readable throughout (from memory, then from disk).

        A version that cannot be written is dropped and listed in ``unwritten``: the session goes on.
        """
        with self._lock:
            pending = list(self._pending.items())
        for blob_id, data in pending:
            try:
                self.put(data)
            except OSError as exc:
                self.unwritten.append((blob_id, f"{type(exc).__name__}: {exc}"))
            with self._lock:
                if self._pending.get(blob_id) is data:
                    del self._pending[blob_id]
