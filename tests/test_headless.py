"""Headless ``run`` without ``--json``: the answer alone on a redirected stdout, rendered on a terminal,
and no agent escape reaching either."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from agents.escapes import ANSWER, ESCAPES, LONG_LINE
from rich.console import Console
from scripted import collect

from deep_tui.agents import open_session
from deep_tui.events import RunFinished, RunStarted, TextDelta, parse_event
from deep_tui.headless import AnswerOnly, LiveProgress
from deep_tui.markdown_blocks import MarkdownBlocks
from deep_tui.spec import AgentSpec

AGENTS = Path(__file__).parent / "agents"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Every control character but newline and tab."""
SHOWN = "␛]0;title␇ ␛[2J ␛]52;c;aGk=␇ \\x9b31m \\x9d0;t␇"
"""``ESCAPES`` as the user sees it."""
RICH_CSI = re.compile(r"\x1b\[\??[0-9;]*[mAKGhl]")
"""The sequences Rich itself writes to a terminal: colours, cursor up, erase line, cursor shown or hidden."""
PROMPT = "build a word counter"


def env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEEP_TUI_MODEL")}
    keep.pop("COLUMNS", None)
    return {**keep, "TERM": "xterm-256color"}


def run_to_file(tmp_path: Path, *args: str) -> tuple[bytes, str]:
    """``deep-tui run ARGS`` with stdout and stderr redirected to files, as ``> out 2> err`` does."""
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "deep_tui", "run", "--no-save", *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=env(),
            timeout=60,
        )
    assert done.returncode == 0, err.read_text()
    return out.read_bytes(), err.read_text(encoding="utf-8")


def run_in_terminal(*args: str, timeout: float = 60) -> str:
    """``deep-tui run ARGS`` in a 120×40 pseudo-terminal (stdout and stderr): everything it wrote there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "deep_tui", "run", "--no-save", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env(),
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer has closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        os.close(master)
    return b"".join(chunks).decode("utf-8")


def screen_of(output: str) -> list[str]:
    """The lines a terminal shows after ``output``, scrollback included: a terminal just big enough for what
    Rich writes (text, CR, LF, cursor up, erase line; colours and the cursor's visibility change no text)."""
    lines, row, col = [""], 0, 0
    for token in re.findall(r"\x1b\[\??[0-9;]*[A-Za-z]|\r|\n|[^\x1b\r\n]+", output):
        if token == "\r":
            col = 0
        elif token == "\n":
            row, col = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif token == "\x1b[2K":
            lines[row] = ""
        elif token.startswith("\x1b[") and token.endswith("A"):
            row = max(row - int(token[2:-1] or 1), 0)
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    return [line.rstrip() for line in lines]


async def test_a_redirected_stdout_carries_the_answer_as_the_model_wrote_it(tmp_path):
    events = await collect(open_session(AgentSpec(demo_speed=0, save=False)), PROMPT)
    answer = events[-1].output
    long_lines = [line for line in answer.splitlines() if len(line) > 80]
    assert long_lines  # the demo's answer has a line no 80-column console would keep whole

    stdout, stderr = run_to_file(tmp_path, "--demo-speed", "0", PROMPT)
    assert stdout.decode("utf-8") == answer
    assert "\x1b" not in stdout.decode("utf-8")
    for line in long_lines:
        assert line.encode() in stdout.splitlines()
    for progress in ("deep-tui · demo", "write_file /README.md", "completed", "tokens in", "duration"):
        assert progress in stderr and progress.encode() not in stdout


def test_an_answer_without_a_final_newline_gets_one_and_nothing_else():
    out, progress = io.StringIO(), io.StringIO()
    with AnswerOnly(out, LiveProgress(Console(file=progress))) as view:
        view.show(RunStarted(run_id="r", session_id="s", turn=1, prompt="go", agent="test"))
        view.show(TextDelta(text="thinking aloud\n"))
        view.show(RunFinished(status="completed", output=f"no newline {ESCAPES}"))
    assert out.getvalue() == f"no newline {SHOWN}\n"
    assert "thinking aloud" in progress.getvalue() and "completed" in progress.getvalue()


def test_streamed_markdown_is_cut_after_blank_lines_outside_code_fences():
    source = "# Title\n\npara one\nstill one\n\n```\ncode\n\nmore code\n```\n\nlast"
    blocks, text, finished = MarkdownBlocks(), "", []
    for start in range(0, len(source), 3):
        text += source[start : start + 3]
        end = blocks.cut(text)
        if end:
            finished.append(text[:end])
            text = text[end:]
    assert finished == ["# Title\n\n", "para one\nstill one\n\n", "```\ncode\n\nmore code\n```\n\n"]
    assert text == "last"


def test_warnings_and_escapes_stay_out_of_a_redirected_stdout(tmp_path):
    stdout, stderr = run_to_file(tmp_path, "--agent", f"{AGENTS}/escapes.py:build", f"go {ESCAPES}")
    text = stdout.decode("utf-8")
    assert text == ANSWER.replace(ESCAPES, SHOWN)  # the answer, made visible, and nothing else
    assert LONG_LINE.strip() in text.splitlines()
    assert "CostTracking: failed to resolve price" in stderr  # the agent's warning went to stderr
    assert not RAW.search(stderr), repr(RAW.findall(stderr))
    for field in (f"go {SHOWN}", f"Thinking {SHOWN}", f"Planning {SHOWN}", f"lookup topic {SHOWN}"):
        assert field in stderr


def test_json_lines_escape_every_control_and_read_back_exactly(tmp_path):
    stdout, _ = run_to_file(tmp_path, "--json", "--agent", f"{AGENTS}/escapes.py:build", f"go {ESCAPES}")
    lines = stdout.decode("utf-8")
    assert not RAW.search(lines), repr(RAW.findall(lines))  # JSON escapes C0 itself; C1 and DEL are escaped too
    events = [parse_event(line) for line in lines.splitlines()]
    assert events[0].prompt == f"go {ESCAPES}" and events[-1].output == ANSWER


def test_on_a_terminal_the_answer_is_rendered_markdown():
    screen = "\n".join(screen_of(run_in_terminal("--demo-speed", "0", PROMPT)))
    assert "Done: Word Counter" in screen and "## Done" not in screen
    assert "Planned the work as five todos" in screen and "**Planned**" not in screen
    assert "tokens in" in screen


def test_no_agent_escape_reaches_the_terminal():
    shown = run_in_terminal("--agent", f"{AGENTS}/escapes.py:build", f"go {ESCAPES}")
    plain = RICH_CSI.sub("", shown).replace("\r", "")  # the terminal itself turns \n into \r\n
    assert "\x1b[2J" not in shown and "\x1b]" not in shown
    assert not RAW.search(plain), repr(RAW.findall(plain))
    for field in ("Report ␛]0;title␇", f"go {SHOWN}", "Thinking ␛]0;title␇", "lookup topic ␛]0;title␇"):
        assert field in plain
