"""The signals that end the dashboard (``kill``, a closed terminal) end it, even when its event loop is stuck.

asyncio's signal handlers run on the event loop, and Python's in the main thread, so a blocked main
thread (an agent's tool that blocks the loop, or Textual's shutdown writing to a terminal that is gone)
never handles the signal, and the process stays behind for ever. Here the signal wakes a thread of its
own instead, through ``signal.set_wakeup_fd``, which is written whichever thread the signal lands on:
it hands the signal to the loop for the clean ending and, if the process is still there after a grace
period, keeps what it can and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping


@contextlib.contextmanager
def ending_on_signals(
    loop: asyncio.AbstractEventLoop,
    endings: Mapping[signal.Signals, Callable[[], object]],
    *,
    grace: float,
    last_resort: Callable[[], object],
) -> Iterator[None]:
    """While inside, each signal of ``endings`` calls its ending on ``loop``; if the block has not been
    left ``grace`` seconds later, ``last_resort`` is called and the process exits with 128 + the signal's
    number. Outside the main thread, or on Windows, it changes nothing."""
    if threading.current_thread() is not threading.main_thread() or sys.platform == "win32":
        yield
        return
    left = threading.Event()
    read, write = os.pipe()
    os.set_blocking(write, False)

    def watch() -> None:
        try:
            while byte := os.read(read, 1):
                if (signum := byte[0]) in endings:  # every handled signal is written here, a resize too
                    break
            else:
                return  # the block was left
            with contextlib.suppress(RuntimeError):  # the loop has closed: the block is being left
                loop.call_soon_threadsafe(endings[signal.Signals(signum)])
            if not left.wait(grace):
                with contextlib.suppress(Exception):  # it is the last resort: exit whatever happens
                    last_resort()
                os._exit(128 + signum)
        finally:
            os.close(read)

    before = {signum: signal.signal(signum, lambda _signum, _frame: None) for signum in endings}
    before_fd = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    threading.Thread(target=watch, name="deep-tui-signals", daemon=True).start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(before_fd)  # first, so that no signal is written to a pipe the watcher has closed
        for signum, handler in before.items():
            signal.signal(signum, handler)
        left.set()
        os.close(write)  # the watcher, still waiting for a signal, reads the end of the pipe
