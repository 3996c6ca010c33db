"""The runner: one conversation with an agent, a turn per prompt.

A ``Session`` owns the agent, its deps, its workspace, the message history and the
approvals; ``run`` starts one turn with ``agent.iter``, and the turn
(``deep_tui.turn``) translates the run's events into the event stream, handing each
to a sink. Every turn ends with exactly one ``RunFinished``, whether it completed,
failed, timed out or was cancelled, and the history, files and todos it reached
carry into the next turn. With ``deep_tui.turn``, the only module that touches
pydantic-ai's run internals.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import Agent, CancellationToken, RunCancelled, RunTimedOut
from pydantic_ai.exceptions import UserError
from pydantic_ai.messages import (
    ModelMessage,
    ModelMessagesTypeAdapter,
    ModelRequest,
    ToolReturnPart,
    repair_messages,
)
from pydantic_ai.settings import ModelSettings
from pydantic_ai.usage import UsageLimits
from pydantic_ai_backends import StateBackend
from pydantic_deep.features.message_queue import QueuedMessage, format_steering

from deep_tui import subagents
from deep_tui.approvals import CURRENT_DESK, AlwaysRule, ApprovalPolicy, Approvals
from deep_tui.events import (
    DecidedBy,
    Decision,
    Event,
    MessageKind,
    MessageQueued,
    RunFinished,
    RunStarted,
    TodoItem,
)
from deep_tui.redact import redact
from deep_tui.turn import EventSink, Turn, answer_text, functions_in, one_line, result_text, todos_of
from deep_tui.workspace import TrackedStateBackend

USAGE_LIMITS = UsageLimits(request_limit=None)
"""No cap on requests per turn: pydantic-ai's default of 50 ends long agent runs, which
are what deep-tui is for (pydantic-deep's own CLI lifts it the same way). The user
watches the spend and cancels."""


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
        self._turn: Turn | None = None
        """The turn running, if one is: it holds pydantic-ai's run."""
        self._todos: tuple[TodoItem, ...] = ()
        self.approvals = Approvals(approvals or ApprovalPolicy(), self.files)
        """The calls waiting for a decision, and the always-rules; the views answer through ``approve``."""
        from deep_tui.subagent_gate import gate_subagents

        gate_subagents(agent)

    def todos(self) -> list[TodoItem]:
        """The agent's todo list now (empty for agents without one)."""
        return todos_of(self.deps)

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
        run = self._turn.run if self._turn is not None else None
        messages = run.all_messages() if run is not None else self.history
        for message in reversed(messages):
            if isinstance(message, ModelRequest):
                for part in message.parts:
                    if isinstance(part, ToolReturnPart) and part.tool_call_id == call_id:
                        return result_text(part.content)
        return None

    @property
    def accepts_messages(self) -> bool:
        """Whether ``steer`` and ``follow_up`` can reach the running turn now."""
        cancelled = self._token is not None and self._token.cancelled
        return self._turn is not None and not cancelled and callable(getattr(self._turn.run, "enqueue", None))

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
                message_id: str = turn.run.enqueue(format_steering([QueuedMessage(text, "steering")]))
            else:
                message_id = turn.run.enqueue(text, priority="when_idle")
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
        turn = Turn(sink, deps=self.deps, todos=self._todos, files=self.files)
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
                self._turn = turn
                await turn.drive(run)
            result = run.result
            assert result is not None
            self.history = result.all_messages()
            return turn.finish("completed", self.history, output=turn.clean(answer_text(result.output)))
        except RunTimedOut as exc:
            self.history = exc.all_messages()
            return turn.finish("timeout", self.history, error=f"timed out after {timeout:g} s")
        except RunCancelled as exc:
            self.history = exc.all_messages()
            return turn.finish("cancelled", self.history)
        except asyncio.CancelledError as exc:
            recovered = RunCancelled.from_cancellation(exc)
            if recovered is not None:
                self.history = recovered.all_messages()
            turn.finish("cancelled", self.history)
            raise
        except Exception as exc:  # a provider, model or tool error ends the turn, not the session
            if run is not None:
                self.history = run.all_messages()
            return turn.finish(
                "failed", self.history, error=turn.clean(one_line(exc)), culprits=functions_in(exc), cause=exc
            )
        finally:
            self._todos = turn.todos  # the main agent's, as last reported: the next turn starts from them
            subagents.stop_listening(listening)
            self._token = None
            self._turn = None
            self.approvals.attach(None)
            CURRENT_DESK.reset(desk)
