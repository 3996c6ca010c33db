"""The hook that lets deep-tui see inside pydantic-deep's subagents, and what it reads from their task handles.

pydantic-deep's ``task`` tool runs a subagent through subagents-pydantic-ai's ``SubAgentToolset``, which streams
a subagent's own events only to an ``event_stream_handler_factory`` given to its constructor; ``create_deep_agent``
builds the toolset and does not pass one on. So deep-tui sets the toolset's private
``_event_stream_handler_factory`` (and reaches nested toolsets through the private ``_compiled``) on every toolset
an agent has, at every depth. This module is the only place that knows those names: when a new release renames
them, ``tests/test_subagents.py`` fails saying so, and a run goes on as before the hook (the ``task`` calls show,
the subagents' own work does not) with a warning in the log.

One factory serves every session in the process (a user's agent can be shared by the runs ``serve`` starts): the
session whose turn is running is found through a context variable, which the delegating tool call inherits.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar, Token
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

from deep_tui.events import SubagentStatus

HOOK = "_event_stream_handler_factory"
"""The private attribute of ``SubAgentToolset`` holding its per-delegation event handler factory."""
COMPILED = "_compiled"
"""The private attribute of ``SubAgentToolset`` holding its subagents by name, each with its ``.agent``."""
STATIC_HANDLER = "_event_stream_handler"
"""The private attribute of ``SubAgentToolset`` holding a handler its builder passed for every delegation."""

log = logging.getLogger(__name__)


class Listener(Protocol):
    """What a running turn does with a delegation: returns the handler of the subagent's stream events."""

    def delegated(self, toolset: Any, parent_ctx: Any, config: Any, task_id: str) -> Any: ...


_listener: ContextVar[Listener | None] = ContextVar("deep_tui_subagent_listener", default=None)
_warned: set[int] = set()
"""The toolsets the log was told about, once each (the hook is tried before every turn)."""


class _Dispatch:
    """The factory set on each toolset: hands the delegation to the turn running in this context, if any."""

    def __init__(self, toolset: Any) -> None:
        self.toolset = toolset

    def __call__(self, parent_ctx: Any, config: Any, task_id: str) -> Any:
        listener = _listener.get()
        return None if listener is None else listener.delegated(self.toolset, parent_ctx, config, task_id)


def versions() -> str:
    """The installed versions the hook depends on, for messages."""
    found = []
    for name in ("pydantic-deep", "subagents-pydantic-ai"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def subagent_toolsets(agent: Any) -> list[Any]:
    """Every ``SubAgentToolset`` among ``agent``'s toolsets (through wrappers and combinations)."""
    try:
        from subagents_pydantic_ai import SubAgentToolset
    except ImportError:
        return []
    found: list[Any] = []
    for toolset in getattr(agent, "toolsets", None) or ():
        toolset.apply(lambda leaf: found.append(leaf) if isinstance(leaf, SubAgentToolset) else None)
    return found


def install(agent: Any) -> int:
    """Set the dispatching factory on every subagent toolset of ``agent``, at every depth; returns how many.

    Idempotent and cheap (a walk of the toolsets), so it runs before every turn. A toolset whose builder set a
    handler of its own keeps it; one this version of the library does not let us hook is left alone, with a
    warning: either way its subagents' ``task`` calls still show.
    """
    try:
        return _install(agent)
    except Exception:  # an agent built in a way we do not know: its subagents' work goes unseen, the run goes on
        log.warning(
            "Subagents' own work is not shown: their toolsets could not be hooked (%s)", versions(), exc_info=True
        )
        return 0


def _install(agent: Any) -> int:
    count, seen, agents = 0, set(), [agent]
    while agents:
        for toolset in subagent_toolsets(agents.pop()):
            if id(toolset) in seen:
                continue
            seen.add(id(toolset))
            if not hasattr(toolset, HOOK) or not isinstance(getattr(toolset, COMPILED, None), dict):
                if id(toolset) in _warned:
                    continue
                _warned.add(id(toolset))
                log.warning(
                    "Subagents' own work is not shown: SubAgentToolset has no %s or %s here (%s); "
                    "their task calls still are.",
                    HOOK,
                    COMPILED,
                    versions(),
                )
                continue
            current = getattr(toolset, HOOK)
            if current is None and getattr(toolset, STATIC_HANDLER, None) is None:
                setattr(toolset, HOOK, _Dispatch(toolset))
            elif not isinstance(current, _Dispatch):
                log.info("A subagent toolset streams its events to its own handler: deep-tui shows its task calls.")
                continue
            count += 1
            agents.extend(compiled.agent for compiled in getattr(toolset, COMPILED).values())
    return count


def listen(listener: Listener) -> Token[Listener | None]:
    """Route the delegations made from now on in this context (and the tasks it starts) to ``listener``."""
    return _listener.set(listener)


def stop_listening(token: Token[Listener | None]) -> None:
    """Undo the ``listen`` that gave ``token``, in the same context."""
    _listener.reset(token)


def handle_of(toolset: Any, task_id: str) -> Any:
    """The task's ``TaskHandle`` (public: ``task_manager.handles``), or None."""
    manager = getattr(toolset, "task_manager", None)
    return getattr(manager, "handles", {}).get(task_id) if manager is not None else None


def background_task(toolset: Any, task_id: str) -> Any:
    """The ``asyncio.Task`` running a task started with ``mode="async"`` (public: ``task_manager.tasks``), or None."""
    manager = getattr(toolset, "task_manager", None)
    return getattr(manager, "tasks", {}).get(task_id) if manager is not None else None


def outcome(handle: Any) -> tuple[SubagentStatus, str, str | None] | None:
    """How a finished task ended, from its handle: status, result text and error; None while it runs."""
    if handle is None or not getattr(handle, "is_finished", False):
        return None
    status = str(getattr(handle.status, "value", handle.status))
    if status == "completed":
        return "completed", handle.result or "", None
    if status == "cancelled":
        return "cancelled", "", handle.error
    return "failed", "", handle.error or status  # failed, or stopped for an approval it could not get
