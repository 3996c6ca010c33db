"""Steering a running turn: the messages reach the model, in the stream, for every kind of agent."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import ModelMessage, ModelRequest, UserPromptPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel
from pydantic_deep import DeepAgentDeps, create_deep_agent
from pydantic_deep.features.message_queue import MessageQueue
from rich.console import Console
from scripted import of_type, text_of
from test_app import AGENTS, SIZE, shown, submit, until
from textual.widgets import Input

from deep_tui.agents import QUIET_FEATURES, open_session
from deep_tui.app import IDLE_PLACEHOLDER, RUNNING_PLACEHOLDER, DeepTUI
from deep_tui.events import MessageDelivered, MessageQueued, parse_event
from deep_tui.headless import JsonLines, LiveProgress
from deep_tui.runner import Session
from deep_tui.sessions import home
from deep_tui.source import Live
from deep_tui.spec import AgentSpec
from deep_tui.widgets import OutputView, ToolCallLog


def noop() -> str:
    """Does nothing, quickly."""
    return "ok"


def user_texts(messages: list[ModelMessage]) -> list[str]:
    return [
        str(part.content)
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, UserPromptPart)
    ]


class RecordingModel:
    """Answers request 1 with a tool call and every later one with text, recording what each request carried.

    ``during[n]`` runs while request ``n`` (from 1) streams: where a test sends its messages, as a user
    typing during that request would.
    """

    def __init__(self) -> None:
        self.seen: list[list[str]] = []
        self.during: dict[int, Callable[[], object]] = {}

    def model(self) -> FunctionModel:
        async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
            self.seen.append(user_texts(messages))
            number = len(self.seen)
            yield f"request {number} "
            if number in self.during:
                self.during[number]()
            if number == 1:
                yield {1: DeltaToolCall(name="noop", json_args=json.dumps({}), tool_call_id="call_1")}

        return FunctionModel(stream_function=stream, model_name="recording")


def plain_agent(model: FunctionModel) -> Agent[Any, Any]:
    return Agent(model, tools=[noop])


def deep_agent(model: FunctionModel) -> Agent[Any, Any]:
    return create_deep_agent(model=model, tools=[noop], **QUIET_FEATURES)


def deep_agent_with_its_own_queue(model: FunctionModel) -> Agent[Any, Any]:
    return create_deep_agent(model=model, tools=[noop], message_queue=MessageQueue(), **QUIET_FEATURES)


async def run_turn(session: Session, prompt: str = "go") -> list[Any]:
    events: list[Any] = []
    await session.run(prompt, events.append)
    return events


@pytest.mark.parametrize("build", [plain_agent, deep_agent, deep_agent_with_its_own_queue])
async def test_a_steer_reaches_the_next_request_and_a_follow_up_the_one_after_the_agent_would_stop(build):
    recording = RecordingModel()
    session = Session(build(recording.model()), DeepAgentDeps(), name="recording")
    sent: list[str | None] = []
    recording.during[1] = lambda: sent.extend([session.steer("use tabs"), session.follow_up("then add tests")])

    events = await run_turn(session)

    assert len(sent) == 2 and all(sent)
    assert recording.seen == [
        ["go"],  # request 1: the messages were sent while it streamed
        ["go", "[steering] use tabs"],  # request 2, the next one, carries the steer; it answers with no tool call
        ["go", "[steering] use tabs", "then add tests"],  # so the agent would stop: the follow-up goes on
    ]
    assert text_of(events).split() == ["request", "1", "request", "2", "request", "3"]
    assert events[-1].status == "completed" and events[-1].output == "request 3 "
    assert user_texts(session.history) == ["go", "[steering] use tabs", "then add tests"]  # kept for the next turn


async def test_the_stream_says_when_each_message_was_queued_and_when_the_model_read_it():
    recording = RecordingModel()
    session = Session(deep_agent(recording.model()), DeepAgentDeps(), name="recording")
    ids: list[str | None] = []
    recording.during[1] = lambda: ids.extend([session.steer("use tabs"), session.follow_up("then add tests")])

    events = await run_turn(session)

    order = [
        (e.type, getattr(e, "node", None) or getattr(e, "kind", None) or e.text.strip())
        for e in events
        if e.type in ("node_entered", "message_queued", "message_delivered", "text_delta")
    ]
    assert order == [
        ("node_entered", "UserPromptNode"),
        ("node_entered", "ModelRequestNode"),
        ("text_delta", "request 1"),
        ("message_queued", "steer"),
        ("message_queued", "follow_up"),
        ("node_entered", "CallToolsNode"),
        ("node_entered", "ModelRequestNode"),
        ("message_delivered", "steer"),
        ("text_delta", "request 2"),
        ("node_entered", "CallToolsNode"),
        ("node_entered", "ModelRequestNode"),
        ("message_delivered", "follow_up"),
        ("text_delta", "request 3"),
        ("node_entered", "CallToolsNode"),
        ("node_entered", "End"),
    ]
    queued, delivered = of_type(events, "message_queued"), of_type(events, "message_delivered")
    assert [(e.message_id, e.kind, e.text) for e in queued] == [
        (ids[0], "steer", "use tabs"),
        (ids[1], "follow_up", "then add tests"),
    ]
    assert [(e.message_id, e.kind, e.text) for e in delivered] == [(e.message_id, e.kind, e.text) for e in queued]
    steps = {e.step: e.node for e in of_type(events, "node_entered")}
    assert [(e.step, steps[e.step]) for e in delivered] == [(4, "ModelRequestNode"), (6, "ModelRequestNode")]
    assert [e.seq for e in events] == list(range(len(events)))
    for event in queued + delivered:
        assert isinstance(event, (MessageQueued, MessageDelivered))
        assert parse_event(event.model_dump_json()) == event


async def test_a_secret_in_a_message_is_masked_in_the_events_but_reaches_the_model(monkeypatch):
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-9f8e7d6c5b4a")
    recording = RecordingModel()
    session = Session(plain_agent(recording.model()), DeepAgentDeps(), name="recording")
    recording.during[1] = lambda: session.steer("deploy with tok-9f8e7d6c5b4a")

    events = await run_turn(session)

    assert recording.seen[1] == ["go", "[steering] deploy with tok-9f8e7d6c5b4a"]
    for event in of_type(events, "message_queued") + of_type(events, "message_delivered"):
        assert event.text == "deploy with [redacted]"
    assert not any("tok-9f8e7d6c5b4a" in event.model_dump_json() for event in events)


async def test_no_message_is_taken_outside_a_turn_nor_once_the_turn_has_made_its_last_request():
    recording = RecordingModel()
    session = Session(plain_agent(recording.model()), DeepAgentDeps(), name="recording")
    assert not session.accepts_messages and session.steer("too early") is None

    taken: list[tuple[str | None, str | None]] = []
    events: list[Any] = []

    def sink(event: Any) -> None:
        events.append(event)
        if event.type == "node_entered" and event.node == "End":  # the answer is final: nothing more is sent
            taken.append((session.steer("too late"), session.follow_up("too late")))

    await session.run("go", sink)

    assert taken == [(None, None)]
    assert not of_type(events, "message_queued") and events[-1].status == "completed"
    assert "too late" not in user_texts(session.history) and len(recording.seen) == 2
    assert not session.accepts_messages and session.follow_up("after the turn") is None


async def test_a_turn_being_cancelled_takes_no_message_and_one_queued_before_is_not_delivered():
    recording = RecordingModel()
    session = Session(plain_agent(recording.model()), DeepAgentDeps(), name="recording")
    results: list[str | None] = []

    def steer_then_cancel() -> None:
        results.append(session.steer("queued before the cancel"))
        session.cancel()
        results.append(session.steer("sent while cancelling"))

    recording.during[1] = steer_then_cancel

    events = await run_turn(session)

    assert results[0] is not None and results[1] is None
    assert events[-1].status == "cancelled" and len(recording.seen) == 1
    assert [e.text for e in of_type(events, "message_queued")] == ["queued before the cancel"]
    assert not of_type(events, "message_delivered")


async def test_messages_reach_a_running_turn_from_another_task_as_the_dashboard_sends_them():
    """The dashboard calls ``steer`` from its own handlers, between the runner's awaits."""
    started, release = asyncio.Event(), asyncio.Event()
    seen: list[list[str]] = []

    async def wait_here() -> str:
        """Waits until released."""
        started.set()
        await release.wait()
        return "released"

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        seen.append(user_texts(messages))
        if len(seen) == 1:
            yield {0: DeltaToolCall(name="wait_here", json_args="{}", tool_call_id="w")}
        else:
            yield "done"

    agent = Agent(FunctionModel(stream_function=stream, model_name="waiting"), tools=[wait_here])
    session = Session(agent, DeepAgentDeps(), name="waiting")
    events: list[Any] = []
    turn = asyncio.ensure_future(session.run("go", events.append))
    await started.wait()
    assert session.accepts_messages and session.steer("while the tool runs")
    release.set()
    await turn

    assert seen == [["go"], ["go", "[steering] while the tool runs"]]
    assert [e.step for e in of_type(events, "message_delivered")] == [4]
    assert events[-1].output == "done"


async def test_the_demo_says_it_heard_a_steer_and_carries_on_with_its_plan():
    session = open_session(AgentSpec(demo_speed=0))
    events: list[Any] = []

    def sink(event: Any) -> None:
        events.append(event)
        if event.type == "tool_call_started" and not of_type(events, "message_queued"):
            session.steer("use tabs")

    await session.run("build a word counter", sink)

    delivered = [e.type for e in events].index("message_delivered")
    assert text_of(events[delivered:]).lstrip().startswith("Noted: “use tabs”")
    assert "stopped" not in text_of(events)  # a steer is not a cancelled turn
    finished = events[-1]
    assert finished.status == "completed" and "Done: Word Counter" in finished.output
    assert finished.usage.tool_calls == 16  # the whole plan, once (15 calls, and 1 by the tester subagent)


def test_the_headless_views_show_or_pass_on_the_message_events():
    queued = MessageQueued(seq=3, t=0.5, message_id="m1", kind="follow_up", text="then add tests")
    delivered = MessageDelivered(seq=9, t=1.5, message_id="m1", kind="follow_up", text="then add tests", step=6)
    screen = io.StringIO()
    with LiveProgress(Console(file=screen, width=100)) as view:
        view.show(queued)
        view.show(delivered)
    assert screen.getvalue().count("then add tests") == 1 and "↳ you (follow-up): then add tests" in screen.getvalue()
    lines = io.StringIO()
    jsonl = JsonLines(lines, on_closed=lambda: None)
    jsonl.show(queued)
    jsonl.show(delivered)
    assert [parse_event(line) for line in lines.getvalue().splitlines()] == [queued, delivered]


# The dashboard ----------------------------------------------------------------------------------------

STEERABLE = f"{AGENTS}/steerable.py:agent"


def running(app: DeepTUI, tool: str) -> bool:
    return any(r.tool == tool and r.status == "running" for r in app.query_one(ToolCallLog).records)


def lines_in_order(text: str, *expected: str) -> bool:
    """Whether each expected piece is on a line of ``text`` after the previous one's."""
    lines = text.splitlines()
    at = 0
    for piece in expected:
        at = next((i for i in range(at, len(lines)) if piece in lines[i]), -1) + 1
        if not at:
            return False
    return True


async def test_enter_while_the_agent_runs_steers_it_and_the_output_shows_where_it_read_the_message():
    app = DeepTUI(Live(AgentSpec(agent=STEERABLE)), prompt="wait")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: running(app, "wait_for_user"))
        prompt = app.query_one("#prompt", Input)
        assert prompt.placeholder == RUNNING_PLACEHOLDER

        await submit(pilot, "use tabs")
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause()

        output = shown(app.query_one(OutputView))
        assert lines_in_order(output, "> wait", "↳ you (steer): use tabs", "heard: use tabs"), output
        assert prompt.value == "" and prompt.placeholder == IDLE_PLACEHOLDER
        assert app.source.session is not None
        recorded = (home() / "sessions" / app.source.session.id / "events.jsonl").read_text()
        kinds = [parse_event(line).type for line in recorded.splitlines()]
        assert kinds.index("message_queued") < kinds.index("message_delivered") < kinds.index("run_finished")


async def test_the_follow_up_key_sends_a_message_the_agent_gets_when_it_would_stop():
    app = DeepTUI(Live(AgentSpec(agent=STEERABLE)), prompt="wait")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: running(app, "wait_for_user"))
        assert "Send the prompt as a follow-up" in [c.title for c in app.get_system_commands(app.screen)]
        app.query_one("#prompt", Input).focus()
        await pilot.press(*"add tests", "ctrl+f")
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.pause()

        output = shown(app.query_one(OutputView))
        assert lines_in_order(output, "done waiting", "↳ you (follow-up): add tests", "heard: add tests"), output
        assert "↳ you (follow-up): add tests\n\nheard: add tests" in output  # one blank line, as between blocks
        assert app.dashboard.turns == 1  # the same turn went on


async def test_a_turn_that_cannot_take_a_message_offers_to_run_it_as_the_next_turn(tmp_path):
    marker = tmp_path / "rolled-back"
    app = DeepTUI(Live(AgentSpec(agent=STEERABLE)), prompt=f"roll out {marker}")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: running(app, "roll_out"))
        await pilot.press("escape")
        assert app.dashboard.status == "cancelling"  # the tool rolls back until the marker exists

        await submit(pilot, "try again")
        prompt = app.query_one("#prompt", Input)
        assert prompt.value == "try again"  # refused, kept, and offered
        await pilot.press("enter")
        assert prompt.value == ""
        marker.touch()

        await until(pilot, lambda: app.dashboard.turns == 2 and app.dashboard.status == "completed")
        await pilot.pause()
        output = shown(app.query_one(OutputView))
        assert lines_in_order(output, "■ cancelled after", "turn 2  > try again", "heard: try again"), output


async def test_a_message_the_turn_ended_before_reading_is_said_so_and_put_back_in_the_prompt(tmp_path):
    marker = tmp_path / "rolled-back"
    app = DeepTUI(Live(AgentSpec(agent=STEERABLE)), prompt=f"roll out {marker}")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: running(app, "roll_out"))
        await submit(pilot, "use tabs")
        prompt = app.query_one("#prompt", Input)
        assert prompt.value == ""
        await pilot.press("escape")
        marker.touch()
        await until(pilot, lambda: app.dashboard.status == "cancelled")
        await pilot.pause()

        output = shown(app.query_one(OutputView))
        assert "✗ not delivered, the turn ended first: use tabs" in output and "↳ you" not in output
        assert prompt.value == "use tabs"
