"""Nothing is lost: the session on disk after a quit, a signal or a kill, from the real command in a terminal;
and whatever a file name, a disk or a thousand runs do to saving."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pydantic_deep import DeepAgentDeps, Todo
from scripted import deep_session, plain_session
from test_app import SIZE, submit, until
from textual.widgets._toast import Toast

from deep_tui.app import STUCK_GRACE, DeepTUI
from deep_tui.demo import Topic, readme
from deep_tui.events import TextDelta, parse_event
from deep_tui.runner import Session
from deep_tui.sessions import WRITER_THREAD, SessionRecorder
from deep_tui.source import Live
from deep_tui.spec import AgentSpec

ROOT = Path(__file__).parent.parent


class Terminal:
    """deep-tui in a tmux pane of its own, the way a user runs it."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.home = tmp_path / "home"
        self.name = f"deep-tui-test-{os.getpid()}-{time.monotonic_ns()}"
        # A tmux server of its own: a shared server exits when its last session is killed, and a test starting
        # in that instant fails with "server exited unexpectedly".
        self.tmux = ["tmux", "-S", str(tmp_path / f"{time.monotonic_ns()}.tmux")]
        pidfile = tmp_path / "pid"
        pidfile.unlink(missing_ok=True)  # a test may open several terminals
        command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "deep_tui", *args))
        # The pane's shell sets what matters itself, whatever environment tmux hands it.
        setup = f"unset COLUMNS LINES; export DEEP_TUI_HOME={shlex.quote(str(self.home))}; cd {shlex.quote(str(ROOT))}"
        # The shell stays after deep-tui exits, so what it prints then stays on the screen.
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", "200", "-y", "50",
                        f"{setup}; echo $$ > {pidfile}; {command}; sleep 60"], check=True)  # fmt: skip
        self.wait_for(lambda: pidfile.exists() and pidfile.read_text().strip())
        shell = pidfile.read_text().strip()
        self.wait_for(lambda: subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.strip())
        self.pid = int(subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()[0])

    def screen(self) -> str:
        shown = subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True)
        return shown.stdout

    def wait_for(self, condition, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; the screen shows:\n{self.screen()}")
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.tmux, "send-keys", "-t", self.name, *keys], check=True)

    def exited(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        return False

    def session_dir(self) -> Path:
        sessions = list((self.home / "sessions").iterdir())
        assert len(sessions) == 1
        return sessions[0]

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], check=False)


@pytest.fixture
def terminal(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("needs tmux for a real terminal")
    opened: list[Terminal] = []

    def open_terminal(*args: str) -> Terminal:
        opened.append(Terminal(tmp_path, *args))
        return opened[-1]

    yield open_terminal
    for each in opened:
        each.close()


def events_in(path: Path) -> list:
    return [parse_event(line) for line in (path / "events.jsonl").read_text().splitlines()]


def test_quitting_after_a_demo_run_leaves_its_files_on_disk(terminal):
    term = terminal("--demo-speed", "0", "build a word counter")
    term.wait_for(lambda: "● completed" in term.screen())
    term.keys("C-q")
    term.wait_for(term.exited)
    saved = term.session_dir()
    term.wait_for(lambda: f"session saved in {saved}" in term.screen().replace("\n", ""))
    files = saved / "files"
    assert sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file()) == [
        "README.md", "notes/plan.md", "src/word_counter/__init__.py", "src/word_counter/core.py",
        "tests/test_core.py",
    ]  # fmt: skip
    assert (files / "README.md").read_text() == readme(Topic.of("build a word counter"))
    assert "if not line.strip():" in (files / "src/word_counter/core.py").read_text()
    document = json.loads((saved / "workspace.json").read_text())
    for path, content in document["files"].items():
        assert (files / path.lstrip("/")).read_text() == content["text"]
    todos = json.loads((saved / "todos.json").read_text())
    assert len(todos) == 5 and {t["status"] for t in todos} == {"completed"}
    messages = json.loads((saved / "messages.json").read_text())
    assert messages[0]["parts"][-1]["content"] == "build a word counter"
    events = events_in(saved)
    assert events[0].type == "run_started" and events[-1].type == "run_finished" and events[-1].status == "completed"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_mid_run_saves_the_session(terminal, signum):
    term = terminal("--agent", str(ROOT / "tests" / "agents" / "slow.py:streaming"), "go slowly")
    term.wait_for(lambda: "slow5" in term.screen())
    os.kill(term.pid, signum)
    term.wait_for(term.exited)
    saved = term.session_dir()
    assert (saved / "files" / "before.txt").read_text() == "written before"
    statuses = [e.status for e in events_in(saved) if e.type == "run_finished"]
    assert statuses == ["cancelled"]


def test_closing_the_terminal_mid_run_ends_the_app_and_keeps_the_session(terminal):
    """A hang-up with the terminal gone: nothing can be drawn any more, so nothing may wait on drawing."""
    term = terminal("--agent", str(ROOT / "tests" / "agents" / "slow.py:streaming"), "go slowly")
    term.wait_for(lambda: "slow5" in term.screen())
    term.close()  # tmux closes the pane's terminal and sends SIGHUP
    term.wait_for(term.exited, seconds=10)
    saved = term.session_dir()
    assert (saved / "files" / "before.txt").read_text() == "written before"
    assert [e.status for e in events_in(saved) if e.type == "run_finished"] == ["cancelled"]


@pytest.mark.slow
def test_closing_the_terminal_of_a_stuck_app_still_ends_it_and_keeps_the_session(terminal, tmp_path):
    """An agent's tool blocks the event loop, so the app cannot handle the hang-up itself.

    SIGTERM takes the same path; tests/test_signals.py checks it on a stuck loop.
    """
    marker = tmp_path / "frozen"
    term = terminal("--agent", str(ROOT / "tests" / "agents" / "slow.py:frozen"), str(marker))
    term.wait_for(marker.exists)
    term.close()
    term.wait_for(term.exited, seconds=STUCK_GRACE + 10)  # the tool would block for two minutes
    files = term.session_dir() / "files"
    assert (files / "before.txt").read_text() == "written before"


@pytest.mark.slow
def test_closing_the_terminal_at_startup_leaves_no_process_behind(terminal):
    """Textual's shutdown used to block on writes to the vanished terminal about half the time here."""
    for delay in (0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4):  # the hang needed the close at the wrong moment
        term = terminal()
        term.wait_for(lambda term=term: "deep-tui ·" in term.screen())
        time.sleep(delay)
        term.close()
        term.wait_for(term.exited, seconds=10)


def test_kill_9_keeps_every_event_up_to_the_last(terminal):
    term = terminal("--agent", str(ROOT / "tests" / "agents" / "slow.py:streaming"), "go slowly")
    term.wait_for(lambda: "slow20" in term.screen())
    os.kill(term.pid, signal.SIGKILL)
    term.wait_for(term.exited)
    events = events_in(term.session_dir())  # every line parses: none was half-written
    assert events[0].type == "run_started"
    streamed = "".join(e.text for e in events if e.type == "text_delta")
    assert re.search(r"slow1 slow2 .*slow19 ", streamed)
    assert [c.path for e in events if e.type == "files_changed" for c in e.changes] == ["/before.txt"]


def test_headless_runs_save_unless_asked_not_to(tmp_path):
    env = {**os.environ, "DEEP_TUI_HOME": str(tmp_path)}
    run = [sys.executable, "-m", "deep_tui", "run", "--demo-speed", "0", "build a word counter"]
    done = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60)
    saved = next((tmp_path / "sessions").iterdir())
    assert f"deep-tui: session saved in {saved}" in done.stderr
    assert (saved / "files" / "README.md").read_text() == readme(Topic.of("build a word counter"))
    subprocess.run([*run, "--no-save"], capture_output=True, text=True, env=env, timeout=60, check=True)
    assert len(list((tmp_path / "sessions").iterdir())) == 1


# Saving goes on whatever one file, one save or the disk does ----------------------------------------


async def recorded_turn(session: Session, recorder: SessionRecorder, prompt: str = "go") -> list:
    events = []
    async for event in session.events(prompt):
        recorder.record(event)
        events.append(event)
    return events


def saved_json(path: Path, name: str):
    return json.loads((path / name).read_text(encoding="utf-8"))


async def test_a_nul_in_a_path_is_listed_and_the_rest_is_saved(tmp_path):
    session = deep_session([("tool", "write_file", {"path": "/a\x00b.txt", "content": "nul"}),
                            ("tool", "write_file", {"path": "/ok.txt", "content": "fine"})], ["done"])  # fmt: skip
    recorder = SessionRecorder(session, tmp_path)
    events = await recorded_turn(session, recorder)
    saved = recorder.close()
    assert events[-1].status == "completed" and recorder.problems == []
    assert saved_json(saved, "session.json")["not_in_files_dir"] == ["/a\x00b.txt"]
    assert (saved / "files" / "ok.txt").read_text() == "fine"
    assert saved_json(saved, "workspace.json")["files"]["/a\x00b.txt"] == {"text": "nul"}
    assert saved_json(saved, "messages.json") and saved_json(saved, "todos.json") == []
    # Nothing half-written is left behind (file versions in blobs/ are another test's subject).
    assert sorted(p.name for p in saved.iterdir() if p.name != "blobs") == [
        "events.jsonl", "files", "messages.json", "session.json", "todos.json", "workspace.json"
    ]  # fmt: skip


async def test_lone_surrogates_in_paths_results_and_todos_neither_fail_the_run_nor_the_save(tmp_path):
    """``\\ud800`` no file system can take; ``\\udcff`` is how Python reads a name that is not UTF-8."""

    def odd_names() -> str:
        """Writes files whose names are not UTF-8 and a todo that is not either."""
        session.files.write_bytes("/bad\ud800.txt", b"one")
        session.files.write_bytes("/raw\udcff.txt", b"two")
        session.files.write_bytes("/ok.txt", b"three")
        session.deps.todos.append(Todo(content="fix \ud800", status="pending", active_form="fixing \ud800"))
        return "made \ud800 and \udcff"

    # A bare pydantic-ai agent: pydantic-deep's stuck-loop check cannot hash a result holding a lone surrogate.
    session = plain_session([("tool", "odd_names", {})], ["done"], tools=[odd_names])
    recorder = SessionRecorder(session, tmp_path)
    events = await recorded_turn(session, recorder)
    saved = recorder.close()
    assert events[-1].status == "completed" and recorder.problems == []
    lines = (saved / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert [parse_event(line) for line in lines] == events  # every event could be printed, streamed and saved
    changed = sorted(c.path for e in events if e.type == "files_changed" for c in e.changes)
    assert changed == ["/bad\ufffd.txt", "/ok.txt", "/raw\ufffd.txt"]
    assert next(e for e in events if e.type == "tool_call_finished").preview == "made \ufffd and \ufffd"
    assert [t.content for e in events if e.type == "todos_changed" for t in e.todos] == ["fix \ufffd"]
    # On disk nothing is lost: JSON keeps a lone surrogate as its escape, and the name Python read is written back.
    assert saved_json(saved, "session.json")["not_in_files_dir"] == ["/bad\ud800.txt"]
    assert set(saved_json(saved, "workspace.json")["files"]) == {"/bad\ud800.txt", "/raw\udcff.txt", "/ok.txt"}
    assert (saved / "files" / os.fsdecode(b"raw\xff.txt")).read_bytes() == b"two"
    assert saved_json(saved, "todos.json")[0]["content"] == "fix \ud800"
    assert "made \ud800 and \udcff" in (saved / "messages.json").read_text(encoding="utf-8").encode().decode(
        "unicode_escape"
    )


def swap_for_a_file(directory: Path) -> Path:
    """Put a regular file where ``directory`` was (root ignores chmod, not this); returns where it went."""
    aside = directory.with_name(directory.name + ".aside")
    directory.rename(aside)
    directory.write_text("not a directory")
    return aside


async def test_a_save_that_fails_is_reported_and_later_saves_still_run(tmp_path):
    session = deep_session([("tool", "write_file", {"path": "/a.txt", "content": "a"})], ["done"])
    reported: list[str] = []
    recorder = SessionRecorder(session, tmp_path, on_error=reported.append)
    await recorded_turn(session, recorder)
    aside = swap_for_a_file(recorder.path)
    recorder.save()
    for _ in range(400):  # the save runs on the writer thread
        if reported:
            break
        await asyncio.sleep(0.025)
    assert reported == recorder.problems and len(reported) == 1
    assert "saving failed" in reported[0] and "NotADirectoryError" in reported[0]
    recorder.path.unlink()
    aside.rename(recorder.path)
    assert not (recorder.path / "session.json").exists()
    await recorded_turn(session, recorder, "more")
    saved = recorder.close()  # a later save works
    assert len(reported) == 1 and saved_json(saved, "session.json")["turns"] == 2
    assert (saved / "files" / "a.txt").read_text() == "a"
    assert [e.turn for e in events_in(saved) if e.type == "run_started"] == [1, 2]  # events went on all along


async def test_events_that_cannot_be_written_are_reported_once_and_never_stop_the_run(tmp_path):
    session = deep_session(["a fine answer"])
    directory = tmp_path / "sessions" / session.id
    directory.mkdir(parents=True)
    (directory / "events.jsonl").symlink_to("/dev/full")  # every write: "No space left on device"
    reported: list[str] = []
    recorder = SessionRecorder(session, tmp_path, on_error=reported.append)
    events = await recorded_turn(session, recorder)
    recorder.record(TextDelta(text="\ud800 from a source other than the runner"))
    recorder.close()
    assert events[-1].status == "completed"
    assert len(reported) == 1 and "events are not being saved" in reported[0] and "No space left" in reported[0]
    assert saved_json(directory, "session.json")["turns"] == 1  # the rest is saved all the same


async def test_an_event_the_runner_did_not_clean_is_still_saved(tmp_path):
    session = deep_session(["x"])
    recorder = SessionRecorder(session, tmp_path)
    recorder.record(TextDelta(text="a \ud800 b"))
    saved = recorder.close()
    assert events_in(saved) == [TextDelta(text="a \ufffd b")] and recorder.problems == []


def test_run_says_what_was_not_saved_instead_of_saved(tmp_path):
    """Monkeypatched: every JSON document's write raises OSError, as a full disk would."""
    script = (
        "import sys, deep_tui.sessions as s\n"
        "def full(self, name, chunks): raise OSError(28, 'No space left on device')\n"
        "s.SessionRecorder._replace = full\n"
        "from deep_tui.cli import main\n"
        "sys.exit(main(['run', '--demo-speed', '0', 'build a word counter']))\n"
    )
    env = {**os.environ, "DEEP_TUI_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0
    assert "session saved in" not in done.stderr
    assert "was not saved in full" in done.stderr and "No space left on device" in done.stderr
    saved = next((tmp_path / "sessions").iterdir())
    assert (saved / "files" / "README.md").exists()  # the files themselves were written


async def test_the_dashboard_shows_a_failed_save():
    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: app.source is not None and app.source.recorder is not None)
        swap_for_a_file(app.source.recorder.path)
        await submit(pilot, "build a word counter")
        await until(pilot, lambda: any("saving failed" in str(t.render()) for t in app.screen.query(Toast)))


async def test_one_writer_thread_saves_for_every_recorder(tmp_path):
    agent = deep_session(["x"]).agent
    sessions = [Session(agent, DeepAgentDeps(), name="many") for _ in range(50)]
    for each in sessions:
        each.files.write_bytes("/f.txt", each.id.encode())
    recorders = [SessionRecorder(each, tmp_path) for each in sessions]
    for recorder in recorders:
        recorder.save()
    assert [t.name for t in threading.enumerate()].count(WRITER_THREAD) == 1
    for recorder in recorders:
        saved = recorder.close()  # waits for this session's own last save
        assert (saved / "files" / "f.txt").read_text() == recorder.session.id
        assert saved_json(saved, "session.json")["files"] == 1


async def test_saved_sessions_are_private(tmp_path):
    session = deep_session([("tool", "write_file", {"path": "/src/pkg/a.py", "content": "a"})], ["done"])
    previous = os.umask(0o022)
    try:
        recorder = SessionRecorder(session, tmp_path)
        await recorded_turn(session, recorder)
        saved = recorder.close()
    finally:
        os.umask(previous)
    everything = [tmp_path / "sessions", *saved.parent.rglob("*")]
    assert {p.relative_to(tmp_path).as_posix() for p in everything if stat.S_IMODE(p.stat().st_mode) != (
        0o700 if p.is_dir() else 0o600)} == set()  # fmt: skip
    assert {p.name for p in everything if p.is_dir()} >= {"sessions", saved.name, "files", "src", "pkg"}
    assert not [p for p in saved.iterdir() if p.name.endswith(".tmp")]
