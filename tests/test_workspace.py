"""Change tracking on the agent's in-memory workspace."""

import hashlib

from deep_tui.workspace import TrackedStateBackend, count_changed_lines


def kinds(backend: TrackedStateBackend) -> list[tuple[str, str]]:
    return [(c.path, c.change) for c in backend.drain_changes()]


def test_create_modify_delete_are_reported_once_per_step():
    files = TrackedStateBackend()
    files.write_bytes("/a.txt", b"1")
    files.write_bytes("b/c.txt", b"2")
    assert kinds(files) == [("/a.txt", "created"), ("/b/c.txt", "created")]
    assert kinds(files) == []
    files.write_bytes("/a.txt", b"1\n2")
    files.write_bytes("/a.txt", b"1\n2\n3")
    assert kinds(files) == [("/a.txt", "modified")]
    files.remove("/a.txt")
    assert kinds(files) == [("/a.txt", "deleted")]


def test_created_then_deleted_in_one_step_is_nothing():
    files = TrackedStateBackend()
    files.write_bytes("/tmp.txt", b"x")
    files.remove("/tmp.txt")
    assert kinds(files) == []


def test_removing_a_directory_reports_each_file():
    files = TrackedStateBackend()
    for name in ("/d/x.py", "/d/sub/y.py", "/other.py"):
        files.write_bytes(name, b"x")
    files.drain_changes()
    files.remove("/d")
    assert sorted(kinds(files)) == [("/d/sub/y.py", "deleted"), ("/d/x.py", "deleted")]


def test_previous_content_is_kept_for_the_viewer_diff():
    files = TrackedStateBackend()
    files.write_bytes("/a.txt", b"old")
    assert "/a.txt" not in files.previous
    files.write_bytes("/a.txt", b"new")
    assert files.previous["/a.txt"] == b"old"


def test_each_change_names_its_version_and_hands_its_bytes_to_whoever_keeps_versions():
    files = TrackedStateBackend()
    kept: list[dict[str, bytes]] = []
    stop = files.keep_versions(lambda versions: kept.append(dict(versions)))
    files.write_bytes("/a.txt", b"draft")
    files.write_bytes("/a.txt", b"final")
    files.write_bytes("/b.txt", b"b")
    a, b = files.drain_changes()
    assert a.version == hashlib.sha256(b"final").hexdigest() and b.version == hashlib.sha256(b"b").hexdigest()
    assert kept == [{a.version: b"final", b.version: b"b"}]
    files.remove("/a.txt")
    (deleted,) = files.drain_changes()
    assert deleted.change == "deleted" and deleted.version is None
    assert len(kept) == 1
    stop()
    files.write_bytes("/c.txt", b"c")
    files.drain_changes()
    assert len(kept) == 1


def test_line_counts():
    assert count_changed_lines(b"a\nb\nc", b"a\nB\nc\nd") == (2, 1)
    assert count_changed_lines(b"", b"x\ny") == (2, 0)
    assert count_changed_lines(b"x" * 300_000, b"y") == (0, 0)


def test_cost_per_step_does_not_depend_on_workspace_size():
    files = TrackedStateBackend()
    for i in range(2000):
        files.write_bytes(f"/many/{i}.txt", b"x")
    files.drain_changes()
    files.write_bytes("/many/new.txt", b"y")
    assert len(files._pending) == 1
    assert kinds(files) == [("/many/new.txt", "created")]
