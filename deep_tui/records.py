"""The records a run state holds: immutable, replaced rather than changed, so that copies of a state share them.

``deep_tui.state`` folds events into them; views read them. A subagent's own state
(``AgentState``) is the one mutable record: a state copies it before changing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from deep_tui.events import FileChangeKind, RunStatus, SubagentMode, SubagentStatus, TodoItem, ToolOutcome, Usage
from deep_tui.output_blocks import Output
from deep_tui.shared import SharedList

CallKey = tuple[str | None, str]
"""A call as the stream names it: the task id of the agent that made it (None for the main agent's) and its id.
Call ids are the model's, and two agents may use the same one."""


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
    origin_task: str | None = None
    """The subagent whose ``files_changed`` reported it (``call_id`` is among its calls); None: the main agent."""


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
    origin_task: str | None = None
    """The subagent that made it (its task id), None for the main agent's; it nests under that subagent's
    ``task`` call (``SubagentRecord.call_id`` in the calls of ``SubagentRecord.parent``)."""
    depth: int = 0
    """0 for the main agent's calls, 1 for its subagents', 2 for theirs, ..."""

    @property
    def key(self) -> CallKey:
        return (self.origin_task, self.call_id)


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


@dataclass(frozen=True, slots=True)
class SubagentRecord:
    """A subagent a ``task`` call started: what it was asked, how it is doing, what it spent."""

    task_id: str
    name: str
    description: str
    mode: SubagentMode
    parent: str | None
    """The task id of the subagent that started it; None when the main agent did."""
    call_id: str
    """The ``task`` call that started it, among its parent's calls."""
    depth: int
    """0 for a subagent of the main agent, 1 for a subagent of one of those, ..."""
    turn: int
    t: float
    """Seconds into its turn when it started."""
    started_at: float | None
    """Wall-clock time it started (epoch seconds): the turn's ``started_at`` plus ``t``."""
    status: Literal["running"] | SubagentStatus = "running"
    duration: float | None = None
    usage: Usage | None = None
    """Its own, once it has finished: the runner reports a subagent's usage with its end (``usage_updated``
    is the whole run's)."""
    current_tool: str | None = None
    """The tool of its latest call still running."""
    calls: int = 0
    """Its own calls so far (not its subagents')."""
    preview: str = ""
    """The start of its answer, once it has completed."""
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.status == "running"

    def elapsed(self, now: float) -> float:
        """Seconds it ran, or has run by ``now`` (seconds into its turn) while it runs."""
        return self.duration if self.duration is not None else max(now - self.t, 0.0)


@dataclass
class AgentState:
    """What one subagent's panes show: its own output and todos, and every call made under it (its own and its
    subagents', in the order they started, as ``RunState.calls`` holds the session's)."""

    output: Output = field(default_factory=Output)
    calls: SharedList[CallRecord] = field(default_factory=SharedList)
    todos: tuple[TodoItem, ...] = ()
    running_calls: dict[CallKey, int] = field(default_factory=dict)
    """Where each call under it still running is in ``calls``."""
    own_running: dict[str, str] = field(default_factory=dict)
    """Its own calls still running: their tool, by call id, oldest first."""
    chain: tuple[str, ...] = ()
    """Its task id and those of the subagents above it, up to one the main agent started."""

    def copy(self) -> AgentState:
        return AgentState(
            self.output.copy(),
            self.calls.copy(),
            self.todos,
            dict(self.running_calls),
            dict(self.own_running),
            self.chain,
        )
