"""``deep-tui serve --tui`` as a browser meets it: a real server, real websockets, real dashboard processes.

A dashboard is "stuck" here when its agent runs a tool that blocks its event
loop for two minutes (``agents/slow.py:frozen``): whatever happens to its tab or
its server, its process must still end, long before that.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import aiohttp
import httpx
import pytest
from test_web_cli import serving

pytestmark = pytest.mark.slow
FROZEN = str(Path(__file__).parent / "agents" / "slow.py:frozen")
ENDED_WITHIN = 40.0
"""A generous deadline for "it ended": a stuck dashboard is asked to quit (3 s), then has 8 s after SIGTERM."""


def processes() -> dict[int, tuple[int, str]]:
    """Every live process: its parent and its state (zombies are left out: they have ended)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if state != "Z":
            found[int(stat.parent.name)] = (int(parent), state)
    return found


def descendants(pid: int) -> set[int]:
    table = processes()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, (ppid, _) in table.items() if ppid == parent]
        found.update(children)
        todo += children
    return found


def alive(pids: set[int]) -> set[int]:
    return pids & processes().keys()


async def until(condition, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what}: still not so after {within:.0f} s"
        await asyncio.sleep(0.2)


class Tab:
    """One browser tab's websocket: what it has been sent, and the processes its dashboard runs as."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.pids: set[int] = set()
        self.screen = b""

    async def read_until(self, text: bytes, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while text not in self.screen:
            message = await asyncio.wait_for(self.socket.receive(), max(0.1, deadline - time.monotonic()))
            assert message.type == aiohttp.WSMsgType.BINARY, message
            self.screen += message.data

    async def freeze(self, marker: Path) -> None:
        """Run a turn whose tool blocks the dashboard's event loop, once the agent has loaded."""
        await self.read_until(b"idle")  # the prompt has had the focus since before the agent loaded
        await self.socket.send_str(json.dumps(["stdin", f"{marker}\r"]))
        await until(marker.exists, 60, "the frozen turn has started")


def columns(pid: int) -> str | None:
    """The width a dashboard process was started for, which tells the tabs apart."""
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    return next((v.decode()[8:] for v in environment if v.startswith(b"COLUMNS=")), None)


@asynccontextmanager
async def tabs(
    url: str, server: subprocess.Popen[str], count: int, headers: dict[str, str] | None = None
) -> AsyncIterator[list[Tab]]:
    """``count`` tabs opened at once, each knowing the processes started for it (each tab asks for a width
    of its own). However the test ends, none of those processes outlives it."""
    opened: list[Tab] = []
    async with aiohttp.ClientSession() as http:
        try:
            for width in range(100, 100 + count):
                websocket = f"{url.replace('http', 'ws', 1)}/ws?width={width}&height=30"
                opened.append(Tab(await http.ws_connect(websocket, headers=headers)))
            await asyncio.gather(*(tab.read_until(b"deep-tui") for tab in opened))
            started = descendants(server.pid)
            for width, tab in enumerate(opened, 100):
                tab.pids = {pid for pid in started if columns(pid) == str(width)}
                assert tab.pids, "no process started for the tab"
            yield opened
        finally:
            for tab in opened:
                await tab.socket.close()
                for pid in alive(tab.pids):
                    with suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)


async def test_a_stuck_dashboard_ends_with_its_tab_on_sigterm_on_sighup_and_on_the_servers_ctrl_c(tmp_path):
    with serving("--tui", "--agent", FROZEN) as (url, server):
        async with tabs(url, server, 4) as (closed, termed, hung_up, left_open):
            await asyncio.gather(
                *(tab.freeze(tmp_path / str(n)) for n, tab in enumerate((closed, termed, hung_up, left_open)))
            )
            await closed.socket.close()
            for tab, ending in ((termed, signal.SIGTERM), (hung_up, signal.SIGHUP)):
                for pid in tab.pids:
                    os.kill(pid, ending)
            # the README promises 8 s after a signal; the deadline says only "it ended", long before the tool's
            # two minutes are up
            ended = closed.pids | termed.pids | hung_up.pids
            await until(lambda: not alive(ended), ENDED_WITHIN, "the dashboards of a closed tab and signalled ones")
            assert alive(left_open.pids)
            server.send_signal(signal.SIGINT)  # Ctrl+C, a stuck dashboard still open
            await until(lambda: server.poll() is not None, ENDED_WITHIN, "the server")
            await until(lambda: not alive(left_open.pids), ENDED_WITHIN, "the open tab's dashboard")
        assert server.returncode == 0


async def test_the_dashboard_answers_only_its_own_page_caps_the_dashboards_and_outlives_no_server():
    with serving("--tui", "--token", "s3cret", "--max-sessions", "1", "--demo-speed", "0") as (url, server):
        port = url.rsplit(":", 1)[1]
        with httpx.Client(base_url=url) as browser:
            assert browser.get("/?token=s3cret", headers={"Host": f"evil.example:{port}"}).status_code == 421
            page = browser.get("/?token=s3cret")
            assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        cookie = {"Cookie": "deep_tui_token=s3cret"}  # what the browser keeps once the page was opened with ?token=
        page_of = {"http://localhost:9000": "same-site", "http://evil.example": "cross-site"}
        async with aiohttp.ClientSession() as http:
            for origin, site in page_of.items():  # as Chromium opens a websocket from a page of that origin
                headers = {**cookie, "Origin": origin, "Sec-Fetch-Site": site, "Sec-Fetch-Mode": "websocket"}
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(f"ws://localhost:{port}/ws", headers=headers)
                assert refused.value.status == 403, origin
        assert descendants(server.pid) == set()
        own = {**cookie, "Origin": f"http://localhost:{port}", "Sec-Fetch-Site": "same-origin"}
        async with tabs(f"http://localhost:{port}", server, 1, own) as (first,):
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(f"ws://localhost:{port}/ws", headers=own) as more,
            ):
                message = await more.receive()
                assert message.type == aiohttp.WSMsgType.BINARY
                assert b"(--max-sessions 1)" in message.data and b"close one and reload" in message.data
                closing = await more.receive()
                assert (closing.type, closing.data) == (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.TRY_AGAIN_LATER)
            assert descendants(server.pid) == first.pids  # no second dashboard was started
            server.kill()  # nobody is left to ask the dashboard to quit: it must see that for itself
            server.wait(10)
            await until(lambda: not alive(first.pids), ENDED_WITHIN, "a killed server's dashboard")
