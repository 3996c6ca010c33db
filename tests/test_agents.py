"""Loading agents: the demo, model strings and the user's own files and modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic_ai import Agent
from pydantic_deep import DeepAgentDeps
from scripted import collect, of_type, text_of

from deep_tui.agents import AgentError, load_agent, open_session
from deep_tui.spec import AgentSpec

HERE = Path(__file__).parent
CUSTOM = HERE / "agents" / "custom.py"


def test_factory_returning_agent_and_deps():
    agent, deps = load_agent(f"{CUSTOM}:build")
    assert isinstance(agent, Agent) and isinstance(deps, DeepAgentDeps)


def test_a_file_is_imported_once_however_many_sessions_load_it():
    first, _ = load_agent(f"{CUSTOM}:plain")
    second, _ = load_agent(f"{CUSTOM}:plain")
    assert first is second and sys.path.count(str(CUSTOM.parent.resolve())) == 1


def test_agent_object_gets_default_deps():
    agent, deps = load_agent(f"{CUSTOM}:plain")
    assert isinstance(agent, Agent) and isinstance(deps, DeepAgentDeps)


def test_module_path_form(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE / "agents"))
    agent, _ = load_agent("forever:agent")
    assert isinstance(agent, Agent)
    sys.modules.pop("forever", None)


def test_the_only_agent_is_found_without_a_name():
    agent, _ = load_agent(str(HERE / "agents" / "forever.py"))
    assert isinstance(agent, Agent)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests/agents/missing.py:agent", "no such file: tests/agents/missing.py"),
        (f"{CUSTOM}:nope", "has no attribute 'nope'; it has broken, build, count_petals, plain"),
        (f"{CUSTOM}:not_an_agent", "is not a pydantic-ai Agent (it is int)"),
        (f"{CUSTOM}:broken", "broken() raised ValueError: the factory needs a config file"),
        ("no_such_module_xyz:agent", "no module named 'no_such_module_xyz'"),
    ],
)
def test_bad_targets_say_what_is_wrong(target, message):
    with pytest.raises(AgentError, match=None) as info:
        load_agent(target)
    assert message in str(info.value)


def test_without_a_name_two_agents_are_ambiguous(tmp_path):
    two = tmp_path / "two.py"
    two.write_text("from pydantic_ai import Agent\na = Agent('test')\nb = Agent('test')\n")
    with pytest.raises(AgentError) as info:
        load_agent(str(two))
    assert "defines 2 Agent objects at top level: name one" in str(info.value)


def test_a_file_that_fails_to_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    with pytest.raises(AgentError) as info:
        load_agent(f"{bad}:agent")
    assert str(info.value).startswith(f"cannot import {bad}: SyntaxError")


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("nonsense-model", "Unknown model: nonsense-model. Use provider:model"),
        ("anthropic:claude-sonnet-4-5", "Set the `ANTHROPIC_API_KEY` environment variable"),
        ("openai-chat:gpt-4o", "Set the `OPENAI_API_KEY` environment variable"),
    ],
)
def test_bad_models_say_what_to_do(model, message):
    with pytest.raises(AgentError) as info:
        open_session(AgentSpec(model=model))
    assert message in str(info.value)


def test_model_from_environment(monkeypatch):
    monkeypatch.setenv("DEEP_TUI_MODEL", "test")
    assert AgentSpec.from_options(model=None, agent=None, demo_speed=1.0).model == "test"
    assert AgentSpec.from_options(model=None, agent="x.py:a", demo_speed=1.0).model is None
    assert AgentSpec.from_options(stress="").model is None


async def test_users_agent_streams_its_todos_files_tools_and_answer():
    session = open_session(AgentSpec(agent=f"{CUSTOM}:build"))
    events = await collect(session, "plan the garden")
    assert [t.content for t in of_type(events, "todos_changed")[-1].todos] == ["Survey the garden", "Plant the tulips"]
    assert [c.path for e in of_type(events, "files_changed") for c in e.changes] == ["/garden/beds.md"]
    assert {e.tool for e in of_type(events, "tool_call_finished")} == {"write_todos", "write_file", "count_petals"}
    assert text_of(events).strip() == "Garden planned: the north bed gets tulips, six petals each."
    assert events[-1].status == "completed" and events[0].agent == f"{CUSTOM}:build"
