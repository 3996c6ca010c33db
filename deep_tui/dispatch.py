"""Every view says what it does with every kind of event, so that a new kind cannot be forgotten.

A view keeps a table from event class to its handler, or to ``IGNORED`` for a kind it
deliberately does not show, and registers it with ``view``. ``tests/test_dispatch.py``
walks the members of the ``Event`` union for every registered table: adding a kind to
the union fails that test until each view handles or ignores it. A view that is not
driven by its table (an ``isinstance`` ladder) registers one all the same, naming the
method that handles each kind, so the test still holds it to every kind. Views that
treat every kind alike (the JSON lines, the recorder, the SSE stream) need no table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, get_args

from deep_tui.events import BaseEvent, Event


class Ignored:
    """The mark of a kind a view shows nothing for, on purpose."""

    def __repr__(self) -> str:
        return "IGNORED"


IGNORED: Final = Ignored()

EVENT_KINDS: tuple[type[BaseEvent], ...] = get_args(get_args(Event)[0])
"""Every event class in the ``Event`` union."""

Handler = Callable[..., Any]
Table = Mapping[type[BaseEvent], Handler | Ignored]

VIEW_MODULES = (
    "deep_tui.state",
    "deep_tui.headless",
    "deep_tui.screens.dashboard:panes_take",
    "deep_tui.app:app_takes",
)
"""Where views are registered; the test imports each module and calls the function after a colon (a table a
module makes on first use, so as not to import the events before the dashboard's first frame). A new view
joins this list."""

_views: dict[str, Table] = {}


def view(name: str, table: Table) -> Table:
    """Register ``table`` as what the view ``name`` does with each kind of event, and return it."""
    _views[name] = table
    return table


def views() -> dict[str, Table]:
    """Every registered view's table, by name."""
    return dict(_views)


def unhandled(table: Table) -> list[str]:
    """The kinds of ``Event`` that ``table`` neither handles nor ignores."""
    return [kind.__name__ for kind in EVENT_KINDS if kind not in table]


def unknown(table: Table) -> list[str]:
    """The keys of ``table`` that are not kinds of ``Event`` (a kind that was removed or renamed)."""
    return [getattr(key, "__name__", repr(key)) for key in table if key not in EVENT_KINDS]
