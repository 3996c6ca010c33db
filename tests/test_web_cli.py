"""``deep-tui serve`` as a user runs it: in a subprocess, stopped with Ctrl+C."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import httpx
import pytest
from test_cli import deep_tui, env

from deep_tui.cli import _dashboard_argv, build_serve_parser
from deep_tui.events import parse_event

AGENTS = Path(__file__).parent / "agents"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``deep-tui serve ARGS`` on a free port, once it answers; stopped with SIGINT unless the test did."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "deep_tui", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"serve did not start: {process.communicate()}")
            time.sleep(0.1)
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(10)


def test_ctrl_c_ends_the_runs_in_flight_and_the_server_without_a_traceback():
    with serving("--demo-speed", "1") as (url, process):
        with httpx.stream("GET", f"{url}/agent/stream", params={"prompt": "build a word counter"}, timeout=10) as live:
            lines = live.iter_lines()
            first = parse_event(next(line for line in lines if line.startswith("data:"))[5:])
            stopped = time.monotonic()
            process.send_signal(signal.SIGINT)
            last = [parse_event(line[5:]) for line in lines if line.startswith("data:")][-1]
        out, err = process.communicate(timeout=10)
    assert last.type == "run_finished" and last.status == "cancelled"
    assert process.returncode == 0 and time.monotonic() - stopped < 5
    assert "Uvicorn running on" in err and f"run {first.run_id} cancelled" in err
    assert "Traceback" not in err + out


def test_a_public_host_needs_a_token():
    port = str(free_port())
    done = deep_tui("serve", "--host", "0.0.0.0", "--port", port)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "deep-tui: error: --host 0.0.0.0 would let other machines start runs: give --token as well "
        "(or serve on 127.0.0.1 and reach it through an SSH tunnel)"
    ]
    assert deep_tui("serve", "--host", "0.0.0.0", "--tui", "--port", port).returncode == 2
    assert deep_tui("serve", "--token", " ", "--port", port).returncode == 2


def test_a_port_in_use_is_one_line_not_a_traceback():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for tui in ([], ["--tui"]):
            done = deep_tui("serve", "--port", port, *tui)
            assert done.returncode == 2
            assert done.stderr.strip().splitlines() == [
                f"deep-tui: error: cannot listen on 127.0.0.1:{port}: Address already in use"
            ]


@pytest.mark.parametrize(("blocked", "args"), [("fastapi", ["serve"]), ("textual_serve", ["serve", "--tui"])])
def test_serve_without_the_web_extra_says_how_to_install_it(blocked, args):
    args = [*args, "--port", str(free_port())]  # not the default 8000, which something else may hold
    code = f"import sys; sys.modules[{blocked!r}] = None; import deep_tui.cli as c; raise SystemExit(c.main({args!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env(), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"deep-tui: error: serve needs the web extra ({blocked} is not installed): pip install 'deep-tui[web]' "
        "(from a clone: pip install -e '.[web]')"
    ]


def test_an_agent_that_cannot_load_fails_at_startup():
    done = deep_tui("serve", "--agent", f"{AGENTS}/custom.py:broken", "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"deep-tui: error: {AGENTS}/custom.py:broken() raised ValueError: the factory needs a config file"
    ]


async def test_tui_serves_textual_serves_page_and_each_websocket_gets_a_dashboard():
    with serving("--tui", "--demo-speed", "0") as (url, _):
        page = httpx.get(url)
        assert page.status_code == 200
        websocket = f"ws://{url.removeprefix('http://')}/ws"
        assert "textual.js" in page.text and websocket in page.text
        screen = b""
        async with aiohttp.ClientSession() as browser, browser.ws_connect(f"{websocket}?width=100&height=30") as tab:
            while b"deep-tui" not in screen:
                message = await asyncio.wait_for(tab.receive(), 20)
                assert message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), message
                screen += message.data if isinstance(message.data, bytes) else message.data.encode()


def test_tui_with_a_token_keeps_it_in_a_cookie_for_the_page_its_files_and_its_websocket():
    with serving("--tui", "--token", "s3cret", "--demo-speed", "0") as (url, process):
        assert httpx.get(url).status_code == 401
        assert httpx.get(f"{url}/ws").status_code == 401
        assert httpx.get(f"{url}/static/js/textual.js").status_code == 401
        with httpx.Client(base_url=url) as browser:
            page = browser.get("/?token=s3cret")
            assert page.status_code == 200 and "httponly" in page.headers["set-cookie"].lower()
            assert browser.get("/static/js/textual.js").status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in out + err


def test_each_browser_tab_runs_the_dashboard_with_the_same_agent_options():
    options = build_serve_parser().parse_args(
        ["--tui", "--agent", "my.py:build", "--demo-speed", "0.5", "--timeout", "90", "--web"]
    )
    assert _dashboard_argv(options) == [
        sys.executable,
        "-m",
        "deep_tui",
        "--agent",
        "my.py:build",
        "--demo-speed",
        "0.5",
        "--web",
        "--timeout",
        "90",
    ]
