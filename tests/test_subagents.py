"""Subagents: their own events tagged with where they come from, their start and end, and what they spend.

Every agent here is a real pydantic-deep agent whose subagents pydantic-deep builds, each on a scripted model.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel
from pydantic_ai.toolsets import FunctionToolset
from pydantic_deep import DeepAgentDeps, create_deep_agent
from rich.console import Console
from scripted import Step, collect, of_type, scripted_model, text_of
from test_app import SIZE, shown, submit, until
from test_web import served
from test_web_page import CHROMIUM, browser_tab

from deep_tui import subagents
from deep_tui.agents import QUIET_FEATURES
from deep_tui.app import DeepTUI
from deep_tui.events import (
    Origin,
    RunFinished,
    RunStarted,
    SubagentFinished,
    SubagentStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
    parse_event,
)
from deep_tui.headless import LiveProgress
from deep_tui.runner import Session
from deep_tui.source import Live
from deep_tui.spec import AgentSpec
from deep_tui.widgets import AgentsView, FileTree, OutputView, TodoList, ToolCallLog, UsageBar


async def slow(seconds: float) -> str:
    """A long build."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


def boom(reason: str) -> str:
    """A tool that fails."""
    raise RuntimeError(f"kaboom: {reason}")


def answering(*responses: list[Step]) -> FunctionModel:
    """``scripted_model`` that also answers unstreamed requests, as a subagent nobody streams makes them."""
    streamed = scripted_model(*responses)

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        parts: list[Any] = []
        async for piece in streamed.stream_function(messages, info):  # type: ignore[misc]
            if isinstance(piece, str):
                parts.append(TextPart(piece))
            else:
                delta = next(iter(piece.values()))
                if isinstance(delta, DeltaToolCall):
                    parts.append(ToolCallPart(delta.name, delta.json_args, tool_call_id=delta.tool_call_id))
        return ModelResponse(parts=parts)

    return FunctionModel(respond, stream_function=streamed.stream_function, model_name="scripted")


def subagent(name: str, *responses: list[Step], **config: Any) -> dict[str, Any]:
    """A subagent config: pydantic-deep builds a deep agent for it on a scripted model."""
    return {
        "name": name,
        "description": f"the {name}",
        "instructions": f"You are the {name}.",
        "model": answering(*responses),
        "toolsets": [FunctionToolset([slow, boom])],
        **config,
    }


def delegating(*responses: list[Step], subagents: Sequence[dict[str, Any]]) -> Session:
    agent = create_deep_agent(model=scripted_model(*responses), subagents=list(subagents), **QUIET_FEATURES)
    return Session(agent, DeepAgentDeps(), name="delegating")


def task(description: str, name: str, mode: str = "sync") -> tuple[str, str, dict[str, str]]:
    return ("tool", "task", {"description": description, "subagent_type": name, "mode": mode})


def started_task_id(messages: list[ModelMessage]) -> str:
    """The id of the task the last ``task`` call started in the background, as its result says it."""
    for message in reversed(messages):
        for part in message.parts if isinstance(message, ModelRequest) else ():
            if isinstance(part, ToolReturnPart) and part.tool_name == "task":
                found = re.search(r"Task ID: (\w+)", str(part.content))
                assert found, part.content
                return found.group(1)
    raise AssertionError("no task was started")


WAIT = ("tool", "wait_tasks", lambda messages: {"task_ids": [started_task_id(messages)], "timeout": 5})


def of(events: list[Any], origin: str | None) -> list[Any]:
    """The events of one agent: the main one's (None), or the subagent's with this task id."""
    return [e for e in events if (e.origin.task_id if e.origin else None) == origin]


def one(events: list[Any], kind: str) -> Any:
    found = of_type(events, kind)
    assert len(found) == 1, found
    return found[0]


def assert_well_formed(events: list[Any]) -> None:
    """One order of the turn, every event as it would be saved, every subagent ended before the turn."""
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(b.t >= a.t for a, b in zip(events, events[1:], strict=False))
    assert all(parse_event(e.model_dump_json()) == e for e in events)
    started = [e.task_id for e in of_type(events, "subagent_started")]
    finished = [e.task_id for e in of_type(events, "subagent_finished")]
    assert sorted(started) == sorted(finished) and len(set(started)) == len(started)
    assert events[-1].type == "run_finished"
    for task_id in started:  # a subagent's events come between its start and its end
        own = [e.type for e in of(events, task_id)]
        assert own[0] == "subagent_started" and own[-1] == "subagent_finished", own
    for agent in {None, *started}:  # every call of every agent is closed, by its own stream
        calls = of(events, agent)
        assert {e.call_id for e in of_type(calls, "tool_call_started")} == {
            e.call_id for e in of_type(calls, "tool_call_finished")
        }


# Where events come from -----------------------------------------------------------------------------


async def test_a_sync_subagents_work_is_tagged_with_its_task_and_its_usage_is_counted():
    writer = subagent(
        "writer",
        ["Writing it.", ("tool", "write_file", {"path": "/c.txt", "content": "c"}),
         ("tool", "write_todos", {"todos": [{"content": "Write c", "active_form": "Writing c"}]})],
        ["child done"],
    )  # fmt: skip
    session = delegating([task("write c", "writer")], ["parent done"], subagents=[writer])
    events = await collect(session)
    assert_well_formed(events)

    main = of(events, None)
    call = one(main, "tool_call_started")
    assert call.tool == "task"
    begun = one(events, "subagent_started")
    assert (begun.name, begun.description, begun.mode, begun.parent, begun.call_id) == (
        "writer",
        "write c",
        "sync",
        None,
        call.call_id,
    )
    assert begun.origin.task_id == begun.task_id and begun.origin.name == "writer" and begun.origin.parent is None

    child = of(events, begun.task_id)
    assert text_of(child) == "Writing it.\n\nchild done"
    assert text_of(main) == "parent done" == events[-1].output  # the main answer has none of the child's text
    assert {e.tool: e.outcome for e in of_type(child, "tool_call_finished")} == {
        "write_file": "success",
        "write_todos": "success",
    }
    assert [c.path for e in of_type(child, "files_changed") for c in e.changes] == ["/c.txt"]
    assert [t.content for t in one(child, "todos_changed").todos] == ["Write c"]
    assert not of_type(main, "todos_changed") and session.todos() == []  # the child's todos are its own

    done = one(events, "subagent_finished")
    assert (done.status, done.preview, done.error) == ("completed", "child done", None)
    assert done.usage.requests == 2 and done.usage.tool_calls == 2 and done.usage.input_tokens > 0
    # pydantic-ai counts a subagent's run apart: the run's usage is the parent's (2 requests, 1 call) plus its own.
    assert events[-1].usage.requests == 4 and events[-1].usage.tool_calls == 3
    assert events[-1].usage.output_tokens > done.usage.output_tokens
    assert of_type(events, "usage_updated")[-1].usage == events[-1].usage
    assert events.index(done) < events.index(one(main, "tool_call_finished"))  # it ends before its task call


async def test_a_subagent_of_a_subagent_names_its_parent_task():
    helper = subagent("helper", [("tool", "write_file", {"path": "/gc.txt", "content": "gc"})], ["helper done"])
    writer = subagent("writer", ["Delegating.", task("write gc", "helper")], ["writer done"])
    writer["agent_factory"] = lambda config: create_deep_agent(
        model=config["model"], subagents=[helper], workspace=False, **QUIET_FEATURES
    )
    session = delegating([task("delegate gc", "writer")], ["parent done"], subagents=[writer])
    events = await collect(session)
    assert_well_formed(events)

    first, second = of_type(events, "subagent_started")
    assert (first.name, first.parent, second.name, second.parent) == ("writer", None, "helper", first.task_id)
    writers_task_call = one(of(events, first.task_id), "tool_call_started")
    assert writers_task_call.tool == "task" and second.call_id == writers_task_call.call_id
    grandchild = of(events, second.task_id)
    assert all(e.origin.parent == first.task_id for e in grandchild)
    assert [c.path for e in of_type(grandchild, "files_changed") for c in e.changes] == ["/gc.txt"]
    assert session.files.read_bytes("/gc.txt") == b"gc"  # one workspace for all of them
    assert text_of(grandchild) == "helper done" and text_of(of(events, first.task_id)) == "Delegating.\n\nwriter done"

    ends = {e.name: e for e in of_type(events, "subagent_finished")}
    assert [e.name for e in of_type(events, "subagent_finished")] == ["helper", "writer"]
    assert {e.status for e in ends.values()} == {"completed"}
    assert ends["helper"].usage.requests == 2 and ends["writer"].usage.requests == 2  # each its own
    assert events[-1].usage.requests == 6 and events[-1].usage.tool_calls == 3


async def test_an_async_subagent_streams_beside_its_parent_and_ends_before_the_turn():
    helper = subagent("helper", [("tool", "write_file", {"path": "/bg.txt", "content": "bg"})], ["helper done"])
    session = delegating([task("in the background", "helper", "async")], [WAIT], ["parent done"], subagents=[helper])
    events = await collect(session)
    assert_well_formed(events)

    begun = one(events, "subagent_started")
    assert begun.mode == "async" and begun.parent is None
    assert begun.call_id == of_type(of(events, None), "tool_call_started")[0].call_id
    child = of(events, begun.task_id)
    assert [c.path for e in of_type(child, "files_changed") for c in e.changes] == ["/bg.txt"]
    assert text_of(child) == "helper done" and text_of(of(events, None)) == "parent done"
    done = one(events, "subagent_finished")
    assert done.status == "completed" and done.preview == "helper done" and done.usage.requests == 2
    waited = next(e for e in of_type(events, "tool_call_finished") if e.tool == "wait_tasks")
    assert events.index(done) < events.index(waited)  # wait_tasks returned once it had ended
    assert events[-1].usage.requests == 5 and events[-1].usage.tool_calls == 3


async def test_a_subagent_that_raises_fails_and_its_parent_goes_on():
    broken = subagent("broken", [("tool", "boom", {"reason": "no disk"})], ["never"])
    session = delegating([task("try it", "broken")], ["parent recovered"], subagents=[broken])
    events = await collect(session)
    assert_well_formed(events)

    done = one(events, "subagent_finished")
    assert done.status == "failed" and "kaboom: no disk" in done.error and done.preview == ""
    assert done.usage.requests == 1
    failed = one(of(events, done.task_id), "tool_call_finished")
    assert failed.tool == "boom" and failed.outcome == "failed"
    assert 'raise RuntimeError(f"kaboom: {reason}")' in failed.traceback
    parent_call = one(of(events, None), "tool_call_finished")
    assert parent_call.tool == "task" and parent_call.outcome == "retried"  # the parent's model was told
    assert events[-1].status == "completed" and events[-1].output == "parent recovered"


# Cancel ---------------------------------------------------------------------------------------------

PARENTS: dict[str, list[list[Step]]] = {
    "sync": [[task("build", "builder")], ["never"]],
    "async, waited for": [[task("build", "builder", "async")], [WAIT], ["never"]],
    # The parent ends while its background subagent still runs: the turn stops it.
    "async, left running": [[task("build", "builder", "async")], [("sleep", 0.2), "parent done"]],
}


@pytest.mark.parametrize(
    ("parent", "how"),
    [(parent, how) for parent in list(PARENTS)[:2] for how in ("task", "token")] + [("async, left running", "")],
)
async def test_a_cancel_during_a_subagents_tool_call_leaves_nothing_running(parent, how):
    """``how``: the task running the turn is cancelled, or the session's cancel (the dashboard's) is called."""
    builder = subagent("builder", [("tool", "slow", {"seconds": 30})], ["never"])
    session = delegating(*PARENTS[parent], subagents=[builder])
    tasks_before, threads_before = asyncio.all_tasks(), set(threading.enumerate())
    events: list[Any] = []
    running = asyncio.create_task(session.run("go", events.append))
    while not any(e.type == "tool_call_started" and e.tool == "slow" for e in events):
        await asyncio.sleep(0.005)
        assert not running.done(), events[-1]
    if parent == "async, left running":
        await running  # no cancel: the turn's end stops it
    elif how == "task":
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
    else:
        session.cancel()
        await running
    assert_well_formed(events)
    status = "completed" if parent == "async, left running" else "cancelled"
    assert events[-1].status == status
    done = one(events, "subagent_finished")
    assert done.status == "cancelled" and done.error == "stopped with the turn"
    assert one(of(events, done.task_id), "tool_call_finished").outcome == "cancelled"
    await asyncio.sleep(0.05)
    assert asyncio.all_tasks() - tasks_before == set()
    assert {t.name for t in set(threading.enumerate()) - threads_before} <= {"AnyIO worker thread"}
    session.agent = create_deep_agent(model=scripted_model(["resumed"]), **QUIET_FEATURES)
    again = await collect(session, "continue")
    assert again[-1].status == "completed" and again[-1].output == "resumed", again[-1].error


# The hook -------------------------------------------------------------------------------------------


async def test_the_hook_on_subagent_toolsets_still_works():
    """Fails when a new pydantic-deep or subagents-pydantic-ai moves what deep_tui/subagents.py hooks into."""
    session = delegating([task("note it", "writer")], ["done"], subagents=[subagent("writer", ["noted"])])
    hooked = subagents.install(session.agent)
    events = await collect(session)
    broken = (
        f"deep_tui/subagents.py sets SubAgentToolset.{subagents.HOOK} and reads .{subagents.COMPILED}; with "
        f"{subagents.versions()} it no longer shows a subagent's events. Find the new way to pass an "
        "event_stream_handler_factory to the toolsets pydantic-deep builds."
    )
    assert hooked == 1, broken
    assert of_type(events, "subagent_started") and text_of([e for e in events if e.origin]) == "noted", broken


async def test_without_the_hook_a_run_shows_only_task_calls_and_says_why(caplog):
    session = delegating([task("note it", "writer")], ["done"], subagents=[subagent("writer", ["noted"])])
    for toolset in subagents.subagent_toolsets(session.agent):  # as a release that keeps its factory elsewhere
        del toolset._event_stream_handler_factory
        toolset._resolve_event_stream_handler = lambda ctx, config, task_id: None
    with caplog.at_level(logging.WARNING, logger="deep_tui.subagents"):
        events = await collect(session)
    assert events[-1].status == "completed" and events[-1].output == "done"
    assert [(e.tool, e.outcome) for e in of_type(events, "tool_call_finished")] == [("task", "success")]
    assert one(events, "tool_call_finished").preview.startswith("noted")
    assert not [e for e in events if e.origin] and not of_type(events, "subagent_started")
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert subagents.HOOK in warned and "subagents-pydantic-ai" in warned


async def test_sessions_sharing_an_agent_each_see_only_their_own_subagents():
    """``serve`` can run one user agent in several sessions at once: the hook on its toolset is shared."""
    writer = subagent("writer", [("sleep", 0.05), "noted"])
    first = delegating([task("note it", "writer")], ["done"], subagents=[writer])
    second = Session(first.agent, DeepAgentDeps(), name="delegating")
    one_run, other_run = await asyncio.gather(collect(first), collect(second))
    for events in (one_run, other_run):
        assert_well_formed(events)
        assert len(of_type(events, "subagent_started")) == 1
        assert text_of([e for e in events if e.origin]) == "noted"


def test_a_subagent_event_names_its_origin_in_json():
    line = (
        '{"type": "tool_call_started", "seq": 7, "t": 0.5, "call_id": "c1", "tool": "ls", '
        '"origin": {"task_id": "ab12", "name": "writer", "parent": null}}'
    )
    event = parse_event(line)
    assert event.origin is not None and (event.origin.task_id, event.origin.name) == ("ab12", "writer")


# Views ----------------------------------------------------------------------------------------------


def delegating_to_a_writer() -> Session:
    writer = subagent(
        "writer",
        ["Child text.", ("tool", "write_file", {"path": "/child.txt", "content": "c"}),
         ("tool", "write_todos", {"todos": [{"content": "Child todo", "active_form": "Doing it"}]})],
        ["child done"],
    )  # fmt: skip
    return delegating(
        ["Main text.", ("tool", "write_todos", {"todos": [{"content": "Main todo", "active_form": "Doing it"}]})],
        [task("write it", "writer")],
        ["main done"],
        subagents=[writer],
    )


async def test_the_dashboards_panes_show_the_main_agent_and_the_files_of_all():
    app = DeepTUI(Live(AgentSpec(demo_speed=0, save=False)))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.source is not None)
        app.source.session = delegating_to_a_writer()
        await submit(pilot, "go")
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause(0.4)  # the file tree applies changes a few times a second
        output = shown(app.query_one(OutputView))
        assert "Main text." in output and "main done" in output
        assert "Child text." not in output and "child done" not in output
        log = app.query_one(ToolCallLog)
        # The writer's calls are under its task call, folded once it finished.
        assert [(r.tool, r.depth) for r in log.records] == [
            ("write_todos", 0), ("task", 0), ("write_file", 1), ("write_todos", 1)
        ]  # fmt: skip
        assert [getattr(r, "tool", None) for r in log.rows][-2:] == ["write_todos", "task"]
        todos = shown(app.query_one(TodoList))
        assert "Main todo" in todos and "Child todo" not in todos
        assert app.query_one(FileTree).paths == ["/child.txt"]  # one workspace: the subagent's file is there
        assert "5 requests" in shown(app.query_one(UsageBar))  # 3 of the main agent, 2 of the writer

        agents = app.query_one(AgentsView)
        assert agents.display and "writer" in shown(agents) and "✓" in shown(agents)
        # Enter on the writer drills in: its own output, calls and todos in the same panes; Escape goes back.
        agents.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.dashboard.drilled is not None
        assert "Child text." in shown(app.query_one(OutputView)) and "Main text." not in shown(
            app.query_one(OutputView)
        )
        assert [r.tool for r in app.query_one(ToolCallLog).records] == ["write_file", "write_todos"]
        assert "Child todo" in shown(app.query_one(TodoList))
        assert "writer" in str(app.query_one(OutputView).border_title)
        await pilot.press("escape")
        await pilot.pause()
        assert app.dashboard.drilled is None and app.dashboard.status == "completed"  # back, nothing cancelled
        assert "Main text." in shown(app.query_one(OutputView)) and "Child text." not in shown(
            app.query_one(OutputView)
        )
        # Enter on the task row drills in too.
        log.focus()
        task_row = next(n for n, row in enumerate(log.rows) if getattr(row, "tool", None) == "task")
        await pilot.press("home", *["down"] * task_row, "enter")
        await pilot.pause()
        assert app.dashboard.drilled is not None and "Child text." in shown(app.query_one(OutputView))


def test_the_live_display_has_a_line_per_running_subagent_and_none_of_its_text():
    writer = Origin(task_id="t1", name="writer")
    screen = io.StringIO()
    with LiveProgress(Console(file=screen, width=100)) as view:
        view.show(RunStarted(run_id="r", session_id="s", turn=1, prompt="go", agent="test"))
        view.show(SubagentStarted(origin=writer, task_id="t1", name="writer", description="write it"))
        assert "↳ writer · thinking" in view.spinner.text.plain
        view.show(ToolCallStarted(origin=writer, call_id="c1", tool="write_file", args={"path": "/child.txt"}))
        view.show(TextDelta(origin=writer, text="child text\n"))
        view.show(TextDelta(text="main text\n"))
        assert "↳ writer · write_file /child.txt · 0 s" in view.spinner.text.plain
        view.show(ToolCallFinished(origin=writer, call_id="c1", tool="write_file", outcome="success"))
        view.show(SubagentFinished(origin=writer, task_id="t1", name="writer", status="failed", error="it broke",
                                   duration=1.5, usage=Usage(requests=2)))  # fmt: skip
        assert "writer" not in view.spinner.text.plain
        view.show(RunFinished(status="completed"))
    printed = screen.getvalue()
    assert "main text" in printed and "child text" not in printed and "/child.txt" not in printed
    assert "✗ subagent writer  failed  it broke  1.5 s · 2 requests" in printed


async def test_the_page_lists_subagents_apart_from_the_answer(tmp_path):
    if CHROMIUM is None:
        pytest.skip("needs a headless Chromium")
    with served(AgentSpec(demo_speed=0, save=False)) as web:
        async with browser_tab(web.url, tmp_path) as page:
            await page.start("build a word counter")
            await page.wait("document.body.dataset.status === 'completed'")
            assert not await page.eval("document.getElementById('subagents-panel').hidden")
            line = await page.eval("document.querySelector('#subagents li').innerText")
            assert "tester" in line and "completed" in line and "2 requests" in line
            output = await page.eval("document.getElementById('output').innerText")
            assert "Done: Word Counter" in output and "Writing the tests." not in output
            tools = await page.eval("[...document.querySelectorAll('#tools tr')].map(row => row.cells[1].textContent)")
            assert "task" in tools and len(tools) == 15  # the main agent's calls
            assert "/tests/test_core.py" in await page.eval("document.getElementById('files').innerText")
