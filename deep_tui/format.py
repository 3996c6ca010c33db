"""How event data reads as short text: shared by the dashboard and the headless display."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deep_tui.terminal_text import visible

if TYPE_CHECKING:
    from deep_tui.events import Usage

KEY_ARGUMENTS = ("path", "file_path", "pattern", "command", "content", "description", "query", "url", "todo_id")
"""Argument names that say most about a call, in the order they are tried."""


def key_argument(tool: str, args: dict[str, object]) -> str:
    """The one argument that says what a call is about: its path, command, todo text…, as a terminal may show it."""
    return visible(_key_argument(tool, args))


def _key_argument(tool: str, args: dict[str, object]) -> str:
    if tool == "write_todos" and isinstance(args.get("todos"), list):
        count = len(args["todos"])  # type: ignore[arg-type]
        return f"{count} {plural(count, 'todo')}"
    if tool == "update_todo_statuses" and isinstance(args.get("updates"), list):
        return ", ".join(f"{u.get('todo_id')}→{u.get('status')}" for u in args["updates"] if isinstance(u, dict))  # type: ignore[union-attr]
    if tool == "update_todo_status":
        return f"{args.get('todo_id')}→{args.get('status')}"
    for name in KEY_ARGUMENTS:
        value = args.get(name)
        if isinstance(value, str) and value:
            return " ".join(value.split())[:120]
    for value in args.values():
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return " ".join(str(value).split())[:120]
    return ""


def plural(n: int, word: str) -> str:
    """``word`` as it reads after ``n``: 1 request, 2 requests."""
    return word if n == 1 else f"{word}s"


def tokens(n: int) -> str:
    """A token count as people read it: 950, 3.4k, 1.2M."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    return f"{n / 1_000_000:.1f}M"


def cost(value: float | None) -> str:
    """Dollars, or a dash when the model's price is unknown."""
    if value is None:
        return "–"
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"


def duration(seconds: float) -> str:
    """A span of time: 12 ms, 3.4 s, 02:31, 1:02:31."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def size(n: int) -> str:
    """A size in bytes or characters: 512 B, 3.4 KB, 1.2 MB."""
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def usage_rows(usage: Usage, elapsed: float) -> list[tuple[str, str]]:
    """The usage table's rows, for the headless summary."""
    return [
        ("requests", str(usage.requests)),
        ("tokens in", f"{usage.input_tokens:,}"),
        ("tokens out", f"{usage.output_tokens:,}"),
        ("tool calls", str(usage.tool_calls)),
        ("cost", cost(usage.cost)),
        ("duration", duration(elapsed)),
    ]
