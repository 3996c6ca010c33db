"""The dashboard app: a source of events (a live agent, a recording) shown on the dashboard screen.

The app draws the dashboard first, then opens the source (an agent's stack takes over a
second to import), runs turns on it in a worker, batches the events of a turn into
``AgentEvents`` messages and shows each batch on the screen, which folds and paints it.
What the app itself does with events (approvals asked, messages delivered, the end of a
turn) is in its own table, ``app_takes``. It knows the source only through
``source.EventSource``: a live session, a recording or a test's list of events alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import time
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.logging import TextualHandler
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Input
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from deep_tui import config
from deep_tui.messages import AgentEvents
from deep_tui.quiet import quiet_libraries
from deep_tui.redact import redact
from deep_tui.screens.dashboard import IDLE_PLACEHOLDER, PANES, RUNNING_PLACEHOLDER, DashboardScreen
from deep_tui.signals import ending_on_signals
from deep_tui.source import Live, Recorded, SourceError
from deep_tui.widgets import OutputView

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from deep_tui.approvals import AlwaysRule
    from deep_tui.dispatch import Table
    from deep_tui.events import ApprovalRequested, ApprovalResolved, Event, MessageKind
    from deep_tui.screens.approval import Answer
    from deep_tui.source import EventSource

HANG_UP_WAIT = 5.0
"""Seconds a run may take to record its cancel when the terminal hangs up."""

STUCK_GRACE = HANG_UP_WAIT + 3
"""Seconds after ``kill`` or a hang-up by which the app must have ended; then it saves what it can and exits."""

FRAMES_PER_SECOND = 12
"""How often the panes take the events of a running turn: often enough to look live; each frame of a busy
run costs ~8 ms of the loop the agent runs on (see docs/performance.md)."""

SETTLE_AFTER = 0.5
"""Seconds after a turn's end at which the heap is settled (``heap.settle``): its last frame is painted by then."""


class UnknownTheme(ValueError):
    """A theme name Textual does not know; the message lists those it does."""


class DeepTUI(App[None]):
    """Watch a source of agent events: its todos, files, tool calls, output and usage."""

    CSS_PATH = "app.tcss"
    TITLE = "deep-tui"
    AUTO_FOCUS = None  # the prompt takes the focus just after the first frame
    ALLOW_IN_MAXIMIZED_VIEW = "KeyBar, SearchBar"  # a pane shown full screen keeps its search bar
    BINDINGS: ClassVar[list[BindingType]] = [
        # First, so that the footer shows it however narrow; ``?`` types into the prompt, where F1 still works.
        Binding("question_mark,f1", "help", "Help", tooltip="Every key of the focused pane and of the app"),
        Binding("escape", "escape", "Cancel", tooltip="Stop the running turn at once (or close the Keys panel)"),
        Binding("ctrl+q", "quit", "Quit", tooltip="Cancel any run and quit", priority=True),
        Binding("ctrl+t", "screen.focus_pane('todos')", "Todos", tooltip="Focus the todo list"),
        Binding("ctrl+g", "screen.focus_pane('agents')", "Agents", tooltip="Focus the agents (once one delegates)"),
        Binding("ctrl+b", "screen.focus_pane('files')", "Files", tooltip="Focus the file tree"),
        Binding("ctrl+o", "screen.focus_pane('output')", "Output", tooltip="Focus the output"),
        Binding("ctrl+l", "screen.focus_pane('calls')", "Calls", tooltip="Focus the tool-call log"),
        Binding("ctrl+n", "screen.focus_pane('prompt')", "Prompt", tooltip="Focus the prompt"),
        Binding("ctrl+y", "copy_answer", "Copy", tooltip="Copy the last answer to the clipboard"),
        Binding("f2,ctrl+backslash", "screen.toggle_side", "Side", tooltip="Show or hide the todos and files (kept)"),
        Binding("ctrl+f", "follow_up", "Follow-up", tooltip="Send the prompt to the agent for when it would stop"),
    ]

    def __init__(
        self,
        source: EventSource | Live | Recorded,
        *,
        prompt: str | None = None,
        theme: str | None = None,
        play: bool = False,
    ) -> None:
        """``source`` is shown; a ``Live`` or ``Recorded`` one is opened after the first frame; a recording starts
        playing with ``play``. ``theme`` is for this run only (an unknown one raises ``UnknownTheme``); one picked
        in the app is kept."""
        super().__init__()
        self._play = play
        self.preferences, self._config_problems = config.load()
        if theme is not None and theme not in self.available_themes:
            raise UnknownTheme(f"unknown theme {theme!r}: choose one of {', '.join(sorted(self.available_themes))}")
        theme = theme or self.preferences.theme
        if theme in self.available_themes:
            self.theme = theme
        elif theme is not None:
            self._config_problems.append(f"{config.config_path()}: unknown theme {theme!r} (the palette lists them)")
        self._opening = source
        self.source: EventSource | None = None if isinstance(source, (Live, Recorded)) else source
        self.startup_error: str | None = None
        """Why the source could not be opened; the command line prints it after the app exits."""
        self._queued = prompt
        """A prompt that runs as the next turn as soon as the source is open or the running turn ends."""
        self._offered: str | None = None
        """A prompt the running turn could not take, which a second Enter runs as the next turn."""
        self._undelivered: dict[str, str] = {}
        """Messages sent into the running turn that the model has not read yet, as typed, by id."""
        self._turn_open = False
        """From a prompt sent to the source until its turn's ``run_finished`` is shown."""
        self._batch: list[Event] = []
        self._batch_timer: Timer | None = None
        self._batch_sent = 0.0
        self._last_output = ""

    def get_default_screen(self) -> Screen[Any]:
        return self.make_dashboard(self._opening)

    def make_dashboard(self, source: EventSource | Live | Recorded) -> DashboardScreen:
        """The screen that shows ``source``: a replay's has its timeline."""
        if source.timeline is not None or isinstance(source, Recorded):
            from deep_tui.screens.replay import ReplayScreen

            return ReplayScreen(source.label, side_column=self.preferences.side_column, play=self._play)
        return DashboardScreen(
            source.label, accepts_prompts=source.accepts_prompts, side_column=self.preferences.side_column
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A recording takes no prompts and no follow-ups, and has no run to cancel."""
        if self.dashboard.accepts_prompts or action not in ("follow_up", "escape"):
            return True
        if action == "escape" and (self.dashboard.drilled is not None or self.screen.query("HelpPanel")):
            return True
        return None

    @property
    def dashboard(self) -> DashboardScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    async def run_async(self, **options: Any) -> None:
        """Run until quit. ``kill`` quits as Ctrl+Q does, a closed terminal as ``_hang_up`` does, and
        either ends the process, session kept, even if the app is stuck."""
        endings = {signal.SIGTERM: lambda: self.call_later(self.action_quit)}
        if hasattr(signal, "SIGHUP"):
            endings[signal.SIGHUP] = lambda: self.call_later(self._hang_up)
        loop = asyncio.get_running_loop()
        with ending_on_signals(loop, endings, grace=STUCK_GRACE, last_resort=self.close_session):
            return await super().run_async(**options)

    def on_mount(self) -> None:
        self.dashboard.on_side_changed(lambda shown: self._keep(side_column=shown))
        self.watch(self, "theme", lambda theme: self._keep(theme=theme), init=False)
        for problem in self._config_problems:
            self.notify(problem, title="Preferences", severity="warning", timeout=15)
        self.call_after_refresh(self._open)

    # Opening the source ---------------------------------------------------------------------------

    @work(group="load", exit_on_error=False)
    async def _open(self) -> None:
        quiet_libraries(TextualHandler())
        source = self.source
        if source is None:
            assert isinstance(self._opening, (Live, Recorded))
            try:
                source = await asyncio.to_thread(self._opening.open)
            except SourceError as exc:
                self.startup_error = str(exc)
                self.exit(return_code=2)
                return
        # notify is thread-safe: a recorder reports from its writer thread
        source.report_problems(
            lambda problem: self.notify(problem, title="Not saved", severity="error", timeout=30, markup=False)
        )
        state = await asyncio.to_thread(_first_state, source)
        self.source = source  # with the dashboard attached in the same step: once there is a source, it is shown
        self.dashboard.attach(source, state)
        if self._queued:
            prompt, self._queued = self._queued, None
            self._start(prompt)

    # Turns ---------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._turn_open

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
        if self.source is None:
            self._queued = prompt
            self.notify("Loading the agent: the prompt runs as soon as it is ready.")
            return
        self._start(prompt)

    def _start(self, prompt: str) -> None:
        self._turn_open = True
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
        source = self.source if not self.dashboard.cancelling else None
        sent = source and (source.steer(prompt) if kind == "steer" else source.follow_up(prompt))
        if sent:
            self._undelivered[sent] = prompt
            prompt_input.clear()
        elif self._offered == prompt:
            self._queued, self._offered = prompt, None
            prompt_input.clear()
            self.notify(f"Runs as the next turn when this one ends: {prompt[:80]}")
        else:
            self._offered = prompt
            why = "is being cancelled" if self.dashboard.cancelling else "cannot take a message now"
            self.notify(
                f"The running turn {why}. Press Enter again to run the prompt as the next turn.",
                severity="warning",
            )

    @work(group="agent", exclusive=True, exit_on_error=False)
    async def _run_turn(self, prompt: str) -> None:
        assert self.source is not None
        async for event in self.source.turn(prompt):
            self._collect(event)

    def _collect(self, event: Event) -> None:
        """Queue the event, and send the queue at most ``FRAMES_PER_SECOND`` times a second.

        Painting per delta would spend the loop on rendering instead of on the run;
        the end of a run is sent at once, so a cancel shows without waiting a frame.
        """
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
        """The screen shows the batch; then the app does its part for the kinds it takes."""
        events = list(events)
        self.dashboard.show(events)
        takes = app_takes()
        for event in events:
            handler = takes[type(event)]
            if callable(handler):
                handler(self, event)

    def _queued_note(self, event: Event) -> None:
        assert event.type == "message_queued"
        # Noted here, not in the output: a line there would cut the answer streaming around it.
        when = "before its next step" if event.kind == "steer" else "when it would stop"
        self.notify(f"The agent reads it {when}: {event.text[:80]}", title="Message queued")

    def _delivered(self, event: Event) -> None:
        assert event.type == "message_delivered"
        self._undelivered.pop(event.message_id, None)

    def _approval(self, event: ApprovalRequested | ApprovalResolved) -> None:
        """A call waits: the approval screen shows it (behind any it already shows); a decided one leaves it."""
        from deep_tui.approvals import folder_of
        from deep_tui.screens.approval import ApprovalScreen

        screens = [s for s in self.screen_stack if isinstance(s, ApprovalScreen)]
        if event.type == "approval_resolved":
            for screen in screens:
                screen.drop(event.call_id)
            return
        if screens:
            screens[0].add(event)
        else:
            self.push_screen(ApprovalScreen(event, self._decide, self.action_cancel_run, folder_of))

    def _decide(self, event: ApprovalRequested, answer: Answer) -> bool:
        """Hand a decision to the run; False when it no longer waits for one."""
        from deep_tui.approvals import NotWaiting, folder_of

        if self.source is None:
            return False
        try:
            self.source.approve(event.call_id, answer.approve, reason=answer.reason, args=answer.args)
        except NotWaiting:
            self.notify(f"{event.tool} was already decided (its time ran out, or the turn ended).", severity="warning")
            return False
        if answer.always is not None:
            folder = folder_of(event.args) if answer.always == "folder" else None
            rule = self.source.add_rule(event.tool, folder)
            self.notify(f"{rule.describe()}, for the rest of this session (the palette removes it).", markup=False)
        return True

    def _finished(self, event: Event) -> None:
        assert event.type == "run_finished"
        self._turn_open = False
        self.set_timer(SETTLE_AFTER, self._settle)  # once the end is painted, before the next keys
        self._last_output = event.output
        self._return_undelivered()
        prompt_input = self.query_one("#prompt", Input)
        prompt_input.placeholder = IDLE_PLACEHOLDER
        if not self.screen.is_modal:
            prompt_input.focus()
        self._offered = None
        if self._queued and self.source is not None:
            prompt, self._queued = self._queued, None
            self.call_later(self._start, prompt)

    def _settle(self) -> None:
        """Settle the heap if no turn has started since the last one ended: the collection is a pause (100-300 ms
        after a long run) that must not fall inside a turn, as on an approval's key."""
        from deep_tui.heap import settle

        if not self._turn_open:
            settle()

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
        """A worker that died outside the source's own handling still ends the turn visibly."""
        if event.worker.group == "agent" and event.state == WorkerState.ERROR and self.running:
            from deep_tui.events import RunFinished

            error = event.worker.error
            self._show([RunFinished(status="failed", error=f"{type(error).__name__}: {error}")])

    # Actions -------------------------------------------------------------------------------------

    def action_escape(self) -> None:
        """Escape closes the Keys panel first, as it brings back a pane shown full screen; then it leaves a
        subagent's work for the main agent's; then it cancels."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        elif self.screen is self.dashboard and self.dashboard.drilled is not None:
            self.dashboard.drill(None)
        else:
            self.action_cancel_run()

    def action_cancel_run(self) -> None:
        if not self.running or self.source is None:
            return
        self.dashboard.cancelling = True
        self.dashboard.status = "cancelling"
        self.source.cancel()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_run()

    def close_session(self) -> Path | None:
        """Finish with the source (a live one saves its session a last time); where it is kept, if anywhere."""
        source, self.source = self.source, None
        return source.close() if source is not None and source.accepts_prompts else None

    async def _stop_run(self, within: float | None = None) -> None:
        """Cancel the running turn and wait (up to ``within`` seconds) until it has recorded that it was."""
        if self.source is not None:
            self.source.cancel()
        for worker in [w for w in self.workers if w.group == "agent" and w.is_running]:
            with contextlib.suppress(WorkerCancelled, WorkerFailed, asyncio.TimeoutError):
                await asyncio.wait_for(worker.wait(), within)

    async def action_quit(self) -> None:
        """Cancel the running turn, let it record that it was cancelled, then quit (the command line saves)."""
        await self._stop_run()
        self.exit()

    def _keep(self, **changes: config.Value) -> None:
        if "side_column" in changes:
            self.preferences.side_column = bool(changes["side_column"])
        try:
            config.save(changes)
        except config.ConfigError as exc:
            self.notify(f"Not kept for the next run: {exc}", title="Preferences", severity="warning", timeout=15)

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
        if self.source is not None:
            self.source.remove_rule(rule)
            self.notify(f"Removed: {rule.describe()}. It is asked again.", markup=False)

    def action_copy_answer(self) -> None:
        answer = self._last_output if not self.running else self.query_one(OutputView).answer_text()
        if answer:
            self.copy_to_clipboard(answer)
            self.notify("Copied the last answer.")
        else:
            self.notify("There is no answer to copy yet.")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Every key of the focused pane and of the app (? or F1)", self.action_help)
        if self.running:
            yield SystemCommand("Cancel the run", "Stop the running turn at once", self.action_cancel_run)
            yield SystemCommand(
                "Send the prompt as a follow-up", "The agent gets it when it would stop", self.action_follow_up
            )
        yield SystemCommand("Copy the last answer", "Copy the answer's markdown", self.action_copy_answer)
        for rule in self.source.rules if self.source is not None else ():
            yield SystemCommand(
                f"Remove the approval rule: {rule.describe()}",
                f"Ask again before {rule.tool} runs" + (f" under {rule.folder}" if rule.folder else ""),
                lambda rule=rule: self._remove_rule(rule),
            )
        dashboard = self.dashboard
        for pane, title in PANES.items():
            yield SystemCommand(
                f"Focus {title}",
                f"Move the focus to the {title.lower()} pane",
                lambda pane=pane: dashboard.action_focus_pane(pane),
            )
        if dashboard.accepts_prompts:
            yield SystemCommand(
                "Focus the prompt", "Type the next message", lambda: dashboard.action_focus_pane("prompt")
            )
        yield SystemCommand(
            "Show or hide the side column",
            "The todos and files; kept for the next run (F2)",
            dashboard.action_toggle_side,
        )


def _first_state(source: EventSource) -> Any:
    """What the dashboard shows once ``source`` is open: a recording's start, or nothing yet."""
    from deep_tui.state import RunState

    return source.timeline.state_at(0) if source.timeline is not None else RunState()


@functools.cache
def app_takes() -> Table:
    """What the app itself does with each kind of event, after the screen has shown it (made on first use,
    as its imports would delay the first frame)."""
    from deep_tui import events as e
    from deep_tui.dispatch import IGNORED, view

    return view(
        "dashboard app (deep_tui.app)",
        {
            e.RunStarted: IGNORED,
            e.NodeEntered: IGNORED,
            e.TextDelta: IGNORED,
            e.ThinkingDelta: IGNORED,
            e.ToolCallStarted: IGNORED,
            e.ToolCallFinished: IGNORED,
            e.TodosChanged: IGNORED,
            e.FilesChanged: IGNORED,
            e.UsageUpdated: IGNORED,
            e.RunFinished: DeepTUI._finished,
            e.MessageQueued: DeepTUI._queued_note,
            e.MessageDelivered: DeepTUI._delivered,
            e.SubagentStarted: IGNORED,
            e.SubagentFinished: IGNORED,
            e.ApprovalRequested: DeepTUI._approval,
            e.ApprovalResolved: DeepTUI._approval,
        },
    )
