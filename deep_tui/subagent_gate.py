"""Approvals in subagents: each delegated run gets the session's approval gate, at every depth, sync and async.

pydantic-deep builds a subagent once, when the agent is built, and starts it with ``agent.run(...)`` and no
capabilities: a gate added to the agent's run never reaches it, so a child's ``write_file`` would go through
unasked. The only way in for an agent deep-tui did not build is to stand in for each compiled subagent's
agent; the list of them is ``SubAgentToolset._compiled``, a private attribute. Everything that relies on
it is in this module, and ``tests/test_approvals.py`` fails loudly if it changes. If it is missing, the
session runs with subagents ungated and logs why.

The gate reaches a delegated run through a context variable (``CURRENT_DESK``) rather than being bound
here: one agent object can serve many sessions (``serve`` opens a session per run on the same agent).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

from deep_tui.approvals import CURRENT_DESK
from deep_tui.events import Origin

log = logging.getLogger(__name__)

_ORIGIN: ContextVar[Origin | None] = ContextVar("deep_tui_subagent_origin", default=None)
"""The subagent whose run is in progress in this context: the parent of any it starts."""


def subagent_toolsets(agent: Any) -> list[Any]:
    """Every ``SubAgentToolset`` among ``agent.toolsets``, through wrapping and combined toolsets."""
    try:
        from subagents_pydantic_ai import SubAgentToolset
    except ImportError:
        return []
    found, stack, seen = [], list(getattr(agent, "toolsets", ())), set()
    while stack:
        toolset = stack.pop()
        if id(toolset) in seen:
            continue
        seen.add(id(toolset))
        if isinstance(toolset, SubAgentToolset):
            found.append(toolset)
        stack.extend(getattr(toolset, "toolsets", None) or ())
        if getattr(toolset, "wrapped", None) is not None:
            stack.append(toolset.wrapped)
    return found


def compiled_subagents(agent: Any) -> list[tuple[Any, str, Any]]:
    """``(toolset, name, compiled)`` for each subagent ``agent`` can delegate to (the private part)."""
    found = []
    for toolset in subagent_toolsets(agent):
        compiled = getattr(toolset, "_compiled", None)
        if not isinstance(compiled, dict):
            raise AttributeError(f"{type(toolset).__name__} has no _compiled mapping of subagents")
        found += [(toolset, name, each) for name, each in compiled.items() if hasattr(each, "agent")]
    return found


def gate_subagents(agent: Any, depth: int = 0, max_depth: int = 8) -> int:
    """Stand in for every compiled subagent of ``agent``, recursively; returns how many were wrapped.

    Idempotent: an agent already gated (one ``serve`` reuses) is left as it is.
    """
    try:
        subagents = compiled_subagents(agent)
    except AttributeError as exc:
        log.warning("subagents' calls are not gated: %s (subagents-pydantic-ai changed)", exc)
        return 0
    wrapped = 0
    for toolset, name, compiled in subagents:
        inner = compiled.agent
        if isinstance(inner, GatedSubagent) or inner is None:
            continue
        compiled.agent = GatedSubagent(inner, name, toolset)
        wrapped += 1
        if depth < max_depth:
            wrapped += gate_subagents(inner, depth + 1, max_depth)
    return wrapped


class GatedSubagent:
    """Stands in for a subagent's agent (the toolset calls only ``run`` and ``iter`` and reads attributes),
    adding the approval gate of the session that delegated, with who is asking, to every run."""

    def __init__(self, inner: Any, name: str, toolset: Any) -> None:
        self._inner = inner
        self._name = name
        self._toolset = toolset

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _origin(self) -> Origin:
        """Who asks: this subagent's task id (from pydantic-deep's state, or its newest running task) and parent."""
        from subagents_pydantic_ai import current_subagent_state

        state = current_subagent_state()
        task_id = state.task_id if state is not None else None
        if task_id is None:  # sync delegation: its task was registered just before this run, with no await between
            handles = getattr(getattr(self._toolset, "task_manager", None), "handles", {}) or {}
            running = [
                tid
                for tid, handle in handles.items()
                if getattr(handle, "subagent_name", None) == self._name
                and getattr(getattr(handle, "status", None), "value", None) == "running"
            ]
            task_id = running[-1] if running else "?"
        parent = _ORIGIN.get()
        return Origin(task_id=task_id, name=self._name, parent=parent.task_id if parent else None)

    def _with_gate(self, kwargs: dict[str, Any], origin: Origin) -> dict[str, Any]:
        desk = CURRENT_DESK.get()
        if desk is None:
            return kwargs
        return {**kwargs, "capabilities": [*(kwargs.get("capabilities") or ()), desk.gate(origin)]}

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        origin = self._origin()
        token = _ORIGIN.set(origin)
        try:
            return await self._inner.run(*args, **self._with_gate(kwargs, origin))
        finally:
            _ORIGIN.reset(token)

    @contextlib.asynccontextmanager
    async def iter(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        origin = self._origin()
        token = _ORIGIN.set(origin)
        try:
            async with self._inner.iter(*args, **self._with_gate(kwargs, origin)) as run:
                yield run
        finally:
            _ORIGIN.reset(token)
