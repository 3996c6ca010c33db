"""The calls waiting for approval, oldest first: what each would do, and the keys that decide it.

The screen knows events only: it is fed ``approval_requested`` and ``approval_resolved`` and hands each
decision to ``decide``, which the app forwards to wherever the run is (the session, another process).
A call leaves the queue as soon as it is answered here, so a second key press can never answer it again;
the screen closes once the queue is empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Literal

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static, TextArea

from deep_tui.events import ApprovalRequested
from deep_tui.terminal_text import visible
from deep_tui.widgets.key_bar import KeyBar

LANGUAGES = {"diff": "diff", "command": "bash", "args": "json"}
"""How each kind of preview is highlighted."""

PREVIEW_LINES = 5000
"""Lines of a preview drawn; a longer one says how many more there are."""


@dataclass(frozen=True)
class Answer:
    """A decision taken on this screen."""

    approve: bool
    reason: str | None = None
    args: dict[str, object] | None = None
    """Approve with these arguments instead (an edit)."""
    always: Literal["tool", "folder"] | None = None
    """Also approve this tool from now on: anywhere, or for paths under this call's folder."""


class ApprovalScreen(ModalScreen[None]):
    """The oldest waiting call: its tool, who asks, its diff or command, and a count of those behind it."""

    CSS_PATH = "approval.tcss"
    AUTO_FOCUS = "#approval-preview"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "approve", "Approve", tooltip="Run the call as it is"),
        Binding("n", "deny", "Deny", tooltip="Refuse it; an optional reason is sent to the agent"),
        Binding("e", "edit", "Edit", tooltip="Change the arguments (JSON), then approve"),
        Binding("a", "always", "Always", tooltip="Approve this tool from now on, in this session"),
        Binding("A", "always_here", "Always here", tooltip="Approve this tool for paths under this folder"),
        Binding("ctrl+s", "submit_edit", "Approve edited", tooltip="Run the call with the edited arguments"),
        Binding("escape", "cancel_turn", "Cancel turn", tooltip="Cancel the whole turn, as Escape does everywhere"),
        Binding("escape", "leave", "Back", tooltip="Back to the call, nothing decided"),
    ]

    def __init__(
        self,
        first: ApprovalRequested,
        decide: Callable[[ApprovalRequested, Answer], bool],
        cancel_turn: Callable[[], object],
        folder_of: Callable[[dict[str, object]], str | None],
    ) -> None:
        super().__init__()
        self.queue: list[ApprovalRequested] = [first]
        self.decide = decide
        self.cancel_turn = cancel_turn
        self.folder_of = folder_of
        self.mode: Literal["call", "reason", "edit"] = "call"

    def compose(self) -> ComposeResult:
        with Vertical(id="approval"):
            yield Static(id="approval-title")
            with VerticalScroll(id="approval-preview"):
                yield Static(id="approval-content")
            yield Input(
                placeholder="Why not? (sent to the agent; Enter denies, Escape goes back)", id="approval-reason"
            )
            yield TextArea(id="approval-args", soft_wrap=True, show_line_numbers=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self._show()

    @property
    def current(self) -> ApprovalRequested | None:
        return self.queue[0] if self.queue else None

    def add(self, event: ApprovalRequested) -> None:
        """Another call waits; it is shown once those before it are answered."""
        if all(waiting.call_id != event.call_id for waiting in self.queue):
            self.queue.append(event)
            self._show_title()

    def drop(self, call_id: str) -> None:
        """A call was decided elsewhere (a rule, the web, the time-out, the end of the turn)."""
        was_current = self.current is not None and self.current.call_id == call_id
        self.queue = [waiting for waiting in self.queue if waiting.call_id != call_id]
        if not self.queue:
            self.dismiss()
        elif was_current:
            self._show()
        else:
            self._show_title()

    # Showing ---------------------------------------------------------------------------------------------

    def _show(self) -> None:
        event = self.current
        if event is None:
            return
        self._set_mode("call")
        self._show_title()
        lines = visible(event.preview).splitlines()
        shown = Syntax(
            "\n".join(lines[:PREVIEW_LINES]), LANGUAGES[event.preview_kind], theme="ansi_dark", word_wrap=True
        )
        self.query_one("#approval-content", Static).update(shown)
        self.query_one("#approval-preview").scroll_home(animate=False)
        if len(lines) > PREVIEW_LINES:
            self.notify(f"{len(lines) - PREVIEW_LINES} more lines are not shown.", severity="warning")

    def _show_title(self) -> None:
        event = self.current
        if event is None:
            return
        who = "the agent" if event.origin is None else f"subagent {visible(event.origin.name)}"
        if event.origin is not None:
            who += f" (task {visible(event.origin.task_id)})"
        title = Text.assemble(("? ", "bold yellow"), (visible(event.tool), "bold"), "  asked by ", (who, "bold"))
        self.query_one("#approval-title", Static).update(title)
        behind = len(self.queue) - 1
        box = self.query_one("#approval")
        box.border_title = f"Waiting for approval · {len(self.queue)} waiting" if behind else "Waiting for approval"
        box.border_subtitle = f"{behind} more after this one, in the order they asked" if behind else ""

    def _set_mode(self, mode: Literal["call", "reason", "edit"]) -> None:
        self.mode = mode
        reason = self.query_one("#approval-reason", Input)
        args = self.query_one("#approval-args", TextArea)
        reason.display, args.display = mode == "reason", mode == "edit"
        if mode == "reason":
            reason.value = ""
            reason.focus()
        elif mode == "edit" and self.current is not None:
            args.text = json.dumps(self.current.args, indent=2, ensure_ascii=False)
            args.focus()
        else:
            self.query_one("#approval-preview").focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The call's keys while it is shown; in a reason or an edit, only leaving it (and ^s in an edit)."""
        if action == "submit_edit":
            return self.mode == "edit"
        if action == "leave":
            return self.mode != "call"
        if action in ("approve", "deny", "edit", "always", "always_here"):
            return self.mode == "call" and self.current is not None
        if action == "cancel_turn":
            return self.mode == "call"
        return True

    # Deciding --------------------------------------------------------------------------------------------

    def _answer(self, answer: Answer) -> None:
        event = self.current
        if event is None:
            return
        self.queue.pop(0)  # before deciding: whatever happens next, this call is not asked again here
        sent = self.decide(event, answer)
        if self.queue:
            self._show()
        elif sent:
            self._show_answered(event, answer)
        else:
            self.dismiss()

    def _show_answered(self, event: ApprovalRequested, answer: Answer) -> None:
        """The last call is answered: the screen stays until the run says so (its ``approval_resolved``).

        Closing a screen restyles the dashboard under it, tens of milliseconds in which the approved tool
        would wait; closing once the run has taken the decision lets the tool start first.
        """
        said = "Approved" if answer.approve else "Denied"
        self.query_one("#approval-title", Static).update(Text.assemble((f"{said}: ", "bold"), visible(event.tool)))
        self.refresh_bindings()

    def action_approve(self) -> None:
        self._answer(Answer(approve=True))

    def action_deny(self) -> None:
        self._set_mode("reason")

    @on(Input.Submitted, "#approval-reason")
    def _deny_with_reason(self, event: Input.Submitted) -> None:
        self._answer(Answer(approve=False, reason=event.value.strip() or None))

    def action_edit(self) -> None:
        self._set_mode("edit")

    def action_submit_edit(self) -> None:
        event = self.current
        if event is None:
            return
        try:
            args = json.loads(self.query_one("#approval-args", TextArea).text)
        except ValueError as exc:
            self.notify(f"Not JSON: {exc}", title="Arguments", severity="error")
            return
        if not isinstance(args, dict):
            self.notify("The arguments must be a JSON object: {…}", title="Arguments", severity="error")
            return
        self._answer(Answer(approve=True, args=None if args == event.args else args))

    def action_always(self) -> None:
        self._answer(Answer(approve=True, always="tool"))

    def action_always_here(self) -> None:
        event = self.current
        if event is not None and self.folder_of(event.args) is None:
            self.notify("This call names no file: a approves the tool everywhere.", severity="warning")
            return
        self._answer(Answer(approve=True, always="folder"))

    def action_cancel_turn(self) -> None:
        self.cancel_turn()

    def action_leave(self) -> None:
        self._set_mode("call")
