"""The tool log's rows: a call or a turn's divider, as the log keeps and paints them.

A row knows its place in the log's tree (``tool_filter.Node``); a ``task`` call that
started a subagent holds that subagent's calls and says who it is on its line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from deep_tui.format import duration, plural
from deep_tui.terminal_text import visible
from deep_tui.tool_filter import Node

ICONS = {
    status: (icon, Style(color=colour, bold=True), Style(color=colour))
    for status, icon, colour in (
        ("running", "◌", "yellow"),
        ("success", "✓", "green"),
        ("completed", "✓", "green"),
        ("failed", "✗", "red"),
        ("retried", "↻", "red"),
        ("denied", "⊘", "red"),
        ("interrupted", "◌", "magenta"),
        ("cancelled", "■", "magenta"),
    )
}
"""Per status: its mark, and the styles of the mark and of the status, made once (parsing a colour is slow)."""
KEPT_PREVIEW = 300
"""Characters of a result kept per row: the detail view reads the whole result from the session, and
10,000 rows of full previews would be 20 MB."""
FOLDS = {False: "▾ ", True: "▸ "}
DIM = Style(dim=True)
BOLD = Style(bold=True)
PLAIN = Style()
SUBAGENT = Style(color="cyan", bold=True)


@dataclass(eq=False, slots=True)
class Subagent:
    """A subagent as the log knows it: the ``task`` row it is under, and its summary on that row."""

    task_id: str
    name: str
    parent: str | None = None
    call_id: str = ""
    status: str = "running"
    calls: int = 0
    """Its own calls so far."""
    row: ToolCallRecord | None = None
    """The ``task`` call that started it, once it is in the log."""
    toggled: bool = False
    """Whether the reader folded or unfolded it: then its end does not fold it."""


@dataclass(eq=False, slots=True)
class ToolCallRecord(Node):
    """One call as the log shows it; args and the result preview are kept for the detail view."""

    call_id: str
    tool: str
    args: dict[str, object]
    key: str
    clock: str
    """Wall-clock time the call started, HH:MM:SS; empty when its turn's start is not known."""
    t: float | None = None
    """Seconds into its turn when it started, for the live elapsed time."""
    turn: int = 0
    status: str = "running"
    duration: float | None = None
    preview: str = ""
    size: int = 0
    traceback: str | None = None
    """Where the tool raised, for a failed call."""
    origin_task: str | None = None
    """The subagent that made the call (its task id), None for the main agent's."""
    subagent: Subagent | None = None
    """For a ``task`` call: the subagent it started, whose calls are under it."""


@dataclass(eq=False, slots=True)
class TurnDivider(Node):
    """The row that starts a turn's calls."""

    is_call: ClassVar[bool] = False
    turn: int
    prompt: str
    started_at: float | None = None


Row = ToolCallRecord | TurnDivider


def one_line(prompt: str) -> str:
    return visible(" ".join(prompt[:500].split()))


def clock_at(started_at: float | None) -> str:
    return time.strftime("%H:%M:%S", time.localtime(started_at)) if started_at is not None else ""


def clock_in_turn(dividers: list[TurnDivider], t: float | None) -> str:
    """The wall-clock time ``t`` seconds into the last turn; the clock now when ``t`` is not given."""
    if t is None:
        return time.strftime("%H:%M:%S")
    started_at = dividers[-1].started_at if dividers else None
    return clock_at(started_at + t) if started_at is not None else ""


def row_text(row: Row) -> str:
    """A row as search and the filter's words read it: what it shows, but the changing duration and counts."""
    if isinstance(row, TurnDivider):
        return f"turn {row.turn}: {row.prompt}"
    agent = row.subagent
    who = f" {agent.name} {agent.status}" if agent is not None else ""
    return f"{row.clock} {row.tool}{who} {row.key} {row.status}"


def clock_width(width: int) -> int:
    """Cells before a row's nesting: the clock's, when the pane is wide enough to show it."""
    return 9 if width >= 70 else 0


def paint_call(record: ToolCallRecord, width: int, seconds: float | None) -> list[Segment]:
    """``time [fold] icon tool key-argument status duration``, indented by depth; small panes drop the time, then the
    status word. A ``task`` call holding a subagent's calls says who it is, how it does, and how many calls it made."""
    icon, mark_style, status_style = ICONS.get(record.status, ICONS["interrupted"])
    # The outcome's own word, as the detail, the headless lines and the events say it. Narrow: the icon says it.
    word = f" {record.status:>9}" if width >= 50 else ""
    right = f"{word} {duration(seconds) if seconds is not None else '':>8}"
    clock = f"{record.clock:<8} " if clock_width(width) else ""
    fold = FOLDS[record.folded] if record.children is not None else ""
    lead = " " * (2 * record.depth) + fold
    # The tool name takes at most half of what is left: on a small pane the argument says as much. A nested row's
    # indent comes out of its name's room, so that the arguments line up.
    tool_width = max(min(22, (width - len(clock) - 2 - len(right)) // 2), 6)
    name_room = max(tool_width - len(lead), 4)
    tool = record.tool if len(record.tool) <= name_room else record.tool[: name_room - 1] + "…"
    room = max(width - len(clock) - max(len(lead) + len(tool), tool_width) - 3 - len(right), 0)
    segments = [Segment(clock, DIM), Segment(lead, DIM), Segment(f"{icon} ", mark_style)]
    segments.append(Segment(f"{tool:<{max(tool_width - len(lead), len(tool))}} ", BOLD))
    agent = record.subagent
    if agent is not None:
        agent_icon, agent_style, _ = ICONS.get(agent.status, ICONS["interrupted"])
        who = f"{agent.name} {agent_icon} {agent.calls} {plural(agent.calls, 'call')}"
        who = who if cell_len(who) < room else who[: max(room - 2, 0)] + "…"
        segments.append(Segment(who, agent_style if agent.status != "completed" else SUBAGENT))
        room = max(room - cell_len(who), 0)
        if room > 3:
            segments.append(Segment(" · ", DIM))
            room -= 3
    key = record.key if cell_len(record.key) <= room else record.key[: max(room - 1, 0)] + "…"
    segments.append(Segment(key + " " * max(room - cell_len(key), 0), PLAIN))
    segments.append(Segment(right, status_style))
    return segments


def paint_divider(divider: TurnDivider, width: int) -> list[Segment]:
    label = f"── turn {divider.turn}: {divider.prompt}"
    if cell_len(label) > width - 1:
        label = label[: max(width - 2, 0)] + "…"
    return [Segment(label + " " + "─" * max(width - cell_len(label) - 1, 0), DIM)]
