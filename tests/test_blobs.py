"""Every file version kept once, named by its SHA-256, in the session's ``blobs/``."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from deep_tui.blobs import BlobStore
from deep_tui.events import Event
from deep_tui.sessions import SessionRecorder
from tests.scripted import deep_session


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_version_is_named_by_its_sha256_and_read_back(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    blob_id = store.put(b"hello\n")
    assert blob_id == hashlib.sha256(b"hello\n").hexdigest()
    assert (tmp_path / "blobs" / blob_id).read_bytes() == b"hello\n"
    assert store.get(blob_id) == b"hello\n" and blob_id in store


def test_the_same_content_is_kept_once(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    first = store.put(b"same")
    written = (tmp_path / "blobs" / first).stat().st_mtime_ns
    assert store.put(b"same") == first
    assert [p.name for p in (tmp_path / "blobs").iterdir()] == [first]
    assert (tmp_path / "blobs" / first).stat().st_mtime_ns == written


def test_blobs_are_private_to_the_user(tmp_path):
    old = os.umask(0)
    try:
        store = BlobStore(tmp_path / "blobs")
        blob_id = store.put(b"secret plan")
    finally:
        os.umask(old)
    assert mode(tmp_path / "blobs") == 0o700
    assert mode(tmp_path / "blobs" / blob_id) == 0o600


def test_a_write_that_fails_leaves_no_blob_and_no_temporary_file(tmp_path, monkeypatch):
    store = BlobStore(tmp_path / "blobs")

    def refuse(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError):
        store.put(b"lost")
    assert list((tmp_path / "blobs").iterdir()) == []
    assert store.get(hashlib.sha256(b"lost").hexdigest()) is None


def test_names_that_are_not_versions_are_refused(tmp_path):
    (tmp_path / "outside").write_bytes(b"not yours")
    store = BlobStore(tmp_path / "blobs")
    store.put(b"x")
    for name in ("../outside", "", "A" * 64, hashlib.sha256(b"never kept").hexdigest()):
        assert store.get(name) is None
        assert name not in store


def test_a_version_handed_over_is_readable_before_and_after_it_is_written(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    blob_id = hashlib.sha256(b"v1").hexdigest()
    store.add(blob_id, b"v1")
    assert store.get(blob_id) == b"v1" and not (tmp_path / "blobs").exists()
    store.write_pending()
    assert (tmp_path / "blobs" / blob_id).read_bytes() == b"v1"
    assert store.get(blob_id) == b"v1"


def test_a_version_that_cannot_be_written_is_reported_not_raised(tmp_path):
    (tmp_path / "blobs").write_text("a file where the directory should be")
    store = BlobStore(tmp_path / "blobs")
    blob_id = hashlib.sha256(b"v1").hexdigest()
    store.add(blob_id, b"v1")
    store.write_pending()
    assert [entry[0] for entry in store.unwritten] == [blob_id]
    assert store.get(blob_id) is None


async def test_the_recorder_keeps_every_version_a_run_writes(tmp_path):
    contents = ["one\n", "one\ntwo\n", "one\ntwo\nthree\n"]
    session = deep_session(
        *[[("tool", "write_file", {"path": "/notes.md", "content": c})] for c in contents],
        ["written three times"],
    )
    recorder = SessionRecorder(session, root=tmp_path)
    events: list[Event] = []
    await session.run("write notes", lambda event: (recorder.record(event), events.append(event)))
    saved = recorder.close()
    changes = [
        (event["call_id"], change["version"])
        for event in map(json.loads, (saved / "events.jsonl").read_text().splitlines())
        if event["type"] == "files_changed"
        for change in event["changes"]
    ]
    calls = [e.call_id for e in events if e.type == "tool_call_started"]
    assert changes == [(call, hashlib.sha256(c.encode()).hexdigest()) for call, c in zip(calls, contents, strict=True)]
    assert sorted(p.read_text() for p in (saved / "blobs").iterdir()) == sorted(contents)
    assert (saved / "files" / "notes.md").read_text() == contents[-1]


async def test_a_recorder_that_lags_behind_the_run_still_finds_every_version(tmp_path):
    """The events of a whole turn reach the recorder only after it ended: every drain of the workspace has
    happened by then, and each version its events name is still in the store."""
    contents = ["one\n", "one\ntwo\n", "one\ntwo\nthree\n"]
    session = deep_session(
        *[[("tool", "write_file", {"path": "/notes.md", "content": c})] for c in contents],
        ["written three times"],
    )
    recorder = SessionRecorder(session, root=tmp_path)
    events: list[Event] = []
    await session.run("write notes", events.append)
    for event in events:
        recorder.record(event)
    saved = recorder.close()
    named = [change.version for e in events if e.type == "files_changed" for change in e.changes]
    assert named == [hashlib.sha256(c.encode()).hexdigest() for c in contents]
    assert {version: recorder.blobs.get(version) for version in named} == {
        hashlib.sha256(c.encode()).hexdigest(): c.encode() for c in contents
    }
    assert sorted(p.name for p in (saved / "blobs").iterdir()) == sorted(named)
