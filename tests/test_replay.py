"""`deep-tui replay`: the dashboard on a recording, every pane as it was at the cursor."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot

from deep_tui import cli
from deep_tui.app import DeepTUI
from deep_tui.blobs import BlobStore
from deep_tui.dispatch import EVENT_KINDS
from deep_tui.events import ToolCallFinished
from deep_tui.recording import load
from deep_tui.recording_files import EVENT_TYPES
from deep_tui.screens import replay as replay_screen
from deep_tui.screens.file_history import FileHistory
from deep_tui.screens.file_viewer import FileViewer
from deep_tui.screens.replay import FULL_COLLECTION_EVERY, ReplayScreen
from deep_tui.source import Live, Recorded, RecordingSource
from deep_tui.spec import AgentSpec
from deep_tui.state import fold
from deep_tui.widgets import FileTree, OutputView, StatusBar, TodoList, ToolCallLog, UsageBar
from deep_tui.widgets.timeline_bar import TimelineBar
from tests.event_streams import CORE_VERSIONS, sample_session
from tests.test_app import SIZE, shown, until
from tests.test_file_history import rows, view
from tests.test_sessions import terminal  # noqa: F401 (a fixture: deep-tui in a tmux pane)

MIDDLE = 12
"""After the first write of /src/core.py (its first version) and the todo "write tests" set in progress."""


def saved(directory: Path, events: int | None = None) -> Path:
    """A saved session of the sample run (its first ``events`` events, as if cut off there), with its blobs."""
    directory.mkdir(parents=True)
    kept = sample_session()[:events]
    (directory / "events.jsonl").write_text("".join(e.model_dump_json() + "\n" for e in kept))
    store = BlobStore(directory / "blobs")
    for data in CORE_VERSIONS:
        store.put(data)
    store.write_pending()
    return directory


def replay(directory: Path) -> DeepTUI:
    return DeepTUI(RecordingSource.open(directory))


async def opened(pilot: Pilot) -> ReplayScreen:
    app = pilot.app
    assert isinstance(app, DeepTUI)
    await until(pilot, lambda: app.source is not None and app.dashboard.state is not None)
    await until(pilot, lambda: bool(app.query("#files")))
    screen = app.dashboard
    assert isinstance(screen, ReplayScreen)
    return screen


async def open_file(pilot: Pilot, path: str) -> str:
    tree = pilot.app.query_one(FileTree)
    tree.focus()
    tree.move_cursor(tree._by_path[path])
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, FileViewer))
    content = shown(pilot.app.screen.query_one("#viewer-content"))
    await pilot.press("escape")
    return "\n".join(line[4:].rstrip() for line in content.splitlines())  # without the line numbers


async def test_seeking_to_the_start_the_middle_and_the_end_shows_each_pane_as_it_was(tmp_path):
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        # The start: nothing has happened yet.
        assert screen.position == 0 and screen.status == "idle"
        assert shown(app.query_one(OutputView)).strip() == ""
        assert app.query_one(FileTree).paths == [] and app.query_one(ToolCallLog).records == []
        assert not app.query("#prompt")  # read-only: no prompt
        assert "replay · s1" in shown(app.query_one(StatusBar))

        # The middle: a todo in progress, the file at its first version, the turn running at its own time.
        screen.seek(MIDDLE)
        await until(pilot, lambda: "write tests" in shown(app.query_one(TodoList)))  # its height follows a frame later
        assert screen.status == "running" and screen.step == 3 and screen.elapsed == sample_session()[MIDDLE - 1].t
        todos = shown(app.query_one(TodoList))
        assert "✔ plan the module" in todos and "▶" in todos and "write tests" in todos
        await until(pilot, lambda: app.query_one(FileTree).paths == ["/src/core.py"])  # the tree is applied in batches
        assert [(r.call_id, r.status) for r in app.query_one(ToolCallLog).records] == [("c1", "success")]
        assert "def core():\n    pass" in await open_file(pilot, "/src/core.py")
        bar = app.query_one(TimelineBar)
        assert bar.position == MIDDLE and bar.length == len(sample_session())

        # The end: both turns, the file at its last version, the second turn cancelled.
        screen.seek(len(sample_session()))
        await pilot.pause()
        assert screen.status == "cancelled" and screen.turns == 2
        assert [r.call_id for r in app.query_one(ToolCallLog).records] == ["c1", "c2", "c3", "c4"]
        output = shown(app.query_one(OutputView))
        assert "Done: core written." in output and "■ cancelled after 3.0 s" in output
        assert "return 2" in await open_file(pilot, "/src/core.py")
        assert "3 requests" in shown(app.query_one(UsageBar))

        # Back to the middle: the same panes as going forward.
        screen.seek(MIDDLE)
        await pilot.pause()
        assert [r.call_id for r in app.query_one(ToolCallLog).records] == ["c1"]
        assert "Done: core written." not in shown(app.query_one(OutputView))
        assert "def core():\n    pass" in await open_file(pilot, "/src/core.py")


async def test_the_keys_move_through_the_recording(tmp_path):
    events = sample_session()
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("right", "right", "right")
        assert screen.position == 3
        await pilot.press("left")
        assert screen.position == 2
        await pilot.press("right_square_bracket")  # the next turn's first state
        assert screen.position == 28 and screen.turns == 2
        await pilot.press("left_square_bracket")  # at a turn's start: the start of the one before
        assert screen.position == 1 and screen.turns == 1
        await pilot.press("left_square_bracket")
        assert screen.position == 0
        await pilot.press("end")
        assert screen.position == len(events) and screen.status == "cancelled"
        await pilot.press("home")
        assert screen.position == 0 and screen.status == "idle"
        for _ in range(4):  # 1×, 2×, 5×, 20×, max
            await pilot.press("plus")
        assert app.query_one(TimelineBar).speed == "max"
        await pilot.press("space")
        await until(pilot, lambda: screen.position == len(events))
        assert not screen.playback.playing and screen.status == "cancelled"
        await pilot.press("minus")
        assert app.query_one(TimelineBar).speed == "20×"


async def test_a_frame_of_playback_shows_what_fits_in_its_time_and_the_next_frame_goes_on_from_there(
    tmp_path, monkeypatch
):
    events = sample_session()
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        monkeypatch.setattr(replay_screen, "CHUNK", 4)
        monkeypatch.setattr(replay_screen, "FRAME_WORK", 0.0)  # no time for more than one chunk
        while screen.playback.speed is not None:
            screen.action_speed(1)
        screen.playback.playing = True
        await screen._frame()
        assert screen.position == 4  # max is due hundreds: one chunk was shown, the rest waits
        await screen._frame()
        assert screen.position == 8
        monkeypatch.setattr(replay_screen, "FRAME_WORK", 60.0)
        await screen._frame()
        assert screen.position == len(events)  # time enough: everything due
        assert [task.status for task in screen.state.todos] == [t.status for t in fold(events).todos]


async def test_a_frame_of_playback_adds_its_chunks_and_settles_the_panes_once_after_the_last(tmp_path, monkeypatch):
    """Laying out the panes and setting the status cost ~3 ms whatever the chunk: paid once a frame, not a chunk."""
    events = sample_session()
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        monkeypatch.setattr(replay_screen, "CHUNK", 2)
        monkeypatch.setattr(replay_screen, "FRAME_WORK", 60.0)
        settled: list[int] = []
        settle = screen.settle
        monkeypatch.setattr(screen, "settle", lambda: (settled.append(screen.position), settle()))
        while screen.playback.speed is not None:
            screen.action_speed(1)
        screen.playback.playing = True
        await screen._frame()
        assert settled == [len(events)]  # every chunk added, then one settle
        assert screen.status == fold(events).status and screen.step == fold(events).step
        await screen._frame()
        assert settled == [len(events)]  # nothing more to add: nothing to settle


async def test_a_key_for_the_panes_while_playing_holds_playback_back_for_a_moment(tmp_path, monkeypatch):
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        while screen.playback.speed is not None:
            screen.action_speed(1)
        screen.playback.playing = True
        monkeypatch.setattr(replay_screen, "KEY_FIRST", 60.0)  # the frames below come well within it
        await pilot.press("ctrl+t")
        assert app.focused is app.query_one(TodoList)
        await screen._frame()
        assert screen.position == 0  # the frame after the key showed nothing
        monkeypatch.setattr(replay_screen, "KEY_FIRST", 0.0)  # as if it were long past
        await screen._frame()
        assert screen.position > 0


async def test_a_key_pressed_as_a_frame_of_playback_folds_is_drawn_in_that_frames_paint(tmp_path, monkeypatch):
    """Drawn after the frame's paint, in one of its own, it would come 13-20 ms later while playing at max."""
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("ctrl+l")
        while screen.playback.speed is not None:
            screen.action_speed(1)
        monkeypatch.setattr(replay_screen, "KEY_FIRST", 0.0)
        monkeypatch.setattr(replay_screen, "CHUNK", 4)
        monkeypatch.setattr(replay_screen, "FRAME_WORK", 0.0)  # a chunk a frame: the next frame has more to show
        painted: list[tuple[int, object]] = []  # what each paint drew: the position and the focused pane
        paint = screen._compositor_refresh
        monkeypatch.setattr(
            screen, "_compositor_refresh", lambda: (painted.append((screen.position, app.focused)), paint())
        )
        add = screen.add

        def add_as_the_key_comes(chunk: list) -> None:
            if screen.position == 0:
                key = events.Key("ctrl+t", None)
                key.set_sender(app)
                app._driver.send_message(key)  # as the terminal's input thread hands it over
            add(chunk)

        monkeypatch.setattr(screen, "add", add_as_the_key_comes)
        screen.playback.playing = True
        await screen._frame()
        await pilot.pause()
        todos = app.query_one(TodoList)
        folded = [focused for position, focused in painted if position > 0]
        assert folded and all(focused is todos for focused in folded), painted  # the frame and the key, one paint
        shown = screen.position
        await screen._frame()  # and a frame with no key is painted once folded, by Textual (Pilot would force it)
        for _ in range(100):
            if painted[-1][0] > shown:
                break
            await asyncio.sleep(0.01)
        assert painted[-1][0] > shown


async def test_a_click_on_the_timeline_seeks(tmp_path):
    events = sample_session()
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        bar = app.query_one(TimelineBar)
        before, cells, _ = bar._layout(bar.content_size.width)
        start = sum(part.cell_len for part in before)
        await pilot.click(TimelineBar, offset=(bar.styles.padding.left + start + cells - 1, 0))
        assert screen.position == len(events)
        before, cells, _ = bar._layout(bar.content_size.width)  # the parts beside the bar change with the cursor
        start = sum(part.cell_len for part in before)
        await pilot.click(TimelineBar, offset=(bar.styles.padding.left + start + (cells - 1) // 2, 0))
        assert abs(screen.position - len(events) // 2) <= 1
        assert screen.status == "running"


async def test_a_recording_cut_off_replays_to_its_last_event_and_says_so(tmp_path):
    app = replay(saved(tmp_path / "cut", events=20))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("end")
        assert screen.position == 20 and screen.status == "running"
        assert "the recording ends at event 20 (tool_call_finished" in shown(app.query_one(TimelineBar))
        await pilot.press("home")
        assert "cut off" not in shown(app.query_one(TimelineBar))


async def test_the_keyframes_leave_the_garbage_collectors_sight_once_built_and_come_back_when_the_replay_ends(
    tmp_path,
):
    thresholds = gc.get_threshold()
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await until(pilot, lambda: gc.get_freeze_count() > 0)  # built in a thread, then frozen
        assert screen.timeline.built == len(screen.timeline)
        assert gc.get_threshold() == (*thresholds[:2], FULL_COLLECTION_EVERY)  # full collections made rarer
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds


def test_a_file_that_is_not_a_recording_is_one_line_and_exit_code_2(tmp_path, capsys):
    not_one = tmp_path / "notes.txt"
    not_one.write_text("hello\n")
    assert cli.main(["replay", str(not_one)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert cli.main(["replay", str(tmp_path / "missing")]) == 2


GLANCED = """
import json, sys
from deep_tui import cli
codes = [cli.main(["replay", target]) for target in sys.argv[1:]]
print(json.dumps([codes, sorted({"pydantic", "textual"} & set(sys.modules))]))
"""


def test_what_is_not_a_recording_is_told_in_a_line_before_the_dashboard_or_the_event_models_load(tmp_path):
    files = {
        "notes.txt": "hello\n",
        "other.jsonl": '{"type": "message", "text": "a JSON line, but not an event"}\n',
        "empty.jsonl": "",
        "broken.jsonl": '{"seq": 0, "type": \n',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "no-session").mkdir()
    targets = [*files, "no-session", "missing"]
    done = subprocess.run(
        [sys.executable, "-c", GLANCED, *targets],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        env={**os.environ, "DEEP_TUI_HOME": str(tmp_path)},
    )
    codes, imported = json.loads(done.stdout)
    assert codes == [2] * len(targets) and imported == []
    assert done.stderr.splitlines() == [
        "deep-tui: error: notes.txt is not a deep-tui recording: it does not start with an event",
        "deep-tui: error: other.jsonl is not a deep-tui recording: its first line's type is 'message', not an event's",
        "deep-tui: error: empty.jsonl is not a deep-tui recording: it is empty",
        "deep-tui: error: broken.jsonl is not a deep-tui recording: its first line is not JSON",
        "deep-tui: error: no-session is not a saved session: it has no events.jsonl",
        f"deep-tui: error: no file, directory or saved session 'missing' (saved sessions are in {tmp_path}/sessions)",
    ]


def test_every_kind_of_event_is_known_to_the_glance_at_a_recording():
    assert {kind.model_fields["type"].default for kind in EVENT_KINDS} == EVENT_TYPES


async def test_a_recording_found_is_read_after_the_first_frame_and_shown(tmp_path):
    found = Recorded.find("s1", sessions=saved(tmp_path / "s1").parent)  # by its id
    app = DeepTUI(found)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        assert "replay · s1" in shown(app.query_one(StatusBar)) and screen.position == 0
        await pilot.press("end")
        assert screen.position == len(sample_session()) and screen.status == "cancelled"


def damaged(directory: Path) -> Path:
    """A saved session whose events file has, after the sample run, a line that is not quite an event."""
    events = directory / "events.jsonl"
    events.write_text(events.read_text() + '{"seq":99,"t":1.0,"type":"text_delta"}\n')
    return directory


async def test_a_recording_damaged_past_its_first_line_closes_the_dashboard_with_the_reason(tmp_path):
    lines = len(sample_session()) + 1
    app = DeepTUI(Recorded.find(damaged(saved(tmp_path / "s1"))))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.startup_error is not None)
    assert app.return_code == 2
    assert app.startup_error == (
        f"{tmp_path}/s1/events.jsonl: line {lines} is not a deep-tui event: text_delta.text: Field required"
    )


NOT_QUITE = '{"seq":99,"t":1.0,"type":"text_delta"}'
"""A line that starts as an event does but is not one."""


def damaged_within(directory: Path, line: int, text: str = NOT_QUITE) -> Path:
    """A saved session whose event ``line`` (from 1) is ``text``, not an event."""
    events = directory / "events.jsonl"
    lines = events.read_text().splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    events.write_text("".join(lines))
    return directory


@pytest.mark.parametrize("move", ["end", "play"])
@pytest.mark.parametrize(
    ("text", "why"), [(NOT_QUITE, "text_delta.text: Field required"), ("garbage, not JSON", "Invalid JSON")]
)
async def test_a_recording_damaged_within_replays_up_to_the_damage_and_says_so(tmp_path, move, text, why):
    damage = 20
    app = replay(damaged_within(saved(tmp_path / "s1"), damage, text))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        if move == "end":
            await pilot.press("end")
        else:
            while screen.playback.speed is not None:
                screen.action_speed(1)
            await pilot.press("space")
            await until(pilot, lambda: not screen.playback.playing)
        await until(pilot, lambda: len(screen.timeline) == damage - 1)
        assert screen.position == damage - 1  # the state before the damaged line, every pane with it
        assert screen.state is not None and screen.state.position == damage - 1
        reason = f"{tmp_path}/s1/events.jsonl: line {damage} is damaged: {why}"
        ending = screen.timeline.ending
        assert ending is not None and ending.startswith(reason) and ending.endswith(": the replay ends before it")
        assert app.query_one(TimelineBar).ending == ending
        assert any(str(note.message).startswith(reason) for note in app._notifications)
        await pilot.press("home", "right")
        assert screen.position == 1  # the replay goes on, up to the damage


def test_a_turns_start_that_cannot_be_read_ends_the_timeline_before_it(tmp_path):
    second_turn = next(i for i, e in enumerate(sample_session()) if e.type == "run_started" and e.turn == 2)
    directory = damaged_within(saved(tmp_path / "s1"), second_turn + 1, '{"seq":0,"t":0.0,"type":"run_started"}')
    timeline = RecordingSource.open(directory).timeline
    assert timeline is not None and len(timeline) == second_turn and [m.turn for m in timeline.turns] == [1]
    assert timeline.ending is not None and f"line {second_turn + 1} is damaged" in timeline.ending
    assert timeline.state_at(second_turn).position == second_turn


def test_a_calls_result_is_found_past_a_damaged_line(tmp_path):
    directory = damaged_within(saved(tmp_path / "s1"), len(sample_session()) - 1)
    recording = load(directory)
    finished = [e for e in sample_session() if isinstance(e, ToolCallFinished) and e.size == len(e.preview)]
    assert finished and recording.result(finished[0].call_id) == finished[0].preview


def test_in_a_terminal_a_damaged_recording_is_one_line_once_the_dashboard_closed(tmp_path, terminal):  # noqa: F811
    directory = damaged(saved(tmp_path / "s1"))
    term = terminal("replay", str(directory))
    term.wait_for(term.exited)
    shown_after = [line for line in term.screen().splitlines() if line.strip()]
    line = len(sample_session()) + 1
    reason = f"{directory}/events.jsonl: line {line} is not a deep-tui event: text_delta.text: Field required"
    assert shown_after == [f"deep-tui: error: {reason}"]


async def test_the_file_history_of_a_replay_diffs_two_of_three_versions(tmp_path):
    app = replay(saved(tmp_path / "s1"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        screen.seek(len(sample_session()))
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        tree.move_cursor(tree._by_path["/src/core.py"])
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FileViewer))
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, FileHistory))
        await pilot.pause()
        history = app.screen
        assert len(rows(history)) == 3 and rows(history)[0].startswith("v3")
        await pilot.press("d")  # v3 against v2
        await pilot.pause()
        title, body = view(history)
        assert "v2" in title and "v3" in title
        assert "-    return 1" in body and "+    return 2" in body


async def replayed_to_the_end(directory: Path) -> tuple[str, list[str], bytes | None]:
    """What the replay of a saved session shows at its end: the status, the files, the README's content."""
    app = replay(directory)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("end")
        await pilot.pause()
        assert app.source is not None
        return screen.status, app.query_one(FileTree).paths, app.source.file("/README.md", None)


DEMO_FILES = ["/README.md", "/notes/plan.md", "/src/word_counter/__init__.py", "/src/word_counter/core.py"]


async def test_a_session_the_dashboard_recorded_replays(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEP_TUI_HOME", str(tmp_path))
    app = DeepTUI(Live(AgentSpec(demo_speed=0)), prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        readme = app.source.file("/README.md") if app.source is not None else None
        saved = app.close_session()
    assert saved is not None and readme
    status, paths, replayed_readme = await replayed_to_the_end(saved)
    assert status == "completed" and set(DEMO_FILES) <= set(paths) and replayed_readme == readme


async def test_a_session_deep_tui_run_recorded_replays(tmp_path):
    env = {**os.environ, "DEEP_TUI_HOME": str(tmp_path)}
    run = [sys.executable, "-m", "deep_tui", "run", "--demo-speed", "0", "build a word counter"]
    subprocess.run(run, capture_output=True, env=env, timeout=60, check=True)
    (saved,) = (tmp_path / "sessions").iterdir()
    status, paths, readme = await replayed_to_the_end(saved)
    assert status == "completed" and set(DEMO_FILES) <= set(paths)
    assert readme == (saved / "files" / "README.md").read_bytes()
