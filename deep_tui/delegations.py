"""The subagents one turn delegates to, followed from their start to their end.

pydantic-deep's ``task`` tool runs a subagent inside the turn: in sync mode the ``task`` call waits for it; in async
mode it runs as a background task that ``wait_tasks`` collects, or that outlives the call that started it. For each
delegation (``deep_tui.subagents`` routes them here) a turn gets a stream of its own, tagged with the subagent's
``Origin``, into which the turn translates the subagent's events with the code that translates the main agent's.

The turn learns of a delegation before the subagent runs, and of its end from the ``task`` call's result (sync) or
from the background task (async). Whatever is still running when the turn ends is cancelled and reported so: every
``subagent_started`` of a turn has its ``subagent_finished`` before the turn's ``run_finished``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from deep_tui.events import Event, Origin, SubagentMode, SubagentStarted, SubagentStatus
from deep_tui.subagents import background_task, handle_of, outcome


class Stream(Protocol):
    """The part of a turn's event stream one agent writes to (a ``deep_tui.turn.Turn``)."""

    deps: Any

    def emit(self, event_type: type[Event], **fields: Any) -> Event: ...

    def elapsed(self) -> float: ...

    def child(self, origin: Origin) -> Stream: ...

    async def share_loop(self) -> None: ...


@dataclass(eq=False)
class SubagentRun:
    """One delegation, as the turn sees it."""

    origin: Origin
    call_id: str
    """The ``task`` call that started it, in the stream of ``origin.parent``."""
    toolset: Any
    stream: Stream
    started: float
    """Seconds since the turn started."""
    mode: SubagentMode = "sync"
    usage: Any = None
    """The subagent's own run usage (pydantic-ai's ``RunUsage``, live), once it has run."""
    task: asyncio.Task[Any] | None = None
    """Its background task, in async mode."""
    announced: bool = False
    finished: bool = False


Ended = Callable[[SubagentRun, SubagentStatus, str, "str | None", "BaseException | None"], None]
"""Called once per subagent when it ends: the run, its status, its answer, its error, what it raised."""


class Delegations:
    """A turn's subagents: makes each one's event handler, and reports its start and its end once each."""

    def __init__(
        self,
        turn: Stream,
        *,
        translate: Callable[[Any, Stream], None],
        node_done: Callable[[], None],
        ended: Ended,
    ) -> None:
        self.turn = turn
        self.translate = translate
        self.node_done = node_done
        self.ended = ended
        self.runs: dict[str, SubagentRun] = {}
        self._by_call: dict[tuple[str | None, str], SubagentRun] = {}
        self._task_of_run: dict[str, str] = {}
        """A subagent's pydantic-ai run id -> its task id, to find the parent of a delegation it makes."""

    def delegated(self, toolset: Any, parent_ctx: Any, config: Any, task_id: str) -> Any:
        """A ``task`` call is about to run a subagent: its handler, which translates its events into the turn."""
        parent = self._task_of_run.get(parent_ctx.run_id)
        origin = Origin(task_id=task_id, name=str(config.get("name") or "subagent"), parent=parent)
        run = SubagentRun(
            origin, parent_ctx.tool_call_id or "", toolset, self.turn.child(origin), started=self.turn.elapsed()
        )
        self.runs[task_id] = run
        self._by_call[(parent, run.call_id)] = run
        # The task handle (and in async mode its task) is made right after this returns, before anything awaits:
        # by the next turn of the loop it is there to say how the subagent runs.
        asyncio.get_running_loop().call_soon(self._announce, run)

        async def handler(ctx: Any, events: AsyncIterable[Any]) -> None:
            """Called for each of the subagent's model requests and tool steps, with its own run context."""
            if not self._announce(run):
                return
            self._task_of_run[ctx.run_id] = task_id
            run.usage, run.stream.deps = ctx.usage, ctx.deps
            async for event in events:
                self.translate(event, run.stream)
                await run.stream.share_loop()
            self.node_done()

        return handler

    def call_finished(self, origin: Origin | None, call_id: str) -> None:
        """A call in ``origin``'s stream has its result: if it was a sync ``task`` call, its subagent has ended."""
        run = self._by_call.pop((origin.task_id if origin else None, call_id), None)
        if run is not None and self._announce(run) and run.mode == "sync":
            self._end(run)

    def close(self) -> None:
        """The turn ends: cancel the background subagents still running and report every unfinished one."""
        for run in reversed(list(self.runs.values())):  # the deepest first: a child ends before its parent
            if self._announce(run) and run.task is not None and not run.task.done():
                run.task.cancel()
            self._end(run, otherwise="cancelled")

    def _announce(self, run: SubagentRun) -> bool:
        """Report ``run`` started, once; False if its delegation was refused before it ran."""
        if run.announced:
            return True
        handle = handle_of(run.toolset, run.origin.task_id)
        run.task = background_task(run.toolset, run.origin.task_id)
        if handle is None and run.task is None:  # refused (an unknown or busy chat trace): nothing ran
            self.runs.pop(run.origin.task_id, None)
            run.finished = True
            return False
        run.announced = True
        run.mode = "async" if run.task is not None else "sync"
        if run.task is not None:
            run.task.add_done_callback(lambda _: self._end(run))
        run.stream.emit(
            SubagentStarted,
            task_id=run.origin.task_id,
            name=run.origin.name,
            description=str(getattr(handle, "description", "") or ""),
            mode=run.mode,
            parent=run.origin.parent,
            call_id=run.call_id,
        )
        return True

    def _end(self, run: SubagentRun, otherwise: SubagentStatus | None = None) -> None:
        """Report ``run`` ended as its task handle says, or as ``otherwise`` when the handle says it still runs."""
        if run.finished or not self._announce(run):
            return
        handle = handle_of(run.toolset, run.origin.task_id)
        ended = outcome(handle)
        if ended is None:
            if otherwise is None:
                return
            ended = (otherwise, "", "stopped with the turn")
        run.finished = True
        if run.usage is None:  # the subagent streamed to a handler of its own: the handle has its usage
            run.usage = getattr(handle, "usage", None)
        status, result, error = ended
        self.ended(run, status, result, error, getattr(handle, "exception", None))
