"""Approvals: a human decides before a gated tool runs, and the run waits for the answer.

Which calls need a decision: every call the agent itself defers for approval (``interrupt_on``,
``requires_approval=True``, a tool raising ``ApprovalRequired``), the tools named with ``--approve``,
and, in its subagents, the same tools the agent gates (pydantic-deep builds subagents without them).

``ApprovalGate`` is a capability added to each run at run time, so it works on any agent: it raises
``ApprovalRequired`` for the named tools and resolves every deferred approval inline, through the
session's ``Approvals`` desk, instead of ending the run with ``DeferredToolRequests`` as its answer.
The desk keeps the calls waiting in the order they asked, the always-rules, and the time-out; the
dashboard, the web and the headless prompt answer through ``Approvals.approve``. pydantic-ai hands
the gate every gated call of one model response at once, and runs them once all are decided.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import posixpath
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from pydantic_ai import ApprovalRequired, RunContext, ToolApproved, ToolDenied
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import ToolCallPart
from pydantic_ai.tools import DeferredToolRequests, DeferredToolResults, ToolDefinition

from deep_tui.events import ApprovalRequested, ApprovalResolved, DecidedBy, Decision, Event, Origin, PreviewKind
from deep_tui.workspace import DIFF_LIMIT, TrackedStateBackend, normal_path

NO_ONE = "no one to approve (use --yes or the dashboard)"
"""Why a gated call is denied when nobody can be asked (``run --json``, no terminal)."""

PREVIEW_LIMIT = 64 * 1024
"""Characters of a preview kept in its event: enough for any diff a person reads before saying yes."""

PATH_ARGUMENTS = ("path", "file_path")
"""The arguments that name the file a call works on, for previews and folder rules."""

EDITING_TOOLS = frozenset({"write_file", "edit_file", "hashline_edit"})
COMMAND_TOOLS = frozenset({"execute", "run_command", "shell", "bash"})

_TOOL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class ApprovalError(ValueError):
    """``--approve`` names something that cannot be gated; the message says what and why."""


@dataclass(frozen=True)
class ApprovalPolicy:
    """What deep-tui itself gates, as the command line asked."""

    tools: frozenset[str] = frozenset()
    """Tools gated by name, in the agent and in its subagents (``--approve``)."""
    extend: bool = True
    """Gate, in subagents, the tools the agent gates itself; ``--approve none`` turns this and ``tools`` off."""
    timeout: float | None = None
    """Seconds a call may wait before it is denied; None waits for ever."""

    @classmethod
    def parse(cls, text: str | None, timeout: float | None = None) -> ApprovalPolicy:
        """The policy from ``--approve`` (``TOOL[,TOOL…]`` or ``none``)."""
        if text is None:
            return cls(timeout=timeout)
        names = [name.strip() for name in text.split(",") if name.strip()]
        if names == ["none"]:
            return cls(extend=False, timeout=timeout)
        if not names:
            raise ApprovalError("--approve needs tool names, e.g. --approve write_file,execute (or none)")
        if "none" in names:
            raise ApprovalError("--approve none turns deep-tui's gating off: give it alone, without tool names")
        bad = [name for name in names if not _TOOL_NAME.fullmatch(name)]
        if bad:
            raise ApprovalError(f"--approve: {bad[0]!r} is not a tool name")
        return cls(tools=frozenset(names), timeout=timeout)


class AlwaysRule(BaseModel):
    """A standing yes: this tool, anywhere or for paths under ``folder``, for the rest of the session."""

    model_config = ConfigDict(frozen=True)

    tool: str
    folder: str | None = None

    def matches(self, tool: str, args: dict[str, Any]) -> bool:
        if tool != self.tool:
            return False
        if self.folder is None:
            return True
        path = path_of(args)
        return path is not None and (self.folder == "/" or normal_path(path).startswith(self.folder + "/"))

    def describe(self) -> str:
        return f"always {self.tool}" + (f" under {self.folder}" if self.folder else "")


def path_of(args: dict[str, Any]) -> str | None:
    """The file a call works on, if it names one."""
    for name in PATH_ARGUMENTS:
        value = args.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def folder_of(args: dict[str, Any]) -> str | None:
    """The folder of the file a call works on: what an ``A`` (always, under this folder) rule covers."""
    path = path_of(args)
    return posixpath.dirname(normal_path(path)) if path is not None else None


class NotWaiting(LookupError):
    """A decision for a call that is not waiting: never asked, or already decided."""


class Turn(Protocol):
    """What the desk needs of the running turn: a way to send events, and to mask secrets in text."""

    def emit(self, event_type: type[Event], **fields: Any) -> Event: ...

    def clean(self, text: str) -> str: ...


@dataclass
class Waiting:
    """One call waiting for a decision."""

    call_id: str
    tool: str
    args: dict[str, Any]
    """As the model sent them (unmasked: an edit starts from them)."""
    origin: Origin | None
    future: asyncio.Future[bool | ToolApproved | ToolDenied]
    timer: asyncio.TimerHandle | None = None


@dataclass
class Approvals:
    """The session's approval desk: the calls waiting, in order, the always-rules and the time-out.

    Decisions are taken on the event loop the session runs on.
    """

    policy: ApprovalPolicy = field(default_factory=ApprovalPolicy)
    files: TrackedStateBackend | None = None
    """The workspace a write's diff is taken against."""
    rules: list[AlwaysRule] = field(default_factory=list)
    decider: Callable[[Waiting], object] | None = None
    """Called when a call starts waiting, to answer it without a screen (headless); None waits for a view."""
    unapproved: set[str] = field(default_factory=set)
    """The tools the agent marks as needing approval (``interrupt_on``, ``requires_approval``)."""
    _waiting: dict[str, Waiting] = field(default_factory=dict)
    _turn: Turn | None = None

    def waiting(self) -> list[Waiting]:
        """The calls waiting, oldest first."""
        return list(self._waiting.values())

    def attach(self, turn: Turn | None) -> None:
        """Send events to ``turn`` (None: no turn runs, and a call that asks is denied)."""
        self._turn = turn

    def gates(self, tool: str, origin: Origin | None) -> bool:
        """Whether deep-tui itself asks before ``tool`` runs, in the agent (origin None) or a subagent."""
        return tool in self.policy.tools or (origin is not None and self.policy.extend and tool in self.unapproved)

    def gate(self, origin: Origin | None = None) -> ApprovalGate:
        """The capability to add to a run of the agent (origin None) or of one of its subagents."""
        return ApprovalGate(self, origin)

    # Deciding --------------------------------------------------------------------------------------------

    def approve(
        self,
        call_id: str,
        approve: bool,
        *,
        reason: str | None = None,
        args: dict[str, Any] | None = None,
        by: DecidedBy = "key",
    ) -> Decision:
        """Decide one waiting call; ``args`` approves it with these arguments instead (an edit).

        Raises ``NotWaiting`` for a call that is not waiting (so none is answered twice), and
        ``TypeError`` for ``args`` that are not a JSON object.
        """
        if args is not None and not isinstance(args, dict):
            raise TypeError(f"the arguments must be a JSON object, not {type(args).__name__}")
        waiting = self._waiting.pop(call_id, None)
        if waiting is None or waiting.future.done():
            raise NotWaiting(f"call {call_id!r} is not waiting for a decision")
        if waiting.timer is not None:
            waiting.timer.cancel()
        reason = reason.strip() if reason and reason.strip() else None
        if not approve:
            decision: Decision = "denied"
            message = f"The user denied this call: {reason}" if reason else "The user denied this call."
            waiting.future.set_result(ToolDenied(message))
        elif args is not None and args != waiting.args:
            decision = "edited"
            waiting.future.set_result(ToolApproved(override_args=args))
        else:
            decision = "approved"
            waiting.future.set_result(True)
        self._resolved(waiting.call_id, waiting.tool, waiting.origin, decision, reason, by, args)
        return decision

    def add_rule(self, tool: str, folder: str | None = None) -> AlwaysRule:
        """Approve ``tool`` (under ``folder``) from now on, and the calls already waiting that it covers."""
        rule = AlwaysRule(tool=tool, folder=normal_path(folder) if folder else None)
        if rule not in self.rules:
            self.rules.append(rule)
        for waiting in self.waiting():
            if rule.matches(waiting.tool, waiting.args):
                self.approve(waiting.call_id, True, reason=rule.describe(), by="rule")
        return rule

    def remove_rule(self, rule: AlwaysRule) -> None:
        if rule in self.rules:
            self.rules.remove(rule)

    def _rule_for(self, tool: str, args: dict[str, Any]) -> AlwaysRule | None:
        return next((rule for rule in self.rules if rule.matches(tool, args)), None)

    # Asking ----------------------------------------------------------------------------------------------

    async def ask(self, requests: DeferredToolRequests, origin: Origin | None) -> DeferredToolResults | None:
        """Decide every approval ``requests`` holds: by rule, or by whoever answers; the run waits meanwhile."""
        if not requests.approvals:
            return None
        turn = self._turn
        decided: dict[str, bool | ToolApproved | ToolDenied] = {}
        asked: list[Waiting] = []
        for call in requests.approvals:
            args = _args(call)
            if turn is None:  # a background subagent asking after its turn ended: nobody is there to see it
                decided[call.tool_call_id] = ToolDenied("The turn this call belongs to has ended.")
                continue
            preview, kind = self.preview(call.tool_name, args)
            turn.emit(
                ApprovalRequested,
                call_id=call.tool_call_id,
                tool=call.tool_name,
                args=_masked(args, turn.clean),
                preview=turn.clean(preview),
                preview_kind=kind,
                origin=origin,
            )
            rule = self._rule_for(call.tool_name, args)
            if rule is not None:
                decided[call.tool_call_id] = True
                self._resolved(call.tool_call_id, call.tool_name, origin, "approved", rule.describe(), "rule", None)
                continue
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            waiting = Waiting(call.tool_call_id, call.tool_name, args, origin, future)
            self._waiting[waiting.call_id] = waiting
            asked.append(waiting)
        for waiting in asked:  # once every request is out, so the views see the whole queue first
            if self.policy.timeout is not None:
                waiting.timer = asyncio.get_running_loop().call_later(
                    self.policy.timeout, self._time_out, waiting.call_id
                )
            if self.decider is not None and not waiting.future.done():
                self.decider(waiting)
        try:
            for waiting in asked:
                decided[waiting.call_id] = await waiting.future
        finally:  # the turn was cancelled or timed out while a call waited: close what is still open
            for waiting in asked:
                if self._waiting.pop(waiting.call_id, None) is not None:
                    if waiting.timer is not None:
                        waiting.timer.cancel()
                    waiting.future.cancel()
                    self._resolved(
                        waiting.call_id, waiting.tool, waiting.origin, "denied", "the turn ended", "cancel", None
                    )
        return requests.build_results(approvals=decided)

    def _time_out(self, call_id: str) -> None:
        if call_id in self._waiting:
            seconds = f"{self.policy.timeout:g}"
            self.approve(call_id, False, reason=f"no decision within {seconds} s", by="timeout")

    def _resolved(
        self,
        call_id: str,
        tool: str,
        origin: Origin | None,
        decision: Decision,
        reason: str | None,
        by: DecidedBy,
        args: dict[str, Any] | None,
    ) -> None:
        turn = self._turn
        if turn is None:
            return
        turn.emit(
            ApprovalResolved,
            call_id=call_id,
            tool=tool,
            decision=decision,
            reason=turn.clean(reason) if reason else None,
            by=by,
            args=_masked(args, turn.clean) if decision == "edited" and args is not None else None,
            origin=origin,
        )

    # Previews --------------------------------------------------------------------------------------------

    def preview(self, tool: str, args: dict[str, Any]) -> tuple[str, PreviewKind]:
        """What a person reads before deciding: a write's diff against the workspace, a command, else the args."""
        if tool in COMMAND_TOOLS and isinstance(args.get("command"), str):
            return args["command"][:PREVIEW_LIMIT], "command"
        path = path_of(args)
        if tool in EDITING_TOOLS and path is not None and self.files is not None:
            diff = self._diff(tool, normal_path(path), args)
            if diff is not None:
                return diff[:PREVIEW_LIMIT], "diff"
        return json.dumps(args, indent=2, ensure_ascii=False, default=str)[:PREVIEW_LIMIT], "args"

    def _diff(self, tool: str, path: str, args: dict[str, Any]) -> str | None:
        assert self.files is not None
        exists = self.files.is_file(path)
        before = self.files.read_bytes(path).decode("utf-8", "replace") if exists else ""
        after = _after(tool, before, args)
        if after is None:
            return None
        if len(before) > DIFF_LIMIT or len(after) > DIFF_LIMIT:
            return f"--- {path}\n+++ {path}\n(too large to diff: {len(before)} → {len(after)} characters)\n"
        lines = difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=path if exists else "/dev/null",
            tofile=path,
        )
        text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        return text or f"--- {path}\n+++ {path}\n(no change)\n"


def _after(tool: str, before: str, args: dict[str, Any]) -> str | None:
    """The file's text if the call runs; None when it cannot be told (the tool will say why it fails)."""
    if tool == "write_file":
        content = args.get("content")
        return content if isinstance(content, str) else None
    if tool == "edit_file":
        old, new = args.get("old_string"), args.get("new_string")
        if not isinstance(old, str) or not isinstance(new, str) or old not in before:
            return None
        return before.replace(old, new) if args.get("replace_all") else before.replace(old, new, 1)
    if tool == "hashline_edit":
        from pydantic_ai_backends.hashline import apply_hashline_edit_with_summary

        try:
            after, error, _ = apply_hashline_edit_with_summary(
                before,
                args["start_line"],
                args["start_hash"],
                args["new_content"],
                args.get("end_line"),
                args.get("end_hash"),
                args.get("insert_after", False),
            )
        except (KeyError, TypeError, ValueError):
            return None
        return None if error else after
    return None


def _args(call: ToolCallPart) -> dict[str, Any]:
    try:
        return dict(call.args_as_dict())
    except (ValueError, TypeError):
        return {"_raw": str(call.args)}


def _masked(value: Any, clean: Callable[[str], str]) -> Any:
    """``value`` with secrets masked in every string it holds."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(key)): _masked(item, clean) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item, clean) for item in value]
    return value


CURRENT_DESK: ContextVar[Approvals | None] = ContextVar("deep_tui_approvals", default=None)
"""The desk of the session whose turn runs in this context; subagent runs started from it find it here."""


@dataclass
class ApprovalGate(AbstractCapability[Any]):
    """Gates deep-tui's tools by name and answers every approval the run defers, inline, through ``desk``."""

    desk: Approvals
    origin: Origin | None = None
    """The subagent whose run this gate is on; None for the agent's own."""

    async def prepare_tools(self, ctx: RunContext[Any], tool_defs: list[ToolDefinition]) -> list[ToolDefinition]:
        if self.origin is None:  # learnt before any subagent can run: they are started by the agent's tools
            self.desk.unapproved.update(d.name for d in tool_defs if d.kind == "unapproved")
        return tool_defs

    async def before_tool_execute(
        self, ctx: RunContext[Any], *, call: ToolCallPart, tool_def: ToolDefinition, args: Any
    ) -> Any:
        if not ctx.tool_call_approved and self.desk.gates(call.tool_name, self.origin):
            raise ApprovalRequired()
        return args

    async def handle_deferred_tool_calls(
        self, ctx: RunContext[Any], *, requests: DeferredToolRequests
    ) -> DeferredToolResults | None:
        return await self.desk.ask(requests, self.origin)
