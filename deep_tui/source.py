"""Where a view's events come from: one interface for a live session, a recording, and a server.

A view (the dashboard, the headless display) takes an ``EventSource`` and knows nothing
of its transport. It asks the source for the events of a turn, to cancel it, for a
file's content at a version, and for a call's whole result; it reads ``accepts_prompts``
to know whether to offer a prompt, and ``timeline`` to know whether it can seek.

- ``LiveSource`` runs turns on a ``runner.Session``. Its recorder is attached here, as a
  tee on the runner's sink, so every turn is recorded whoever consumes it, and a turn
  whose runner dies without a ``run_finished`` still gets one, recorded and delivered.
- ``RecordingSource`` is a recording read back: it takes no prompts and can seek.
  ``Recorded`` is one found and glanced at, read after the dashboard's first frame.
- A source for a ``serve`` run is a new class of the same shape: ``turn`` posts the prompt
  and follows the run's SSE stream (each ``data:`` is an event), ``cancel`` posts to the
  run's cancel endpoint, ``file`` and ``result`` fetch from the server. Approvals and
  steering, when they come, are methods of this interface, answered by events in the stream.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from deep_tui.spec import AgentSpec

if TYPE_CHECKING:  # the dashboard imports this module before its first frame: no pydantic here
    from deep_tui.approvals import AlwaysRule
    from deep_tui.events import DecidedBy, Event, RunFinished
    from deep_tui.recording import Recording
    from deep_tui.runner import Session
    from deep_tui.sessions import SessionRecorder
    from deep_tui.timeline import Timeline


class PromptRefused(RuntimeError):
    """The source takes no prompts (a recording), or is already running a turn."""


class SourceError(Exception):
    """Why a source cannot be opened, in one line for the user."""


@runtime_checkable
class EventSource(Protocol):
    """What a view needs from whatever feeds it."""

    label: str
    """What the status line calls the source: the agent, or the recording."""
    accepts_prompts: bool
    """Whether ``turn`` may be called: False for a recording."""
    timeline: Timeline | None
    """Seeking, for a source whose events are all there already (a recording); None otherwise."""

    def turn(self, prompt: str) -> AsyncIterator[Event]:
        """The events of one turn, ``run_started`` to ``run_finished``; raises ``PromptRefused`` if it takes none."""
        ...

    def cancel(self) -> None:
        """End the running turn at once; its ``run_finished`` ("cancelled") still comes through ``turn``."""
        ...

    def steer(self, text: str) -> str | None:
        """Send the running turn a message it reads before its next step; its id, or None if it cannot take one."""
        ...

    def follow_up(self, text: str) -> str | None:
        """Send the running turn a message it gets when it would stop; as ``steer``."""
        ...

    def approve(
        self, call_id: str, approve: bool, *, reason: str | None = None, args: dict[str, Any] | None = None
    ) -> None:
        """Decide a call waiting for approval; ``approvals.NotWaiting`` if it is not waiting (any more)."""
        ...

    @property
    def rules(self) -> list[AlwaysRule]:
        """The always-approve rules of the session, oldest first."""
        ...

    def add_rule(self, tool: str, folder: str | None = None) -> AlwaysRule:
        """Approve ``tool`` (under ``folder``) without asking, for the rest of the session."""
        ...

    def remove_rule(self, rule: AlwaysRule) -> None: ...

    def file(self, path: str, version: str | None = None) -> bytes | None:
        """File ``path`` at ``version`` (a ``FileChange.version``), or as it is now; None if not kept."""
        ...

    def result(self, call_id: str, task_id: str | None = None) -> str | None:
        """A tool call's whole result as text (events carry only its start), if known; ``task_id`` names the
        subagent that made it (call ids repeat across agents)."""
        ...

    def report_problems(self, report: Callable[[str], object]) -> None:
        """Have ``report`` called, from any thread, with a line each time something could not be kept."""
        ...

    @property
    def problems(self) -> list[str]:
        """What could not be kept, one line each, in order."""
        ...

    def close(self) -> Path | None:
        """Finish with the source once nothing runs; where its session is kept, if anywhere."""
        ...


@dataclass(frozen=True)
class Live:
    """A live source still to be opened: the dashboard draws its first frame, then opens it in a thread
    (importing the agent stack takes over a second)."""

    spec: AgentSpec
    timeout: float | None = None
    accepts_prompts: ClassVar[bool] = True
    timeline: ClassVar[None] = None

    @property
    def label(self) -> str:
        return self.spec.label

    def open(self) -> LiveSource:
        """The session and its recorder; ``SourceError`` says why they cannot be had."""
        from deep_tui.agents import AgentError, open_session
        from deep_tui.sessions import SessionRecorder

        try:
            session = open_session(self.spec)
        except AgentError as exc:
            raise SourceError(str(exc)) from None
        except Exception as exc:  # a broken install or agent: say so instead of crashing the screen
            raise SourceError(f"cannot load the agent: {type(exc).__name__}: {exc}") from None
        try:
            recorder = SessionRecorder(session) if self.spec.save else None
        except OSError as exc:
            raise SourceError(f"cannot keep the session on disk ({exc}): set DEEP_TUI_HOME or pass --no-save") from None
        return LiveSource(session, recorder, timeout=self.timeout)


class LiveSource:
    """Turns run here and now on a session, recorded as they happen."""

    accepts_prompts = True
    timeline: Timeline | None = None

    def __init__(self, session: Session, recorder: SessionRecorder | None = None, *, timeout: float | None = None):
        self.session = session
        self.recorder = recorder
        self.timeout = timeout
        self.label = session.name
        self.recording_error: str | None = None
        """Why recording stopped (a full disk, say); the session goes on unrecorded."""
        self._task: asyncio.Future[None] | None = None
        self._problems: list[str] = []

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def turn(self, prompt: str) -> AsyncIterator[Event]:
        """The turn's events. It runs in a task of its own: a consumer that stops listening does not stop it
        (closing this iterator does), and every event is recorded either way."""
        from deep_tui.events import RunFinished

        if self.running:
            raise PromptRefused("a turn is already running: wait for it, or cancel it")
        queue: asyncio.Queue[Event] = asyncio.Queue()
        task = self._task = asyncio.ensure_future(self._run(prompt, queue.put_nowait))
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

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def steer(self, text: str) -> str | None:
        return self.session.steer(text) if self.running else None

    def follow_up(self, text: str) -> str | None:
        return self.session.follow_up(text) if self.running else None

    def approve(
        self,
        call_id: str,
        approve: bool,
        *,
        reason: str | None = None,
        args: dict[str, Any] | None = None,
        by: DecidedBy = "key",
    ) -> None:
        self.session.approve(call_id, approve, reason=reason, args=args, by=by)

    @property
    def rules(self) -> list[AlwaysRule]:
        return list(self.session.approvals.rules)

    def add_rule(self, tool: str, folder: str | None = None) -> AlwaysRule:
        return self.session.approvals.add_rule(tool, folder)

    def remove_rule(self, rule: AlwaysRule) -> None:
        self.session.approvals.remove_rule(rule)

    def file(self, path: str, version: str | None = None) -> bytes | None:
        files = self.session.files
        current = files.read_bytes(path) if files.is_file(path) else None
        if version is None:
            return current
        if self.recorder is not None and (kept := self.recorder.blobs.get(version)) is not None:
            return kept
        for content in (current, files.previous.get(path)):  # without a store, the last two versions are known
            if content is not None and hashlib.sha256(content).hexdigest() == version:
                return content
        return None

    def result(self, call_id: str, task_id: str | None = None) -> str | None:
        # The session's history is the main agent's: a subagent's results stay in its own run.
        return self.session.tool_result(call_id) if task_id is None else None

    def report_problems(self, report: Callable[[str], object]) -> None:
        if self.recorder is not None:
            self.recorder.on_error = report

    @property
    def problems(self) -> list[str]:
        return self.recorder.problems if self.recorder is not None else self._problems

    def close(self) -> Path | None:
        """Save the session a last time and finish writing it (call once no turn runs)."""
        if self.recorder is None:
            return None
        self._problems = self.recorder.problems
        path, self.recorder = self.recorder.close(), None
        return path

    async def _run(self, prompt: str, deliver: Callable[[Event], None]) -> None:
        from deep_tui.events import RunFinished

        last: list[Event] = []

        def tee(event: Event) -> None:
            last[:] = [event]
            self._record(event)
            deliver(event)

        try:
            await self.session.run(prompt, tee, timeout=self.timeout)
        except BaseException as exc:
            if not last or not isinstance(last[0], RunFinished):  # the runner died without ending its turn
                tee(_ending(last[0] if last else None, exc))
            if not isinstance(exc, Exception):
                raise

    def _record(self, event: Event) -> None:
        from deep_tui.events import RunFinished

        if self.recorder is None or self.recording_error is not None:
            return
        try:
            self.recorder.record(event)
            if isinstance(event, RunFinished):
                self.recorder.save()
        except OSError as exc:
            self.recording_error = f"the session is no longer recorded: {exc}"


def _ending(last: Event | None, exc: BaseException) -> RunFinished:
    """The ``run_finished`` of a turn whose runner stopped without one."""
    from deep_tui.events import RunFinished
    from deep_tui.turn import one_line

    cancelled = isinstance(exc, asyncio.CancelledError)
    return RunFinished(
        seq=last.seq + 1 if last is not None else 0,
        t=last.t if last is not None else 0.0,
        status="cancelled" if cancelled else "failed",
        error=None if cancelled else one_line(exc),
        duration=last.t if last is not None else 0.0,
    )


@dataclass(frozen=True)
class Recorded:
    """A recording still to be read: found, and starting with an event (``recording_files.check``). The dashboard
    draws its first frame, then reads it in a thread: the event models and 100,000 lines take half a second."""

    path: Path
    """The events file."""
    directory: Path | None
    """The saved session's directory, if it is one's."""
    accepts_prompts: ClassVar[bool] = False
    timeline: ClassVar[None] = None
    """None until it is read (``RecordingSource.timeline``)."""

    @classmethod
    def find(cls, target: str | Path, *, sessions: Path | None = None) -> Recorded:
        """The recording at ``target`` (see ``recording_files.locate``), if its first line is an event;
        ``SourceError`` says, in a line, why it is none. Only the standard library is imported."""
        from deep_tui.recording_files import RecordingError, check

        try:
            return cls(*check(target, sessions))
        except RecordingError as exc:
            raise SourceError(str(exc)) from None

    @property
    def label(self) -> str:
        return _replay_label(self.directory.name if self.directory is not None else self.path.name)

    def open(self) -> RecordingSource:
        """The recording read; ``SourceError`` says why it cannot be (a line past the first is damaged, say)."""
        return RecordingSource.open(self.path)


class RecordingSource:
    """A recorded session, read back: it takes no prompts, and can seek."""

    accepts_prompts = False

    def __init__(self, recording: Recording, *, every: int | None = None) -> None:
        from deep_tui.timeline import KEYFRAME_EVERY, Timeline

        self.recording = recording
        self.timeline: Timeline | None = Timeline.of(recording, every=every or KEYFRAME_EVERY)
        self.label = _replay_label(recording.name)

    @classmethod
    def open(cls, target: str | Path, *, sessions: Path | None = None) -> RecordingSource:
        """The recording at ``target`` (see ``recording.load``); ``SourceError`` says, in a line, why it is none."""
        from deep_tui.recording import RecordingError, load

        try:
            return cls(load(target, sessions=sessions))
        except RecordingError as exc:
            raise SourceError(str(exc)) from None

    def turn(self, prompt: str) -> AsyncIterator[Event]:
        raise PromptRefused(f"{self.label} is a recording: it takes no prompts")

    def cancel(self) -> None:
        """Nothing runs in a recording."""

    def steer(self, text: str) -> str | None:
        return None

    def follow_up(self, text: str) -> str | None:
        return None

    def approve(
        self, call_id: str, approve: bool, *, reason: str | None = None, args: dict[str, Any] | None = None
    ) -> None:
        from deep_tui.approvals import NotWaiting

        raise NotWaiting(f"{call_id} was decided when it was recorded")

    @property
    def rules(self) -> list[AlwaysRule]:
        return []

    def add_rule(self, tool: str, folder: str | None = None) -> AlwaysRule:
        raise PromptRefused(f"{self.label} is a recording: its rules were those of the run")

    def remove_rule(self, rule: AlwaysRule) -> None:
        """A recording has no rules to remove."""

    def file(self, path: str, version: str | None = None) -> bytes | None:
        return self.recording.file(path, version)

    def result(self, call_id: str, task_id: str | None = None) -> str | None:
        return self.recording.result(call_id, task_id)

    def report_problems(self, report: Callable[[str], object]) -> None:
        """Reading a recording keeps nothing."""

    @property
    def problems(self) -> list[str]:
        return []

    def close(self) -> Path | None:
        return self.recording.directory


def _replay_label(name: str) -> str:
    """What the status line calls a recording."""
    return f"replay · {name}"
