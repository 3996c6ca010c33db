"""The dashboard: panes fed by the event stream of an agent running in a Textual worker.

The app is the only place that holds the ``Session``: it loads the agent after
the first frame (pydantic-ai takes over a second to import), starts a worker per
turn, batches the events the runner emits into ``AgentEvents`` messages, and
hands each pane the events it shows. Panes never call back into the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.logging import TextualHandler
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Button, Footer, Input
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from deep_tui import config
from deep_tui.format import duration
from deep_tui.messages import AgentEvents
from deep_tui.quiet import quiet_libraries
from deep_tui.redact import redact
from deep_tui.signals import ending_on_signals
from deep_tui.spec import AgentSpec
from deep_tui.terminal_text import visible
from deep_tui.widgets import FileTree, OutputView, StatusBar, TodoList, ToolCallLog, UsageBar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from deep_tui.approvals import AlwaysRule
    from deep_tui.events import ApprovalRequested, ApprovalResolved, Event, MessageKind, RunFinished, Usage
    from deep_tui.runner import Session
    from deep_tui.screens.approval import Answer
    from deep_tui.sessions import SessionRecorder

PaneT = TypeVar("PaneT", bound=Widget)

NARROW, SHORT = 72, 20
"""Below this many columns the left column is hidden; below this many rows, the tool calls."""

HANG_UP_WAIT = 5.0
"""Seconds a run may take to record its cancel when the terminal hangs up."""

STUCK_GRACE = HANG_UP_WAIT + 3
"""Seconds after ``kill`` or a hang-up by which the app must have ended; then it saves what it can and exits."""

FRAMES_PER_SECOND = 12
"""How often the panes take the events of a running turn: often enough to look live; each frame of a busy
run costs ~8 ms of the loop the agent runs on (see docs/performance.md)."""

PANES = {"todos": "Todos", "files": "Files", "output": "Output", "calls": "Tool calls"}

IDLE_PLACEHOLDER = "Ask the agent… (Enter to run)"
RUNNING_PLACEHOLDER = "Enter steers the running agent · ^f queues a follow-up"


class UnknownTheme(ValueError):
    """A theme name Textual does not know; the message lists those it does."""


def _open_session(spec: AgentSpec) -> tuple[Session, SessionRecorder | None] | str:
    """The session and its recorder, or why it cannot be opened.

    Runs in a thread: the agent stack is slow to import and the recorder creates directories.
    """
    from deep_tui.agents import AgentError, open_session
    from deep_tui.sessions import SessionRecorder

    try:
        session = open_session(spec)
    except AgentError as exc:
        return str(exc)
    except Exception as exc:  # a broken install or agent: say so instead of crashing the screen
        return f"cannot load the agent: {type(exc).__name__}: {exc}"
    try:
        return session, SessionRecorder(session) if spec.save else None
    except OSError as exc:
        return f"cannot keep the session on disk ({exc}): set DEEP_TUI_HOME or pass --no-save"


class DeepTUI(App[None]):
    """Run a pydantic-deep agent and watch its todos, files, tool calls, output and usage."""

    CSS_PATH = "app.tcss"
    TITLE = "deep-tui"
    AUTO_FOCUS = None  # the prompt takes the focus just after the first frame (see _mount_rest)
    ALLOW_IN_MAXIMIZED_VIEW = "Footer, SearchBar"  # a pane shown full screen keeps its search bar
    BINDINGS: ClassVar[list[BindingType]] = [
        # First, so that the footer shows it however narrow; ``?`` types into the prompt, where F1 still works.
        Binding("question_mark,f1", "help", "Help", tooltip="Every key of the focused pane and of the app"),
        Binding("escape", "escape", "Cancel", tooltip="Stop the running turn at once (or close the Keys panel)"),
        Binding("ctrl+q", "quit", "Quit", tooltip="Cancel any run and quit", priority=True),
        Binding("ctrl+t", "focus_pane('todos')", "Todos", tooltip="Focus the todo list"),
        Binding("ctrl+b", "focus_pane('files')", "Files", tooltip="Focus the file tree"),
        Binding("ctrl+o", "focus_pane('output')", "Output", tooltip="Focus the output"),
        Binding("ctrl+l", "focus_pane('calls')", "Calls", tooltip="Focus the tool-call log"),
        Binding("ctrl+n", "focus_pane('prompt')", "Prompt", tooltip="Focus the prompt"),
        Binding("ctrl+y", "copy_answer", "Copy", tooltip="Copy the last answer to the clipboard"),
        Binding("f2,ctrl+backslash", "toggle_side", "Side", tooltip="Show or hide the todos and files (kept)"),
        Binding("ctrl+f", "follow_up", "Follow-up", tooltip="Send the prompt to the agent for when it would stop"),
    ]

    # ``var``, not ``reactive``: a reactive on the App repaints the whole screen when it changes;
    # these only feed the status and usage bars through ``data_bind``, which repaint themselves.
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

    def __init__(
        self, spec: AgentSpec, *, prompt: str | None = None, timeout: float | None = None, theme: str | None = None
    ) -> None:
        """``theme`` is for this run only (an unknown one raises ``UnknownTheme``); one picked in the app is kept."""
        super().__init__()
        self.preferences, self._config_problems = config.load()
        if theme is not None and theme not in self.available_themes:
            raise UnknownTheme(f"unknown theme {theme!r}: choose one of {', '.join(sorted(self.available_themes))}")
        theme = theme or self.preferences.theme
        if theme in self.available_themes:
            self.theme = theme
        elif theme is not None:
            self._config_problems.append(f"{config.config_path()}: unknown theme {theme!r} (the palette lists them)")
        self.spec = spec
        self.timeout = timeout
        self.session: Session | None = None
        self.recorder: SessionRecorder | None = None
        self.startup_error: str | None = None
        """Why the agent could not be loaded; the command line prints it after the app exits."""
        self._queued = prompt
        """A prompt that runs as the next turn as soon as the agent is loaded or the running turn ends."""
        self._offered: str | None = None
        """A prompt the running turn could not take, which a second Enter runs as the next turn."""
        self._undelivered: dict[str, str] = {}
        """Messages sent into the running turn that the model has not read yet, as typed, by id."""
        self._batch: list[Event] = []
        self._batch_timer: Timer | None = None
        self._batch_sent = 0.0
        self._run_started = 0.0
        self._session_usage: Usage | None = None
        self._time_before = 0.0
        """Seconds the finished turns took."""
        self._last_output = ""

    async def run_async(self, **options: Any) -> None:
        """Run until quit. ``kill`` quits as Ctrl+Q does, a closed terminal as ``_hang_up`` does, and
        either ends the process, session kept, even if the app is stuck."""
        endings = {signal.SIGTERM: lambda: self.call_later(self.action_quit)}
        if hasattr(signal, "SIGHUP"):
            endings[signal.SIGHUP] = lambda: self.call_later(self._hang_up)
        loop = asyncio.get_running_loop()
        with ending_on_signals(loop, endings, grace=STUCK_GRACE, last_resort=self.close_session):
            return await super().run_async(**options)

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status").data_bind(
            status=DeepTUI.status,
            node=DeepTUI.node,
            step=DeepTUI.step,
            elapsed=DeepTUI.elapsed,
            waiting=DeepTUI.waiting,
        )
        with Horizontal(id="main"):
            with Vertical(id="side"):
                yield self._titled(TodoList(id="todos"), "todos", "^t")
            with Vertical(id="work"):
                yield self._titled(OutputView(id="output"), "output", "^o")
                yield self._titled(ToolCallLog(id="calls"), "calls", "^l")
        with Horizontal(id="prompt-row"):
            yield Input(placeholder=IDLE_PLACEHOLDER, id="prompt")
        yield UsageBar(id="usage").data_bind(usage=DeepTUI.usage, turns=DeepTUI.turns, elapsed=DeepTUI.session_time)
        yield Footer()

    @staticmethod
    def _titled(widget: PaneT, pane: str, key: str) -> PaneT:
        widget.border_title = f"{PANES[pane]} [dim]{key}[/]"
        return widget

    def on_mount(self) -> None:
        # A pane back from full screen may not fit.
        self.watch(self.screen, "maximized", lambda: self._fit(self.size), init=False)
        self.query_one(StatusBar).agent = self.spec.label
        self.query_one(TodoList).show([])
        self.set_interval(0.5, self._tick)
        self.call_after_refresh(self._mount_rest)
        self.watch(self, "theme", lambda theme: self._keep(theme=theme), init=False)
        for problem in self._config_problems:
            self.notify(problem, title="Preferences", severity="warning", timeout=15)

    def _mount_rest(self) -> None:
        """After the first frame: the two widgets slowest to set up (a Tree ~25 ms, a Button ~18 ms),
        then the agent, whose import takes over a second."""
        self.query_one("#side").mount(self._titled(FileTree(id="files"), "files", "^b"))
        self.query_one("#prompt-row").mount(Button("Cancel", id="cancel", variant="error", disabled=not self.running))
        if self.focused is None:  # after the first frame: a focus change makes the footer recompose
            self.query_one("#prompt", Input).focus()
        self._load()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size)  # not ``self.size``: it changes after this handler, in the App's own

    def _fit(self, size: Size) -> None:
        """Small terminals keep the output and the prompt: the left column and the tool calls give way,
        unless the pane is the one shown full screen (a hidden widget cannot be maximized).

        Toggled here rather than with breakpoint classes, which restyle every widget at startup.
        """
        calls = self.query_one("#calls")
        self.query_one("#side").display = size.width >= NARROW and self.preferences.side_column
        calls.display = size.height >= SHORT or self.screen.maximized is calls
        self.call_after_refresh(self._focus_shown)

    def _focus_shown(self) -> None:
        """Keys typed into a pane that was just hidden would go nowhere visible: the prompt takes them."""
        focused, maximized = self.focused, self.screen.maximized
        if focused is None or (maximized is not None and maximized in focused.ancestors_with_self):
            return
        if not all(node.display for node in focused.ancestors_with_self if node is not self):
            self.query_one("#prompt", Input).focus()

    # Loading the agent ----------------------------------------------------------------------

    @work(group="load", exit_on_error=False)
    async def _load(self) -> None:
        quiet_libraries(TextualHandler())
        opened = await asyncio.to_thread(_open_session, self.spec)
        if isinstance(opened, str):
            self.startup_error = opened
            self.exit(return_code=2)
            return
        self.session, self.recorder = opened
        if self.recorder is not None:  # notify is thread-safe: the recorder reports from its writer thread
            self.recorder.on_error = lambda problem: self.notify(
                problem, title="Not saved", severity="error", timeout=30, markup=False
            )
        self.status = "idle"
        if self._queued:
            prompt, self._queued = self._queued, None
            self._start(prompt)

    # Turns ---------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.status in ("running", "cancelling")

    @on(Input.Submitted, "#prompt")
    def _submit(self, event: Input.Submitted) -> None:
        prompt = event.value.strip()
        if not prompt:
            self.notify("Type a prompt first.", severity="warning")
            return
        if self.running:
            self._send(prompt, "steer")
            return
        event.input.clear()
        if self.session is None:
            self._queued = prompt
            self.notify("Loading the agent: the prompt runs as soon as it is ready.")
            return
        self._start(prompt)

    def _start(self, prompt: str) -> None:
        self.status, self.node, self.step, self.elapsed = "running", "", 0, 0.0
        self._run_started = time.monotonic()
        self.query_one("#cancel", Button).disabled = False
        self.query_one("#prompt", Input).placeholder = RUNNING_PLACEHOLDER
        self._run_turn(prompt)

    async def action_follow_up(self) -> None:
        prompt_input = self.query_one("#prompt", Input)
        prompt = prompt_input.value.strip()
        if not prompt:
            self.notify("Type the follow-up in the prompt first.", severity="warning")
        elif self.running:
            self._send(prompt, "follow_up")
        else:  # nothing runs: the follow-up is simply the next prompt
            await prompt_input.action_submit()

    def _send(self, prompt: str, kind: MessageKind) -> None:
        """Send a prompt into the running turn; one it cannot take is offered to run as the next turn."""
        prompt_input = self.query_one("#prompt", Input)
        session = self.session if self.status == "running" else None
        sent = session and (session.steer(prompt) if kind == "steer" else session.follow_up(prompt))
        if sent:
            self._undelivered[sent] = prompt
            prompt_input.clear()
        elif self._offered == prompt:
            self._queued, self._offered = prompt, None
            prompt_input.clear()
            self.notify(f"Runs as the next turn when this one ends: {prompt[:80]}")
        else:
            self._offered = prompt
            why = "is being cancelled" if self.status == "cancelling" else "cannot take a message now"
            self.notify(
                f"The running turn {why}. Press Enter again to run the prompt as the next turn.",
                severity="warning",
            )

    @work(group="agent", exclusive=True, exit_on_error=False)
    async def _run_turn(self, prompt: str) -> None:
        assert self.session is not None
        await self.session.run(prompt, self._collect, timeout=self.timeout)

    def _collect(self, event: Event) -> None:
        """The runner's sink: queue the event, and send the queue at most ``FRAMES_PER_SECOND`` times a second.

        Painting per delta would spend the loop on rendering instead of on the run;
        the end of a run is sent at once, so a cancel shows without waiting a frame.
        """
        if self.recorder is not None:
            self.recorder.record(event)
        self._batch.append(event)
        if event.type in ("run_finished", "approval_requested"):
            self._send_batch()
        elif self._batch_timer is None:
            delay = self._batch_sent + 1 / FRAMES_PER_SECOND - time.monotonic()
            if delay > 0:
                self._batch_timer = self.set_timer(delay, self._send_batch)
            else:
                self._send_batch()

    def _send_batch(self) -> None:
        if self._batch_timer is not None:
            self._batch_timer.stop()
            self._batch_timer = None
        if self._batch:
            self.post_message(AgentEvents(self._batch))
            self._batch = []
            self._batch_sent = time.monotonic()

    def on_agent_events(self, message: AgentEvents) -> None:
        self._show(message.events)

    def _show(self, events: Iterable[Event]) -> None:
        # Imported here, not at the top: pydantic's models cost ~80 ms before the first frame.
        from deep_tui.events import (
            ApprovalRequested,
            ApprovalResolved,
            FilesChanged,
            MessageDelivered,
            MessageQueued,
            NodeEntered,
            RunFinished,
            RunStarted,
            TextDelta,
            ThinkingDelta,
            TodosChanged,
            ToolCallFinished,
            ToolCallStarted,
            UsageUpdated,
        )

        output = self.query_one(OutputView)
        calls = self.query_one(ToolCallLog)
        text: list[str] = []
        text_kind = "answer"
        for event in events:
            if event.origin is not None and not isinstance(event, FilesChanged):
                # A subagent's work stays out of the main agent's panes (its files are in the one workspace).
                # The agents view and a subagent's rows under its task call are still to come.
                continue
            if isinstance(event, (TextDelta, ThinkingDelta)):
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
            if isinstance(event, RunStarted):
                self.turns = event.turn
                output.add_prompt(event.prompt, event.turn)
                calls.turn_started(event.turn, event.prompt)
            elif isinstance(event, NodeEntered):
                self.node, self.step = event.node, event.step
            elif isinstance(event, ToolCallStarted):
                calls.call_started(event.call_id, event.tool, event.args)
            elif isinstance(event, ToolCallFinished):
                calls.call_finished(
                    event.call_id, event.outcome, event.duration, event.preview, event.size, event.traceback
                )
            elif isinstance(event, TodosChanged):
                self.query_one(TodoList).show(event.todos)
            elif isinstance(event, FilesChanged):
                self.query_one(FileTree).apply(event.changes)
            elif isinstance(event, MessageQueued):
                # Noted here, not in the output: a line there would cut the answer streaming around it.
                when = "before its next step" if event.kind == "steer" else "when it would stop"
                self.notify(f"The agent reads it {when}: {event.text[:80]}", title="Message queued")
            elif isinstance(event, MessageDelivered):
                self._undelivered.pop(event.message_id, None)
                output.add_message(event.text, event.kind)
            elif isinstance(event, (ApprovalRequested, ApprovalResolved)):
                self._approval(event)
            elif isinstance(event, UsageUpdated):
                self.usage = event.usage if self._session_usage is None else self._session_usage + event.usage
            elif isinstance(event, RunFinished):
                self._finished(event)
        if text:
            output.add_text("".join(text), text_kind)  # type: ignore[arg-type]
        output.settle()
        calls.settle()

    def _approval(self, event: ApprovalRequested | ApprovalResolved) -> None:
        """A call waits: the approval screen shows it (behind any it already shows); a decided one leaves it."""
        from deep_tui.approvals import folder_of
        from deep_tui.screens.approval import ApprovalScreen

        screens = [s for s in self.screen_stack if isinstance(s, ApprovalScreen)]
        if event.type == "approval_resolved":
            self.waiting = max(self.waiting - 1, 0)
            for screen in screens:
                screen.drop(event.call_id)
            return
        self.waiting += 1
        if screens:
            screens[0].add(event)
        else:
            self.push_screen(ApprovalScreen(event, self._decide, self.action_cancel_run, folder_of))

    def _decide(self, event: ApprovalRequested, answer: Answer) -> None:
        from deep_tui.approvals import NotWaiting, folder_of

        if self.session is None:
            return
        try:
            self.session.approve(event.call_id, answer.approve, reason=answer.reason, args=answer.args, by="key")
        except NotWaiting:
            self.notify(f"{event.tool} was already decided (its time ran out, or the turn ended).", severity="warning")
            return
        if answer.always is not None:
            folder = folder_of(event.args) if answer.always == "folder" else None
            rule = self.session.approvals.add_rule(event.tool, folder)
            self.notify(f"{rule.describe()}, for the rest of this session (the palette removes it).", markup=False)

    def _finished(self, event: RunFinished) -> None:
        self._last_output = event.output
        self.waiting = 0  # the runner closes every waiting call first; a worker that died did not
        if self.recorder is not None:
            self.recorder.save()
        output = self.query_one(OutputView)
        output.end_turn()
        if event.status in ("failed", "timeout"):
            output.add_error(f"{event.status}: {event.error}")
        elif event.status == "cancelled":
            output.add_note(f"■ cancelled after {duration(event.duration)}")
        self._return_undelivered()
        self.query_one(FileTree).flush()
        self._session_usage = event.usage if self._session_usage is None else self._session_usage + event.usage
        self.usage = self._session_usage
        self.status, self.node, self.elapsed = event.status, "", event.duration
        self._time_before += event.duration
        self.session_time = self._time_before
        self.query_one("#cancel", Button).disabled = True
        self.query_one("#prompt", Input).placeholder = IDLE_PLACEHOLDER
        if not self.screen.is_modal:
            self.query_one("#prompt", Input).focus()
        self._offered = None
        if self._queued and self.session is not None:
            prompt, self._queued = self._queued, None
            self.call_later(self._start, prompt)

    def _return_undelivered(self) -> None:
        """Messages the turn ended before reading are said so, and put back in an empty prompt to send again."""
        if not self._undelivered:
            return
        texts, self._undelivered = list(self._undelivered.values()), {}
        output = self.query_one(OutputView)
        for text in texts:
            output.add_note(f"✗ not delivered, the turn ended first: {redact(text)}")
        prompt_input = self.query_one("#prompt", Input)
        if not prompt_input.value:
            prompt_input.value = " ".join(texts)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that died outside the runner's own handling still ends the turn visibly."""
        if event.worker.group == "agent" and event.state == WorkerState.ERROR and self.running:
            from deep_tui.events import RunFinished

            error = event.worker.error
            self._show([RunFinished(status="failed", error=f"{type(error).__name__}: {error}")])

    def _tick(self) -> None:
        if self.running:
            self.elapsed = time.monotonic() - self._run_started
            self.session_time = self._time_before + self.elapsed

    # Actions -------------------------------------------------------------------------------------

    def action_escape(self) -> None:
        """Escape closes the Keys panel first, as it brings back a pane shown full screen; then it cancels."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_cancel_run()

    def action_cancel_run(self) -> None:
        if not self.running:
            return
        self.status = "cancelling"
        self.workers.cancel_group(self, "agent")

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_run()

    def close_session(self) -> SessionRecorder | None:
        """Save the session one last time and finish writing it; its recorder (where and how it went), if kept."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close()
        return recorder

    async def _stop_run(self, within: float | None = None) -> None:
        """Cancel the running turn and wait (up to ``within`` seconds) until it has recorded that it was."""
        for worker in self.workers.cancel_group(self, "agent"):
            with contextlib.suppress(WorkerCancelled, WorkerFailed, asyncio.TimeoutError):
                await asyncio.wait_for(worker.wait(), within)

    async def action_quit(self) -> None:
        """Cancel the running turn, let it record that it was cancelled, then quit (the command line saves)."""
        await self._stop_run()
        self.exit()

    def action_toggle_side(self) -> None:
        """Show or hide the todos and files column, and keep the choice for the next run."""
        self.preferences.side_column = not self.preferences.side_column
        self._fit(self.size)
        self._keep(side_column=self.preferences.side_column)
        if self.preferences.side_column and self.size.width < NARROW:
            self.notify(f"The side column shows from {NARROW} columns on; ^t and ^b show its panes full screen.")

    def _keep(self, **changes: config.Value) -> None:
        try:
            config.save(changes)
        except config.ConfigError as exc:
            self.notify(f"Not kept for the next run: {exc}", title="Preferences", severity="warning", timeout=15)

    def action_focus_pane(self, pane: str) -> None:
        """Focus a pane; one the terminal is too small to show fills the screen until Escape."""
        widget = self.query_one(f"#{pane}")
        if self.screen.maximized is not None and self.screen.maximized is not widget:
            self.screen.minimize()
        if widget.region.area == 0:
            widget.display = True
            self.screen.maximize(widget)
        widget.focus()

    async def _hang_up(self) -> None:
        """The terminal is gone: end the run (it records "cancelled"), keep the session, and leave at once.

        Textual's own shutdown restores the terminal by writing to it; with the terminal gone its
        writer thread has died and those writes block forever, leaving the process behind.
        """
        await self._stop_run(within=HANG_UP_WAIT)
        self.close_session()
        os._exit(128 + signal.SIGHUP)

    def action_help(self) -> None:
        from deep_tui.screens.help import Help, key_sections

        titles = {**PANES, "prompt": "Prompt"}
        pane = titles.get(self.focused.id or "") if self.focused is not None else None
        self.push_screen(Help(key_sections(self.screen, pane)))

    def _remove_rule(self, rule: AlwaysRule) -> None:
        if self.session is not None:
            self.session.approvals.remove_rule(rule)
            self.notify(f"Removed: {rule.describe()}. It is asked again.", markup=False)

    def action_copy_answer(self) -> None:
        answer = self._last_output if not self.running else self.query_one(OutputView).answer_text()
        if answer:
            self.copy_to_clipboard(answer)
            self.notify("Copied the last answer.")
        else:
            self.notify("There is no answer to copy yet.")

    @on(FileTree.FileSelected)
    def _open_file(self, event: FileTree.FileSelected) -> None:
        from deep_tui.screens.file_viewer import FileViewer

        files = self.session.files if self.session else None
        if files is None or not files.is_file(event.path):
            self.notify(f"{visible(event.path)} no longer exists.", severity="warning", markup=False)
            return
        self.push_screen(FileViewer(event.path, files.read_bytes(event.path), files.previous.get(event.path)))

    @on(ToolCallLog.Selected)
    def _open_call(self, event: ToolCallLog.Selected) -> None:
        from deep_tui.screens.tool_detail import ToolDetail

        result = self.session.tool_result(event.record.call_id) if self.session else None
        self.push_screen(ToolDetail(event.record, result))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Every key of the focused pane and of the app (? or F1)", self.action_help)
        if self.running:
            yield SystemCommand("Cancel the run", "Stop the running turn at once", self.action_cancel_run)
            yield SystemCommand(
                "Send the prompt as a follow-up", "The agent gets it when it would stop", self.action_follow_up
            )
        yield SystemCommand("Copy the last answer", "Copy the answer's markdown", self.action_copy_answer)
        for rule in self.session.approvals.rules if self.session is not None else ():
            yield SystemCommand(
                f"Remove the approval rule: {rule.describe()}",
                f"Ask again before {rule.tool} runs" + (f" under {rule.folder}" if rule.folder else ""),
                lambda rule=rule: self._remove_rule(rule),
            )
        for pane, title in PANES.items():
            yield SystemCommand(
                f"Focus {title}",
                f"Move the focus to the {title.lower()} pane",
                lambda pane=pane: self.action_focus_pane(pane),
            )
        yield SystemCommand("Focus the prompt", "Type the next message", lambda: self.action_focus_pane("prompt"))
        yield SystemCommand(
            "Show or hide the side column", "The todos and files; kept for the next run (F2)", self.action_toggle_side
        )
