"""Which tool calls the log shows: a filter typed as ``tool:NAME status:OUTCOME words``, and the rows it keeps.

The log holds every row; a filter picks the calls to show and keeps each turn's
divider above the first of its calls shown. Rows arrive at the end and calls
change outcome in place, so the rows shown are kept up to date a row at a time,
never rebuilt while the filter stays the same.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

RUNNING = "running"


class Call(Protocol):
    tool: str
    status: str


@dataclass(frozen=True)
class CallFilter:
    """Calls whose tool is one of ``tools`` (a part of the name will do), whose outcome is one of
    ``outcomes``, and whose row holds every one of ``words``; an empty part keeps everything."""

    text: str
    """As typed, to show it back."""
    tools: tuple[str, ...] = ()
    outcomes: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> CallFilter:
        """``"tool:write_file,read_file status:failed build"``; a bad term raises ValueError saying why."""
        tools: list[str] = []
        outcomes: set[str] = set()
        words: list[str] = []
        known = _outcome_names()
        for term in text.split():
            key, sep, value = term.partition(":")
            key = key.lower()
            if not sep or not key.isalpha():
                words.append(term.lower())
            elif not value:
                raise ValueError(f"{term!r} needs a value, as in tool:write_file or status:failed")
            elif key in ("tool", "t"):
                tools.extend(name.lower() for name in value.split(",") if name)
            elif key in ("status", "s"):
                for word in filter(None, value.lower().split(",")):
                    if word not in known:
                        raise ValueError(f"no outcome {word!r}: use one of {', '.join(known)}")
                    outcomes.add(word)
            else:
                raise ValueError(f"{key + ':'!r} is not a filter: use tool:NAME, status:OUTCOME or plain words")
        return cls(" ".join(text.split()), tuple(tools), frozenset(outcomes), tuple(words))

    def keeps(self, call: Call, text: str) -> bool:
        """Whether to show ``call``, whose row reads ``text``."""
        if self.tools and not any(tool in call.tool.lower() for tool in self.tools):
            return False
        if self.outcomes and call.status not in self.outcomes:
            return False
        if self.words:
            folded = text.lower()
            return all(word in folded for word in self.words)
        return True


def _outcome_names() -> list[str]:
    from typing import get_args

    from deep_tui.events import ToolOutcome  # pydantic: not before the first frame

    return [RUNNING, *get_args(ToolOutcome)]


RowT = TypeVar("RowT")


class CallTable(Generic[RowT]):
    """Every row of the log, and the rows shown: all of them, or the calls a filter keeps with their dividers.

    Rows that are not calls (``is_call`` says) are turn dividers: one is shown when
    a call after it, before the next divider, is.
    """

    def __init__(self, is_call: Callable[[RowT], bool], text: Callable[[RowT], str]) -> None:
        self._is_call = is_call
        self._text = text
        self.rows: list[RowT] = []
        self.shown: list[RowT] = self.rows
        """The same list as ``rows`` while nothing is filtered."""
        self.filter: CallFilter | None = None
        self._place: dict[int, int] = {}
        """Each row's index in ``rows``, by ``id``."""
        self._divider: dict[int, RowT] = {}
        """Each call's turn divider, by the call's ``id``."""
        self._last_divider: RowT | None = None
        self.calls = 0
        self._calls_kept = 0

    @property
    def calls_shown(self) -> int:
        return self.calls if self.filter is None else self._calls_kept

    def append(self, row: RowT) -> int | None:
        """Add a row at the end; the first line of the rows shown that changed, or None."""
        self._place[id(row)] = len(self.rows)
        self.rows.append(row)
        if not self._is_call(row):
            self._last_divider = row
        else:
            self.calls += 1
            if self._last_divider is not None:
                self._divider[id(row)] = self._last_divider
        if self.filter is None:
            return len(self.rows) - 1
        if not self._is_call(row) or not self._keeps(row):
            return None
        first = len(self.shown)
        divider = self._divider.get(id(row))
        if divider is not None and not self._is_shown(divider):
            self.shown.append(divider)
        self.shown.append(row)
        self._calls_kept += 1
        return first

    def changed(self, row: RowT) -> int | None:
        """A call's row changed (its outcome): the first line shown that changed, or None."""
        if self.filter is None:
            return self._place[id(row)]
        line = self._line(row)
        was, now = self._is_shown(row), self._keeps(row)
        if was and now:
            return line
        if now:
            self._calls_kept += 1
            divider = self._divider.get(id(row))
            if divider is not None and not self._is_shown(divider):
                self.shown[line:line] = [divider, row]
            else:
                self.shown.insert(line, row)
            return line
        if was:
            self._calls_kept -= 1
            del self.shown[line]
            divider = self._divider.get(id(row))
            alone = line == len(self.shown) or not self._is_call(self.shown[line])
            if divider is not None and line > 0 and self.shown[line - 1] is divider and alone:
                del self.shown[line - 1]
                return line - 1
            return line
        return None

    def set_filter(self, call_filter: CallFilter | None) -> None:
        """Show what ``call_filter`` keeps (None: every row)."""
        self.filter = call_filter
        if call_filter is None:
            self.shown = self.rows
            return
        shown: list[RowT] = []
        divider: RowT | None = None
        for row in self.rows:
            if not self._is_call(row):
                divider = row
            elif self._keeps(row):
                if divider is not None:
                    shown.append(divider)
                    divider = None
                shown.append(row)
        self.shown = shown
        self._calls_kept = sum(map(self._is_call, shown))

    def line_of(self, row: RowT) -> int | None:
        """Where ``row`` is among the rows shown, if it is."""
        return self._line(row) if self._is_shown(row) else None

    def _keeps(self, row: RowT) -> bool:
        assert self.filter is not None
        return self.filter.keeps(row, self._text(row))  # type: ignore[arg-type]

    def _line(self, row: RowT) -> int:
        """Where ``row`` is, or would be, among the rows shown."""
        return bisect_left(self.shown, self._place[id(row)], key=lambda shown: self._place[id(shown)])

    def _is_shown(self, row: RowT) -> bool:
        line = self._line(row)
        return line < len(self.shown) and self.shown[line] is row
