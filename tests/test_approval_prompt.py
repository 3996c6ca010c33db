"""Headless ``run`` and gated calls: ``--yes`` approves, a terminal is asked, and with nobody to ask they are denied."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from agents.gated import PLAN
from test_cli import deep_tui, env

from deep_tui.agents import open_session
from deep_tui.approvals import NO_ONE
from deep_tui.events import parse_event
from deep_tui.headless import run_headless
from deep_tui.source import LiveSource
from deep_tui.spec import AgentSpec

AGENTS = Path(__file__).parent / "agents"
INTERRUPTING = f"{AGENTS}/gated.py:interrupting"


async def headless(prompt: str, **options: object) -> tuple[int, list, dict[str, bytes]]:
    session = open_session(AgentSpec(agent=INTERRUPTING, save=False))
    out = io.StringIO()
    code = await run_headless(LiveSource(session), prompt, out, as_json=True, **options)
    files = {path: session.files.read_bytes(path) for path in session.files.files}
    return code, [parse_event(line) for line in out.getvalue().splitlines()], files


async def test_yes_approves_every_call():
    code, events, files = await headless("write two", approve_all=True)
    assert code == 0 and files == {"/notes/plan.md": PLAN.encode(), "/notes/todo.md": b"- one\n"}
    resolved = [(e.decision, e.by, e.reason) for e in events if e.type == "approval_resolved"]
    assert resolved == [("approved", "headless", "--yes")] * 2


async def test_with_no_one_to_ask_every_call_is_denied_and_the_turn_goes_on():
    code, events, files = await headless("write two")
    assert code == 0 and files == {}
    resolved = [(e.decision, e.by, e.reason) for e in events if e.type == "approval_resolved"]
    assert resolved == [("denied", "headless", NO_ONE)] * 2
    finished = events[-1]
    assert finished.status == "completed"
    assert finished.output.count(f"write_file: The user denied this call: {NO_ONE}") == 2  # the model was told


def test_an_unknown_tool_to_approve_is_one_line_and_exit_2():
    done = deep_tui("run", "--no-save", "--agent", f"{AGENTS}/gated.py:deploying", "--approve", "write_file", "go")
    assert done.returncode == 2
    assert done.stderr == "deep-tui: error: --approve: the agent has no tool 'write_file'; its tools: deploy\n"


class Terminal:
    """``deep-tui run`` on a pseudo-terminal that is its stdin, stdout and stderr, typed into as a person would."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "deep_tui", "run", "--no-save", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env(), "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.seen = ""

    def wait_for(self, text: str, times: int = 1, within: float = 60) -> str:
        deadline = time.monotonic() + within
        while self.seen.count(text) < times:
            assert time.monotonic() < deadline, f"{text!r} never came; the terminal shows:\n{self.seen[-2000:]}"
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    self.seen += os.read(self.master, 65536).decode("utf-8", "replace")
                except OSError:  # every writer has closed the terminal
                    break
        return self.seen

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int:
        code = self.proc.wait(timeout=30)
        os.close(self.master)
        return code


def test_on_a_terminal_each_call_is_asked_with_its_diff():
    terminal = Terminal("--agent", INTERRUPTING, "write two")
    try:
        first = terminal.wait_for("Approve write_file?")
        assert "+++ /notes/plan.md" in first and "+# Plan" in first and "+- ask first" in first
        terminal.type("y")
        second = terminal.wait_for("Approve write_file?", times=2)
        assert "+++ /notes/todo.md" in second
        terminal.type("n")
        terminal.wait_for("Reason for the agent")
        terminal.type("not yet")
        shown = terminal.wait_for("tokens in")
    finally:
        code = terminal.close()
    assert code == 0
    assert "approved (headless)" in shown and "denied (headless): not yet" in shown
    assert "results: write_file: Wrote 2 lines to /notes/plan.md | write_file: The user denied this call: not yet" in (
        shown.replace("\r\n", " ").replace("\n", " ")
    )
