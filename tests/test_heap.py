"""After a turn, the heap is settled: its garbage collected once, what is alive kept out of later collections."""

from __future__ import annotations

import gc
import weakref

from test_app import SIZE, demo, until

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
