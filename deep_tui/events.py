"""The event stream: the one contract between the runner and every view.

Each event is a small pydantic model with a ``type`` discriminator, a sequence
number within its run (``seq``) and the seconds since the run started (``t``).
The dashboard, the headless printer, saved sessions and the web stream all
consume exactly these models, so anything a view shows can be asserted on
without a screen, and a recording replays into any view.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

NodeName = Literal["UserPromptNode", "ModelRequestNode", "CallToolsNode", "End"]
ToolOutcome = Literal["success", "failed", "retried", "denied", "interrupted", "cancelled"]
TodoStatus = Literal["pending", "in_progress", "completed", "blocked"]
FileChangeKind = Literal["created", "modified", "deleted"]
RunStatus = Literal["completed", "cancelled", "timeout", "failed"]
SubagentMode = Literal["sync", "async"]
"""A sync subagent's ``task`` call waits for it; an async one runs in the background (``wait_tasks`` collects it)."""
SubagentStatus = Literal["completed", "failed", "cancelled"]
MessageKind = Literal["steer", "follow_up"]
"""A steer reaches the model with its next request; a follow-up when the agent would otherwise stop."""
Decision = Literal["approved", "denied", "edited"]
DecidedBy = Literal["key", "rule", "web", "timeout", "headless", "cancel"]
"""Who decided a call: a key in the dashboard, an always-rule, the web, the time-out, headless ``run`` (its
``--yes``, its terminal prompt, or nobody to ask), or the end of the turn while it waited."""
PreviewKind = Literal["diff", "command", "args"]


class Origin(BaseModel):
    """The subagent an event comes from: pydantic-deep's ``task`` tool started it, maybe from another subagent."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    name: str
    """The subagent's name, as the ``task`` call chose it."""
    parent: str | None = None
    """The task id of the subagent that started this one; None when the main agent did."""


class BaseEvent(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(frozen=True)

    seq: int = 0
    """Position in its run, from 0 (the RunStarted event)."""
    t: float = 0.0
    """Seconds since the run started."""
    origin: Origin | None = None
    """The subagent the event comes from; None for the main agent's own."""


class Usage(BaseModel):
    """Token and request counts so far in one run."""

    model_config = ConfigDict(frozen=True)

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: int = 0
    cost: float | None = None
    """US dollars, when the model's price is known."""

    def __add__(self, other: Usage) -> Usage:
        """Two usages summed; the cost stays unknown only when both are."""
        known = [c for c in (self.cost, other.cost) if c is not None]
        return Usage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            tool_calls=self.tool_calls + other.tool_calls,
            cost=sum(known) if known else None,
        )


class TodoItem(BaseModel):
    """One entry of the agent's todo list."""

    model_config = ConfigDict(frozen=True)

    id: str
    content: str
    status: TodoStatus
    active_form: str = ""


class FileChange(BaseModel):
    """One path in the agent's workspace that a step created, changed or removed."""

    model_config = ConfigDict(frozen=True)

    path: str
    change: FileChangeKind
    size: int = 0
    """Bytes after the change (0 once deleted)."""
    added: int = 0
    """Lines added by the change, when it is small enough to diff."""
    removed: int = 0
    """Lines removed by the change."""
    version: str | None = None
    """The SHA-256 (hex) of the content after the change, which names it in a saved session's ``blobs/``;
    None once deleted, and in recordings made before versions were kept."""


class RunStarted(BaseEvent):
    type: Literal["run_started"] = "run_started"
    run_id: str
    session_id: str
    turn: int
    """1 for the first prompt of a session, 2 for the next, ..."""
    prompt: str
    agent: str
    """The model string, or the name of the user's agent, or "demo"."""
    started_at: float | None = None
    """Wall-clock time the turn began, in seconds since the Unix epoch (``time.time()``): an event happened
    at ``started_at + t``. None in recordings made before it was added."""


class NodeEntered(BaseEvent):
    type: Literal["node_entered"] = "node_entered"
    node: NodeName
    step: int
    """1 for the first node of the run, counting every node."""


class TextDelta(BaseEvent):
    type: Literal["text_delta"] = "text_delta"
    text: str


class ThinkingDelta(BaseEvent):
    type: Literal["thinking_delta"] = "thinking_delta"
    text: str


class ToolCallStarted(BaseEvent):
    type: Literal["tool_call_started"] = "tool_call_started"
    call_id: str
    tool: str
    args: dict[str, object] = Field(default_factory=dict)


class ToolCallFinished(BaseEvent):
    type: Literal["tool_call_finished"] = "tool_call_finished"
    call_id: str
    tool: str
    outcome: ToolOutcome
    preview: str = ""
    """The start of the result as text, capped at ``PREVIEW_LIMIT`` characters."""
    size: int = 0
    """The full result's length in characters."""
    duration: float = 0.0
    """Seconds from the call event to its result (or to the end of the run)."""
    traceback: str | None = None
    """For a call whose tool raised: the end of the Python traceback (``TRACEBACK_LIMIT`` characters)."""


class TodosChanged(BaseEvent):
    type: Literal["todos_changed"] = "todos_changed"
    todos: list[TodoItem]
    """The whole list after the change, in the agent's order."""


class FilesChanged(BaseEvent):
    type: Literal["files_changed"] = "files_changed"
    changes: list[FileChange]
    call_id: str | None = None
    """The tool call whose result these changes followed; None for changes found at the end of a turn.
    Parallel calls share one workspace, so a change may have been made by a call still running."""


class UsageUpdated(BaseEvent):
    type: Literal["usage_updated"] = "usage_updated"
    usage: Usage
    """The run's so far, its subagents' included."""


class MessageQueued(BaseEvent):
    """The user sent a message into the running turn; it waits for its moment (see ``MessageKind``).

    One that has no ``MessageDelivered`` by the turn's ``RunFinished`` never reached the model.
    """

    type: Literal["message_queued"] = "message_queued"
    message_id: str
    kind: MessageKind
    text: str
    """As typed, secrets masked."""


class MessageDelivered(BaseEvent):
    """A queued message went into the model's request at ``step``: from here on the agent has read it."""

    type: Literal["message_delivered"] = "message_delivered"
    message_id: str
    kind: MessageKind
    text: str
    step: int
    """The step of the ModelRequestNode whose request carried it."""


class SubagentStarted(BaseEvent):
    """A ``task`` call started a subagent; its own events follow with ``origin.task_id == task_id``.

    ``origin`` is the subagent itself (as on all its events), so a view filtering one agent's events sees it.
    """

    type: Literal["subagent_started"] = "subagent_started"
    task_id: str
    name: str
    description: str = ""
    """What the ``task`` call asked of it."""
    mode: SubagentMode = "sync"
    parent: str | None = None
    """The task id of the subagent whose ``task`` call started it; None for the main agent's."""
    call_id: str = ""
    """The ``task`` call that started it, among the events of ``parent`` (the main agent's when None)."""


class SubagentFinished(BaseEvent):
    """A subagent ended, however it ended; every ``subagent_started`` of a turn has one before ``run_finished``."""

    type: Literal["subagent_finished"] = "subagent_finished"
    task_id: str
    name: str
    status: SubagentStatus
    preview: str = ""
    """The start of its answer, capped at ``PREVIEW_LIMIT`` characters."""
    error: str | None = None
    """Why it failed or was cancelled, in a line."""
    duration: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    """Its own requests, tokens, calls and cost (not its subagents'); ``run_finished`` sums them all."""


class ApprovalRequested(BaseEvent):
    """A call waits for a person's decision before it runs; ``origin`` is the subagent asking, if one is."""

    type: Literal["approval_requested"] = "approval_requested"
    call_id: str
    tool: str
    args: dict[str, object] = Field(default_factory=dict)
    preview: str = ""
    """What to read before deciding: a unified diff against the workspace, the command, or the arguments."""
    preview_kind: PreviewKind = "args"


class ApprovalResolved(BaseEvent):
    """A waiting call was decided; a denial's reason reaches the model."""

    type: Literal["approval_resolved"] = "approval_resolved"
    call_id: str
    tool: str
    decision: Decision
    reason: str | None = None
    by: DecidedBy
    args: dict[str, object] | None = None
    """The arguments the call runs with, when the decision edited them."""


class RunFinished(BaseEvent):
    type: Literal["run_finished"] = "run_finished"
    status: RunStatus
    output: str = ""
    error: str | None = None
    """One line saying what went wrong, for failed and timed-out runs."""
    usage: Usage = Field(default_factory=Usage)
    """The whole run's: the main agent's and every subagent's."""
    duration: float = 0.0


Event = Annotated[
    RunStarted
    | NodeEntered
    | TextDelta
    | ThinkingDelta
    | ToolCallStarted
    | ToolCallFinished
    | TodosChanged
    | FilesChanged
    | UsageUpdated
    | MessageQueued
    | MessageDelivered
    | SubagentStarted
    | SubagentFinished
    | ApprovalRequested
    | ApprovalResolved
    | RunFinished,
    Field(discriminator="type"),
]
"""Any event. New kinds (approvals) join this union."""

PREVIEW_LIMIT = 2000
"""Characters of a tool result kept in its event; the full size is in ``size``."""

TRACEBACK_LIMIT = 8192
"""Characters of a failed tool's traceback kept in its event: the end, where the tool raised."""

_SURROGATES = re.compile("[\ud800-\udfff]")


def json_safe(text: str) -> str:
    """``text`` with lone surrogates (which JSON cannot carry) replaced by U+FFFD.

    A tool can put them in a path, a result or an error message (``os.fsdecode`` of a name
    that is not UTF-8); an event holding one could not be printed, streamed or saved.
    """
    return _SURROGATES.sub("\ufffd", text) if _SURROGATES.search(text) else text


EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def parse_event(line: str | bytes) -> Event:
    """One event from its JSON form, as ``run --json`` prints it."""
    return EVENT_ADAPTER.validate_json(line)
