"""Provider faults through the real OpenAI client, against a local server that misbehaves."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, fake_openai
from test_app import SIZE, shown, submit, until

from deep_tui.agents import open_session
from deep_tui.app import DeepTUI
from deep_tui.cli import build_run_parser
from deep_tui.events import Event, parse_event
from deep_tui.headless import run_headless
from deep_tui.sessions import SessionRecorder
from deep_tui.source import Live, LiveSource
from deep_tui.spec import AgentSpec
from deep_tui.widgets import FileTree, OutputView, TodoList

KEY = "sk-test-not-a-real-key-4f9a2c"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with fake_openai() as running:
        yield running


def headless(server: FakeOpenAI, model: str, *args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=KEY, DEEP_TUI_HOME=str(home))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "deep_tui",
            "run",
            "--json",
            "--model",
            f"openai-chat:{model}",
            *args,
            "plan the garden",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


async def headless_here(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, model: str, home: Path, **options: Any
) -> tuple[int, list[Event]]:
    """What ``deep-tui run --json --model openai-chat:MODEL`` runs, in this process: the same session, the same
    event lines and exit code, the session saved, without starting Python and importing pydantic-ai again."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    session = open_session(AgentSpec(model=f"openai-chat:{model}", **options))
    source = LiveSource(session, SessionRecorder(session, home))
    out = io.StringIO()
    code = await run_headless(source, "plan the garden", out, as_json=True)
    source.close()
    return code, [parse_event(line) for line in out.getvalue().splitlines()]


def test_a_normal_answer_streams_through_the_real_client(server, tmp_path):
    done = headless(server, "normal", home=tmp_path)
    assert done.returncode == 0, done.stderr
    events = [parse_event(line) for line in done.stdout.splitlines()]
    assert events[-1].status == "completed"
    assert (
        "".join(e.text for e in events if e.type == "text_delta")
        == "The garden plan is written to /plan.md with two todos."
    )
    assert [c.path for e in events if e.type == "files_changed" for c in e.changes] == ["/plan.md"]
    assert [t.content for t in [e for e in events if e.type == "todos_changed"][-1].todos] == [
        "Plan the garden",
        "Water it",
    ]


@pytest.mark.parametrize(
    ("model", "options", "error", "requests"),
    [
        ("http500", {}, "ModelServerError: status_code: 500", 3),  # the client's two retries, then the error
        ("http429", {}, "Rate limit reached for requests", 3),
        ("http401", {}, "ModelAuthenticationError: status_code: 401", 1),
        ("cut", {}, "ModelConnectionError", 1),
        ("stall", {"stall_timeout": 1}, "ModelTimeoutError", 1),
        ("malformed", {}, "Failed to decode response as JSON", 1),
    ],
)
async def test_each_fault_is_a_failed_run_with_the_providers_message(
    server, tmp_path, monkeypatch, capfd, caplog, model, options, error, requests
):
    before = server.requests[model]
    code, events = await headless_here(server, monkeypatch, model, tmp_path, **options)
    assert code == 1
    assert "Traceback" not in capfd.readouterr().err + caplog.text
    last = events[-1]
    assert last.type == "run_finished" and last.status == "failed" and error in last.error
    assert server.requests[model] - before == requests


async def test_the_retries_option_is_the_clients_retry_count(server, tmp_path, monkeypatch):
    before = server.requests["http500"]
    code, _ = await headless_here(server, monkeypatch, "http500", tmp_path, retries=0)
    assert code == 1 and server.requests["http500"] - before == 1


def test_the_command_lines_fault_options_reach_the_agent_spec():
    options = build_run_parser().parse_args(["--model", "openai-chat:m", "--retries", "0", "--stall-timeout", "1", "x"])
    spec = AgentSpec.from_options(**vars(options))
    assert (spec.model, spec.retries, spec.stall_timeout) == ("openai-chat:m", 0, 1)


def test_a_key_the_provider_echoes_is_never_shown_or_saved(server, tmp_path):
    """The real command: its exit code, and nothing on stderr, not even a traceback, shows the key."""
    done = headless(server, "http401", home=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Incorrect API key provided: [redacted]" in done.stdout
    assert KEY not in done.stdout + done.stderr
    saved = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in saved} >= {"events.jsonl", "messages.json", "session.json"}
    for path in saved:
        assert KEY.encode() not in path.read_bytes(), path


async def test_the_dashboard_survives_every_fault_and_goes_on(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    app = DeepTUI(Live(AgentSpec(model="openai-chat:normal", stall_timeout=1, retries=0)), prompt="plan the garden")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause(0.3)
        assert app.query_one(FileTree).paths == ["/plan.md"]
        todos = shown(app.query_one(TodoList))
        for fault, message in (
            ("http500", "status_code: 500"),
            ("http429", "Rate limit reached"),
            ("http401", "Incorrect API key provided: [redacted]"),
            ("cut", "Connection error"),
            ("stall", "ModelTimeoutError"),
            ("malformed", "Failed to decode"),
        ):
            turn = app.dashboard.turns
            await submit(pilot, f"try again [{fault}]")
            await until(pilot, lambda turn=turn: app.dashboard.status == "failed" and app.dashboard.turns == turn + 1)
            output = shown(app.query_one(OutputView))
            assert f"> try again [{fault}]" in output and "✗ failed:" in output and message in output
            assert KEY not in output
        await submit(pilot, "and now finish the plan")
        await until(pilot, lambda: app.dashboard.status == "completed" and app.dashboard.turns == 8)
        await pilot.pause(0.3)
        assert "The garden plan is written" in shown(app.query_one(OutputView)).split("> and now finish the plan")[1]
        assert app.query_one(FileTree).paths == ["/plan.md"] and shown(app.query_one(TodoList)) == todos
        assert app.source.session is not None
        prompts = [p.content for m in app.source.session.history for p in m.parts if p.part_kind == "user-prompt"]
        assert prompts[0] == "plan the garden" and prompts[-1] == "and now finish the plan" and len(prompts) == 8
        events = [json.loads(line) for line in (app.source.recorder.path / "events.jsonl").read_text().splitlines()]
        assert [e["status"] for e in events if e["type"] == "run_finished"] == ["completed"] + ["failed"] * 6 + [
            "completed"
        ]
