"""The page at ``/`` in a real headless Chromium (Debian's ``chromium`` package), skipped without it."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from test_web import FOREVER, GARDEN, served

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs a headless Chromium: apt-get install chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage")


def dump_dom(url: str) -> str:
    """The page's DOM once it has settled: Chromium's virtual time waits for the event stream to end."""
    done = subprocess.run(
        [CHROMIUM, *FLAGS, "--dump-dom", "--virtual-time-budget=10000", url],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout


class Page:
    """Just enough of the DevTools protocol to run JavaScript in one tab."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.socket.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = json.loads((await self.socket.receive()).data)
            if message.get("id") == call_id:
                return message.get("result", {})

    async def eval(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait(self, condition: str, within: float = 10) -> None:
        for _ in range(int(within / 0.05)):
            if await self.eval(condition):
                return
            await asyncio.sleep(0.05)
        status = await self.eval("document.body.dataset.status")
        raise AssertionError(f"still false after {within} s: {condition} (page status {status})")


@asynccontextmanager
async def browser_tab(url: str, profile: Path) -> AsyncIterator[Page]:
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,  # type: ignore[arg-type]
        *FLAGS,
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        while b"DevTools listening on" not in (line := await asyncio.wait_for(process.stderr.readline(), 30)):
            assert line, "chromium exited before it listened"
        port = line.decode().split("127.0.0.1:")[1].split("/")[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as targets:
                tab = next(t for t in await targets.json() if t["type"] == "page")
            async with http.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                page = Page(socket)
                await page.call("Page.navigate", url=url)
                yield page
    finally:
        process.kill()
        await process.wait()


def test_the_page_starts_a_run_and_shows_every_fact_as_text():
    prompt = '<img id="pwned" src="x"> plan the garden'
    with served(GARDEN) as web:
        dom = dump_dom(f"{web.url}/?prompt={quote(prompt)}")
    assert 'data-status="completed"' in dom
    assert "<img" not in dom and "&lt;img" in dom  # the prompt came back as text
    for fact in ("Survey the garden", "Plant the tulips", "/garden/beds.md", "write_todos", "write_file"):
        assert fact in dom
    assert "count_petals" in dom and "Garden planned: the north bed gets tulips, six petals each." in dom
    assert "3 requests" in dom and "3 tool calls" in dom


async def test_the_cancel_button_stops_the_run(tmp_path):
    with served(FOREVER) as web:
        async with browser_tab(f"{web.url}/?prompt=tick", tmp_path) as page:
            await page.wait("document.getElementById('output').textContent.includes('tick3 ')")
            assert await page.eval("document.body.dataset.status") == "running"
            await page.eval("document.getElementById('cancel').click()")
            await page.wait("document.body.dataset.status === 'cancelled'")
            assert (await page.eval("location.search")).startswith("?run=")  # a reload follows this run again
        assert [run.status for run in web.runs] == ["cancelled"]
