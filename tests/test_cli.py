"""The command line, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from deep_tui.events import parse_event

AGENTS = Path(__file__).parent / "agents"


def env(**extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEEP_TUI_MODEL")}
    clean.pop("COLUMNS", None)
    return {**clean, **extra}


def deep_tui(*args: str, stdin: str | None = None, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deep_tui", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(**extra),
    )


def events_of(stdout: str) -> list:
    return [parse_event(line) for line in stdout.splitlines()]


def test_run_json_streams_every_fact_of_a_users_agent():
    done = deep_tui("run", "--json", "--agent", f"{AGENTS}/custom.py:build", "plan the garden")
    assert done.returncode == 0, done.stderr
    events = events_of(done.stdout)
    assert events[0].type == "run_started" and events[-1].type == "run_finished"
    assert events[-1].status == "completed"
    todos = [t.content for e in events if e.type == "todos_changed" for t in e.todos]
    assert {"Survey the garden", "Plant the tulips"} <= set(todos)
    assert [c.path for e in events if e.type == "files_changed" for c in e.changes] == ["/garden/beds.md"]
    assert {e.tool for e in events if e.type == "tool_call_started"} == {"write_todos", "write_file", "count_petals"}
    text = "".join(e.text for e in events if e.type == "text_delta")
    assert text.startswith("Garden ") and text.strip() == "Garden planned: the north bed gets tulips, six petals each."


def test_run_json_keeps_stdout_to_events_when_the_agent_prints():
    done = deep_tui("run", "--json", "--agent", f"{AGENTS}/chatty.py:agent", "hi")
    assert done.returncode == 0
    assert [json.loads(line)["type"] for line in done.stdout.splitlines()][-1] == "run_finished"
    assert "hello from import" in done.stderr and "printing inside the model" in done.stderr


def test_demo_is_the_default_and_prompt_can_come_from_stdin():
    done = deep_tui("run", "--json", "--demo-speed", "0", "-", stdin="build a word counter\n")
    assert done.returncode == 0
    events = events_of(done.stdout)
    assert events[0].agent == "demo" and events[0].prompt == "build a word counter"
    assert events[-1].status == "completed"
    tester = [e for e in events if e.origin is not None]  # the demo's subagent, its events tagged
    assert [e.type for e in tester if e.type.startswith("subagent")] == ["subagent_started", "subagent_finished"]
    assert {e.origin.name for e in tester} == {"tester"} and "tool_call_finished" in {e.type for e in tester}


def test_live_display_ends_with_a_usage_table():
    done = deep_tui("run", "--demo-speed", "0", "build a word counter")
    assert done.returncode == 0
    for word in ("completed", "requests", "tokens in", "tokens out", "tool calls", "cost", "duration"):
        assert word in done.stderr  # stdout is a pipe: it carries the answer alone
    assert "write_file /README.md" in done.stderr
    assert done.stdout.startswith("## Done: Word Counter")


def test_timeout_ends_an_endless_stream():
    done = deep_tui("run", "--json", "--timeout", "2", "--agent", f"{AGENTS}/forever.py:agent", "go")
    assert done.returncode == 3  # an endless agent: only the timeout can have ended it
    last = events_of(done.stdout)[-1]
    assert last.type == "run_finished" and last.status == "timeout"


def test_provider_error_is_a_failed_event_and_exit_1():
    done = deep_tui("run", "--json", "--agent", f"{AGENTS}/failing.py:agent", "go")
    assert done.returncode == 1
    last = events_of(done.stdout)[-1]
    assert last.status == "failed" and "503" in last.error and "overloaded, try again" in last.error
    assert "Traceback" not in done.stderr


def test_interrupt_cancels_with_exit_4():
    proc = subprocess.Popen(
        [sys.executable, "-m", "deep_tui", "run", "--json", "--agent", f"{AGENTS}/forever.py:agent", "go"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if '"text_delta"' in line:
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=20)
    assert proc.returncode == 4, err
    assert events_of(rest)[-1].status == "cancelled"


BAD_INPUT = [
    (["--model", "nonsense-model"], "Unknown model: nonsense-model"),
    (["--model", "anthropic:claude-sonnet-4-5"], "ANTHROPIC_API_KEY"),
    (["--model", "openai-chat:gpt-4o"], "OPENAI_API_KEY"),
    (["--agent", "nowhere/agent.py:agent"], "no such file: nowhere/agent.py"),
    (["--agent", f"{AGENTS}/custom.py:nope"], "has no attribute 'nope'"),
    (["--agent", f"{AGENTS}/custom.py:not_an_agent"], "is not a pydantic-ai Agent"),
    (["--model", "test", "--agent", f"{AGENTS}/custom.py:build"], "give one agent: --model or --agent, not both"),
    (["--stress", "turns=x"], "stress option turns needs a number"),
]

EACH_RUN = """
import json, os, sys, tempfile
from deep_tui import cli
results = []
for args in json.loads(sys.argv[1]):
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        saved = os.dup(1), os.dup(2)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            code = cli.main(["run", *args, "hello"])
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
        out.seek(0)
        err.seek(0)
        results.append([code, out.read().decode(), err.read().decode()])
print(json.dumps(results))
"""


def test_bad_input_is_one_clear_line_and_exit_2():
    """Each case is ``deep-tui run ARGS hello``, with the file descriptors a process has, all in one process: a
    process each spent most of the test importing pydantic-ai and the providers again."""
    done = subprocess.run(
        [sys.executable, "-c", EACH_RUN, json.dumps([args for args, _ in BAD_INPUT])],
        capture_output=True,
        text=True,
        timeout=120,
        env=env(),
    )
    assert done.returncode == 0, done.stderr
    for (args, message), (code, stdout, stderr) in zip(BAD_INPUT, json.loads(done.stdout), strict=True):
        assert code == 2, (args, stderr)
        assert stdout == "", args
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("deep-tui: error: ") and message in lines[0], (args, stderr)


@pytest.mark.parametrize("prompt", ["", "   "])
def test_empty_prompt(prompt):
    done = deep_tui("run", prompt)
    assert done.returncode == 2 and "the prompt is empty" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("prompt", ["hello", "sessions"])
def test_the_dashboard_without_a_terminal_says_so_at_once(prompt):
    done = deep_tui(prompt, stdin="", timeout=30)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "deep-tui: error: the dashboard needs a terminal, and stdin is not one: "
        "deep-tui run PROMPT runs a turn without it (--json for one event per line)"
    ]


def test_version_comes_from_the_package_metadata():
    done = deep_tui("--version")
    assert done.returncode == 0 and done.stdout == f"deep-tui {version('deep-tui')}\n"


def test_an_unknown_theme_lists_the_known_ones():
    done = deep_tui("--theme", "nope")
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("deep-tui: error: unknown theme 'nope': choose one of ")
    assert "nord" in lines[0] and "textual-dark" in lines[0]


@pytest.mark.parametrize(("set_by_user", "frame_rate"), [(None, "240"), ("30", "30")])
def test_the_command_lets_textual_paint_240_frames_a_second_unless_the_user_says(set_by_user, frame_rate):
    """Read by Textual when it is imported, which the command does after this."""
    script = (
        "import contextlib\nfrom deep_tui import cli\n"
        "with contextlib.suppress(SystemExit):\n    cli.main(['--version'])\n"
        "import textual.constants\nprint(textual.constants.MAX_FPS)\n"
    )
    environment = {k: v for k, v in env().items() if k != "TEXTUAL_FPS"}
    if set_by_user is not None:
        environment["TEXTUAL_FPS"] = set_by_user
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == frame_rate
