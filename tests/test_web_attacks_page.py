"""A page of another origin, in a real headless Chromium, attacks both servers; skipped without Chromium.

The attacker's page is served on a second port of the same host: the closest
an attacker can get (same site, so ``SameSite`` cookies are sent), and the
case of any other local service with a hostile page.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from test_web import FOREVER, served, start_run
from test_web_cli import free_port, serving
from test_web_page import CHROMIUM, browser_tab
from test_web_tui import descendants

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs a headless Chromium: apt-get install chromium")

ATTACK_ON_SERVE = """<!doctype html><title>attack</title>
<iframe id="framed" src="{target}/?prompt=framed"></iframe>
<img src="{target}/agent/stream?prompt=img">
<iframe name="sink"></iframe>
<form target="sink" method="post" action="{target}/runs/{run}/cancel"><input name="x" value="1"></form>
<script>
  document.forms[0].submit();
  window.settled = 0;
  fetch("{target}/agent/stream?prompt=fetch", {{mode: "no-cors"}}).catch(() => null).finally(() => window.settled++);
  const events = new EventSource("{target}/agent/stream?prompt=eventsource");
  events.onopen = events.onerror = () => {{ events.close(); window.settled++; }};
</script>"""
"""Every way a page may try to start a run without asking (a frame of the page with a prompt, an image, a
no-cors fetch, an EventSource), and a form posting a cancel."""

ATTACK_ON_TUI = """<!doctype html><title>attack</title>
<iframe src="{target}/" width="800" height="500"></iframe>
<script>
  window.events = [];
  const socket = new WebSocket("{websocket}/ws?width=90&height=20");
  socket.onopen = () => {{ window.events.push("open"); socket.send(JSON.stringify(["stdin", "hello\\r"])); }};
  socket.onmessage = () => window.events.push("message");
  socket.onclose = () => window.events.push("close");
</script>"""
"""A frame of the dashboard's page, and a websocket to the dashboard with the browser's token cookie."""


@asynccontextmanager
async def attacker(page: str) -> AsyncIterator[str]:
    """``page`` served at ``/`` on another port of 127.0.0.1."""
    app = web.Application()

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://localhost:{port}"
    finally:
        await runner.cleanup()


async def test_a_page_of_another_origin_can_neither_start_nor_cancel_a_run(tmp_path):
    with served(FOREVER) as web_server, web_server.client() as client:
        run = start_run(client)
        target = web_server.url.replace("127.0.0.1", "localhost")
        page_html = ATTACK_ON_SERVE.format(target=target, run=run)
        async with attacker(page_html) as evil, browser_tab(evil, tmp_path) as page:
            await page.wait("document.readyState === 'complete' && window.settled === 2", within=20)
            deadline = time.monotonic() + 3  # what a framed page would start, it starts on its load
            while time.monotonic() < deadline and len(list(web_server.runs)) == 1:
                await asyncio.sleep(0.1)
        assert [(r.id, r.status) for r in web_server.runs] == [(run, "running")]


async def test_a_page_on_another_port_cannot_open_or_frame_the_dashboard(tmp_path):
    with serving("--tui", "--token", "s3cret", "--demo-speed", "0") as (url, server):
        target = url.replace("127.0.0.1", "localhost")
        async with browser_tab(f"{target}/?token=s3cret", tmp_path) as page:  # the cookie is now in the browser
            await page.wait("document.body.classList.contains('-first-byte')", within=60)
            ours = descendants(server.pid)
            page_html = ATTACK_ON_TUI.format(target=target, websocket=target.replace("http", "ws", 1))
            async with attacker(page_html) as evil:
                await page.call("Page.navigate", url=evil)
                answered = "window.events && ['close', 'message'].some((e) => window.events.includes(e))"
                await page.wait(answered, within=20)
                assert await page.eval("window.events") == ["close"]
                await asyncio.sleep(3)  # a framed page would have opened its websocket by now
                assert descendants(server.pid) - ours == set()
