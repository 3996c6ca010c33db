"""A file's history: every version with what made it, any one opened, any two diffed, driven by keys."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import pytest
from agents.escapes import ESCAPES
from test_app import footer
from textual.app import App
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable

from deep_tui.blobs import BlobStore
from deep_tui.events import Event, FileChange, FilesChanged, RunStarted, ToolCallStarted
from deep_tui.screens.file_history import FileHistory
from deep_tui.screens.file_text import VIEW_LIMIT
from deep_tui.screens.file_viewer import FileViewer
from deep_tui.sessions import SessionRecorder
from deep_tui.state import FileRecord, RunState, fold
from tests.event_streams import STARTED_AT, Stream, version
from tests.scripted import deep_session

PATH = "/src/core.py"
CONTENTS = [
    "def core():\n    pass\n",
    "def core():\n    return 1\n",
    "def core():\n    return 1\n\n\ndef more():\n    return 2\n",
]
SIZE = (120, 36)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Written:
    """A real run that wrote ``PATH`` three times, folded; its versions kept in a real store."""

    def __init__(self, state: RunState, blobs: BlobStore) -> None:
        self.state = state
        self.blobs = blobs
        self.record = state.files[PATH]
        self.calls = {call.call_id: call.tool for call in state.calls}

    def read(self, path: str, version: str | None) -> bytes | None:
        return self.blobs.get(version) if version is not None else None


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    session = deep_session(
        *[[("tool", "write_file", {"path": PATH, "content": c})] for c in CONTENTS], ["core written three times"]
    )
    recorder = SessionRecorder(session, root=tmp_path_factory.mktemp("sessions"))
    events: list[Event] = []

    def record(event: Event) -> None:
        recorder.record(event)
        events.append(event)

    asyncio.run(session.run("write core", record))
    saved = recorder.close()
    return Written(fold(events), BlobStore(saved / "blobs"))


class Host(App[None]):
    """An app with nothing but the screen under test over it."""

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.first = screen

    def on_mount(self) -> None:
        self.push_screen(self.first)


def painted(screen: Screen) -> str:
    """Every line the screen's visible widgets paint, scrolled into view or not."""
    lines = []
    for widget in screen.walk_children(Widget):
        if widget.display and widget.outer_size.area and all(a.display for a in widget.ancestors_with_self):
            strips = widget.render_lines(Region(0, 0, *widget.outer_size))
            lines += ["".join(segment.text for segment in strip).rstrip() for strip in strips]
    return "\n".join(lines)


def drawn(widget: Widget) -> str:
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


def rows(screen: FileHistory) -> list[str]:
    """The version list as drawn, one line per version, newest first (the header left out)."""
    table = screen.query_one(DataTable)
    lines = [strip.text for strip in table.render_lines(Region(0, 0, *table.outer_size))]
    return [" ".join(line.split()) for line in lines[1 : 1 + table.row_count]]


def view(screen: FileHistory) -> tuple[str, list[str]]:
    """The opened version or diff: its title (one line however it wraps) and its body's lines, all of them."""
    title = " ".join(drawn(screen.query_one("#history-view-title")).split())
    body = screen.query_one("#history-view-body")
    strips = body.render_lines(Region(0, 0, body.outer_size.width, body.virtual_size.height))
    return title, [strip.text[1:].rstrip() for strip in strips]  # less the padding


async def until(pilot: Pilot, condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never became true")


def clock(at: float | None) -> str:
    assert at is not None
    return time.strftime("%H:%M:%S", time.localtime(at))


async def opened(pilot: Pilot) -> FileHistory:
    await until(pilot, lambda: isinstance(pilot.app.screen, FileHistory))
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, FileHistory)
    return screen


async def test_the_list_shows_every_version_newest_first_with_what_made_it(written: Written):
    versions = written.record.versions
    calls = [call for call in written.state.calls if call.tool == "write_file"]
    assert [v.call_id for v in versions] == [call.call_id for call in calls]
    async with Host(FileHistory(written.record, written.read, written.calls)).run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        shown = rows(screen)
        assert len(shown) == 3
        for line, number in zip(shown, (3, 2, 1), strict=True):
            made = versions[number - 1]
            assert made.turn == 1 and made.step > 0
            assert line.startswith(
                f"v{number} 1 {made.step} write_file {made.call_id} {clock(made.at)} {len(CONTENTS[number - 1])} B"
            ), line
        assert [v.step for v in versions] == sorted({v.step for v in versions})  # each write its own step
        assert shown[2].endswith("+2 −0") and shown[1].endswith("+1 −1") and shown[0].endswith("+4 −0")
        assert "/src/core.py 3 versions" in " ".join(painted(screen).split())
        assert footer(screen) == {"back": "esc Back", "select_cursor": "⏎ Open", "diff": "d Diff", "mark": "m Mark"}


async def test_enter_opens_a_version_and_escape_goes_back_one_level_at_a_time(written: Written):
    async with Host(FileHistory(written.record, written.read, written.calls)).run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("down", "down", "enter")  # v1, the oldest, is the last row
        await pilot.pause()
        first = written.record.versions[0]
        title, body = view(screen)
        assert title == f"v1 (turn 1 · step {first.step} · write_file {first.call_id} · {clock(first.at)} · 21 B)"
        shown = "\n".join(body)
        assert "def core():" in shown and "pass" in shown and "return" not in shown
        assert not screen.query_one(DataTable).display and screen.query_one("#history-view").has_focus
        assert set(footer(screen)) == {"back"}
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen and screen.query_one(DataTable).has_focus and rows(screen)[0].startswith("v3")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, FileHistory)


async def test_d_diffs_the_highlighted_version_against_the_one_before(written: Written):
    async with Host(FileHistory(written.record, written.read, written.calls)).run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("d")  # on v3, the newest, where the cursor starts
        await pilot.pause()
        title, shown = view(screen)
        assert title.startswith("v2 (turn 1") and " → v3 (turn 1" in title
        assert "--- a/src/core.py (v2)" in shown and "+++ b/src/core.py (v3)" in shown
        assert {"+def more():", "+    return 2"} <= set(shown)
        assert not any(line.startswith("-") and not line.startswith("---") for line in shown)
        await pilot.press("escape", "down", "down", "d")  # v1 against no file: all of it added
        await pilot.pause()
        title, shown = view(screen)
        assert title.startswith("no file → v1") and "--- /dev/null" in shown and "+    pass" in shown


async def test_m_marks_a_version_and_d_on_another_diffs_the_two(written: Written):
    async with Host(FileHistory(written.record, written.read, written.calls)).run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("down", "down", "m")
        await pilot.pause()
        assert rows(screen)[2].startswith("● v1") and "v1 marked" in painted(screen)
        await pilot.press("up", "up", "d")
        await pilot.pause()
        title, shown = view(screen)
        assert title.startswith("v1 (turn 1") and " → v3 (turn 1" in title
        assert "--- a/src/core.py (v1)" in shown and "+++ b/src/core.py (v3)" in shown
        assert {"-    pass", "+    return 1", "+def more():"} <= set(shown)
        await pilot.press("escape")
        await pilot.pause()
        assert not rows(screen)[2].startswith("●")  # a mark is used once
        await pilot.press("d")
        await pilot.pause()
        assert "--- a/src/core.py (v2)" in view(screen)[1]


async def test_a_version_whose_bytes_are_not_kept_says_so_in_one_line(written: Written):
    lost = written.record.versions[1].version
    assert lost is not None

    def read(path: str, version: str | None) -> bytes | None:
        return None if version == lost else written.read(path, version)

    async with Host(FileHistory(written.record, read, written.calls)).run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        message = f"The content of v2 ({lost[:12]}…) was not kept in this session."
        await pilot.press("down", "enter")
        await pilot.pause()
        assert view(screen)[1] == [message]
        await pilot.press("escape", "up", "d")  # v2 → v3: one side is missing
        await pilot.pause()
        assert view(screen)[1] == [message]
        await pilot.press("escape", "down", "down", "d")  # v1 is kept
        await pilot.pause()
        assert "+    pass" in view(screen)[1]


def hostile_history() -> tuple[FileRecord, dict[str, bytes]]:
    """A file, its path markup and escapes, written by a tool with escapes in its name, then deleted."""
    path = f"/notes/plan[b]{ESCAPES}.md"
    contents = [f"line one {ESCAPES}\r\n[bold]two[/bold]\n".encode(), f"line one {ESCAPES}\n".encode()]
    s = Stream()
    s.add(RunStarted, run_id="r1", session_id="s", turn=1, prompt="go", agent="a", started_at=STARTED_AT)
    for number, data in enumerate(contents):
        call_id = f"call[b]{ESCAPES}{number}"
        s.add(ToolCallStarted, call_id=call_id, tool=f"write[i]{ESCAPES}", args={"path": path})
        change = FileChange(
            path=path, change="modified" if number else "created", size=len(data), version=version(data)
        )
        s.add(FilesChanged, changes=[change], call_id=call_id)
    s.add(FilesChanged, changes=[FileChange(path=path, change="deleted", size=0)], call_id=None)
    state = fold(s.events)
    return state.files[path], {version(data): data for data in contents}


async def test_file_text_paths_tools_and_call_ids_never_reach_the_terminal_raw():
    record, blobs = hostile_history()
    calls = {f"call[b]{ESCAPES}{n}": f"write[i]{ESCAPES}" for n in range(2)}
    screen = FileHistory(record, lambda path, v: blobs.get(v or ""), calls)
    async with Host(screen).run_test(size=(200, 40)) as pilot:
        await opened(pilot)
        listed = painted(screen)
        assert not RAW.search(listed)
        assert "plan[b]␛]0;title␇" in listed and "write[i]␛]0;title␇" in listed and "deleted" in listed
        assert rows(screen)[0].startswith("v3 1 0 — ") and rows(screen)[0].endswith("deleted")
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        title, body = view(screen)
        shown = "\n".join([title, *body])
        assert not RAW.search(shown) and "write[i]␛]0;title␇" in title
        assert "line one ␛]0;title␇ ␛[2J" in shown and "[bold]two[/bold]" in shown and "␍" not in shown
        await pilot.press("escape", "up", "d")
        await pilot.pause()
        title, body = view(screen)
        assert not RAW.search(title + "\n".join(body)) and "-[bold]two[/bold]" in body
        await pilot.press("escape", "up", "enter")
        await pilot.pause()
        assert view(screen)[1] == ["v3 deleted the file."]
        await pilot.press("escape", "d")
        await pilot.pause()
        assert "+++ /dev/null" in view(screen)[1]
        assert not RAW.search(pilot.app.export_screenshot())


async def test_h_in_the_file_viewer_opens_the_history_when_it_has_one(written: Written):
    content = CONTENTS[-1].encode()
    viewer = FileViewer(
        PATH, content, CONTENTS[1].encode(), record=written.record, read=written.read, calls=written.calls
    )
    async with Host(viewer).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pilot.app.screen is viewer)
        await pilot.pause()
        assert "h History" in footer(viewer).values()
        assert "3 versions" in drawn(viewer.query_one("#viewer-title"))
        await pilot.press("h")
        screen = await opened(pilot)
        assert len(rows(screen)) == 3
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is viewer


async def test_a_viewer_made_without_a_history_offers_none():
    viewer = FileViewer(PATH, b"x = 1\n", None)
    async with Host(viewer).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pilot.app.screen is viewer)
        await pilot.pause()
        assert "history" not in footer(viewer)
        await pilot.press("h")
        await pilot.pause()
        assert pilot.app.screen is viewer


def test_the_store_of_the_run_holds_every_version(written: Written):
    assert [written.read(PATH, v.version) for v in written.record.versions] == [c.encode() for c in CONTENTS]


async def test_a_text_file_cut_mid_character_at_the_view_limit_is_still_shown_as_text():
    data = b"x" + "é".encode() * (VIEW_LIMIT // 2)  # the limit falls inside the last "é" shown
    viewer = FileViewer("/notes.txt", data, None)
    async with Host(viewer).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pilot.app.screen is viewer)
        await pilot.pause()
        shown = drawn(viewer.query_one("#viewer-content"))
        assert "Binary" not in shown and "xéé" in shown
