"""The dashboard in a browser: textual-serve starts one ``deep-tui`` process per browser tab.

textual-serve has no authentication of its own, so with a token a gate in front
of it refuses every request that does not carry one. The token comes once in the
page's address (``/?token=…``) and is then kept in an HttpOnly, SameSite=Strict
cookie, because textual-serve's script fetches its static files and opens its
websocket without knowing of any token. A cookie is sent to every port of its
host, so a page served on another port could open the websocket with it: the
``auth`` rules (``Host``, and ``Origin`` on the websocket) refuse that.

Each tab is a process of its own, so their number is capped, and each one ends
when its tab goes, even one stuck in a tool that blocks its event loop: asked to
quit, then SIGTERM (on which the dashboard keeps its session and exits within
8 s even when stuck), then SIGKILL. The server's own stop ends every one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable

from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from deep_tui.web.auth import SECURITY_HEADERS, TOKEN_PARAM, Access, bearer, token_matches

COOKIE = "deep_tui_token"

MAX_SESSIONS = 4
"""Dashboards open at once (``--max-sessions``); each is a process about as heavy as ``deep-tui`` in a terminal."""

QUIT_GRACE = 3.0
"""Seconds a tab's process has to quit when asked, before it gets SIGTERM."""

TERM_GRACE = 10.0
"""Seconds after SIGTERM before SIGKILL: more than the 8 the dashboard takes to end itself when stuck."""

DRIVER = "deep_tui.web.driver:DashboardDriver"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REFUSALS: dict[int, type[web.HTTPClientError]] = {
    400: web.HTTPBadRequest,
    403: web.HTTPForbidden,
    421: web.HTTPMisdirectedRequest,
}


class DashboardProcess(AppService):
    """One tab's dashboard: a process of its own, in a session of its own, that ends whatever state it is in."""

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        environment = self._build_environment(width=width, height=height)
        environment["TEXTUAL_DRIVER"] = DRIVER
        # Started directly (not through a shell) and in a session of its own: the signals below reach the
        # dashboard and whatever its tools started, and a Ctrl+C in the server's terminal reaches the server only.
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def on_data(self, payload: bytes) -> None:
        """Pass the screen on while the tab is there. Once it has gone, keep reading: a process whose output is
        no longer read blocks writing it and never sees the request to quit."""
        with contextlib.suppress(ConnectionError):
            await super().on_data(payload)

    async def on_meta(self, data: bytes) -> None:
        with contextlib.suppress(ConnectionError):
            await super().on_meta(data)

    async def stop(self) -> None:
        """Ask the process to quit; SIGTERM it if it has not within ``QUIT_GRACE``, SIGKILL after ``TERM_GRACE``."""
        task, process = self._task, self._process
        if task is None or process is None:
            return
        self._task = None
        await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
        await self.send_meta({"type": "quit"})
        for hard, grace in ((False, QUIT_GRACE), (True, TERM_GRACE)):
            if await _ended(process, grace):
                break
            with contextlib.suppress(ProcessLookupError):
                _end(process, hard)
        await _ended(process, TERM_GRACE)
        with contextlib.suppress(asyncio.TimeoutError):  # the reader ends with the output (a grandchild may hold it)
            await asyncio.wait_for(task, QUIT_GRACE)


def _end(process: asyncio.subprocess.Process, hard: bool) -> None:
    """SIGTERM (or SIGKILL) the process and whatever it started, which share its process group."""
    if sys.platform == "win32":  # no process groups: the process alone
        if hard:
            process.kill()
        else:
            process.terminate()
    else:
        os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)


async def _ended(process: asyncio.subprocess.Process, within: float) -> bool:
    try:
        await asyncio.wait_for(process.wait(), within)
    except asyncio.TimeoutError:
        return False
    return True


class DashboardServer(Server):
    """textual-serve with deep-tui's access rules, a cap on open dashboards, and links that work whatever
    address the browser used."""

    def __init__(self, command: str, *, port: int, token: str | None, access: Access, sessions: int) -> None:
        super().__init__(command, host=access.bound, port=port, title="deep-tui")
        self.token = token
        self.access = access
        self.max_sessions = sessions
        self.sessions: dict[web.WebSocketResponse, DashboardProcess] = {}

    def initialize_logging(self) -> None:
        """Leave logging as deep-tui routed it; textual-serve would log every connection to the terminal."""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(access_gate(self.access))
        if self.token:
            app.middlewares.append(token_gate(self.token))
        app.on_response_prepare.append(_secure)
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # textual-serve builds the page's websocket and static URLs from the address it
        # was bound to, which for 0.0.0.0 is no address a browser elsewhere can reach.
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's, with the cap, and a process that ends however the tab goes."""
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        if len(self.sessions) >= self.max_sessions:
            most = self.max_sessions
            full = (
                f"deep-tui: this server runs at most {most} dashboard{'s' if most > 1 else ''} at once "
                f"(--max-sessions {most}), and that many are open: close one and reload this page."
            )
            await websocket.send_bytes(f"\r\n  {full}\r\n".encode())
            await websocket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=full.encode()[:120])
            return websocket
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        service = DashboardProcess(
            self.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.sessions[websocket] = service
        try:
            await service.start(width, height)
            await self._process_messages(websocket, service)
        finally:
            try:
                await asyncio.shield(service.stop())  # the process ends even if this handler is cancelled
            finally:
                del self.sessions[websocket]
                await websocket.close()
        return websocket

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C or SIGTERM: end every dashboard, then close the websockets their handlers wait on."""
        await asyncio.gather(*(service.stop() for service in self.sessions.values()))
        await asyncio.gather(
            *(websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped") for websocket in self.sessions)
        )


def access_gate(access: Access) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware applying ``access``: a foreign ``Host`` or a websocket opened by another
    site's page is refused before textual-serve starts anything."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        socket = request.transport.get_extra_info("sockname") if request.transport else None
        refusal = access.refusal(request.method, request.path, request.headers, socket[0] if socket else None)
        if refusal is not None:
            raise REFUSALS[refusal.status](text=refusal.reason + "\n")
        return await handler(request)

    return gate


def token_gate(token: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware refusing requests without ``token`` (in the query, a Bearer header or the cookie)."""

    @web.middleware
    async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
        from_query = request.query.get(TOKEN_PARAM)
        given = from_query or bearer(request.headers.get("Authorization")) or request.cookies.get(COOKIE)
        if not token_matches(token, given):
            raise web.HTTPUnauthorized(
                text=f"missing or wrong token: open this page as /?{TOKEN_PARAM}=TOKEN\n",
                headers={"WWW-Authenticate": "Bearer"},
            )
        response = await handler(request)
        if from_query and request.path == "/":
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
        return response

    return gate


async def _secure(request: web.Request, response: web.StreamResponse) -> None:
    """Every response, errors and the websocket's included, gets ``SECURITY_HEADERS`` (a middleware would
    miss the errors raised by the gates)."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def serve_dashboard(command: str, *, port: int, token: str | None, access: Access, sessions: int) -> None:
    """Serve the dashboard ``command`` starts until Ctrl+C or SIGTERM."""
    asyncio.set_event_loop(asyncio.new_event_loop())  # textual-serve runs on the current loop
    DashboardServer(command, port=port, token=token, access=access, sessions=sessions).serve()
