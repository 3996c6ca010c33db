"""Run state as a fold over the event stream: what every view shows, computed without a screen.

``RunState.apply(event)`` moves the state one event on. The dashboard, the headless
display and replay take their todos, files, tool calls, turns, usage, status and output
from here, so they agree, and the state at any point of a recording is a fold away.
Nothing here reads a clock: times come from the events (``t`` and
``RunStarted.started_at``), so a replayed turn shows its own times.

Subagents: ``subagents`` says how each one is doing, and ``agents`` holds each one's own
output and todos, and the calls made under it, for a view that shows one subagent in the
panes that show the main agent. The main agent's output and todos are its own; its
``calls`` are every call of the session, a subagent's nested under the ``task`` call
that started it (``CallRecord.origin_task`` and ``SubagentRecord.call_id`` say where).

Copies are cheap, which is what lets ``deep_tui.timeline`` keep one every few hundred
events: every record is immutable and is replaced, never changed, so ``copy`` is
shallow (no record or text is copied: O((calls + files) / 256 + blocks + subagents), the
calls and the files being kept in ``deep_tui.shared`` containers; a session has tens of
subagents, and plain dicts make each of their events cheaper), and the output is
append-only: a finished block never changes and is shared by every copy that has it.
A subagent's own state is shared by copies until one of them changes it (only running
subagents change), and is copied then: O(its calls / 256 + its blocks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from deep_tui.dispatch import IGNORED, view
from deep_tui.events import (
    ApprovalRequested,
    ApprovalResolved,
    Event,
    FilesChanged,
    MessageDelivered,
    MessageQueued,
    NodeEntered,
    Origin,
    RunFinished,
    RunStarted,
    RunStatus,
    SubagentFinished,
    SubagentStarted,
    TextDelta,
    ThinkingDelta,
    TodoItem,
    TodosChanged,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
    UsageUpdated,
)
from deep_tui.format import duration
from deep_tui.output_blocks import BlockKind, Output, OutputBlock
from deep_tui.records import (
    AgentState,
    CallKey,
    CallRecord,
    FileRecord,
    FileVersion,
    SubagentRecord,
    TurnRecord,
)
from deep_tui.shared import SharedList, SharedMap

__all__ = [
    "AgentState",
    "BlockKind",
    "CallKey",
    "CallRecord",
    "FileRecord",
    "FileVersion",
    "Output",
    "OutputBlock",
    "RunState",
    "SubagentRecord",
    "TurnRecord",
    "fold",
]

Status = Literal["idle", "running"] | RunStatus
""""idle" before the first turn; "running" from a ``run_started`` to its ``run_finished``; then how it ended."""


@dataclass
class RunState:
    """Everything the views show, as of the last event applied."""

    status: Status = "idle"
    node: str = ""
    step: int = 0
    elapsed: float = 0.0
    """Seconds into the running (or the last) turn, from the events' ``t``."""
    session_id: str = ""
    agent: str = ""
    todos: tuple[TodoItem, ...] = ()
    """The main agent's."""
    files: SharedMap[str, FileRecord] = field(default_factory=SharedMap)
    calls: SharedList[CallRecord] = field(default_factory=SharedList)
    """Every tool call of the session, its subagents' included, in the order they started."""
    turns: list[TurnRecord] = field(default_factory=list)
    output: Output = field(default_factory=Output)
    """The main agent's."""
    position: int = 0
    """Events applied so far: the index in the stream of the next one."""
    finished_usage: Usage | None = None
    """Usage of the finished turns, summed."""
    turn_usage: Usage | None = None
    """The running turn's latest usage."""
    finished_time: float = 0.0
    """Seconds the finished turns took."""
    running_calls: dict[CallKey, int] = field(default_factory=dict)
    """Where each call still running is in ``calls``."""
    subagents: dict[str, SubagentRecord] = field(default_factory=dict)
    """Every subagent of the session, by task id, in the order they started."""
    agents: dict[str, AgentState] = field(default_factory=dict)
    """Each subagent's output, todos and calls, by task id."""
    waiting: dict[str, str] = field(default_factory=dict)
    """The calls waiting for a person's decision, oldest first: their tool, by call id."""
    _own_agents: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    """The agents' states no copy shares: this state may change them in place."""

    @property
    def usage(self) -> Usage | None:
        """The session's usage: the finished turns' plus the running one's; None until a turn reports."""
        if self.finished_usage is None or self.turn_usage is None:
            return self.finished_usage or self.turn_usage
        return self.finished_usage + self.turn_usage

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def session_time(self) -> float:
        """Seconds spent running turns, the one running included."""
        return self.finished_time + (self.elapsed if self.running else 0.0)

    @property
    def turn(self) -> TurnRecord | None:
        """The running or last turn."""
        return self.turns[-1] if self.turns else None

    @property
    def subagents_running(self) -> int:
        return sum(record.running for record in self.subagents.values())

    def clock(self, t: float) -> float | None:
        """The wall-clock time of ``t`` seconds into the running or last turn, if its start is known."""
        turn = self.turn
        return None if turn is None or turn.started_at is None else turn.started_at + t

    def apply(self, event: Event) -> RunState:
        """Move on by one event (in place); returns the state, to chain."""
        handler = FOLD.get(type(event))
        if handler is None:
            raise TypeError(f"the run state does not know events of type {type(event).__name__}")
        if handler is not IGNORED:
            handler(self, event)  # type: ignore[operator]
        if self.status == "running":
            self.elapsed = event.t
        self.position += 1
        return self

    def copy(self) -> RunState:
        """An independent state equal to this one (shallow: the records are immutable)."""
        self._own_agents = set()
        return replace(
            self,
            files=self.files.copy(),
            calls=self.calls.copy(),
            turns=list(self.turns),
            output=self.output.copy(),
            running_calls=dict(self.running_calls),
            subagents=dict(self.subagents),
            agents=dict(self.agents),
            waiting=dict(self.waiting),
        )


def fold(events: Iterable[Event], start: RunState | None = None) -> RunState:
    """The state after ``events``, from ``start`` (left as it is) or from nothing."""
    state = start.copy() if start is not None else RunState()
    for event in events:
        state.apply(event)
    return state


def _run_started(state: RunState, event: RunStarted) -> None:
    state.output.add("prompt", event.prompt, event.turn)
    state.turns.append(TurnRecord(event.turn, event.run_id, event.prompt, event.started_at, state.position))
    state.status, state.node, state.step = "running", "", 0
    state.session_id, state.agent = event.session_id, event.agent
    state.turn_usage = None
    state.running_calls.clear()


def _node_entered(state: RunState, event: NodeEntered) -> None:
    if event.origin is None:  # the status line's node and step are the main agent's
        state.node, state.step = event.node, event.step


def _text_delta(state: RunState, event: TextDelta) -> None:
    _output(state, event.origin).add("answer", event.text, _turn_number(state))


def _thinking_delta(state: RunState, event: ThinkingDelta) -> None:
    _output(state, event.origin).add("thinking", event.text, _turn_number(state))


def _tool_call_started(state: RunState, event: ToolCallStarted) -> None:
    _start_call(state, event.origin, event.call_id, event.tool, event.args, event.t)


def _start_call(
    state: RunState, origin: Origin | None, call_id: str, tool: str, args: dict[str, object], t: float
) -> CallKey:
    """Add a running call at the end of the session's calls and of those of every subagent it is under."""
    task = _known(state, origin)
    key: CallKey = (task, call_id)
    state.running_calls[key] = len(state.calls)
    if task is None:
        state.calls.append(
            CallRecord(call_id, tool, args, _turn_number(state), "running", t, state.clock(t), state.position)
        )
        return key
    agent = _agent(state, task)
    record = CallRecord(
        call_id,
        tool,
        args,
        _turn_number(state),
        "running",
        t,
        state.clock(t),
        state.position,
        origin_task=task,
        depth=len(agent.chain),
    )
    state.calls.append(record)
    agent.running_calls[key] = len(agent.calls)
    agent.calls.append(record)
    for above in agent.chain[1:]:
        under = _agent(state, above)
        under.running_calls[key] = len(under.calls)
        under.calls.append(record)
    agent.own_running[call_id] = tool
    sub = state.subagents[task]
    state.subagents[task] = _progress(sub, sub.calls + 1, tool)
    return key


def _tool_call_finished(state: RunState, event: ToolCallFinished) -> None:
    task = _known(state, event.origin)
    key: CallKey = (task, event.call_id)
    if key not in state.running_calls:  # a result with no start in the stream: a call that began and ended here
        started = max(event.t - event.duration, 0.0)
        _start_call(state, event.origin, event.call_id, event.tool, {}, started)
    where = state.running_calls.pop(key)
    was = state.calls[where]
    done = CallRecord(
        was.call_id,
        event.tool or was.tool,
        was.args,
        was.turn,
        event.outcome,
        was.t,
        was.started_at,
        was.index,
        event.duration,
        event.preview,
        event.size,
        was.origin_task,
        was.depth,
    )
    state.calls[where] = done
    if task is None:
        return
    agent = _agent(state, task)
    agent.calls[agent.running_calls.pop(key)] = done
    for above in agent.chain[1:]:
        under = _agent(state, above)
        under.calls[under.running_calls.pop(key)] = done
    agent.own_running.pop(event.call_id, None)
    sub = state.subagents[task]
    tool = next(reversed(agent.own_running.values()), None)
    if tool != sub.current_tool:
        state.subagents[task] = _progress(sub, sub.calls, tool)


def _progress(sub: SubagentRecord, calls: int, tool: str | None) -> SubagentRecord:
    """``sub`` with another count of calls and current tool (made whole: ``replace`` takes twice as long, on every
    call of every subagent)."""
    return SubagentRecord(
        sub.task_id,
        sub.name,
        sub.description,
        sub.mode,
        sub.parent,
        sub.call_id,
        sub.depth,
        sub.turn,
        sub.t,
        sub.started_at,
        sub.status,
        sub.duration,
        sub.usage,
        tool,
        calls,
        sub.preview,
        sub.error,
    )


def _todos_changed(state: RunState, event: TodosChanged) -> None:
    task = _known(state, event.origin)
    if task is None:
        state.todos = tuple(event.todos)
    else:
        _agent(state, task).todos = tuple(event.todos)


def _files_changed(state: RunState, event: FilesChanged) -> None:
    turn, at, task = _turn_number(state), state.clock(event.t), _known(state, event.origin)
    for change in event.changes:
        version = FileVersion(
            change.version,
            change.change,
            change.size,
            change.added,
            change.removed,
            turn,
            state.step,
            event.call_id,
            event.seq,
            state.position,
            at,
            task,
        )
        known = state.files.get(change.path)
        versions = (*known.versions, version) if known is not None else (version,)
        state.files[change.path] = FileRecord(change.path, versions)


def _usage_updated(state: RunState, event: UsageUpdated) -> None:
    state.turn_usage = event.usage


def _run_finished(state: RunState, event: RunFinished) -> None:
    state.output.close()
    _ended(state.output, event.status, event.error, event.duration, _turn_number(state))
    state.finished_usage = event.usage if state.finished_usage is None else state.finished_usage + event.usage
    state.turn_usage = None
    state.status, state.node, state.elapsed = event.status, "", event.duration
    state.finished_time += event.duration
    state.running_calls.clear()
    state.waiting.clear()
    if state.turns and state.turns[-1].status == "running":
        state.turns[-1] = replace(
            state.turns[-1],
            status=event.status,
            duration=event.duration,
            usage=event.usage,
            error=event.error,
            output=event.output,
        )


def _ended(output: Output, status: str, error: str | None, seconds: float, turn: int) -> None:
    """How a run or a subagent ended, at the end of its output, unless it completed."""
    if status in ("failed", "timeout"):
        output.add("error", f"{status}: {error}", turn)
    elif status == "cancelled":
        output.add("note", f"■ cancelled after {duration(seconds)}", turn)


def _message_delivered(state: RunState, event: MessageDelivered) -> None:
    kind = "steer" if event.kind == "steer" else "follow-up"
    state.output.add("note", f"↳ you ({kind}): {event.text}", _turn_number(state))


def _subagent_started(state: RunState, event: SubagentStarted) -> None:
    parent = event.parent if event.parent in state.subagents else None
    depth = 0 if parent is None else state.subagents[parent].depth + 1
    turn = _turn_number(state)
    known = state.subagents.get(event.task_id)
    state.subagents[event.task_id] = SubagentRecord(
        event.task_id,
        event.name,
        event.description,
        event.mode,
        event.parent,
        event.call_id,
        depth,
        turn,
        event.t,
        state.clock(event.t),
        calls=known.calls if known is not None else 0,
    )
    if known is None:
        chain = (event.task_id, *state.agents[parent].chain) if parent is not None else (event.task_id,)
        state.agents[event.task_id] = AgentState(chain=chain)
        state._own_agents.add(event.task_id)
    if event.description:
        _agent(state, event.task_id).output.add("prompt", event.description, turn)


def _subagent_finished(state: RunState, event: SubagentFinished) -> None:
    task = _known(state, event.origin or Origin(task_id=event.task_id, name=event.name))
    assert task is not None
    state.subagents[task] = replace(
        state.subagents[task],
        status=event.status,
        duration=event.duration,
        usage=event.usage,
        current_tool=None,
        preview=event.preview,
        error=event.error,
    )
    agent = _agent(state, task)
    agent.output.close()
    _ended(agent.output, event.status, event.error, event.duration, state.subagents[task].turn)
    agent.own_running.clear()


def _approval_requested(state: RunState, event: ApprovalRequested) -> None:
    state.waiting[event.call_id] = event.tool


def _approval_resolved(state: RunState, event: ApprovalResolved) -> None:
    state.waiting.pop(event.call_id, None)


def _turn_number(state: RunState) -> int:
    return state.turns[-1].turn if state.turns else 0


def _output(state: RunState, origin: Origin | None) -> Output:
    task = _known(state, origin)
    return state.output if task is None else _agent(state, task).output


def _agent(state: RunState, task_id: str) -> AgentState:
    """The subagent's state, ``state``'s own to change: copied first if a copy of ``state`` shares it."""
    if task_id not in state._own_agents:
        state.agents[task_id] = state.agents[task_id].copy()
        state._own_agents.add(task_id)
    return state.agents[task_id]


def _known(state: RunState, origin: Origin | None) -> str | None:
    """The task id of the subagent ``origin`` names (None: the main agent); one whose start the stream lacks is
    taken to have started with its first event, under the ``task`` call of its parent that is not known."""
    if origin is None:
        return None
    if origin.task_id not in state._own_agents and origin.task_id not in state.subagents:
        _subagent_started(
            state,
            SubagentStarted(
                t=state.elapsed, origin=origin, task_id=origin.task_id, name=origin.name, parent=origin.parent
            ),
        )
    return origin.task_id


FOLD = view(
    "run state (deep_tui.state)",
    {
        RunStarted: _run_started,
        NodeEntered: _node_entered,
        TextDelta: _text_delta,
        ThinkingDelta: _thinking_delta,
        ToolCallStarted: _tool_call_started,
        ToolCallFinished: _tool_call_finished,
        TodosChanged: _todos_changed,
        FilesChanged: _files_changed,
        UsageUpdated: _usage_updated,
        RunFinished: _run_finished,
        MessageQueued: IGNORED,  # shown once delivered
        MessageDelivered: _message_delivered,
        SubagentStarted: _subagent_started,
        SubagentFinished: _subagent_finished,
        ApprovalRequested: _approval_requested,
        ApprovalResolved: _approval_resolved,
    },
)
"""How the state takes each kind of event."""
