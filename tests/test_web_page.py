"""The page at ``/`` in a real headless Chromium (Debian's ``chromium`` package), skipped without it."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import pytest
from agents.hostile import EVIL_FILE, LONG_PARAGRAPHS, RESULT_END, THOUGHTS
from test_web import AGENTS, FOREVER, GARDEN, HOSTILE, served

from deep_tui.events import PREVIEW_LIMIT
from deep_tui.spec import AgentSpec

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs a headless Chromium: apt-get install chromium")
ENDLESS = AgentSpec(agent=f"{AGENTS}/hostile.py:endless")
LONG = AgentSpec(agent=f"{AGENTS}/hostile.py:long")
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

    async def start(self, prompt: str) -> None:
        """Type ``prompt`` and press Run, as a user does."""
        await self.wait("document.readyState === 'complete'")
        await self.eval(f"document.getElementById('prompt').value = {json.dumps(prompt)}")
        await self.eval("document.getElementById('run').click()")

    async def press(self, key: str, code: int, selector: str | None = None) -> None:
        """A real key press (trusted, as from the keyboard) on ``selector``, focused first, or where the focus is."""
        if selector:
            await self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        text = {"text": "\r"} if key == "Enter" else {}  # what makes a button see Enter as a press
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=key, windowsVirtualKeyCode=code, **text)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=key, windowsVirtualKeyCode=code)

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


@contextmanager
def site_elsewhere(html: str) -> Iterator[str]:
    """Another origin (a second port) serving ``html``: where an attacker's page would come from."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()


def test_a_prompt_in_the_address_starts_nothing_even_in_a_frame_elsewhere():
    with served(GARDEN) as web:
        page = f"{web.url}/?prompt={quote('plan the garden')}"
        dom = dump_dom(page)
        with site_elsewhere(f"<iframe src='{page}'></iframe>") as attacker:
            framed = dump_dom(attacker)
        assert list(web.runs) == []
    assert 'data-status="idle"' in dom and "<iframe" in framed


async def test_the_prompt_from_the_address_waits_for_run_and_every_fact_shows_as_text(tmp_path):
    prompt = '<img id="pwned" src="x"> plan the garden'
    with served(GARDEN) as web:
        async with browser_tab(f"{web.url}/?prompt={quote(prompt)}", tmp_path) as page:
            await page.wait("document.readyState === 'complete'")
            assert await page.eval("document.getElementById('prompt').value") == prompt
            assert await page.eval("document.body.dataset.status") == "idle" and list(web.runs) == []
            await page.eval("document.getElementById('run').click()")
            await page.wait("document.body.dataset.status === 'completed'")
            await page.wait("document.querySelector('#output .answer .markdown p') !== null")
            text = await page.eval("document.body.innerText")
            assert await page.eval("document.images.length") == 0  # the prompt came back as text
            assert prompt in text
            for fact in ("Survey the garden", "Plant the tulips", "/garden/beds.md", "write_todos", "write_file"):
                assert fact in text
            assert "count_petals" in text and "Garden planned: the north bed gets tulips, six petals each." in text
            assert "3 requests" in text and "3 tool calls" in text
        assert [run.status for run in web.runs] == ["completed"]


async def test_the_cancel_button_stops_the_run(tmp_path):
    with served(FOREVER) as web:
        async with browser_tab(web.url, tmp_path) as page:
            await page.start("tick")
            await page.wait("document.getElementById('output').textContent.includes('tick3 ')")
            assert await page.eval("document.body.dataset.status") == "running"
            await page.eval("document.getElementById('cancel').click()")
            await page.wait("document.body.dataset.status === 'cancelled'")
            assert (await page.eval("location.search")).startswith("?run=")  # a reload follows this run again
        assert [run.status for run in web.runs] == ["cancelled"]


INERT = """
    document.images.length === 0 && document.scripts.length === 1 && window.pwned === undefined
    && document.querySelectorAll('iframe, object, embed, [onerror], [onclick]').length === 0
"""
"""True while no text from the agent has become an element or run as code."""


async def test_hostile_markdown_is_rendered_and_stays_inert_and_thoughts_stay_apart(tmp_path):
    with served(HOSTILE) as web:
        async with browser_tab(web.url, tmp_path) as page:
            await page.start("report")
            await page.wait("document.body.dataset.status === 'completed'")
            await page.wait("document.querySelector('#output .answer .live').textContent === ''")
            assert await page.eval(INERT)
            assert await page.eval("document.querySelector('#output h1').textContent") == "Report 📋"
            assert await page.eval("document.querySelectorAll('#output strong, #output em, #output table').length") == 3
            assert await page.eval("document.querySelector('#output pre code .hl-k').textContent") == "def"
            links = await page.eval(
                "[...document.querySelectorAll('#output a')].map(a => [a.getAttribute('href'), a.rel, a.textContent])"
            )
            assert links == [
                ["https://tracker.example/p.png", "noopener noreferrer", "tracker"],
                ["https://example.com/docs", "noopener noreferrer", "home"],
                ["https://example.com/a%20b", "noopener noreferrer", "ok"],
            ]
            text = await page.eval("document.getElementById('output').textContent")
            for shown in ("<img src=x onerror=", "<script>window.pwned='script'</script>", "[click me](javascript:"):
                assert shown in text
            thoughts = await page.eval("[...document.querySelectorAll('#output .thinking')].map(e => e.lastChild.data)")
            assert thoughts == list(THOUGHTS)  # each with its own spaces, in a block of its own
            assert "them.parse()" not in await page.eval("document.getElementById('output').innerText")
            # a reload follows the finished run: waited for in the new page (the old one shows the same until it goes)
            await page.eval("window.beforeFollowing = true; document.getElementById('follow').click()")
            await page.wait(
                "window.beforeFollowing === undefined && document.readyState === 'complete'"
                " && document.querySelector('#output h1')?.textContent === 'Report 📋'"
            )
            assert await page.eval("location.search") == f"?run={web.runs.get(next(iter(web.runs)).id).id}"
            assert await page.eval(INERT)


async def test_a_file_and_a_tool_call_open_by_click_or_enter_as_text(tmp_path):
    with served(HOSTILE) as web:
        async with browser_tab(web.url, tmp_path) as page:
            await page.start("report")
            await page.wait("document.body.dataset.status === 'completed'")
            await page.press("Enter", 13, "#files button[data-path='/notes/evil.html']")
            await page.wait("document.getElementById('viewer').open")
            await page.wait("document.querySelector('#viewer-body pre.text') !== null")
            assert await page.eval("document.getElementById('viewer-title').textContent") == "/notes/evil.html"
            assert await page.eval("document.querySelector('#viewer-body pre.text').textContent") == EVIL_FILE
            assert await page.eval("document.querySelector('#viewer-body pre.gutter').textContent") == "1\n2"
            assert await page.eval(INERT)
            await page.press("Escape", 27)
            await page.wait("!document.getElementById('viewer').open")

            await page.eval("document.querySelector('#tools tr[data-call-id=report]').click()")
            await page.wait("document.getElementById('viewer-title').textContent === 'big_report'")
            shown = await page.eval("[...document.querySelectorAll('#viewer-body pre')].map(pre => pre.textContent)")
            assert json.loads(shown[0]) == {"topic": "<b>tulips</b>"}
            assert shown[1].startswith("Report on <b>tulips</b>") and shown[1].endswith(RESULT_END)
            assert len(shown[1]) > PREVIEW_LIMIT  # the whole result, not the event's preview
            assert "success" in await page.eval("document.getElementById('viewer-meta').textContent")
            await page.eval("document.getElementById('viewer-close').click()")
            await page.press("Enter", 13, "#tools tr[data-call-id=write]")
            await page.wait("document.getElementById('viewer-title').textContent === 'write_file'")
            shown = await page.eval(
                "[...document.querySelectorAll('#viewer-body pre.text')].map(pre => pre.textContent)"
            )
            assert json.loads(shown[0]) == {"path": "/notes/evil.html", "content": "‹2 lines, below›"}
            assert shown[1] == EVIL_FILE  # a multi-line argument as itself, not as an escaped string
            assert await page.eval(INERT)


async def test_the_answer_is_rendered_while_it_streams_without_a_request_per_delta(tmp_path):
    with served(ENDLESS) as web:
        async with browser_tab(web.url, tmp_path) as page:
            await page.start("tick")
            await page.wait("document.querySelector('#output .markdown h1')?.textContent === 'Ticking'")
            await page.wait("document.querySelector('#output .live').textContent.includes('tick100 ')")
            assert await page.eval("document.body.dataset.status") == "running"
            assert await page.eval("document.querySelector('#output .markdown strong').textContent") == "starts"
            assert await page.eval("[...document.querySelectorAll('#output .partial li')].length") == 2  # so far
            assert not (await page.eval("document.querySelector('#output .live').textContent")).startswith("- ")
            renders = await page.eval(
                "performance.getEntriesByType('resource').filter(entry => entry.name.includes('/answer')).length"
            )
            assert 1 <= renders <= 2  # a hundred deltas later: only text that can no longer change is rendered
            await page.eval("document.getElementById('cancel').click()")
            await page.wait("document.querySelector('#output .live').textContent === ''")  # all of it, at the end
            assert "tick100" in await page.eval("document.querySelector('#output .markdown').textContent")


async def test_a_long_answer_ends_with_only_its_last_part_rendered_again(tmp_path):
    with served(LONG) as web:
        async with browser_tab(web.url, tmp_path) as page:
            await page.start("talk")
            await page.wait("document.body.dataset.status === 'completed'")
            await page.wait("document.querySelector('#output .live').textContent === ''")
            paragraphs = await page.eval("document.querySelectorAll('#output .answer .markdown p').length")
            assert paragraphs == LONG_PARAGRAPHS + 1
            assert await page.eval("document.querySelector('#output .answer .markdown p:last-child').textContent") == (
                "The last one."
            )
            asked = await page.eval(
                "performance.getEntriesByType('resource').filter(e => e.name.includes('/answer')).map(e => e.name)"
            )
            last = parse_qs(urlsplit(asked[-1]).query)
            assert "settled" not in last and "offset" in last  # what was not rendered yet, not the whole 100 kB again
