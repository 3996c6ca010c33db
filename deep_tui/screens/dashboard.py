"""The dashboard screen: the panes of one run, laid out, kept in step with the events, and reset on a seek.

The screen is the dashboard's one view of the event stream. It folds every event it is
shown into a ``RunState`` (the same fold headless and replay use), takes the status line's
status, node, step and times from that state, and hands each pane the events it shows:
the table ``PANES_TAKE`` names a method or ``IGNORED`` for every kind of event, and the
dispatch test fails when a kind is added without an entry. A replay that jumps shows a
state instead (``show_state``). Nothing here runs turns or knows the source's transport:
files and call results are asked of the source, whatever it is.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.reactive import Reactive, var
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input

from deep_tui.terminal_text import visible
from deep_tui.widgets import (
    AgentsView,
    FileTree,
    KeyBar,
    OutputView,
    Prompt,
    StatusBar,
    TodoList,
    ToolCallLog,
    UsageBar,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from deep_tui.dispatch import Table
    from deep_tui.events import Event, Usage
    from deep_tui.source import EventSource
    from deep_tui.state import RunState

PaneT = TypeVar("PaneT", bound=Widget)

NARROW, SHORT = 72, 20
"""Below this many columns the left column is hidden; below this many rows, the tool calls."""

PANES = {"todos": "Todos", "agents": "Agents", "files": "Files", "output": "Output", "calls": "Tool calls"}

IDLE_PLACEHOLDER = "Ask the agent… (Enter to run)"
RUNNING_PLACEHOLDER = "Enter steers the running agent · ^f queues a follow-up"


class DashboardScreen(Screen[None]):
    """Todos and files on the left, output over tool calls on the right, status above, usage below.

    Its keys are the app's (``screen.focus_pane``…), so that the footer lists them after Help, Cancel and Quit.
    """

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """Textual's, without its repaint of the whole screen on each focus change (a third of a focus key's time
    with the panes full): the panes whose focus changed repaint themselves, their style having changed."""

    # ``var``, not ``reactive``: these only feed the status and usage bars through ``data_bind``.
    status: var[str] = var("loading")
    node: var[str] = var("")
    step: var[int] = var(0)
    elapsed: var[float] = var(0.0)
    turns: var[int] = var(0)
    session_time: var[float] = var(0.0)
    """Seconds spent running turns, the one running included: the usage line's time."""
    usage: var[Usage | None] = var(None)
    waiting: var[int] = var(0)
    """Calls waiting for approval."""
    subagents: var[int] = var(0)
    """Subagents running."""

    def __init__(self, label: str, *, accepts_prompts: bool = True, side_column: bool = True) -> None:
        super().__init__()
        self.label = label
        self.accepts_prompts = accepts_prompts
        self.side_column = side_column
        self.source: EventSource | None = None
        self.state: RunState | None = None
        """The run as the panes show it; None until the source is open."""
        self.cancelling = False
        self._event_at = 0.0
        """``time.monotonic()`` when the last event came: a live turn's time goes on from its ``t`` between events."""
        self._on_side_changed: Callable[[bool], object] | None = None
        self.drilled: str | None = None
        """The subagent whose own output, calls and todos the panes show (Enter on it); None for the main agent."""
        self.output_view = OutputView(id="output")
        self.call_log = ToolCallLog(id="calls")
        """The two panes most events go to, kept rather than queried for each (a query is ~20 µs)."""
        self.agents_view = AgentsView(id="agents")
        self.cancel_button: Button | None = None
        """The prompt's Cancel button, once mounted (after the first frame); kept, since the status is set from
        every batch of events and a query for a widget that is not there walks the whole screen (~0.5 ms)."""

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status").data_bind(
            status=DashboardScreen.status,
            node=DashboardScreen.node,
            step=DashboardScreen.step,
            elapsed=DashboardScreen.elapsed,
            waiting=DashboardScreen.waiting,
            subagents=DashboardScreen.subagents,
        )
        with Horizontal(id="main"):
            with Vertical(id="side"):
                yield self._titled(TodoList(id="todos"), "todos", "^t")
                agents = self._titled(self.agents_view, "agents", "^g")
                agents.display = False  # until a subagent starts
                yield agents
            with Vertical(id="work"):
                yield self._titled(self.output_view, "output", "^o")
                yield self._titled(self.call_log, "calls", "^l")
        yield from self.compose_controls()
        yield UsageBar(id="usage").data_bind(
            usage=DashboardScreen.usage, turns=DashboardScreen.turns, elapsed=DashboardScreen.session_time
        )
        yield KeyBar()

    def compose_controls(self) -> ComposeResult:
        """What sits under the panes: the prompt (a replay puts its timeline there)."""
        with Horizontal(id="prompt-row"):
            yield Prompt(placeholder=IDLE_PLACEHOLDER, id="prompt", disabled=not self.accepts_prompts)

    @staticmethod
    def _titled(widget: PaneT, pane: str, key: str) -> PaneT:
        widget.border_title = f"{PANES[pane]} [dim]{key}[/]"
        return widget

    def on_mount(self) -> None:
        # A pane back from full screen may not fit.
        self.watch(self, "maximized", lambda: self._fit(self.size), init=False)
        self.query_one(StatusBar).agent = self.label
        self.query_one(TodoList).show([])
        self.set_interval(0.5, self._tick)
        self.call_after_refresh(self._mount_rest)

    def _mount_rest(self) -> None:
        """After the first frame: the two widgets slowest to set up (a Tree ~25 ms, a Button ~18 ms)."""
        self.query_one("#side").mount(self._titled(FileTree(id="files"), "files", "^b"))
        if self.accepts_prompts:
            running = self.state is not None and self.state.running
            self.cancel_button = Button("Cancel", id="cancel", variant="error", disabled=not running)
            self.query_one("#prompt-row").mount(self.cancel_button)
        self.focus_first()

    def set_focus(self, widget: Widget | None, scroll_visible: bool = True, from_app_focus: bool = False) -> None:
        """Textual's, with the two panes restyled now rather than when they handle their ``Focus`` and ``Blur``
        events: a paint already due (a replay's frame, a streamed line) ran first, and the focus was drawn one
        paint later, 10-20 ms, after that one."""
        blurred = self.focused
        super().set_focus(widget, scroll_visible, from_app_focus)
        if self.focused is not blurred:
            if blurred is not None:
                blurred.has_focus = False
            if self.focused is not None:
                self.focused.has_focus = True

    def focus_first(self) -> None:
        """The widget that takes the keys when nothing else has them."""
        if self.focused is None:  # after the first frame: a focus change makes the footer recompose
            self.query_one("#prompt", Input).focus()

    # Fitting the terminal ------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size)  # not ``self.size``: it changes after this handler

    def _fit(self, size: Size) -> None:
        """Small terminals keep the output and the prompt: the left column and the tool calls give way,
        unless the pane is the one shown full screen (a hidden widget cannot be maximized).

        Toggled here rather than with breakpoint classes, which restyle every widget at startup.
        """
        calls = self.query_one("#calls")
        self.query_one("#side").display = size.width >= NARROW and self.side_column
        calls.display = size.height >= SHORT or self.maximized is calls
        self.call_after_refresh(self._focus_shown)

    def _focus_shown(self) -> None:
        """Keys typed into a pane that was just hidden would go nowhere visible: the first widget takes them."""
        focused, maximized = self.focused, self.maximized
        if focused is None or (maximized is not None and maximized in focused.ancestors_with_self):
            return
        if not all(node.display for node in focused.ancestors_with_self if node is not self):
            self.set_focus(None)
            self.focus_first()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A replay has no prompt to focus."""
        return not (action == "focus_pane" and parameters == ("prompt",) and not self.accepts_prompts) or None

    def action_focus_pane(self, pane: str) -> None:
        """Focus a pane; one the terminal is too small to show fills the screen until Escape."""
        widget = self.query_one(f"#{pane}")
        if self.maximized is not None and self.maximized is not widget:
            self.minimize()
        if widget.region.area == 0:
            widget.display = True
            self.maximize(widget)
            widget.focus()  # once laid out
        else:
            self.set_focus(widget)  # now: ``focus()`` waits a turn of the queue, where a replay's frame can be

    def action_toggle_side(self) -> None:
        """Show or hide the todos and files column; the app keeps the choice for the next run."""
        self.side_column = not self.side_column
        self._fit(self.size)
        if self._on_side_changed is not None:
            self._on_side_changed(self.side_column)
        if self.side_column and self.size.width < NARROW:
            self.notify(f"The side column shows from {NARROW} columns on; ^t and ^b show its panes full screen.")

    def on_side_changed(self, callback: Callable[[bool], object]) -> None:
        self._on_side_changed = callback

    # The source and its events -------------------------------------------------------------------

    def attach(self, source: EventSource, state: RunState) -> None:
        """Show ``source``'s run, as ``state`` has it so far."""
        self.source, self.label = source, source.label
        self.query_one(StatusBar).agent = source.label
        if state.position:
            self.show_state(state)
        else:  # nothing happened yet: the panes are as they were made
            self.state = state
            self._status_from_state()

    def show(self, batch: Iterable[Event]) -> None:
        """Move the run on by ``batch``: fold each event, give each pane what it shows of it, and settle them."""
        self.add(batch)
        self.settle()

    def add(self, batch: Iterable[Event]) -> None:
        """Fold each event of ``batch`` and give each pane what it shows of it; ``settle`` shows it. Several
        batches may come before it: a replay frame adds as many as its time allows, and settles once."""
        from deep_tui.events import TextDelta, ThinkingDelta, TodosChanged

        assert self.state is not None
        output = self.output_view
        text: list[str] = []
        text_kind = "answer"
        for event in batch:
            self.state.apply(event)
            if self.drilled is not None:  # the panes show a subagent: shown from the state after the batch
                continue
            if event.origin is not None and isinstance(event, (TextDelta, ThinkingDelta, TodosChanged)):
                continue  # a subagent's text and todos stay out of the main agent's panes
            if isinstance(event, (TextDelta, ThinkingDelta)):  # streamed text is joined before it is painted
                kind = "answer" if isinstance(event, TextDelta) else "thinking"
                if text and kind != text_kind:
                    output.add_text("".join(text), text_kind)  # type: ignore[arg-type]
                    text = []
                text_kind = kind
                text.append(event.text)
                continue
            if text:
                output.add_text("".join(text), text_kind)  # type: ignore[arg-type]
                text = []
            handler = panes_take()[type(event)]
            if callable(handler):
                handler(self, event)
        if text:
            output.add_text("".join(text), text_kind)  # type: ignore[arg-type]

    def settle(self) -> None:
        """Lay out what the added events changed in the panes, and the status from the state, for the next frame."""
        assert self.state is not None
        if self.drilled is not None:
            self._show_agent(self.state)
        self.output_view.settle()
        self.call_log.settle()
        self._event_at = time.monotonic()
        self._status_from_state()

    def show_state(self, state: RunState) -> None:
        """Make every pane show ``state``, whatever they showed before (a seek, or a source just opened)."""
        self.state = state
        agents = self.agents_view
        agents.show(state.subagents)
        agents.display = bool(state.subagents)
        if self.drilled is not None and self.drilled not in state.agents:  # moved to before it started
            self.drill(None)
        else:
            self._show_agent(state)
        tree = self.query("#files")
        if tree:
            tree.only_one(FileTree).show_files(state.files)
        self._event_at = time.monotonic()
        self._status_from_state()

    def _show_agent(self, state: RunState) -> None:
        """The output, calls and todos of the agent the panes show."""
        agent = state.agents.get(self.drilled) if self.drilled is not None else None
        source = agent if agent is not None else state
        self.query_one(TodoList).show(source.todos)
        self.output_view.show_blocks(source.output, streaming=state.running)
        self.call_log.show_calls(source.calls, state.turns, state.subagents, agent=self.drilled)

    def drill(self, task_id: str | None) -> None:
        """Show the subagent ``task_id``'s own work in the panes (None: the main agent's again)."""
        if self.state is None or (task_id is not None and task_id not in self.state.agents):
            return
        self.drilled = task_id
        record = self.state.subagents.get(task_id) if task_id is not None else None
        who = f" · [b]{visible(record.name)}[/b] [dim]Esc back[/]" if record is not None else ""
        for pane, key in (("todos", "^t"), ("output", "^o"), ("calls", "^l")):
            self.query_one(f"#{pane}").border_title = f"{PANES[pane]} [dim]{key}[/]{who}"
        self._show_agent(self.state)

    def _status_from_state(self) -> None:
        state = self.state
        assert state is not None
        self.status = "cancelling" if self.cancelling and state.running else state.status
        self.node, self.step, self.elapsed = state.node, state.step, state.elapsed
        self.turns = state.turn.turn if state.turn is not None else 0
        self.usage, self.session_time, self.waiting = state.usage, state.session_time, len(state.waiting)
        self.subagents = state.subagents_running
        now = state.elapsed if state.running else None
        self.call_log.now_t = now
        self.agents_view.now_t = now
        if self.cancel_button is not None:
            self.cancel_button.disabled = not state.running

    def _tick(self) -> None:
        """A live turn's time goes on between its events."""
        state = self.state
        if state is not None and state.running and self.source is not None and self.source.timeline is None:
            self.elapsed = state.elapsed + time.monotonic() - self._event_at
            self.session_time = state.finished_time + self.elapsed
            self.call_log.now_t = self.elapsed
            self.agents_view.now_t = self.elapsed

    # What each pane does with each kind of event -------------------------------------------------

    def _run_started(self, event: Event) -> None:
        assert event.type == "run_started"
        self.cancelling = False
        self.output_view.add_prompt(event.prompt, event.turn)
        self.call_log.turn_started(event.turn, event.prompt, event.started_at)

    def _call_started(self, event: Event) -> None:
        assert event.type == "tool_call_started"
        self.call_log.call_started(event.call_id, event.tool, event.args, t=event.t, origin=event.origin)
        self._subagent_changed(event)

    def _call_finished(self, event: Event) -> None:
        assert event.type == "tool_call_finished"
        self.call_log.call_finished(
            event.call_id,
            event.outcome,
            event.duration,
            event.preview,
            event.size,
            event.traceback,
            origin=event.origin,
        )
        self._subagent_changed(event)

    def _subagent_started(self, event: Event) -> None:
        assert event.type == "subagent_started"
        self.call_log.subagent_started(event.task_id, event.name, parent=event.parent, call_id=event.call_id)
        self._subagent_changed(event)

    def _subagent_finished(self, event: Event) -> None:
        assert event.type == "subagent_finished"
        self.call_log.subagent_finished(event.task_id, event.status)
        self._subagent_changed(event)

    def _subagent_changed(self, event: Event) -> None:
        """The agents view's row of the subagent behind ``event``, as the state has it now."""
        assert self.state is not None
        task_id = event.origin.task_id if event.origin is not None else getattr(event, "task_id", None)
        record = self.state.subagents.get(task_id) if task_id is not None else None
        if record is not None:
            agents = self.agents_view
            agents.update(record)
            agents.display = True

    def _todos_changed(self, event: Event) -> None:
        assert event.type == "todos_changed"
        self.query_one(TodoList).show(event.todos)

    def _files_changed(self, event: Event) -> None:
        assert event.type == "files_changed"
        tree = self.query("#files")
        if tree:
            tree.only_one(FileTree).apply(event.changes)

    def _message_delivered(self, event: Event) -> None:
        assert event.type == "message_delivered"
        self.output_view.add_message(event.text, event.kind)

    def _run_finished(self, event: Event) -> None:
        assert event.type == "run_finished"
        output = self.output_view
        output.end_turn()
        if event.status in ("failed", "timeout"):
            output.add_error(f"{event.status}: {event.error}")
        elif event.status == "cancelled":
            from deep_tui.format import duration

            output.add_note(f"■ cancelled after {duration(event.duration)}")
        self.cancelling = False
        tree = self.query("#files")
        if tree:
            tree.only_one(FileTree).flush()

    # Opening what the panes list -----------------------------------------------------------------

    @on(FileTree.FileSelected)
    def _open_file(self, event: FileTree.FileSelected) -> None:
        from deep_tui.screens.file_viewer import FileViewer

        record = self.state.files.get(event.path) if self.state is not None else None
        if self.source is None or record is None or record.deleted:
            self.notify(f"{visible(event.path)} no longer exists.", severity="warning", markup=False)
            return
        content = self.source.file(event.path, record.latest.version)
        if content is None and self.source.timeline is None:
            content = self.source.file(event.path)
        if content is None:
            self.notify(f"{visible(event.path)}: this version was not kept.", severity="warning", markup=False)
            return
        earlier = record.versions[-2] if len(record.versions) > 1 else None
        previous = self.source.file(event.path, earlier.version) if earlier is not None and earlier.version else None
        calls = {call.call_id: call.tool for call in self.state.calls} if self.state is not None else {}
        self.app.push_screen(
            FileViewer(event.path, content, previous, record=record, read=self.source.file, calls=calls)
        )

    @on(AgentsView.Selected)
    def _agent_chosen(self, event: AgentsView.Selected) -> None:
        self.drill(event.task_id)

    @on(ToolCallLog.Selected)
    def _open_call(self, event: ToolCallLog.Selected) -> None:
        from deep_tui.screens.tool_detail import ToolDetail

        if event.task_id is not None and self.state is not None and event.task_id in self.state.agents:
            self.drill(event.task_id)  # a ``task`` call: the subagent's own work
            return
        record = event.record
        result = self.source.result(record.call_id, record.origin_task) if self.source is not None else None
        self.app.push_screen(ToolDetail(record, result))


@functools.cache
def panes_take() -> Table:
    """The table of ``DashboardScreen.show``, registered with ``dispatch``: made on first use, as its
    imports would delay the first frame."""
    from deep_tui import events as e
    from deep_tui.dispatch import IGNORED, view

    return view(
        "dashboard (deep_tui.screens.dashboard)",
        {
            e.RunStarted: DashboardScreen._run_started,
            e.NodeEntered: IGNORED,  # the status line, from the state
            e.TextDelta: IGNORED,  # joined per batch in ``show``
            e.ThinkingDelta: IGNORED,  # joined per batch in ``show``
            e.ToolCallStarted: DashboardScreen._call_started,
            e.ToolCallFinished: DashboardScreen._call_finished,
            e.TodosChanged: DashboardScreen._todos_changed,
            e.FilesChanged: DashboardScreen._files_changed,
            e.UsageUpdated: IGNORED,  # the usage line, from the state
            e.RunFinished: DashboardScreen._run_finished,
            e.MessageQueued: IGNORED,  # the app says it is queued; the output shows it once delivered
            e.MessageDelivered: DashboardScreen._message_delivered,
            e.SubagentStarted: DashboardScreen._subagent_started,
            e.SubagentFinished: DashboardScreen._subagent_finished,
            e.ApprovalRequested: IGNORED,  # the app's approval screen; the status line counts them
            e.ApprovalResolved: IGNORED,
        },
    )
