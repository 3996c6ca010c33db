"""Signals end the process whether or not its event loop can still run: each case in a process of its own."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SCRIPT = """
import asyncio, signal, sys, time
from deep_tui.signals import ending_on_signals

def say(text):
    print(text, flush=True)

async def main(stuck):
    loop = asyncio.get_running_loop()
    ended = asyncio.Event()
    endings = {signal.SIGTERM: lambda: (say("ending on the loop"), ended.set())}
    with ending_on_signals(loop, endings, grace=1, last_resort=lambda: say("last resort")):
        say("ready")
        if stuck:
            time.sleep(30)  # the loop cannot run: only the grace period can end this
        await ended.wait()
    say("left")
    return signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

sys.exit(0 if asyncio.run(main(sys.argv[1] == "stuck")) else 5)
"""


def run_and_signal(mode: str) -> tuple[int, list[str]]:
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(SCRIPT), mode], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    lines = process.stdout.read().splitlines()
    code = process.wait(timeout=20)
    return code, lines


def test_a_running_loop_ends_cleanly_and_the_old_handler_comes_back():
    code, lines = run_and_signal("running")
    assert lines == ["ending on the loop", "left"]
    assert code == 0


def test_a_stuck_loop_gets_the_last_resort_and_exits_with_the_signal():
    code, lines = run_and_signal("stuck")
    assert lines == ["last resort"]  # the blocked loop never ran its ending, nor left the block
    assert code == 128 + signal.SIGTERM
