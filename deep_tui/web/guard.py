"""The door of ``deep-tui serve``: the rules of ``auth`` and the size limits, before any route sees a request."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deep_tui.web.auth import SECURITY_HEADERS, Access

MAX_BODY = 1_000_000
"""Bytes of a request body (a ``POST /runs`` prompt of up to about a megabyte)."""

MAX_QUERY = 8_192
"""Bytes of a query string; a longer prompt goes in the body of ``POST /runs``."""

_EXTRA_HEADERS = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]


class TooLarge(HTTPException):
    """The body went over ``MAX_BODY`` while a route was reading it (sent in chunks, without a length):
    an HTTP error, so the route's error handling answers it as any other."""

    def __init__(self) -> None:
        super().__init__(413, _too_large())


class Guard:
    """Refuses a foreign ``Host`` (421), a request from another site that changes something (403), and a
    request too large to be a prompt (413); adds ``SECURITY_HEADERS`` to every response."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_EXTRA_HEADERS]}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await self._refuse(scope, receive, send_secured, *refusal)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        read = 0

        async def receive_limited() -> Message:
            nonlocal read
            message = await receive()
            read += len(message.get("body", b""))
            if read > MAX_BODY:
                raise TooLarge
            return message

        await self.app(scope, receive_limited, send_secured)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        server = scope.get("server")
        refusal = self.access.refusal(scope.get("method", "GET"), scope["path"], headers, server[0] if server else None)
        if refusal is not None:
            return refusal.status, refusal.reason
        if len(scope.get("query_string", b"")) > MAX_QUERY:
            return 413, f"the query is over {MAX_QUERY:,} bytes: send a long prompt as JSON to POST /runs"
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return 413, _too_large()
        return None

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
            return
        await JSONResponse({"detail": reason}, status_code=status)(scope, receive, send)


def _too_large() -> str:
    return f"the request body is over {MAX_BODY:,} bytes, the most this server takes"
