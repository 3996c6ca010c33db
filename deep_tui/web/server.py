"""The web endpoint: each run's events as Server-Sent Events, and a page that shows a run live.

Every run, started by ``GET /agent/stream`` or ``POST /runs``, gets a session of
its own and lands in an in-memory registry that keeps its events as ready-made
SSE frames, so any number of clients can follow it from the start, or resume
after the last event they saw (``Last-Event-ID``) without missing or repeating
one. ``/agent/stream`` ties the run to its client: when the client leaves, the
run is cancelled. Runs started with ``POST /runs`` go on until they end or are
cancelled with ``POST /runs/{id}/cancel``. A call that waits for approval is decided with
``POST /runs/{id}/approvals/{call_id}`` (409 if it is not waiting). The registry keeps the last
``KEEP_FINISHED`` finished runs for late followers; each run's session is also
kept on disk, as the dashboard's and ``run``'s are (unless ``--no-save``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal, TextIO

import anyio
import uvicorn
from fastapi import FastAPI, Header, HTTPException, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.logging import DefaultFormatter

from deep_tui.agents import AgentError, open_session
from deep_tui.approvals import NotWaiting
from deep_tui.events import Decision, Event, RunFinished, RunStarted, RunStatus
from deep_tui.redact import RedactingFilter, redact
from deep_tui.sessions import SessionRecorder
from deep_tui.source import LiveSource
from deep_tui.spec import AgentSpec
from deep_tui.terminal_text import json_visible
from deep_tui.web import details
from deep_tui.web.auth import LOCAL, TOKEN_PARAM, Access, bearer, token_matches
from deep_tui.web.guard import Guard

if TYPE_CHECKING:
    from deep_tui.runner import Session

KEEP_FINISHED = 50
"""Finished runs kept for late followers; beyond this the oldest are forgotten."""

MAX_RUNS = 8
"""Runs going at once; one more is a 429 (``--max-runs``)."""

PROMPT_SHOWN = 200
"""Characters of a prompt shown in run listings; the run itself gets all of it."""

HEARTBEAT_SECONDS = 15.0
"""A comment line is sent after this much silence, so proxies keep a quiet stream open."""

PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"
)
"""The page loads nothing from anywhere and talks only to this server."""

SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-Sent Events: event type, id (seq) and data (the event's JSON)",
        "content": {"text/event-stream": {}},
    }
}

log = logging.getLogger("deep_tui.web")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def sse_frame(event: Event) -> bytes:
    """One event as an SSE message; ``data`` is the same JSON line ``deep-tui run --json`` prints, so ``curl`` to a
    terminal cannot be driven by a C1 control or DEL that JSON leaves as it is."""
    return f"event: {event.type}\nid: {event.seq}\ndata: {json_visible(event.model_dump_json())}\n\n".encode()


class Run:
    """One run's events, as SSE frames indexed by ``seq``, and the task producing them."""

    def __init__(self, prompt: str, source: LiveSource | None = None) -> None:
        self.id = ""
        self.prompt = redact(prompt)  # as listings show it, like the run_started event
        self._asked = prompt
        self.source = source
        """The run's session (its workspace and history, which the page opens files and calls from), recorded
        as it runs unless ``--no-save``."""
        self.saved_in = source.recorder.path if source is not None and source.recorder is not None else None
        self.notes = details.RunNotes()
        self.frames: list[bytes] = []
        self.finished: RunFinished | None = None
        self.task: asyncio.Task[None] | None = None
        self.started = asyncio.Event()
        self._changed = asyncio.Event()

    @property
    def status(self) -> RunStatus | Literal["running"]:
        return "running" if self.finished is None else self.finished.status

    @property
    def session(self) -> Session | None:
        return self.source.session if self.source is not None else None

    async def play(self) -> None:
        """Run the turn, keeping each of its events."""
        assert self.source is not None
        async for event in self.source.turn(self._asked):
            self.add(event)

    def add(self, event: Event) -> None:
        """Keep the event's frame and wake every follower."""
        self.notes.add(event)
        if isinstance(event, RunStarted):
            self.id = event.run_id
            self.started.set()
        elif isinstance(event, RunFinished):
            self.finished = event
        self.frames.append(sse_frame(event))
        self._changed.set()
        self._changed = asyncio.Event()

    def cancel(self) -> None:
        """End the run "cancelled"; a run that has already finished stays as it ended."""
        if self.finished is None and self.source is not None:
            self.source.cancel()

    async def follow(self, after: int) -> AsyncIterator[bytes]:
        """The frames after seq ``after`` (-1: all), then each new one, until the run finishes."""
        index = after + 1
        while True:
            while index < len(self.frames):
                yield self.frames[index]
                index += 1
            if self.finished is not None:
                return
            changed = self._changed  # taken before waiting, so no frame added meanwhile is missed
            try:
                await asyncio.wait_for(changed.wait(), HEARTBEAT_SECONDS)
            except asyncio.TimeoutError:
                yield b": keep-alive\n\n"


class RunRequest(BaseModel):
    prompt: str
    timeout: float | None = Field(None, gt=0, description="seconds; a longer run ends with status timeout")


class ApprovalAnswer(BaseModel):
    approve: bool
    reason: str | None = Field(None, description="sent to the model with a denial")
    args: dict[str, Any] | None = Field(None, description="run the call with these arguments instead (an edit)")


class ApprovalDecided(BaseModel):
    call_id: str
    decision: Decision


class RunInfo(BaseModel):
    run_id: str
    prompt: str
    status: RunStatus | Literal["running"]
    events: int
    """Events so far; the next one's seq."""
    saved_in: str | None
    """The directory the run's session is kept in (files, todos, messages, events), if it is kept."""

    @classmethod
    def of(cls, run: Run) -> RunInfo:
        saved_in = str(run.saved_in) if run.saved_in is not None else None
        prompt = clip(run.prompt, PROMPT_SHOWN)
        return cls(run_id=run.id, prompt=prompt, status=run.status, events=len(run.frames), saved_in=saved_in)


class Runs:
    """Every run still going and the last ``KEEP_FINISHED`` finished, each on a session of its own."""

    def __init__(self, spec: AgentSpec, timeout: float | None, max_runs: int = MAX_RUNS) -> None:
        self.spec = spec
        self.timeout = timeout
        self.max_runs = max_runs
        self._runs: dict[str, Run] = {}
        self._starting = 0
        """Runs between their request and their ``run_started``, not yet in ``_runs``."""

    def __iter__(self) -> Iterator[Run]:
        return iter(list(self._runs.values()))

    def get(self, run_id: str) -> Run:
        run = self._runs.get(run_id)
        if run is None:
            raise HTTPException(404, f"no run {run_id!r} (the last {KEEP_FINISHED} finished runs are kept)")
        return run

    async def start(self, prompt: str, timeout: float | None) -> Run:
        """A new run on a new session, registered under the id its ``run_started`` event carries."""
        if not prompt.strip():
            raise HTTPException(422, 'the prompt is empty: give the agent something to do, e.g. "write a haiku"')
        going = self._starting + sum(run.finished is None for run in self._runs.values())
        if going >= self.max_runs:
            reason = f"{going} runs are going, the most this server runs at once (--max-runs {self.max_runs}): "
            raise HTTPException(429, reason + "wait for one to end, or cancel one with POST /runs/ID/cancel")
        self._starting += 1
        try:
            return await self._start(prompt, timeout)
        finally:
            self._starting -= 1

    async def _start(self, prompt: str, timeout: float | None) -> Run:
        try:  # building an agent imports and constructs things: keep it off the event loop
            session = await asyncio.to_thread(open_session, self.spec)
        except AgentError as exc:
            raise HTTPException(503, f"the agent cannot be built: {exc}") from None
        try:  # the recorder creates directories: off the loop too
            recorder = await asyncio.to_thread(SessionRecorder, session) if self.spec.save else None
        except OSError as exc:
            reason = f"cannot keep the session on disk ({exc}): set DEEP_TUI_HOME or pass --no-save"
            raise HTTPException(503, reason) from None
        run = Run(prompt, LiveSource(session, recorder, timeout=timeout or self.timeout))
        run.task = asyncio.create_task(run.play())
        run.task.add_done_callback(lambda _: self._ended(run))
        try:
            await run.started.wait()  # the task emits run_started as soon as it runs
        except asyncio.CancelledError:
            run.task.cancel()  # our client left before it had the id: nobody could follow or cancel it
            raise
        self._runs[run.id] = run
        log.info("run %s started: %r", run.id, clip(redact(prompt), 60))  # masked first: a cut secret is no secret
        return run

    def cancel_all(self) -> None:
        for run in self:
            run.cancel()

    def _ended(self, run: Run) -> None:
        if run.finished is not None:
            log.info("run %s %s: %d events in %.1f s", run.id, run.status, len(run.frames), run.finished.duration)
        if run.source is not None and run.saved_in is not None:  # its last snapshot may be taken off the loop
            asyncio.get_running_loop().run_in_executor(None, _close, run.id, run.source)
        finished = [r for r in self._runs.values() if r.finished is not None]
        for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._runs[old.id]


def _close(run_id: str, source: LiveSource) -> None:
    """Finish saving a run (this waits for its last save), then say where, or that it was not saved in full."""
    path = source.close()
    if source.problems:  # the recorder has logged each problem as it happened
        log.warning("run %s was not saved in full in %s", run_id, path)
    else:
        log.info("run %s saved in %s", run_id, path)


class EventStream(StreamingResponse):
    """A run's events as ``text/event-stream``, noticing at once a client that leaves.

    Starlette's own streaming response may notice a departed client only at its
    next write; a run that is quiet for a minute must still be cancelled at once,
    so this one always listens for the disconnect while it streams.
    """

    def __init__(self, run: Run, after: int, *, owned: bool) -> None:
        super().__init__(
            run.follow(after),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self.run = run
        self.owned = owned
        """The client started this run: its leaving cancels it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                with contextlib.suppress(OSError):  # the client left mid-write
                    await self.stream_response(send)
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()
        if self.owned:
            self.run.cancel()


class TokenGate:
    """Refuses every request without the token: ``Authorization: Bearer`` or ``?token=`` (for EventSource)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = HTTPConnection(scope)
            given = bearer(request.headers.get("authorization")) or request.query_params.get(TOKEN_PARAM)
            if not token_matches(self.token, given):
                refusal = JSONResponse(
                    {"detail": f"missing or wrong token: send Authorization: Bearer TOKEN or add ?{TOKEN_PARAM}=TOKEN"},
                    status_code=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _last_event_id(value: str | None) -> int:
    """The seq after which a follower resumes; -1 (from the start) without the header."""
    text = (value or "").strip()
    if not text:
        return -1
    if not (text.isascii() and text.isdigit()):
        raise HTTPException(400, f"Last-Event-ID must be the id (seq) of an event, got {value!r}")
    return int(text)


def create_app(
    spec: AgentSpec,
    *,
    token: str | None = None,
    timeout: float | None = None,
    access: Access = LOCAL,
    max_runs: int = MAX_RUNS,
) -> FastAPI:
    """The web app serving runs of the agent ``spec`` names: with ``token``, only to requests carrying it;
    always only under a name ``access`` allows, and never to another site's pages."""
    runs = Runs(spec, timeout, max_runs)
    page = files("deep_tui.web").joinpath("index.html").read_text(encoding="utf-8")
    app = FastAPI(
        title="deep-tui", summary="Runs of a pydantic-deep agent as Server-Sent Events", docs_url=None, redoc_url=None
    )
    app.state.runs = runs
    if token:
        app.add_middleware(TokenGate, token=token)
    app.add_middleware(Guard, access=access)  # added last, so it is the outermost

    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"})

    @app.get("/agent/stream", response_class=EventStream, status_code=200, responses=SSE_RESPONSE)
    async def agent_stream(
        prompt: str = "", timeout: float | None = Query(None, gt=0, description="seconds")
    ) -> EventStream:
        """Start a run and stream it; it is cancelled if this client leaves before it ends."""
        return EventStream(await runs.start(prompt, timeout), -1, owned=True)

    @app.post("/runs", status_code=201)
    async def start_run(request: RunRequest) -> RunInfo:
        """Start a run that goes on without a client; follow it at /runs/{run_id}/events."""
        return RunInfo.of(await runs.start(request.prompt, request.timeout))

    @app.get("/runs")
    async def list_runs() -> list[RunInfo]:
        return [RunInfo.of(run) for run in runs]

    @app.get("/runs/{run_id}")
    async def get_run(run_id: str) -> RunInfo:
        return RunInfo.of(runs.get(run_id))

    @app.get(
        "/runs/{run_id}/events",
        response_class=EventStream,
        status_code=200,
        responses=SSE_RESPONSE,
        response_model=None,
    )
    async def follow_run(run_id: str, last_event_id: str | None = Header(None)) -> Response:
        """Every event of the run from the start, or after ``Last-Event-ID``; 204 when nothing is left to send."""
        run = runs.get(run_id)
        after = _last_event_id(last_event_id)
        if run.finished is not None and after >= len(run.frames) - 1:
            return Response(status_code=204)  # also tells an EventSource not to reconnect
        return EventStream(run, after, owned=False)

    @app.post("/runs/{run_id}/cancel")
    async def cancel_run(run_id: str) -> RunInfo:
        """Cancel the run and answer once it has ended; a finished run is left as it ended."""
        run = runs.get(run_id)
        run.cancel()
        if run.task is not None:
            await asyncio.wait([run.task])
        return RunInfo.of(run)

    @app.post("/runs/{run_id}/approvals/{call_id}", responses={409: {"description": "the call is not waiting"}})
    async def answer_approval(run_id: str, call_id: str, answer: ApprovalAnswer) -> ApprovalDecided:
        """Decide a call waiting for approval; the run's stream reports it as ``approval_resolved``."""
        run = runs.get(run_id)
        if run.session is None:
            raise HTTPException(409, f"call {call_id!r} is not waiting for a decision")
        try:
            decision = run.session.approve(call_id, answer.approve, reason=answer.reason, args=answer.args, by="web")
        except NotWaiting as exc:
            raise HTTPException(409, str(exc)) from None
        return ApprovalDecided(call_id=call_id, decision=decision)

    app.include_router(details.router(runs.get))
    return app


class _Server(uvicorn.Server):
    """Uvicorn waits for open responses before it stops; cancelling the runs first ends their streams."""

    def __init__(self, config: uvicorn.Config, runs: Runs) -> None:
        super().__init__(config)
        self.runs = runs

    async def shutdown(self, sockets: Any = None) -> None:
        self.runs.cancel_all()
        await super().shutdown(sockets)


def log_to(stream: TextIO) -> None:
    """Log one line per run start and end to ``stream``, with every secret masked."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(DefaultFormatter("%(levelprefix)s %(message)s"))
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve ``app`` with uvicorn until Ctrl+C or SIGTERM, logging one line per run start and end."""
    log_to(sys.stderr)
    config = uvicorn.Config(app, host=host, port=port, access_log=False, timeout_graceful_shutdown=5)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl+C it handled
        _Server(config, app.state.runs).run()
