"""Run state as a fold over the event stream: what every view shows, computed without a screen.

``RunState.apply(event)`` moves the state one event on. The dashboard, the headless
display and replay take their todos, files, tool calls, turns, usage, status and output
from here, so they agree, and the state at any point of a recording is a fold away.
Nothing here reads a clock: times come from the events (``t`` and
``RunStarted.started_at``), so a replayed turn shows its own times.

Copies are cheap, which is what lets ``deep_tui.timeline`` keep one every few thousand
events: every record is immutable and is replaced, never changed, so ``copy`` is
shallow (no record or text is copied: O((calls + files) / 256 + blocks), the calls and the
files being kept in ``deep_tui.shared`` containers), and the output is append-only: a
finished block never changes and is shared by every copy that has it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, overload

from deep_tui.dispatch import IGNORED, view
from deep_tui.events import (
    ApprovalRequested,
    ApprovalResolved,
    Event,
    FileChangeKind,
    FilesChanged,
    MessageDelivered,
    MessageQueued,
    NodeEntered,
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
    ToolOutcome,
    Usage,
    UsageUpdated,
)
from deep_tui.format import duration
from deep_tui.shared import SharedList, SharedMap

Status = Literal["idle", "running"] | RunStatus
""""idle" before the first turn; "running" from a ``run_started`` to its ``run_finished``; then how it ended."""
BlockKind = Literal["prompt", "answer", "thinking", "error", "note"]


@dataclass(frozen=True, slots=True)
class OutputBlock:
    """One block of the output: a prompt, an answer's or thinking's text, an error or a note."""

    kind: BlockKind
    text: str
    turn: int


class Output(Sequence[OutputBlock]):
    """The output's blocks, append-only: only the last block, while text streams into it, grows.

    Finished blocks are shared, as the same objects, by every copy that has them, so a view
    that moves between two states redraws only the blocks after the last one they share.
    The open block's pieces are shared too, each copy knowing how many are its own: a copy
    costs no text, and the first of two to append after a copy takes its own list then.
    """

    __slots__ = ("_closed", "_count", "_open", "_parts", "_text")

    def __init__(self) -> None:
        self._closed: list[OutputBlock] = []
        self._open: tuple[BlockKind, int] | None = None
        """The kind and turn of the block text is streaming into, if any."""
        self._parts: list[str] = []
        """The open block's pieces; only ever appended to, and possibly shared with copies."""
        self._count = 0
        """How many of ``_parts`` are this output's."""
        self._text: tuple[int, str] = (0, "")
        """The open block's text as last joined, and how many pieces it joined."""

    def add(self, kind: BlockKind, text: str, turn: int) -> None:
        """Append ``text``: to the open block if it is answer or thinking text of the same kind and turn."""
        if self._open == (kind, turn):
            if len(self._parts) != self._count:  # a copy has appended to the pieces we share
                self._parts = self._parts[: self._count]
            self._parts.append(text)
            self._count += 1
            return
        self.close()
        if kind in ("answer", "thinking"):
            self._open, self._parts, self._count, self._text = (kind, turn), [text], 1, (0, "")
        else:
            self._closed.append(OutputBlock(kind, text, turn))

    def close(self) -> None:
        """End the open block: the next text starts a new one."""
        if self._open is not None:
            self._closed.append(OutputBlock(self._open[0], self._open_text(), self._open[1]))
            self._open, self._parts, self._count, self._text = None, [], 0, (0, "")

    def copy(self) -> Output:
        new = Output()
        new._closed = list(self._closed)
        new._open, new._parts, new._count, new._text = self._open, self._parts, self._count, self._text
        return new

    def _open_text(self) -> str:
        if self._text[0] != self._count:
            parts = self._parts if len(self._parts) == self._count else self._parts[: self._count]
            self._text = (self._count, "".join(parts))
        return self._text[1]

    def __len__(self) -> int:
        return len(self._closed) + (self._open is not None)

    @overload
    def __getitem__(self, index: int) -> OutputBlock: ...

    @overload
    def __getitem__(self, index: slice) -> list[OutputBlock]: ...

    def __getitem__(self, index: int | slice) -> OutputBlock | list[OutputBlock]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        if index == len(self._closed):
            assert self._open is not None
            return OutputBlock(self._open[0], self._open_text(), self._open[1])
        return self._closed[index]

    def __iter__(self) -> Iterator[OutputBlock]:
        yield from self._closed
        if self._open is not None:
            yield self[-1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Output) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"Output({list(self)!r})"


@dataclass(frozen=True, slots=True)
class FileVersion:
    """One change of a file, and what made it."""

    version: str | None
    """The content's SHA-256, its name in the session's ``blobs/``; None once deleted (or not recorded)."""
    change: FileChangeKind
    size: int
    added: int
    removed: int
    turn: int
    step: int
    call_id: str | None
    """The tool call whose result the change followed, when known."""
    seq: int
    """The ``files_changed`` event's ``seq`` in its turn."""
    index: int
    """The ``files_changed`` event's position in the stream."""
    at: float | None
    """Wall-clock time of the change (epoch seconds), when the turn's start is known."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A path the agent touched: its every version, oldest first. A deleted file keeps its history."""

    path: str
    versions: tuple[FileVersion, ...]

    @property
    def latest(self) -> FileVersion:
        return self.versions[-1]

    @property
    def deleted(self) -> bool:
        return self.latest.change == "deleted"

    @property
    def size(self) -> int:
        return self.latest.size


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One tool call: what was asked, and how it ended once it has."""

    call_id: str
    tool: str
    args: dict[str, object]
    turn: int
    status: Literal["running"] | ToolOutcome
    t: float
    """Seconds into its turn when it started."""
    started_at: float | None
    """Wall-clock time it started (epoch seconds): the turn's ``started_at`` plus ``t``."""
    index: int
    """The position in the stream of the event that started it."""
    duration: float | None = None
    preview: str = ""
    size: int = 0


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One prompt and how its run went."""

    turn: int
    run_id: str
    prompt: str
    started_at: float | None
    index: int
    """The position of its ``run_started`` in the stream."""
    status: Literal["running"] | RunStatus = "running"
    duration: float | None = None
    usage: Usage | None = None
    error: str | None = None
    output: str = ""


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
    files: SharedMap[str, FileRecord] = field(default_factory=SharedMap)
    calls: SharedList[CallRecord] = field(default_factory=SharedList)
    """Every tool call of the session, in the order they started."""
    turns: list[TurnRecord] = field(default_factory=list)
    output: Output = field(default_factory=Output)
    position: int = 0
    """Events applied so far: the index in the stream of the next one."""
    finished_usage: Usage | None = None
    """Usage of the finished turns, summed."""
    turn_usage: Usage | None = None
    """The running turn's latest usage."""
    finished_time: float = 0.0
    """Seconds the finished turns took."""
    running_calls: dict[str, int] = field(default_factory=dict)
    """Where each call still running is in ``calls``, by id."""
    subagents: dict[str, str] = field(default_factory=dict)
    """Each subagent's status (running, completed, failed, cancelled), by task id, in the order they started."""
    waiting: dict[str, str] = field(default_factory=dict)
    """The calls waiting for a person's decision, oldest first: their tool, by call id."""

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

    def clock(self, t: float) -> float | None:
        """The wall-clock time of ``t`` seconds into the running or last turn, if its start is known."""
        turn = self.turn
        return None if turn is None or turn.started_at is None else turn.started_at + t

    def apply(self, event: Event) -> RunState:
        """Move on by one event (in place); returns the state, to chain."""
        handler = FOLD.get(type(event))
        if handler is None:
            raise TypeError(f"the run state does not know events of type {type(event).__name__}")
        if handler is not IGNORED and (event.origin is None or type(event) not in MAIN_AGENT_ONLY):
            handler(self, event)  # type: ignore[operator]
        if self.status == "running":
            self.elapsed = event.t
        self.position += 1
        return self

    def copy(self) -> RunState:
        """An independent state equal to this one (shallow: the records are immutable)."""
        return replace(
            self,
            files=self.files.copy(),
            calls=self.calls.copy(),
            turns=list(self.turns),
            output=self.output.copy(),
            running_calls=dict(self.running_calls),
            subagents=dict(self.subagents),
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
    state.node, state.step = event.node, event.step


def _text_delta(state: RunState, event: TextDelta) -> None:
    state.output.add("answer", event.text, _turn_number(state))


def _thinking_delta(state: RunState, event: ThinkingDelta) -> None:
    state.output.add("thinking", event.text, _turn_number(state))


def _tool_call_started(state: RunState, event: ToolCallStarted) -> None:
    state.running_calls[event.call_id] = len(state.calls)
    state.calls.append(
        CallRecord(
            event.call_id,
            event.tool,
            event.args,
            _turn_number(state),
            "running",
            event.t,
            state.clock(event.t),
            state.position,
        )
    )


def _tool_call_finished(state: RunState, event: ToolCallFinished) -> None:
    where = state.running_calls.pop(event.call_id, None)
    if where is None:  # a result with no start in the stream: shown as a call that began and ended here
        started = max(event.t - event.duration, 0.0)
        call = CallRecord(
            event.call_id, event.tool, {}, _turn_number(state), "running", started, state.clock(started), state.position
        )
        where = len(state.calls)
        state.calls.append(call)
    state.calls[where] = replace(
        state.calls[where],
        tool=event.tool or state.calls[where].tool,
        status=event.outcome,
        duration=event.duration,
        preview=event.preview,
        size=event.size,
    )


def _todos_changed(state: RunState, event: TodosChanged) -> None:
    state.todos = tuple(event.todos)


def _files_changed(state: RunState, event: FilesChanged) -> None:
    turn, at = _turn_number(state), state.clock(event.t)
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
        )
        known = state.files.get(change.path)
        versions = (*known.versions, version) if known is not None else (version,)
        state.files[change.path] = FileRecord(change.path, versions)


def _usage_updated(state: RunState, event: UsageUpdated) -> None:
    state.turn_usage = event.usage


def _run_finished(state: RunState, event: RunFinished) -> None:
    state.output.close()
    if event.status in ("failed", "timeout"):
        state.output.add("error", f"{event.status}: {event.error}", _turn_number(state))
    elif event.status == "cancelled":
        state.output.add("note", f"■ cancelled after {duration(event.duration)}", _turn_number(state))
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


def _message_delivered(state: RunState, event: MessageDelivered) -> None:
    kind = "steer" if event.kind == "steer" else "follow-up"
    state.output.add("note", f"↳ you ({kind}): {event.text}", _turn_number(state))


def _subagent_started(state: RunState, event: SubagentStarted) -> None:
    state.subagents[event.task_id] = "running"


def _subagent_finished(state: RunState, event: SubagentFinished) -> None:
    state.subagents[event.task_id] = event.status


def _approval_requested(state: RunState, event: ApprovalRequested) -> None:
    state.waiting[event.call_id] = event.tool


def _approval_resolved(state: RunState, event: ApprovalResolved) -> None:
    state.waiting.pop(event.call_id, None)


def _turn_number(state: RunState) -> int:
    return state.turns[-1].turn if state.turns else 0


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

MAIN_AGENT_ONLY = frozenset({NodeEntered, TextDelta, ThinkingDelta, ToolCallStarted, ToolCallFinished, TodosChanged})
"""Kinds whose subagent events do not change the main agent's state (files are shared: a subagent's count)."""
