"""The agent's todo list: every item with its status, the one in progress highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from deep_tui.terminal_text import visible

if TYPE_CHECKING:
    from deep_tui.events import TodoItem

MARKS = {
    "pending": ("○", "dim"),
    "in_progress": ("▶", "bold yellow"),
    "completed": ("✔", "green"),
    "blocked": ("⊘", "red"),
}


class TodoList(Static, can_focus=True):
    """Redrawn whole on each change: a todo list is short, and changes once per tool call at most."""

    def show(self, todos: Sequence[TodoItem]) -> None:
        done = sum(t.status == "completed" for t in todos)
        self.border_subtitle = f"{done}/{len(todos)} done" if todos else ""
        if not todos:
            self.update(Text("No todos yet.", style="dim"))
            return
        # A grid, so that an item that wraps keeps its indent under the mark.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=1)
        grid.add_column(ratio=1)
        for todo in todos:
            mark, style = MARKS.get(todo.status, ("?", ""))
            if todo.status == "in_progress":
                item = Text(visible(todo.content), style="bold")
                if todo.active_form:
                    item.append(f"\n{visible(todo.active_form)}…", style="italic yellow")
            else:
                item = Text(visible(todo.content), style={"completed": "dim", "blocked": "red"}.get(todo.status, ""))
            grid.add_row(Text(mark, style=style), item)
        self.update(grid)
