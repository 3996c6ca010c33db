"""The dashboard's panes, one per module; each knows events, never pydantic-ai."""

from deep_tui.widgets.agents_view import AgentsView
from deep_tui.widgets.file_tree import FileTree
from deep_tui.widgets.key_bar import KeyBar
from deep_tui.widgets.output_view import OutputView
from deep_tui.widgets.prompt import Prompt
from deep_tui.widgets.status_bar import StatusBar
from deep_tui.widgets.timeline_bar import TimelineBar
from deep_tui.widgets.todo_list import TodoList
from deep_tui.widgets.tool_call_log import ToolCallLog
from deep_tui.widgets.usage_bar import UsageBar

__all__ = [
    "AgentsView",
    "FileTree",
    "KeyBar",
    "OutputView",
    "Prompt",
    "StatusBar",
    "TimelineBar",
    "TodoList",
    "ToolCallLog",
    "UsageBar",
]
