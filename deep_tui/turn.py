"""One turn of a session: pydantic-ai's run events translated into deep-tui's, stamped, masked and sent.

A ``Session`` (``deep_tui.runner``) owns the conversation; a ``Turn`` is what one prompt's run reports. It follows
the run node by node, translates each model and tool event (a subagent's into a ``child`` stream of its own),
reports the todos, the workspace's changes and the usage as they change, and ends with exactly one
``RunFinished``. With the runner, the only module that touches pydantic-ai's run internals.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import (
    Agent,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPartDelta,
    ThinkingPartDelta,
)
from pydantic_ai.messages import (
    SYNTHESIZED_TOOL_RETURN_METADATA_KEY,
    EnqueuedMessagesEvent,
    ModelMessage,
    ModelRequest,
    RetryPromptPart,
    TextPart,
    ThinkingPart,
    ToolReturnPart,
    UserPromptPart,
)

from deep_tui.delegations import Delegations, SubagentRun
from deep_tui.events import (
    PREVIEW_LIMIT,
    TRACEBACK_LIMIT,
    Event,
    FilesChanged,
    MessageDelivered,
    MessageKind,
    NodeEntered,
    NodeName,
    Origin,
    RunFinished,
    RunStatus,
    SubagentFinished,
    SubagentStatus,
    TextDelta,
    ThinkingDelta,
    TodoItem,
    TodosChanged,
    ToolCallFinished,
    ToolCallStarted,
    ToolOutcome,
    Usage,
    UsageUpdated,
    json_safe,
)
from deep_tui.redact import StreamRedactor, json_forms, redact, secrets
from deep_tui.workspace import TrackedStateBackend

EventSink = Callable[[Event], object]
"""Where a turn's events go; called on the event loop, must not block."""

_UNFINISHED_OUTCOME: dict[RunStatus, ToolOutcome] = {
    "completed": "interrupted",
    "failed": "interrupted",
    "timeout": "cancelled",
    "cancelled": "cancelled",
}
"""How a call still running when its turn ends is closed, by how the turn ended (the call whose
tool raised the error that ended a turn is "failed")."""

SHARE_LOOP_EVERY = 0.005
"""Seconds a turn may hold the event loop before it yields."""

ERROR_LIMIT = 500
"""Characters of an error message kept in a failed run's event."""

_CUT_MESSAGE = "… (the rest of the message is left out)\n"
_CUT_FRAMES = "… (earlier frames are left out)\n"


@dataclass
class _Call:
    tool: str
    started: float


@dataclass
class Turn:
    """One turn's events: pydantic-ai's run events translated, stamped with their sequence number and time, and
    kept free of secrets.

    The answer and the thinking each stream through a ``StreamRedactor``; whatever one holds
    back is sent before any other event, so the order of events is the order things happened.

    Each subagent writes to a ``child`` of the turn: its own calls, text streams and todos, its events tagged with
    its origin, stamped in the one order of the turn. A subagent's event sends only its own held-back text first,
    so one agent's text streaming beside another's is masked across its pieces as if it were alone.
    """

    sink: EventSink
    started: float = field(default_factory=time.perf_counter)
    started_at: float = field(default_factory=time.time)
    """The wall clock at ``started``: what ``RunStarted.started_at`` says."""
    seq: int = 0
    calls: dict[str, _Call] = field(default_factory=dict)
    messages: dict[str, tuple[MessageKind, str]] = field(default_factory=dict)
    """The user's messages sent into this turn and not yet delivered, by enqueue id: kind and masked text."""
    text_parts: int = 0
    secrets: tuple[str, ...] = field(default_factory=secrets)
    last_yield: float = field(default_factory=time.perf_counter)
    origin: Origin | None = None
    root: Turn | None = None
    """The main agent's stream, for a subagent's; None for the main agent's own."""
    deps: Any = None
    """The deps of the agent writing here: its todos are reported."""
    todos: tuple[TodoItem, ...] = ()
    """Its todos as last reported."""
    files: TrackedStateBackend | None = None
    """The workspace whose changes the turn reports (the main agent's stream holds it, every subagent writes there)."""
    run: Any = None
    """pydantic-ai's run of the main agent, once it started: its usage is reported."""
    usage: Usage = field(default_factory=Usage)
    """The usage as last reported, every subagent's included."""
    subagents: Delegations | None = None
    """The subagents the main agent's stream delegates to; None in a subagent's."""
    closed: bool = False
    """Set once ``run_finished`` is sent: a subagent stopping later sends nothing more."""

    def __post_init__(self) -> None:
        self.json_secrets = json_forms(self.secrets)
        self.streams = {TextDelta: StreamRedactor(self.secrets), ThinkingDelta: StreamRedactor(self.secrets)}
        if self.root is None:
            self.subagents = Delegations(
                self, translate=self.translate, node_done=self.report_usage, ended=self.subagent_ended
            )

    def emit(self, event_type: type[Event], **fields: Any) -> Event:
        for kind in self.streams:
            self.flush(kind)
        return self._stamp(event_type, **fields)

    def stream(self, kind: type[TextDelta | ThinkingDelta], piece: str) -> None:
        """Send the next piece of the answer or the thinking, masked across pieces."""
        for other in self.streams:
            if other is not kind:
                self.flush(other)
        shown = self.streams[kind].feed(piece)
        if shown:
            self._stamp(kind, text=json_safe(shown))

    def flush(self, kind: type[TextDelta | ThinkingDelta]) -> None:
        """Send what a stream holds back: its text has ended, or another event comes next."""
        shown = self.streams[kind].flush()
        if shown:
            self._stamp(kind, text=json_safe(shown))

    def clean(self, text: str) -> str:
        """``text`` as an event may carry it: secrets masked, JSON-safe."""
        return json_safe(redact(text, self.secrets))

    @property
    def main(self) -> Turn:
        return self.root or self

    def child(self, origin: Origin) -> Turn:
        """The stream of a subagent of this turn."""
        return Turn(self.sink, started=self.started, secrets=self.secrets, origin=origin, root=self.main)

    def emit_for_run(self, event_type: type[Event], **fields: Any) -> Event:
        """An event of the whole run (no origin) sent from this stream: only this stream's held-back text goes first."""
        for kind in self.streams:
            self.flush(kind)
        return self.main._stamp(event_type, **fields)

    def _stamp(self, event_type: type[Event], **fields: Any) -> Event:
        if self.root is not None:
            return self.root._stamp(event_type, origin=self.origin, **fields)
        event = event_type(seq=self.seq, t=round(self.elapsed(), 4), **fields)
        if not self.closed:
            self.seq += 1
            self.sink(event)
        return event

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    async def share_loop(self) -> None:
        """Let the event loop run if this turn has held it for a while.

        A model that streams without waiting (a scripted one, a fast local one)
        would otherwise starve every other task on the loop, the dashboard's included.
        """
        now = time.perf_counter()
        if now - self.last_yield > SHARE_LOOP_EVERY:
            await asyncio.sleep(0)
            self.last_yield = time.perf_counter()

    # Translating the run ---------------------------------------------------------------

    async def drive(self, run: Any) -> None:
        """Follow ``run`` (pydantic-ai's ``AgentRun`` of this turn) node by node, translating its events."""
        self.run = run
        step = 0
        async for node in run:
            step += 1
            self.emit(NodeEntered, node=_node_name(node), step=step)
            if Agent.is_model_request_node(node):
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        if isinstance(event, EnqueuedMessagesEvent):
                            _emit_delivered(self, event.enqueue_id, step)
                        else:
                            self.on_model_event(event)
                        await self.share_loop()
            elif Agent.is_call_tools_node(node):
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        self.on_tool_event(event)
                        await self.share_loop()
            self.report_usage()

    def on_model_event(self, event: Any) -> None:
        """A model stream event of this stream's agent: its answer and thinking, streamed."""
        if isinstance(event, PartStartEvent):
            part = event.part
            if isinstance(part, TextPart):
                prefix = "\n\n" if self.text_parts else ""
                self.text_parts += 1
                if part.content or prefix:
                    self.stream(TextDelta, prefix + part.content)
            elif isinstance(part, ThinkingPart) and part.content:
                self.stream(ThinkingDelta, part.content)
        elif isinstance(event, PartDeltaEvent):
            delta = event.delta
            if isinstance(delta, TextPartDelta):
                if delta.content_delta:
                    self.stream(TextDelta, delta.content_delta)
            elif isinstance(delta, ThinkingPartDelta) and delta.content_delta:
                self.stream(ThinkingDelta, delta.content_delta)
        elif isinstance(event, PartEndEvent) and isinstance(event.part, TextPart):
            # The next text part starts with a blank line, so no secret can span the two.
            # Thinking parts follow each other with nothing between: that stream is sent
            # when anything else comes, so a secret split across two of them is still masked.
            self.flush(TextDelta)

    def on_tool_event(self, event: Any) -> None:
        """A tool event of this stream's agent: a call starts, or has its result."""
        if isinstance(event, FunctionToolCallEvent):
            part = event.part
            self.calls[part.tool_call_id] = _Call(part.tool_name, self.elapsed())
            self.emit(ToolCallStarted, call_id=part.tool_call_id, tool=part.tool_name, args=_args(part, self))
        elif isinstance(event, FunctionToolResultEvent):
            if self.main.subagents is not None:  # a sync task call's subagent ends before its call
                self.main.subagents.call_finished(self.origin, event.part.tool_call_id)
            _emit_result(self, event.part)
            self.report_workspace(event.part.tool_call_id)
            self.report_usage()

    def translate(self, event: Any, stream: Turn) -> None:
        """One of a subagent's stream events, translated into its ``stream`` as the main agent's are."""
        if self.main.closed:  # a subagent unwinding after its turn ended
            return
        if isinstance(event, (FunctionToolCallEvent, FunctionToolResultEvent)):
            stream.on_tool_event(event)
        else:
            stream.on_model_event(event)

    def subagent_ended(
        self, sub: SubagentRun, status: SubagentStatus, result: str, error: str | None, cause: BaseException | None
    ) -> None:
        """A subagent ended: close its calls still open, report its workspace, then its end and its own usage."""
        stream = sub.stream
        assert isinstance(stream, Turn)
        culprits = functions_in(cause) if status == "failed" and cause is not None else frozenset()
        _close_calls(stream, "cancelled" if status == "cancelled" else "interrupted", culprits, error, cause)
        stream.report_workspace()
        longest = len(stream.secrets[0]) if stream.secrets else 0
        stream.emit(
            SubagentFinished,
            task_id=sub.origin.task_id,
            name=sub.origin.name,
            status=status,
            preview=stream.clean(result[: PREVIEW_LIMIT + longest])[:PREVIEW_LIMIT],
            error=stream.clean(" ".join(error.split())[:ERROR_LIMIT]) if error else None,
            duration=round(stream.elapsed() - sub.started, 4),
            usage=_usage(sub.usage) if sub.usage is not None else Usage(),
        )
        stream.report_usage()

    def report_workspace(self, call_id: str | None = None) -> None:
        """This stream's agent's todos if they changed, and the workspace's changes since the last report."""
        todos = tuple(todos_of(self.deps))
        if todos != self.todos:
            self.todos = todos
            shown = [
                t.model_copy(update={"content": self.clean(t.content), "active_form": self.clean(t.active_form)})
                for t in todos
            ]
            self.emit(TodosChanged, todos=shown)
        files = self.main.files
        changes = files.drain_changes() if files is not None else []
        if changes:  # paths stay as written (the viewer opens a file by its path), only made JSON-safe
            changes = [c.model_copy(update={"path": json_safe(c.path)}) for c in changes]
            self.emit(FilesChanged, changes=changes, call_id=call_id)

    def report_usage(self) -> None:
        """The run's usage, every subagent's added: pydantic-ai counts a subagent's run apart from its parent's."""
        main = self.main
        if main.run is None or main.closed:
            return
        subs = main.subagents.runs.values() if main.subagents is not None else ()
        usage = _usage(main.run.usage, *(sub.usage for sub in subs if sub.usage is not None))
        if usage != main.usage:
            main.usage = usage
            self.emit_for_run(UsageUpdated, usage=usage)

    def finish(
        self,
        status: RunStatus,
        history: list[ModelMessage],
        *,
        output: str = "",
        error: str | None = None,
        culprits: frozenset[str] = frozenset(),
        cause: BaseException | None = None,
    ) -> RunFinished:
        """End the turn with its one ``RunFinished``: its subagents stopped, its calls closed (with their results if
        ``history``, the conversation it reached, holds them), its workspace and usage reported."""
        if self.subagents is not None:
            self.subagents.close()
        # A call can finish in the same instant the turn is stopped: its result is in the history kept.
        for part in _results(history, set(self.calls)):
            _emit_result(self, part)
        _close_calls(self, _UNFINISHED_OUTCOME[status], culprits, error, cause)
        self.report_workspace()
        self.report_usage()
        event = self.emit(
            RunFinished,
            status=status,
            output=output,
            error=error,
            usage=self.usage,
            duration=round(self.elapsed(), 4),
        )
        self.closed = True
        assert isinstance(event, RunFinished)
        return event


def _close_calls(
    turn: Turn, outcome: ToolOutcome, culprits: frozenset[str], error: str | None, cause: BaseException | None
) -> None:
    """Close the calls still open when their agent stops; one whose tool raised what stopped it is "failed"."""
    for call_id, call in turn.calls.items():
        failed = call.tool in culprits
        turn.emit(
            ToolCallFinished,
            call_id=call_id,
            tool=call.tool,
            outcome="failed" if failed else outcome,
            preview=error or "" if failed else "",
            size=len(error or "") if failed else 0,
            duration=round(turn.elapsed() - call.started, 4),
            traceback=_traceback(cause, turn) if failed and cause is not None else None,
        )
    turn.calls.clear()


def _emit_result(turn: Turn, part: ToolReturnPart | RetryPromptPart) -> None:
    call = turn.calls.pop(part.tool_call_id, None)
    text = result_text(part.content)
    # Masked before it is cut, so a secret across the cut is masked, not half shown; a result
    # that was a dict or list is JSON here, so the secrets' JSON spellings are masked too.
    longest = len(turn.json_secrets[0]) if turn.json_secrets else 0
    turn.emit(
        ToolCallFinished,
        call_id=part.tool_call_id,
        tool=part.tool_name or (call.tool if call else ""),
        outcome=part.outcome if isinstance(part, ToolReturnPart) else "retried",
        preview=json_safe(redact(text[: PREVIEW_LIMIT + longest], turn.json_secrets))[:PREVIEW_LIMIT],
        size=len(text),
        duration=round(turn.elapsed() - call.started, 4) if call else 0.0,
    )


def _emit_delivered(turn: Turn, message_id: str, step: int) -> None:
    """Report one of the user's messages as read by the model (what a tool enqueues is not theirs)."""
    if message_id in turn.messages:
        kind, text = turn.messages.pop(message_id)
        turn.emit(MessageDelivered, message_id=message_id, kind=kind, text=text, step=step)


def _results(messages: list[ModelMessage], call_ids: set[str]) -> list[ToolReturnPart | RetryPromptPart]:
    """The results this turn's history holds for ``call_ids``, leaving out those pydantic-ai made up for calls
    a stop cut off. Reads back only to the turn's prompt."""
    found: list[ToolReturnPart | RetryPromptPart] = []
    for message in reversed(messages if call_ids else []):
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            if (
                isinstance(part, (ToolReturnPart, RetryPromptPart))
                and part.tool_call_id in call_ids
                and not (getattr(part, "metadata", None) or {}).get(SYNTHESIZED_TOOL_RETURN_METADATA_KEY)
            ):
                found.append(part)
        if any(isinstance(part, UserPromptPart) for part in message.parts):
            break
    return found


def functions_in(exc: BaseException) -> frozenset[str]:
    """The names of the functions an exception passed through: a tool that raised is among them."""
    return frozenset(frame.f_code.co_name for frame, _ in traceback.walk_tb(exc.__traceback__))


def _traceback(exc: BaseException, turn: Turn) -> str:
    """The traceback of the error a tool raised, masked, in at most ``TRACEBACK_LIMIT`` characters.

    What matters comes last (the tool's own frames, then the error), so the frames are cut from the
    start; a huge message is cut from its end first, so it cannot push the frames out.
    """
    report = traceback.TracebackException.from_exception(exc)
    whole = turn.clean("".join(report.format()))
    error = turn.clean("".join(report.format_exception_only()))
    frames = whole[: -len(error)] if error and whole.endswith(error) else whole
    if len(frames) == len(whole):
        error = ""
    if len(error) > TRACEBACK_LIMIT // 4:
        error = error[: TRACEBACK_LIMIT // 4 - len(_CUT_MESSAGE)] + _CUT_MESSAGE
    room = TRACEBACK_LIMIT - len(error) - len(_CUT_FRAMES)
    if len(frames) > room + len(_CUT_FRAMES):
        kept = frames[-room:]
        frames = _CUT_FRAMES + kept[kept.find("\n") + 1 :]  # from a whole line
    return frames + error


def _node_name(node: Any) -> NodeName:
    if Agent.is_user_prompt_node(node):
        return "UserPromptNode"
    if Agent.is_model_request_node(node):
        return "ModelRequestNode"
    if Agent.is_call_tools_node(node):
        return "CallToolsNode"
    return "End"


def _args(part: Any, turn: Turn) -> dict[str, object]:
    """A call's arguments with secrets masked (also where JSON escapes them) and no lone surrogates."""
    try:
        args = dict(part.args_as_dict())
    except (ValueError, TypeError):
        return {"_raw": turn.clean(str(part.args))}
    dumped = json.dumps(args, default=str, ensure_ascii=False)
    cleaned = json_safe(redact(dumped, turn.json_secrets))
    if cleaned == dumped:
        return args
    try:
        return dict(json.loads(cleaned))
    except ValueError:  # a mask cut through the JSON's own syntax
        return {"_raw": cleaned}


def result_text(content: Any) -> str:
    """A tool's result as text: a string as it is, bytes decoded, anything else as JSON."""
    if isinstance(content, str):
        return content
    if isinstance(content, bytes):
        return content.decode("utf-8", "replace")
    try:
        return json.dumps(content, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(content)


def answer_text(output: Any) -> str:
    """A run's output as text: an answer as it is, anything else as JSON."""
    return output if isinstance(output, str) else result_text(output)


def todos_of(deps: Any) -> list[TodoItem]:
    """The todo list of an agent's deps (empty for deps without one)."""
    return [
        TodoItem(id=str(t.id), content=t.content, status=t.status, active_form=t.active_form or "")
        for t in getattr(deps, "todos", None) or []
    ]


def _usage(*usages: Any) -> Usage:
    """pydantic-ai's run usages, summed as one (built once: a turn with many subagents sums on every result)."""
    costs = [float(cost) for usage in usages if (cost := getattr(usage, "cost", None)) is not None]
    return Usage(
        requests=sum(usage.requests for usage in usages),
        input_tokens=sum(usage.input_tokens or 0 for usage in usages),
        output_tokens=sum(usage.output_tokens or 0 for usage in usages),
        tool_calls=sum(usage.tool_calls for usage in usages),
        cost=sum(costs) if costs else None,
    )


def one_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first part of its message, secrets masked."""
    message = redact(" ".join(str(exc).split())) or type(exc).__name__
    if len(message) > ERROR_LIMIT:
        message = message[: ERROR_LIMIT - 1] + "…"
    return f"{type(exc).__name__}: {message}"
