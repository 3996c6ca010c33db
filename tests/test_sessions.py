"""Nothing is lost: the session on disk after a quit, a signal or a kill, from the real command in a terminal."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deep_tui.app import STUCK_GRACE
from deep_tui.demo import Topic, readme
from deep_tui.events import parse_event

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux for a real terminal")
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
