"""The dashboard in a browser: textual-serve starts one ``deep-tui`` process per browser tab.

textual-serve has no authentication of its own, so with a token a gate in front
of it refuses every request that does not carry one. The token comes once in the
page's address (``/?token=…``) and is then kept in an HttpOnly, SameSite=Strict
cookie, because textual-serve's script fetches its static files and opens its
websocket without knowing of any token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from textual_serve.server import Server

from deep_tui.web.auth import TOKEN_PARAM, bearer, token_matches

COOKIE = "deep_tui_token"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DashboardServer(Server):
    """textual-serve with deep-tui's token rule, and links that work whatever address the browser used."""

    def __init__(self, command: str, *, host: str, port: int, token: str | None) -> None:
        super().__init__(command, host=host, port=port, title="deep-tui")
        self.token = token

    def initialize_logging(self) -> None:
        """Leave logging as deep-tui routed it; textual-serve would log every connection to the terminal."""

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        if self.token:
            app.middlewares.append(token_gate(self.token))
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # textual-serve builds the page's websocket and static URLs from the address it
        # was bound to, which for 0.0.0.0 is no address a browser elsewhere can reach.
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)


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


def serve_dashboard(command: str, *, host: str, port: int, token: str | None) -> None:
    """Serve the dashboard ``command`` starts until Ctrl+C or SIGTERM."""
    asyncio.set_event_loop(asyncio.new_event_loop())  # textual-serve runs on the current loop
    DashboardServer(command, host=host, port=port, token=token).serve()
