"""Approvals in the runner: which calls wait for a person, how they are decided, and what the model is told."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai import Agent
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel
from pydantic_deep import DeepAgentDeps, create_deep_agent
from scripted import of_type, scripted_model

from deep_tui.agents import QUIET_FEATURES, AgentError, open_session
from deep_tui.approvals import AlwaysRule, ApprovalError, ApprovalPolicy, Approvals, NotWaiting
from deep_tui.events import ApprovalRequested, Event, parse_event
from deep_tui.runner import Session
from deep_tui.spec import AgentSpec
from deep_tui.subagent_gate import GatedSubagent, compiled_subagents
from deep_tui.workspace import TrackedStateBackend

AGENTS = Path(__file__).parent / "agents"

Decide = Callable[[Session, ApprovalRequested], object]


async def drive(session: Session, prompt: str = "go", decide: Decide | None = None, **kwargs: Any) -> list[Event]:
    """One turn's events; ``decide`` answers each call that waits, just after it asks (as a view would)."""
    loop = asyncio.get_running_loop()
    events: list[Event] = []

    def answer(event: ApprovalRequested) -> None:
        if decide is not None and any(w.call_id == event.call_id for w in session.approvals.waiting()):
            decide(session, event)

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, ApprovalRequested):
            loop.call_soon(answer, event)

    await session.run(prompt, sink, **kwargs)
    return events


def approve(session: Session, event: ApprovalRequested) -> None:
    session.approve(event.call_id, True)


def write(path: str, content: str) -> tuple[str, str, dict[str, str]]:
    return ("tool", "write_file", {"path": path, "content": content})


def gated_session(*responses: list[Any], policy: ApprovalPolicy | None = None, **agent: Any) -> Session:
    model = scripted_model(*responses)
    return Session(
        create_deep_agent(model=model, **QUIET_FEATURES, **agent), DeepAgentDeps(), name="t", approvals=policy
    )


def results(session: Session, tool: str) -> list[tuple[str, str]]:
    """What the model was told each call of ``tool`` returned: (outcome, content)."""
    return [
        (part.outcome, str(part.content))
        for message in session.history
        if isinstance(message, ModelRequest)
        for part in message.parts
        if isinstance(part, ToolReturnPart) and part.tool_name == tool
    ]


def files(session: Session) -> dict[str, str]:
    return {path: session.files.read_bytes(path).decode() for path in session.files.files}


INTERRUPT = {"interrupt_on": {"write_file": True}}


# The agent's own approvals (interrupt_on), answered inline ----------------------------------------------


async def test_interrupt_on_approved_writes_and_the_turn_goes_on():
    session = gated_session([write("/a.md", "# A\n")], ["written"], **INTERRUPT)
    events = await drive(session, decide=approve)
    requested = of_type(events, "approval_requested")
    assert [(e.tool, e.args["path"], e.preview_kind) for e in requested] == [("write_file", "/a.md", "diff")]
    assert requested[0].preview == "--- /dev/null\n+++ /a.md\n@@ -0,0 +1 @@\n+# A\n"
    resolved = of_type(events, "approval_resolved")
    assert [(e.call_id, e.decision, e.by) for e in resolved] == [(requested[0].call_id, "approved", "key")]
    assert files(session) == {"/a.md": "# A\n"}
    finished = events[-1]
    assert finished.status == "completed" and finished.output == "written"  # not DeferredToolRequests(...)
    kinds = [e.type for e in events]
    assert kinds.index("approval_requested") < kinds.index("approval_resolved") < kinds.index("tool_call_finished")
    assert [e.outcome for e in of_type(events, "tool_call_finished")] == ["success"]
    for event in events:  # recorded and streamed like every event
        assert parse_event(event.model_dump_json()) == event


async def test_a_denial_tells_the_model_the_reason_and_writes_nothing():
    session = gated_session([write("/a.md", "# A\n")], ["ok"], **INTERRUPT)

    def deny(session: Session, event: ApprovalRequested) -> None:
        session.approve(event.call_id, False, reason="not in /a, use /docs")

    events = await drive(session, decide=deny)
    assert files(session) == {}
    assert results(session, "write_file") == [("denied", "The user denied this call: not in /a, use /docs")]
    (resolved,) = of_type(events, "approval_resolved")
    assert (resolved.decision, resolved.reason, resolved.by) == ("denied", "not in /a, use /docs", "key")
    assert [e.outcome for e in of_type(events, "tool_call_finished")] == ["denied"]
    assert events[-1].status == "completed"


async def test_an_edit_runs_the_call_with_the_new_arguments():
    session = gated_session([write("/a.md", "# A\n")], ["ok"], **INTERRUPT)
    edited = {"path": "/docs/a.md", "content": "# A, reviewed\n"}

    def edit(session: Session, event: ApprovalRequested) -> None:
        assert session.approve(event.call_id, True, args=edited) == "edited"

    events = await drive(session, decide=edit)
    assert files(session) == {"/docs/a.md": "# A, reviewed\n"}
    (resolved,) = of_type(events, "approval_resolved")
    assert (resolved.decision, resolved.args) == ("edited", edited)


async def test_a_call_is_answered_once():
    session = gated_session([write("/a.md", "A")], ["ok"], **INTERRUPT)
    refused: list[str] = []

    def twice(session: Session, event: ApprovalRequested) -> None:
        session.approve(event.call_id, True)
        for again in (True, False):
            with pytest.raises(NotWaiting):
                session.approve(event.call_id, again)
        with pytest.raises(NotWaiting):
            session.approve("never-asked", True)
        refused.append(event.call_id)

    events = await drive(session, decide=twice)
    assert refused and len(of_type(events, "approval_resolved")) == 1


# deep-tui's own gating: --approve ----------------------------------------------------------------------


def deploy(target: str) -> str:
    """Deploy the service."""
    return f"deployed {target}"


async def test_approve_gates_a_custom_tool_of_a_plain_agent():
    agent = Agent(scripted_model([("tool", "deploy", {"target": "prod"})], ["done"]), tools=[deploy])
    session = Session(agent, DeepAgentDeps(), name="plain", approvals=ApprovalPolicy.parse("deploy"))

    def staging(session: Session, event: ApprovalRequested) -> None:
        assert (event.tool, event.args, event.preview_kind) == ("deploy", {"target": "prod"}, "args")
        session.approve(event.call_id, True, args={"target": "staging"})

    events = await drive(session, decide=staging)
    assert results(session, "deploy") == [("success", "deployed staging")]
    assert events[-1].status == "completed"
    # Without --approve the same agent runs it unasked.
    plain = Session(agent, DeepAgentDeps(), name="plain")
    assert not of_type(await drive(plain), "approval_requested")
    assert results(plain, "deploy") == [("success", "deployed prod")]


def test_approve_names_are_checked_against_the_agents_tools():
    with pytest.raises(AgentError, match=r"no tool 'write_file'; its tools: deploy$"):
        open_session(AgentSpec(agent=f"{AGENTS}/gated.py:deploying", approve="write_file"))
    session = open_session(AgentSpec(agent=f"{AGENTS}/gated.py:deploying", approve="deploy", approval_timeout=3))
    assert session.approvals.policy == ApprovalPolicy(tools=frozenset({"deploy"}), timeout=3)
    with pytest.raises(AgentError, match="alone"):
        open_session(AgentSpec(demo_speed=0, approve="none,write_file"))


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        (None, ApprovalPolicy()),
        ("none", ApprovalPolicy(extend=False)),
        ("write_file, execute,", ApprovalPolicy(tools=frozenset({"write_file", "execute"}))),
    ],
)
def test_approve_option(text: str | None, policy: ApprovalPolicy):
    assert ApprovalPolicy.parse(text) == policy


@pytest.mark.parametrize("text", ["", ",", "write file", "none,x"])
def test_approve_option_refuses(text: str):
    with pytest.raises(ApprovalError):
        ApprovalPolicy.parse(text)


# Several calls, rules, time-out and cancel ---------------------------------------------------------------


async def test_parallel_calls_wait_in_order_and_are_answered_in_order():
    session = gated_session([write("/1.md", "1"), write("/2.md", "2"), write("/3.md", "3")], ["ok"], **INTERRUPT)
    seen: list[list[str]] = []

    def oldest_first(session: Session, event: ApprovalRequested) -> None:
        waiting = session.approvals.waiting()
        if len(waiting) < 3:
            return  # the three of one response ask together, before any is answered
        while waiting:
            seen.append([w.args["path"] for w in waiting])
            session.approve(waiting[0].call_id, waiting[0].args["path"] != "/2.md", reason="not 2")
            waiting = session.approvals.waiting()

    events = await drive(session, decide=oldest_first)
    assert seen == [["/1.md", "/2.md", "/3.md"], ["/2.md", "/3.md"], ["/3.md"]]
    requested = [e.call_id for e in of_type(events, "approval_requested")]
    resolved = of_type(events, "approval_resolved")
    assert [e.call_id for e in resolved] == requested  # each once, in the order they asked
    assert [e.decision for e in resolved] == ["approved", "denied", "approved"]
    assert sorted(files(session)) == ["/1.md", "/3.md"]


async def test_always_rules_approve_later_calls_of_that_tool_only():
    policy = ApprovalPolicy.parse("write_file,add_todo")
    session = gated_session(
        [write("/src/a.py", "a")],
        [write("/src/b.py", "b"), ("tool", "add_todo", {"content": "x", "active_form": "x"})],
        ["ok"],
        policy=policy,
    )
    asked: list[str] = []

    def always_the_first(session: Session, event: ApprovalRequested) -> None:
        asked.append(event.tool)
        session.approve(event.call_id, True)
        if len(asked) == 1:
            session.approvals.add_rule(event.tool)

    events = await drive(session, decide=always_the_first)
    assert asked == ["write_file", "add_todo"]  # the second write was approved by the rule, add_todo asked
    by = [(e.tool, e.by, e.reason) for e in of_type(events, "approval_resolved")]
    assert by == [("write_file", "key", None), ("write_file", "rule", "always write_file"), ("add_todo", "key", None)]
    assert sorted(files(session)) == ["/src/a.py", "/src/b.py"]
    assert session.snapshot().approval_rules == [AlwaysRule(tool="write_file")]


async def test_a_folder_rule_covers_paths_under_that_folder_only():
    session = gated_session(
        [write("/src/a.py", "a"), write("/src/pkg/b.py", "b"), write("/srcx/c.py", "c"), write("/d.py", "d")],
        ["ok"],
        policy=ApprovalPolicy.parse("write_file"),
    )
    session.approvals.add_rule("write_file", "/src")
    asked: list[str] = []

    def note(session: Session, event: ApprovalRequested) -> None:
        asked.append(event.args["path"])
        session.approve(event.call_id, False)

    events = await drive(session, decide=note)
    assert asked == ["/srcx/c.py", "/d.py"]
    assert sorted(files(session)) == ["/src/a.py", "/src/pkg/b.py"]
    requested = [e.args["path"] for e in of_type(events, "approval_requested")]
    assert requested == ["/src/a.py", "/src/pkg/b.py", "/srcx/c.py", "/d.py"]  # asked, and said so, every one


async def test_a_rule_added_while_calls_wait_approves_those_it_covers():
    session = gated_session([write("/1.md", "1"), write("/2.md", "2")], ["ok"], **INTERRUPT)

    def always(session: Session, event: ApprovalRequested) -> None:
        if len(session.approvals.waiting()) == 2:
            first = session.approvals.waiting()[0]
            session.approve(first.call_id, True)
            session.approvals.add_rule("write_file")

    events = await drive(session, decide=always)
    assert [e.by for e in of_type(events, "approval_resolved")] == ["key", "rule"]
    assert sorted(files(session)) == ["/1.md", "/2.md"]


async def test_a_call_no_one_decides_is_denied_at_the_time_out():
    session = gated_session([write("/a.md", "A")], ["ok"], policy=ApprovalPolicy(timeout=0.05), **INTERRUPT)
    events = await drive(session)
    (resolved,) = of_type(events, "approval_resolved")
    assert (resolved.decision, resolved.by, resolved.reason) == ("denied", "timeout", "no decision within 0.05 s")
    assert results(session, "write_file") == [("denied", "The user denied this call: no decision within 0.05 s")]
    assert events[-1].status == "completed" and files(session) == {}


@pytest.mark.parametrize("how", ["token", "task"])
async def test_a_cancel_while_a_call_waits_ends_the_turn_and_the_next_prompt_works(how: str):
    session = gated_session([write("/a.md", "A"), write("/b.md", "B")], ["ok"], **INTERRUPT)
    events: list[Event] = []
    asked = asyncio.Event()

    def sink(event: Event) -> None:
        events.append(event)
        if len(of_type(events, "approval_requested")) == 2:
            asked.set()

    turn = asyncio.ensure_future(session.run("go", sink))
    await asyncio.wait_for(asked.wait(), 10)
    await asyncio.sleep(0.01)
    assert len(session.approvals.waiting()) == 2
    if how == "token":
        session.cancel()
        await turn
    else:
        turn.cancel()
        with pytest.raises(asyncio.CancelledError):
            await turn
    assert events[-1].status == "cancelled"
    closed = of_type(events, "approval_resolved")
    assert [(e.decision, e.by) for e in closed] == [("denied", "cancel")] * 2
    assert {e.outcome for e in of_type(events, "tool_call_finished")} == {"cancelled"}
    assert session.approvals.waiting() == [] and files(session) == {}

    after = await drive(session, "again", decide=approve)  # the calls left without results do not stop it
    assert after[-1].status == "completed" and sorted(files(session)) == ["/a.md", "/b.md"]


# Subagents: gated by the same rules, at every depth, sync and async ------------------------------------------


def prompted_model(plan: Callable[[str, int, Sequence[ModelMessage]], list[Any]]) -> FunctionModel:
    """A model that plays ``plan(prompt, responses since it, messages)``: parts to send, streamed or not.

    Subagents are run without streaming, the agent with it; both read the same plan.
    """

    def since_prompt(messages: Sequence[ModelMessage]) -> tuple[str, int]:
        count = 0
        for message in reversed(messages):
            if isinstance(message, ModelResponse):
                count += 1
            elif isinstance(message, ModelRequest):
                for part in message.parts:
                    if isinstance(part, UserPromptPart):
                        return str(part.content), count
        return "", count

    def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        return ModelResponse(parts=plan(*since_prompt(messages), messages))

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> Any:
        for index, part in enumerate(plan(*since_prompt(messages), messages)):
            if isinstance(part, TextPart):
                yield part.content
            else:
                yield {index: DeltaToolCall(part.tool_name, json.dumps(part.args), tool_call_id=part.tool_call_id)}

    return FunctionModel(respond, stream_function=stream, model_name="delegating")


def task_id_in(messages: Sequence[ModelMessage]) -> str:
    for message in reversed(messages):
        for part in getattr(message, "parts", []):
            if isinstance(part, ToolReturnPart) and part.tool_name == "task":
                return str(part.content).split("Task ID: ")[1].split()[0]
    raise AssertionError("no task started")


def delegate(mode: str, name: str = "writer", depth: int = 1) -> Callable[..., list[Any]]:
    """The agent hands "LEVEL1" to a subagent, which hands "LEVEL2" to its own, ...; the deepest writes a file."""

    def plan(prompt: str, step: int, messages: Sequence[ModelMessage]) -> list[Any]:
        level = int(prompt.split("LEVEL")[1].split()[0]) if "LEVEL" in prompt else 0
        if level == depth:
            return (
                [ToolCallPart("write_file", {"path": f"/level{level}.md", "content": "deep\n"}, "w")]
                if step == 0
                else [TextPart(f"level {level} done")]
            )
        if step == 0:
            args = {
                "description": f"LEVEL{level + 1} write",
                "subagent_type": name,
                "mode": mode if level == 0 else "sync",
            }
            return [ToolCallPart("task", args, tool_call_id=f"t{level}")]
        if step == 1 and mode == "async" and level == 0:
            return [ToolCallPart("wait_tasks", {"task_ids": [task_id_in(messages)]}, tool_call_id="wait")]
        return [TextPart(f"level {level} done")]

    return plan


def delegating_session(mode: str, *, depth: int = 1, policy: ApprovalPolicy | None = None, **agent: Any) -> Session:
    model = prompted_model(delegate(mode, depth=depth))

    def child(config: Any, level: int = 1) -> Any:
        nested = level < depth
        return create_deep_agent(
            model=model,
            workspace=False,
            include_subagents=nested,
            subagents=[
                {
                    "name": "writer",
                    "description": "writes",
                    "instructions": "w",
                    "agent_factory": lambda c: child(c, level + 1),
                }
            ]
            if nested
            else None,
            **QUIET_FEATURES,
        )

    subagent: dict[str, Any] = {"name": "writer", "description": "Writes files", "instructions": "write"}
    if depth > 1:
        subagent["agent_factory"] = child
    built = create_deep_agent(model=model, subagents=[subagent], **QUIET_FEATURES, **agent)
    return Session(built, DeepAgentDeps(), name="delegating", approvals=policy)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_subagents_write_is_gated_by_the_agents_own_interrupt_on(mode: str):
    session = delegating_session(mode, **INTERRUPT)

    def deny(session: Session, event: ApprovalRequested) -> None:
        session.approve(event.call_id, False, reason="no writes from subagents")

    events = await drive(session, "LEVEL0", decide=deny)
    (requested,) = of_type(events, "approval_requested")
    assert requested.tool == "write_file" and requested.args["path"] == "/level1.md"
    assert requested.origin is not None and requested.origin.name == "writer" and requested.origin.parent is None
    assert (
        requested.origin.task_id == task_id_in(session.history)
        if mode == "async"
        else len(requested.origin.task_id) == 8
    )
    (resolved,) = of_type(events, "approval_resolved")
    assert resolved.origin == requested.origin and resolved.decision == "denied"
    assert files(session) == {} and events[-1].status == "completed"


async def test_a_subagents_write_is_gated_by_approve_and_runs_once_approved():
    session = delegating_session("sync", policy=ApprovalPolicy.parse("write_file"))
    events = await drive(session, "LEVEL0", decide=approve)
    assert [e.origin.name for e in of_type(events, "approval_requested")] == ["writer"]
    assert files(session) == {"/level1.md": "deep\n"}


async def test_a_grandchilds_write_is_gated_and_says_who_asks():
    session = delegating_session("sync", depth=2, **INTERRUPT)
    events = await drive(session, "LEVEL0", decide=approve)
    (requested,) = of_type(events, "approval_requested")
    assert requested.args["path"] == "/level2.md"
    assert requested.origin.name == "writer" and requested.origin.parent is not None
    assert requested.origin.parent != requested.origin.task_id
    assert files(session) == {"/level2.md": "deep\n"}


async def test_approve_none_leaves_subagents_to_their_own_rules():
    session = delegating_session("sync", policy=ApprovalPolicy.parse("none"), **INTERRUPT)
    events = await drive(session, "LEVEL0")
    assert not of_type(events, "approval_requested")
    assert files(session) == {"/level1.md": "deep\n"}


def test_subagents_are_reached_through_the_private_compiled_mapping():
    """Loud on purpose: if subagents-pydantic-ai renames ``SubAgentToolset._compiled``, subagents are no
    longer gated (the session logs it and goes on); this test says so first."""
    session = delegating_session("sync")
    found = compiled_subagents(session.agent)
    assert [name for _, name, _ in found] == ["writer"]
    assert isinstance(found[0][2].agent, GatedSubagent)


# Previews ------------------------------------------------------------------------------------------------


def test_previews_show_a_diff_against_the_workspace_or_the_command():
    from pydantic_ai_backends.hashline import line_hash

    files = TrackedStateBackend()
    files.write_bytes("/pkg/a.py", b"x = 1\ny = 2\n")
    desk = Approvals(files=files)
    edit = {"path": "pkg/a.py", "old_string": "y = 2", "new_string": "y = 3"}
    assert desk.preview("edit_file", edit) == (
        "--- /pkg/a.py\n+++ /pkg/a.py\n@@ -1,2 +1,2 @@\n x = 1\n-y = 2\n+y = 3\n",
        "diff",
    )
    rewrite = {"path": "/pkg/a.py", "content": "x = 1\n"}
    assert desk.preview("write_file", rewrite)[0].endswith("@@ -1,2 +1 @@\n x = 1\n-y = 2\n")
    hashline = {"path": "/pkg/a.py", "start_line": 1, "start_hash": line_hash("x = 1"), "new_content": "x = 0"}
    assert "-x = 1\n+x = 0\n" in desk.preview("hashline_edit", hashline)[0]
    assert desk.preview("execute", {"command": "rm -rf build"}) == ("rm -rf build", "command")
    # What cannot be told in advance shows the arguments: the tool itself says why it fails.
    missing = {"path": "/pkg/a.py", "old_string": "z", "new_string": "w"}
    assert desk.preview("edit_file", missing) == (json.dumps(missing, indent=2), "args")
    assert desk.preview("deploy", {"target": "prod"}) == ('{\n  "target": "prod"\n}', "args")


async def test_always_rules_are_saved_with_the_session(tmp_path: Path):
    from deep_tui.sessions import SessionRecorder

    session = gated_session([write("/src/a.py", "a")], ["ok"], **INTERRUPT)
    recorder = SessionRecorder(session, root=tmp_path)
    session.approvals.add_rule("write_file", "/src/")
    kept = session.approvals.add_rule("execute")
    session.approvals.remove_rule(kept)
    events = await drive(session)
    for event in events:
        recorder.record(event)
    saved = json.loads((recorder.close() / "session.json").read_text())
    assert saved["approval_rules"] == [{"tool": "write_file", "folder": "/src"}]
    logged = [json.loads(line)["type"] for line in (recorder.path / "events.jsonl").read_text().splitlines()]
    assert logged.count("approval_requested") == logged.count("approval_resolved") == 1
