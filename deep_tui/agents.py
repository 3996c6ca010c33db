"""Where agents come from: the built-in demo, a model string, the user's own agent, or the stress load.

``open_session`` turns an ``AgentSpec`` (what the command line asked for) into a
``Session`` or raises ``AgentError`` with one line saying what is wrong and what
to do. Agents deep-tui builds itself leave out what needs the network or a
browser (web search and fetch) unless asked, and print nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib
import importlib.util
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any

from pydantic_ai import Agent
from pydantic_ai.exceptions import UserError
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.settings import ModelSettings
from pydantic_deep import DeepAgentDeps, create_deep_agent

from deep_tui.approvals import ApprovalError, ApprovalPolicy
from deep_tui.demo import demo_model, demo_subagents
from deep_tui.runner import Session
from deep_tui.spec import AgentSpec
from deep_tui.stress import StressConfig, stress_model
from deep_tui.workspace import TrackedStateBackend

log = logging.getLogger(__name__)

DEFAULT_STALL_TIMEOUT = 120.0
"""Seconds a model string's provider may send nothing (before its first token or between two) before the
request fails: long enough for a slow reasoning model, short enough that a hung connection is noticed."""

QUIET_FEATURES: dict[str, Any] = dict(
    thinking=False,
    include_skills=False,
    include_monitoring=False,
    include_memory=False,
    context_manager=False,
    include_plan=False,
    include_builtin_subagents=False,
    cost_tracking=False,
)
"""Features of a deep agent a watched run does without: they read the host's
directories, need a second model, or log to the terminal."""


class AgentError(Exception):
    """The agent asked for cannot be built or loaded; the message says why and what to do."""


def build_deep_agent(
    model: Any, *, web: bool = False, subagents: list[dict[str, Any]] | None = None
) -> Agent[DeepAgentDeps, Any]:
    """A pydantic-deep agent with its real tools, on ``model``, and ``subagents`` for its ``task`` tool."""
    return create_deep_agent(model=model, web_search=web, web_fetch=web, subagents=subagents, **QUIET_FEATURES)


def open_session(spec: AgentSpec) -> Session:
    """A new session on the agent ``spec`` names."""
    agent, deps, name = _agent(spec)
    try:
        approvals = ApprovalPolicy.parse(spec.approve, spec.approval_timeout)
    except ApprovalError as exc:
        raise AgentError(str(exc)) from None
    if approvals.tools:
        _check_gated(agent, deps, approvals.tools)
    return Session(agent, deps, name=name, model_settings=_model_settings(spec), approvals=approvals)


def _agent(spec: AgentSpec) -> tuple[Agent[Any, Any], Any, str]:
    if spec.agent:
        agent, deps = load_agent(spec.agent)
        return agent, deps, spec.agent
    if spec.model:
        return _model_agent(spec.model, spec.web), DeepAgentDeps(), spec.model
    if spec.stress is not None:
        try:
            config = StressConfig.parse(spec.stress)
        except ValueError as exc:
            raise AgentError(str(exc)) from None
        return build_deep_agent(stress_model(config)), DeepAgentDeps(), "stress"
    agent = build_deep_agent(demo_model(spec.demo_speed), subagents=demo_subagents(spec.demo_speed))
    return agent, DeepAgentDeps(), "demo"


def _check_gated(agent: Agent[Any, Any], deps: Any, names: frozenset[str]) -> None:
    """Refuse ``--approve`` names that neither the agent nor any of its subagents has as a tool."""
    try:
        known = tool_names(agent, deps)
    except Exception as exc:  # an agent that cannot start without its model: the names cannot be checked
        log.warning("the --approve names were not checked: the agent's tools could not be listed (%s)", exc)
        return
    unknown = sorted(names - known)
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise AgentError(f"--approve: the agent has no tool {', '.join(map(repr, unknown))}; its tools: {listed}")


class _Listed(Exception):
    """Stops the run that listed the tools, before any request is made."""


def tool_names(agent: Agent[Any, Any], deps: Any) -> set[str]:
    """Every tool the model would be offered, by the agent and by each of its subagents.

    Read from the first request of a run on a model that makes none, so tools that depend on the run
    (the workspace's, a capability's) are counted too. Runs on a thread of its own: callers may be on a loop.
    """
    from concurrent.futures import ThreadPoolExecutor

    from deep_tui.subagent_gate import compiled_subagents

    seen: set[str] = set()

    def listing(messages: Any, info: AgentInfo) -> Any:
        seen.update(tool.name for tool in info.function_tools)
        raise _Listed

    async def list_all() -> None:
        agents = [(agent, deps)]
        while agents:
            each, each_deps = agents.pop()
            with each.override(model=FunctionModel(listing)), contextlib.suppress(_Listed):
                await each.run("list your tools", deps=each_deps, workspace=TrackedStateBackend().workspace("tools"))
            clone = getattr(each_deps, "clone_for_subagent", None)
            agents += [(sub.agent, clone(0) if clone else each_deps) for _, _, sub in compiled_subagents(each)]

    with ThreadPoolExecutor(1, thread_name_prefix="deep-tui-tools") as pool:
        pool.submit(asyncio.run, list_all()).result()
    return seen


def _model_settings(spec: AgentSpec) -> ModelSettings | None:
    """The stall timeout and retries asked for; a model string gets the default stall timeout too.

    Only what was asked is set on other agents: a model that cannot honour a
    setting (a scripted one) warns on every request.
    """
    settings = ModelSettings()
    stall = spec.stall_timeout or (DEFAULT_STALL_TIMEOUT if spec.model else None)
    if stall is not None:
        settings["timeout"] = stall
    if spec.retries is not None:
        settings["max_retries"] = spec.retries
    return settings or None


def _model_agent(model: str, web: bool) -> Agent[DeepAgentDeps, Any]:
    try:
        return build_deep_agent(model, web=web)
    except UserError as exc:
        message = " ".join(str(exc).split()).split(" To try Pydantic AI")[0]
        if message.startswith("Unknown model"):
            end = "" if message.endswith(("?", ".")) else "."
            raise AgentError(
                f"{message}{end} Use provider:model, e.g. anthropic:claude-sonnet-4-6 or openai-chat:gpt-4o."
            ) from None
        # "Set the `X_API_KEY` environment variable or pass it via `XProvider(api_key=...)` to use ...":
        # a command-line user can only do the first.
        raise AgentError(re.sub(r" or pass it via `[^`]*`", "", message)) from None
    except ImportError as exc:
        raise AgentError(f"{exc} (or: pip install 'deep-tui[all-models]')") from None


def load_agent(target: str) -> tuple[Agent[Any, Any], Any]:
    """The agent named by ``path/to/file.py:NAME`` or ``package.module:NAME``.

    NAME is an ``Agent`` or a zero-argument callable returning an ``Agent`` or
    ``(Agent, deps)``; without ``:NAME`` the module's only ``Agent`` is used.
    Deps default to ``DeepAgentDeps()``.
    """
    where, _, name = target.partition(":")
    if len(where) == 1 and name[:1] in ("\\", "/"):  # a Windows drive letter, not a separator
        drive, _, name = name.partition(":")
        where = f"{where}:{drive}"
    module = _import(where)
    if name:
        if not hasattr(module, name):
            found = sorted(k for k, v in vars(module).items() if isinstance(v, Agent) or _is_factory(module, k, v))
            hint = f"; it has {', '.join(found)}" if found else ""
            raise AgentError(f"{where} has no attribute {name!r}{hint}.")
        value = getattr(module, name)
    else:
        agents = [k for k, v in vars(module).items() if isinstance(v, Agent)]
        if len(agents) != 1:
            raise AgentError(f"{where} defines {len(agents)} Agent objects at top level: name one, as {where}:NAME.")
        name, value = agents[0], getattr(module, agents[0])
    if not isinstance(value, Agent) and callable(value):
        try:
            value = value()
        except Exception as exc:
            raise AgentError(f"{target}() raised {type(exc).__name__}: {exc}") from None
    deps: Any = None
    if isinstance(value, tuple) and len(value) == 2:
        value, deps = value
    if not isinstance(value, Agent):
        raise AgentError(
            f"{target} is not a pydantic-ai Agent (it is {type(value).__name__}); give an Agent "
            "or a function returning an Agent or (Agent, deps)."
        )
    return value, DeepAgentDeps() if deps is None else deps


def _is_factory(module: Any, name: str, value: Any) -> bool:
    """A public function defined in ``module`` itself: a candidate agent factory."""
    return (
        callable(value)
        and not isinstance(value, type)
        and not name.startswith("_")
        and (getattr(value, "__module__", None) == module.__name__)
    )


def _import(where: str) -> Any:
    is_path = where.endswith(".py") or "/" in where or os.sep in where
    try:
        return _import_file(Path(where).expanduser()) if is_path else importlib.import_module(where)
    except AgentError:
        raise
    except ModuleNotFoundError as exc:
        if not is_path and exc.name and where.startswith(exc.name):
            raise AgentError(f"no module named {where!r}: give a file path or an importable module") from None
        raise AgentError(f"cannot import {where}: {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # the user's module failed while importing
        raise AgentError(f"cannot import {where}: {type(exc).__name__}: {exc}") from None


def _import_file(path: Path) -> Any:
    """The module in ``path``, run once per process (``serve`` opens a session per run)."""
    if not path.is_file():
        raise AgentError(f"no such file: {path}")
    resolved = path.resolve()
    module_name = f"deep_tui_agent_{resolved.stem}_{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, resolved)
    if spec is None or spec.loader is None:
        raise AgentError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    if str(resolved.parent) not in sys.path:
        sys.path.insert(0, str(resolved.parent))  # so the file can import its neighbours
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]  # a broken file is tried again next time, not half-imported
        raise
    return module
