"""The runner: one conversation with an agent, turned into the event stream.

This is the only module that touches pydantic-ai's run internals. A ``Session``
owns the agent, its deps, its workspace and the message history; ``run`` drives
one turn with ``agent.iter`` + ``node.stream`` and hands each event to a sink.
Every turn ends with exactly one ``RunFinished``, whether it completed, failed,
timed out or was cancelled, and the history, files and todos it reached carry
into the next turn.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import (
    Agent,
    CancellationToken,
    FunctionToolCallEvent,
    FunctionToolResultEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    RunCancelled,
    RunTimedOut,
    TextPartDelta,
    ThinkingPartDelta,
)
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import (
    SYNTHESIZED_TOOL_RETURN_METADATA_KEY,
    EnqueuedMessagesEvent,
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    RetryPromptPart,
    TextPart,
    ThinkingPart,
    ToolReturnPart,
    UserPromptPart,
    repair_messages,
)
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import UsageLimits
from pydantic_ai_backends import StateBackend
from pydantic_deep.features.message_queue import QueuedMessage, format_steering

from deep_tui import subagents
from deep_tui.approvals import CURRENT_DESK, AlwaysRule, ApprovalPolicy, Approvals
from deep_tui.delegations import Delegations, SubagentRun
from deep_tui.events import (
    PREVIEW_LIMIT,
    TRACEBACK_LIMIT,
    DecidedBy,
    Decision,
    Event,
    FilesChanged,
    MessageDelivered,
    MessageKind,
    MessageQueued,
    NodeEntered,
    NodeName,
    Origin,
    RunFinished,
    RunStarted,
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

USAGE_LIMITS = UsageLimits(request_limit=None)
"""No cap on requests per turn: pydantic-ai's default of 50 ends long agent runs, which
are what deep-tui is for (pydantic-deep's own CLI lifts it the same way). The user
watches the spend and cancels."""

ERROR_LIMIT = 500
"""Characters of an error message kept in a failed run's event."""

_CUT_MESSAGE = "… (the rest of the message is left out)\n"
_CUT_FRAMES = "… (earlier frames are left out)\n"


@dataclass(frozen=True)
class Snapshot:
    """What a session has made, as it was when taken: what a saved session holds.

    Taking one is cheap enough for the event loop (shallow copies: the backend
    replaces a file's entry on every write and never changes one, and a turn's
    history is a new list); making its bytes is left to whoever writes it, on
    another thread.
    """

    session_id: str
    agent: str
    turns: int
    todos: list[TodoItem]
    directories: list[str]
    documents: dict[str, Any]
    history: list[ModelMessage]
    approval_rules: list[AlwaysRule] = field(default_factory=list)

    def files(self) -> dict[str, bytes]:
        """Every file's exact bytes, by path."""
        files = StateBackend(files=dict(self.documents))
        return {path: files.read_bytes(path) for path in self.documents}

    def messages_json(self) -> Iterator[bytes]:
        """The message history as pydantic-ai's JSON, a message at a time.

        One ``dump_json`` of a long history holds the GIL for a long while; message by
        message, the thread writing it lets the dashboard's keys through in between.
        """
        yield b"["
        for index, message in enumerate(self.history):
            try:
                dumped = ModelMessagesTypeAdapter.dump_json([message])
            except ValueError:  # a lone surrogate (from a tool) that pydantic will not encode: kept as its escape
                python = ModelMessagesTypeAdapter.dump_python([message], mode="json")
                dumped = json.dumps(python, ensure_ascii=False).encode("utf-8", "backslashreplace")
            yield (b"," if index else b"") + dumped[1:-1]
        yield b"]"


@dataclass
class _Call:
    tool: str
    started: float


@dataclass
class _Turn:
    """Stamps one turn's events with their sequence number and time, and keeps secrets out of them.

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
    root: _Turn | None = None
    """The main agent's stream, for a subagent's; None for the main agent's own."""
    deps: Any = None
    """The deps of the agent writing here: its todos are reported."""
    todos: tuple[TodoItem, ...] = ()
    """Its todos as last reported."""
    subagents: Delegations | None = None
    closed: bool = False
    """Set once ``run_finished`` is sent: a subagent stopping later sends nothing more."""

    def __post_init__(self) -> None:
        self.json_secrets = json_forms(self.secrets)
        self.streams = {TextDelta: StreamRedactor(self.secrets), ThinkingDelta: StreamRedactor(self.secrets)}

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
    def main(self) -> _Turn:
        return self.root or self

    def child(self, origin: Origin) -> _Turn:
        """The stream of a subagent of this turn."""
        return _Turn(self.sink, started=self.started, secrets=self.secrets, origin=origin, root=self.main)

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


class Session:
    """One conversation: an agent, its deps, its workspace and its history."""

    def __init__(
        self,
        agent: Agent[Any, Any],
        deps: Any,
        *,
        name: str,
        session_id: str | None = None,
        model_settings: ModelSettings | None = None,
        approvals: ApprovalPolicy | None = None,
    ) -> None:
        self.agent = agent
        self.deps = deps
        self.name = name
        self.model_settings = model_settings
        """Settings for every request of every turn (the stall timeout, the client's retries)."""
        self.id = session_id or uuid.uuid4().hex[:12]
        self.files = TrackedStateBackend()
        self.history: list[ModelMessage] = []
        self.turns = 0
        self._workspace = self.files.workspace(self.id)
        self._token: CancellationToken | None = None
        self._run: Any = None
        self._turn: _Turn | None = None
        self._todos: tuple[TodoItem, ...] = ()
        self._usage = Usage()
        self.approvals = Approvals(approvals or ApprovalPolicy(), self.files)
        """The calls waiting for a decision, and the always-rules; the views answer through ``approve``."""
        from deep_tui.subagent_gate import gate_subagents

        gate_subagents(agent)

    def todos(self) -> list[TodoItem]:
        """The agent's todo list now (empty for agents without one)."""
        return _todos_of(self.deps)

    def snapshot(self) -> Snapshot:
        """A copy of everything the session has made, safe to write from another thread."""
        return Snapshot(
            session_id=self.id,
            agent=self.name,
            turns=self.turns,
            todos=self.todos(),
            directories=sorted(self.files.directories),
            documents=dict(self.files.files),
            history=list(self.history),
            approval_rules=list(self.approvals.rules),
        )

    def tool_result(self, call_id: str) -> str | None:
        """A call's whole result as text, from the history (or the running turn), if it has one."""
        messages = self._run.all_messages() if self._run is not None else self.history
        for message in reversed(messages):
            if isinstance(message, ModelRequest):
                for part in message.parts:
                    if isinstance(part, ToolReturnPart) and part.tool_call_id == call_id:
                        return _result_text(part.content)
        return None

    @property
    def accepts_messages(self) -> bool:
        """Whether ``steer`` and ``follow_up`` can reach the running turn now."""
        cancelled = self._token is not None and self._token.cancelled
        return self._turn is not None and not cancelled and callable(getattr(self._run, "enqueue", None))

    def steer(self, text: str) -> str | None:
        """Send the running turn a message the model reads with its next request.

        Returns the id its events carry, or None when no turn can take it now (none runs, it is being
        cancelled, or it has made its last request).
        """
        return self._send(text, "steer")

    def follow_up(self, text: str) -> str | None:
        """Send the running turn a message the agent gets when it would otherwise stop; as ``steer``."""
        return self._send(text, "follow_up")

    def _send(self, text: str, kind: MessageKind) -> str | None:
        """Queue ``text`` in pydantic-ai's own queue of the run, which every agent has.

        pydantic-deep's ``MessageQueueCapability`` also steers any agent once added to the run, but the
        model reads its message on one request only (it never enters the history) and its follow-ups
        need the run to be started again; ``AgentRun.enqueue`` keeps the message in the history, turns
        a run about to end into one more request, and reports the delivery in the stream. A steer is
        labelled as pydantic-deep labels its own, so the model tells it from the results it comes with.
        """
        turn = self._turn
        if turn is None or not self.accepts_messages:
            return None
        try:
            if kind == "steer":
                message_id: str = self._run.enqueue(format_steering([QueuedMessage(text, "steering")]))
            else:
                message_id = self._run.enqueue(text, priority="when_idle")
        except UserError:  # the run has made its last request and is closing
            return None
        masked = redact(text, turn.secrets)
        turn.messages[message_id] = (kind, masked)
        turn.emit(MessageQueued, message_id=message_id, kind=kind, text=masked)
        return message_id

    def approve(
        self,
        call_id: str,
        approve: bool,
        *,
        reason: str | None = None,
        args: dict[str, Any] | None = None,
        by: DecidedBy = "key",
    ) -> Decision:
        """Decide a call waiting for approval (see ``Approvals.approve``); call it on the session's event loop."""
        return self.approvals.approve(call_id, approve, reason=reason, args=args, by=by)

    def cancel(self) -> None:
        """Stop the running turn from any task or thread; it ends "cancelled"."""
        if self._token is not None:
            self._token.cancel()

    async def events(self, prompt: str, *, timeout: float | None = None) -> AsyncIterator[Event]:
        """The events of one turn as an async iterator (closing it cancels the turn)."""
        queue: asyncio.Queue[Event] = asyncio.Queue()
        task = asyncio.ensure_future(self.run(prompt, queue.put_nowait, timeout=timeout))
        try:
            while True:
                event = await queue.get()
                yield event
                if isinstance(event, RunFinished):
                    return
        finally:
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def run(self, prompt: str, sink: EventSink, *, timeout: float | None = None) -> RunFinished:
        """Drive one turn, handing each event to ``sink``; returns its ``RunFinished``.

        Cancelling the task that awaits this emits ``RunFinished("cancelled")``
        and re-raises; the history reached so far is kept.
        """
        self.turns += 1
        turn = _Turn(sink, deps=self.deps, todos=self._todos)
        turn.subagents = Delegations(
            turn, translate=self._translate, node_done=lambda: self._report_usage(turn, self._run), ended=self._ended
        )
        subagents.install(self.agent)
        self._token = CancellationToken()
        run_id = uuid.uuid4().hex[:12]
        turn.emit(
            RunStarted,
            run_id=run_id,
            session_id=self.id,
            turn=self.turns,
            prompt=turn.clean(prompt),
            agent=self.name,
            started_at=turn.started_at,
        )
        self._usage = Usage()
        run = None
        listening = subagents.listen(turn.subagents)
        self.approvals.attach(turn)
        desk = CURRENT_DESK.set(self.approvals)
        try:
            async with self.agent.iter(
                prompt,
                deps=self.deps,
                # A turn that ended early can leave calls unanswered; closed out, the next prompt is accepted.
                message_history=repair_messages(self.history),
                workspace=self._workspace,
                timeout=timeout,
                cancellation_token=self._token,
                usage_limits=USAGE_LIMITS,
                model_settings=self.model_settings,
                capabilities=[self.approvals.gate()],
            ) as run:
                self._run, self._turn = run, turn
                await self._drive(run, turn)
            result = run.result
            assert result is not None
            self.history = result.all_messages()
            return self._finish(turn, "completed", output=turn.clean(_text(result.output)), run=run)
        except RunTimedOut as exc:
            self.history = exc.all_messages()
            return self._finish(turn, "timeout", error=f"timed out after {timeout:g} s", run=run)
        except RunCancelled as exc:
            self.history = exc.all_messages()
            return self._finish(turn, "cancelled", run=run)
        except asyncio.CancelledError as exc:
            recovered = RunCancelled.from_cancellation(exc)
            if recovered is not None:
                self.history = recovered.all_messages()
            self._finish(turn, "cancelled", run=run)
            raise
        except Exception as exc:  # a provider, model or tool error ends the turn, not the session
            if run is not None:
                self.history = run.all_messages()
            return self._finish(
                turn, "failed", error=turn.clean(one_line(exc)), run=run, culprits=_functions_in(exc), cause=exc
            )
        finally:
            subagents.stop_listening(listening)
            self._token = None
            self._run = self._turn = None
            self.approvals.attach(None)
            CURRENT_DESK.reset(desk)

    async def _drive(self, run: Any, turn: _Turn) -> None:
        step = 0
        async for node in run:
            step += 1
            turn.emit(NodeEntered, node=_node_name(node), step=step)
            if Agent.is_model_request_node(node):
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        if isinstance(event, EnqueuedMessagesEvent):
                            _emit_delivered(turn, event.enqueue_id, step)
                        else:
                            self._on_model_event(event, turn)
                        await turn.share_loop()
            elif Agent.is_call_tools_node(node):
                async with node.stream(run.ctx) as stream:
                    async for event in stream:
                        self._on_tool_event(event, turn, run)
                        await turn.share_loop()
            self._report_usage(turn, run)

    def _on_model_event(self, event: Any, turn: _Turn) -> None:
        if isinstance(event, PartStartEvent):
            part = event.part
            if isinstance(part, TextPart):
                prefix = "\n\n" if turn.text_parts else ""
                turn.text_parts += 1
                if part.content or prefix:
                    turn.stream(TextDelta, prefix + part.content)
            elif isinstance(part, ThinkingPart) and part.content:
                turn.stream(ThinkingDelta, part.content)
        elif isinstance(event, PartDeltaEvent):
            delta = event.delta
            if isinstance(delta, TextPartDelta):
                if delta.content_delta:
                    turn.stream(TextDelta, delta.content_delta)
            elif isinstance(delta, ThinkingPartDelta) and delta.content_delta:
                turn.stream(ThinkingDelta, delta.content_delta)
        elif isinstance(event, PartEndEvent) and isinstance(event.part, TextPart):
            # The next text part starts with a blank line, so no secret can span the two.
            # Thinking parts follow each other with nothing between: that stream is sent
            # when anything else comes, so a secret split across two of them is still masked.
            turn.flush(TextDelta)

    def _on_tool_event(self, event: Any, turn: _Turn, run: Any) -> None:
        if isinstance(event, FunctionToolCallEvent):
            part = event.part
            turn.calls[part.tool_call_id] = _Call(part.tool_name, turn.elapsed())
            turn.emit(ToolCallStarted, call_id=part.tool_call_id, tool=part.tool_name, args=_args(part, turn))
        elif isinstance(event, FunctionToolResultEvent):
            if turn.main.subagents is not None:  # a sync task call's subagent ends before its call
                turn.main.subagents.call_finished(turn.origin, event.part.tool_call_id)
            _emit_result(turn, event.part)
            self._report_workspace(turn, event.part.tool_call_id)
            self._report_usage(turn, run)

    def _translate(self, event: Any, turn: _Turn) -> None:
        """One of a subagent's stream events, translated as the main agent's are."""
        if turn.main.closed:  # a subagent unwinding after its turn ended
            return
        if isinstance(event, (FunctionToolCallEvent, FunctionToolResultEvent)):
            self._on_tool_event(event, turn, self._run)
        else:
            self._on_model_event(event, turn)

    def _ended(
        self, sub: SubagentRun, status: SubagentStatus, result: str, error: str | None, cause: BaseException | None
    ) -> None:
        """A subagent ended: close its calls still open, report its workspace, then its end and its own usage."""
        turn = sub.stream
        assert isinstance(turn, _Turn)
        culprits = _functions_in(cause) if status == "failed" and cause is not None else frozenset()
        _close_calls(turn, "cancelled" if status == "cancelled" else "interrupted", culprits, error, cause)
        self._report_workspace(turn)
        longest = len(turn.secrets[0]) if turn.secrets else 0
        turn.emit(
            SubagentFinished,
            task_id=sub.origin.task_id,
            name=sub.origin.name,
            status=status,
            preview=turn.clean(result[: PREVIEW_LIMIT + longest])[:PREVIEW_LIMIT],
            error=turn.clean(" ".join(error.split())[:ERROR_LIMIT]) if error else None,
            duration=round(turn.elapsed() - sub.started, 4),
            usage=_usage(sub.usage) if sub.usage is not None else Usage(),
        )
        self._report_usage(turn, self._run)

    def _report_workspace(self, turn: _Turn, call_id: str | None = None) -> None:
        todos = tuple(_todos_of(turn.deps))
        if todos != turn.todos:
            turn.todos = todos
            if turn.origin is None:
                self._todos = todos
            shown = [
                t.model_copy(update={"content": turn.clean(t.content), "active_form": turn.clean(t.active_form)})
                for t in todos
            ]
            turn.emit(TodosChanged, todos=shown)
        changes = self.files.drain_changes()
        if changes:  # paths stay as written (the viewer opens a file by its path), only made JSON-safe
            changes = [c.model_copy(update={"path": json_safe(c.path)}) for c in changes]
            turn.emit(FilesChanged, changes=changes, call_id=call_id)

    def _report_usage(self, turn: _Turn, run: Any) -> None:
        """The run's usage, every subagent's added: pydantic-ai counts a subagent's run apart from its parent's."""
        if run is None or turn.main.closed:
            return
        subs = turn.main.subagents.runs.values() if turn.main.subagents is not None else ()
        usage = _usage(run.usage, *(sub.usage for sub in subs if sub.usage is not None))
        if usage != self._usage:
            self._usage = usage
            turn.emit_for_run(UsageUpdated, usage=usage)

    def _finish(
        self,
        turn: _Turn,
        status: RunStatus,
        *,
        output: str = "",
        error: str | None = None,
        run: Any = None,
        culprits: frozenset[str] = frozenset(),
        cause: BaseException | None = None,
    ) -> RunFinished:
        if turn.subagents is not None:
            turn.subagents.close()
        # A call can finish in the same instant the turn is stopped: its result is in the history kept.
        for part in _results(self.history, set(turn.calls)):
            _emit_result(turn, part)
        _close_calls(turn, _UNFINISHED_OUTCOME[status], culprits, error, cause)
        self._report_workspace(turn)
        if run is not None:
            self._report_usage(turn, run)
        event = turn.emit(
            RunFinished,
            status=status,
            output=output,
            error=error,
            usage=self._usage,
            duration=round(turn.elapsed(), 4),
        )
        turn.closed = True
        assert isinstance(event, RunFinished)
        return event


def _close_calls(
    turn: _Turn, outcome: ToolOutcome, culprits: frozenset[str], error: str | None, cause: BaseException | None
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


def _emit_result(turn: _Turn, part: ToolReturnPart | RetryPromptPart) -> None:
    call = turn.calls.pop(part.tool_call_id, None)
    text = _result_text(part.content)
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


def _emit_delivered(turn: _Turn, message_id: str, step: int) -> None:
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


def _functions_in(exc: BaseException) -> frozenset[str]:
    """The names of the functions an exception passed through: a tool that raised is among them."""
    return frozenset(frame.f_code.co_name for frame, _ in traceback.walk_tb(exc.__traceback__))


def _traceback(exc: BaseException, turn: _Turn) -> str:
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


def _args(part: Any, turn: _Turn) -> dict[str, object]:
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


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, bytes):
        return content.decode("utf-8", "replace")
    try:
        return json.dumps(content, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(content)


def _text(output: Any) -> str:
    return output if isinstance(output, str) else _result_text(output)


def _todos_of(deps: Any) -> list[TodoItem]:
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
