"""After a turn, the heap is settled: its garbage collected once, what is alive kept out of later collections."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator

from canned import CannedSource
from test_app import SIZE, demo, until

from deep_tui.app import SETTLE_AFTER, DeepTUI
from deep_tui.events import Event, RunFinished, RunStarted
from deep_tui.heap import settle


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only a collection frees it


def test_settle_frees_the_garbage_and_freezes_what_is_alive_and_a_later_settle_looks_again():
    kept = Node()
    dropped = Node()
    dropped_ref = weakref.ref(dropped)
    del dropped
    settle()
    assert dropped_ref() is None
    assert gc.get_freeze_count() > 0
    kept_ref = weakref.ref(kept)
    del kept  # garbage now, but frozen: only the next settle frees it
    gc.collect()
    assert kept_ref() is not None
    settle()
    assert kept_ref() is None


async def test_the_dashboard_settles_the_heap_once_a_turn_has_ended():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await until(pilot, lambda: gc.get_freeze_count() > 0)


class TwoTurns(CannedSource):
    """A first turn that ends at once, and a second that runs until the test lets it end."""

    def __init__(self) -> None:
        super().__init__([], {}, {})
        self.release = asyncio.Event()

    async def turn(self, prompt: str) -> AsyncIterator[Event]:
        turn = 2 if prompt == "second" else 1
        yield RunStarted(seq=0, t=0.0, run_id=f"r{turn}", session_id="s", turn=turn, prompt=prompt, agent="canned")
        if turn == 2:
            await self.release.wait()
        yield RunFinished(seq=1, t=0.1, status="completed")


async def test_no_settle_falls_inside_a_turn_that_started_before_it():
    source = TwoTurns()
    app = DeepTUI(source, prompt="first")
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.dashboard.turns == 1 and app.dashboard.status == "completed")
        app._start("second")  # at once, as a person or a script may
        await until(pilot, lambda: app.dashboard.status == "running")
        await pilot.pause(SETTLE_AFTER * 2)
        assert gc.get_freeze_count() == 0
        source.release.set()
        await until(pilot, lambda: app.dashboard.turns == 2 and app.dashboard.status == "completed")
        await until(pilot, lambda: gc.get_freeze_count() > 0)
