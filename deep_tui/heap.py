"""Keeping the garbage collector off a dashboard's keys.

After a long run the dashboard holds hundreds of thousands of long-lived objects (the state, the rows,
their painted lines), and CPython's full collection walks all of them: 90 ms and more on one key at a
random moment. Once a turn has ended, one collection clears what it left, and the objects still alive are
moved out of the collector's reach (``gc.freeze``), so later collections walk only what is new.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect everything once, then leave what is alive out of later collections."""
    gc.unfreeze()  # what an earlier turn kept may be garbage now: this collection looks at it again
    gc.collect()
    gc.freeze()
