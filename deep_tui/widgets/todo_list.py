"""The agent's todo list: every item with its status, the one in progress highlighted."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

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
        text = Text()
        for index, todo in enumerate(todos):
            mark, style = MARKS.get(todo.status, ("?", ""))
            if index:
                text.append("\n")
            text.append(f"{mark} ", style=style)
            if todo.status == "in_progress":
                text.append(todo.content, style="bold")
                if todo.active_form:
                    text.append(f"\n  {todo.active_form}…", style="italic yellow")
            elif todo.status == "completed":
                text.append(todo.content, style="dim")
            else:
                text.append(todo.content, style=style if todo.status == "blocked" else "")
        self.update(text)
