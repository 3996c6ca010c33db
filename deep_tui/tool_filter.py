"""Which tool calls the log shows: a filter typed as ``tool:NAME status:OUTCOME words``, the folds, and the rows
they leave.

The log's rows are a tree: each turn's divider holds the main agent's calls of that
turn, and a ``task`` call that started a subagent holds that subagent's calls, which
may hold ``task`` calls of their own. Without a filter, a row is shown when every row
above it is unfolded. A filter looks for calls wherever they are: it shows the calls
it keeps, folded or not, each under the rows that hold it (its turn's divider, the
``task`` calls above it).

Each row has an ``order``, the path of child numbers from the top, so that the rows
shown are the rows in ``order``: a row finds its line by bisection, a row that
arrives goes where it belongs (at the end, unless it is a subagent's call under a
``task`` call other rows followed), and folding removes or inserts one slice. Rows
arrive and change one at a time, and the rows shown follow a row at a time, never
rebuilt while the filter stays the same.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, TypeVar

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


@dataclass(eq=False, slots=True, kw_only=True)
class Node:
    """A row's place in the log's tree, and what the filter and the folds make of it."""

    is_call: ClassVar[bool] = True
    """Whether it is a call the filter judges; dividers are shown only above calls it keeps."""
    order: tuple[int, ...] = ()
    parent: Node | None = field(default=None, repr=False)
    children: list[Node] | None = field(default=None, repr=False)
    """The rows it holds; None for a row that holds none and cannot (a plain call)."""
    depth: int = 0
    """How many ``task`` rows it is under, for the indent."""
    folded: bool = False
    kept: bool = False
    """Whether the filter keeps it (meaningless without a filter)."""
    kept_below: int = 0
    """How many rows under it the filter keeps."""


RowT = TypeVar("RowT", bound=Node)
_AFTER = float("inf")
"""Sorts after every child number: ``order + (_AFTER,)`` is past every row under ``order``."""


class CallTree(Generic[RowT]):
    """Every row of the log, and the rows shown, in order; ``moved(line, count)`` hears of each row inserted into
    (count > 0) or removed from (count < 0) the rows shown, so the log can keep its cursor on its row."""

    def __init__(self, text: Callable[[RowT], str], moved: Callable[[int, int], None]) -> None:
        self._text = text
        self._moved = moved
        self.roots: list[RowT] = []
        self.shown: list[RowT] = []
        self._orders: list[tuple[float, ...]] = []
        """The ``order`` of each row shown, for bisection without a Python call per step."""
        self.filter: CallFilter | None = None
        self.calls = 0
        self._calls_kept = 0

    @property
    def calls_shown(self) -> int:
        return self.calls if self.filter is None else self._calls_kept

    def add(self, row: RowT, parent: RowT | None = None) -> int | None:
        """Add ``row`` as the last child of ``parent`` (or of the top); the first line shown that changed, or None."""
        siblings = self.roots if parent is None else parent.children
        assert siblings is not None, "a plain call holds no rows"
        row.parent = parent
        row.order = (len(siblings),) if parent is None else (*parent.order, len(siblings))
        siblings.append(row)  # type: ignore[arg-type]
        if row.is_call:
            self.calls += 1
        if self.filter is None:
            return self._show(row) if self._open(row) else None
        row.kept = row.is_call and self.filter.keeps(row, self._text(row))  # type: ignore[arg-type]
        if not row.kept:
            return None
        self._calls_kept += 1
        return self._lift(row, 1)

    def changed(self, row: RowT) -> int | None:
        """``row``'s outcome or text changed: the first line shown that changed, or None."""
        if self.filter is None or not row.is_call:
            return self.line_of(row)
        now = self.filter.keeps(row, self._text(row))  # type: ignore[arg-type]
        if now == row.kept:
            return self.line_of(row)
        row.kept = now
        self._calls_kept += 1 if now else -1
        return self._lift(row, 1 if now else -1)

    def set_folded(self, row: RowT, folded: bool) -> None:
        """Fold (hide the rows under) or unfold ``row``; while a filter is set, only once it is cleared."""
        if row.folded == folded or row.children is None:
            return
        row.folded = folded
        line = self.line_of(row) if self.filter is None else None
        if line is None:
            return
        if folded:
            end = bisect_left(self._orders, (*row.order, _AFTER), lo=line + 1)
            if end > line + 1:
                del self.shown[line + 1 : end], self._orders[line + 1 : end]
                self._moved(line + 1, line + 1 - end)
        else:
            below = self._visible_under(row)
            if below:
                self.shown[line + 1 : line + 1] = below
                self._orders[line + 1 : line + 1] = [shown.order for shown in below]
                self._moved(line + 1, len(below))

    def remove_last(self, row: RowT) -> None:
        """Take away ``row``, the last row added that is still here (rows go in the reverse of their order)."""
        siblings = self.roots if row.parent is None else row.parent.children
        assert siblings is not None and siblings[-1] is row
        if row.is_call:
            self.calls -= 1
        if self.filter is not None and row.kept:
            row.kept = False
            self._calls_kept -= 1
            self._lift(row, -1)
        self._hide(row)
        siblings.pop()

    def set_filter(self, call_filter: CallFilter | None) -> None:
        """Show what ``call_filter`` keeps (None: every row under unfolded rows)."""
        self.filter = call_filter
        if call_filter is not None:
            self._calls_kept = sum(self._judge(row) for row in self.roots)
        shown: list[RowT] = []
        for root in self.roots:
            self._collect(root, shown)
        self.shown = shown
        self._orders = [row.order for row in shown]

    def line_of(self, row: RowT) -> int | None:
        """Where ``row`` is among the rows shown, if it is."""
        line = bisect_left(self._orders, row.order)
        return line if line < len(self.shown) and self.shown[line] is row else None

    def visible(self, row: Node) -> bool:
        """Whether ``row`` would be shown were every row above it unfolded."""
        return self.filter is None or row.kept or row.kept_below > 0

    # The rows shown ---------------------------------------------------------------------------------

    def _open(self, row: Node) -> bool:
        """Whether every row above ``row`` is unfolded."""
        above = row.parent
        while above is not None:
            if above.folded:
                return False
            above = above.parent
        return True

    def _show(self, row: RowT) -> int:
        """Insert ``row`` where its order puts it; its line."""
        if not self._orders or self._orders[-1] < row.order:
            line = len(self.shown)
            self.shown.append(row)
            self._orders.append(row.order)
        else:
            line = bisect_left(self._orders, row.order)
            self.shown.insert(line, row)
            self._orders.insert(line, row.order)
        self._moved(line, 1)
        return line

    def _hide(self, row: RowT) -> int | None:
        line = self.line_of(row)
        if line is not None:
            del self.shown[line], self._orders[line]
            self._moved(line, -1)
        return line

    def _lift(self, row: RowT, change: int) -> int | None:
        """``row`` became kept (``change`` 1) or stopped being kept (-1), ``kept`` already says which: count it
        in the rows above, show or hide each row whose turn it is; the first line that changed."""
        path: list[Node] = []
        node: Node | None = row
        while node is not None:
            path.append(node)
            node = node.parent
        first: int | None = None
        for node in reversed(path):  # from the top: a row above is shown before the rows under it
            if node is row:
                before, after = not row.kept or row.kept_below > 0, row.kept or row.kept_below > 0
            else:
                before = node.kept or node.kept_below > 0
                node.kept_below += change
                after = node.kept or node.kept_below > 0
            if before != after:
                line = self._show(node) if after else self._hide(node)  # type: ignore[arg-type]
                if line is not None and (first is None or line < first):
                    first = line
        return first if first is not None else self.line_of(row)

    def _judge(self, row: Node) -> int:
        """Set ``kept`` and ``kept_below`` for ``row`` and the rows under it; how many of them are kept."""
        assert self.filter is not None
        row.kept = row.is_call and self.filter.keeps(row, self._text(row))  # type: ignore[arg-type]
        row.kept_below = sum(self._judge(child) for child in row.children or ())
        return row.kept + row.kept_below

    def _collect(self, row: RowT, shown: list[RowT]) -> None:
        """Append ``row`` and the rows under it that are shown."""
        if self.visible(row):
            shown.append(row)
            if not row.folded or self.filter is not None:
                for child in row.children or ():
                    self._collect(child, shown)  # type: ignore[arg-type]

    def _visible_under(self, row: RowT) -> list[RowT]:
        shown: list[RowT] = []
        for child in row.children or ():
            self._collect(child, shown)  # type: ignore[arg-type]
        return shown
