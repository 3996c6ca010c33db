"""Headless mode: one turn without the dashboard, as JSON lines, a live Rich display, or the answer alone.

- ``deep-tui run --json`` prints each event as one JSON line, flushed as it
  happens, and nothing else on stdout.
- On a terminal, a Rich display in the spirit of the streaming doc's progress
  examples shows a spinner with the current node and tool, the streamed text
  (the answer rendered as markdown, block by block), the tool calls as they
  finish, a line per running subagent (its name, current tool and elapsed
  time), and a usage table at the end. A subagent's own text and calls stay
  off it: its line says what it does, and a line when it ends says how.
- With stdout redirected, stdout carries the answer exactly as the model wrote
  it: no wrapping, no decoration. The display, warnings and logs go to stderr.

Agent text reaches the terminal only through ``visible``, and JSON lines escape
every control character, so no agent can drive the terminal that shows them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.logging import RichHandler
from rich.markdown import Markdown
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from deep_tui.approval_prompt import TerminalPrompt, approve_everything, deny_everything
from deep_tui.dispatch import IGNORED, view
from deep_tui.events import (
    ApprovalRequested,
    ApprovalResolved,
    Event,
    FilesChanged,
    MessageDelivered,
    MessageQueued,
    NodeEntered,
    RunFinished,
    RunStarted,
    SubagentFinished,
    SubagentStarted,
    TextDelta,
    ThinkingDelta,
    TodosChanged,
    ToolCallFinished,
    ToolCallStarted,
    UsageUpdated,
)
from deep_tui.format import key_argument, usage_rows
from deep_tui.markdown_blocks import MarkdownBlocks
from deep_tui.quiet import quiet_libraries
from deep_tui.source import LiveSource
from deep_tui.terminal_text import json_visible, visible

REFRESH_PER_SECOND = 12
"""Redraws of the live display a second."""

EXIT_CODES = {"completed": 0, "failed": 1, "timeout": 3, "cancelled": 4}
"""Exit status per run status; 2 is reserved for bad input."""


async def run_headless(
    source: LiveSource, prompt: str, out: IO[str], *, as_json: bool, approve_all: bool = False
) -> int:
    """Run one turn on ``source`` (which records it), showing it on ``out``; returns the exit code.

    SIGINT and SIGTERM cancel the turn, which still ends with its RunFinished. A call that needs approval
    is approved with ``approve_all``, else asked on the terminal, else (``as_json``, no terminal) denied.
    """
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, source.cancel)
    session = source.session
    if as_json:
        view: JsonLines | LiveProgress | AnswerOnly = JsonLines(out, on_closed=source.cancel)
    elif out.isatty():
        # Logs go to stderr; when that is this terminal too, the display prints them above itself.
        display, shared = Console(file=out), sys.stderr.isatty()
        _log_to(display if shared else Console(stderr=True))
        view = LiveProgress(display, markdown=True, redirect_stderr=shared)
    else:
        shown = sys.stderr.isatty()  # on a terminal, the display renders markdown; a log file's lines are not cut
        progress = Console(stderr=True, soft_wrap=not shown)
        _log_to(progress)
        view = AnswerOnly(out, LiveProgress(progress, markdown=shown))

    display = view.progress if isinstance(view, AnswerOnly) else view
    prompt_on_terminal = None
    if approve_all:
        session.approvals.decider = approve_everything(session)
    elif isinstance(display, LiveProgress) and display.console.is_terminal and sys.stdin.isatty():
        prompt_on_terminal = TerminalPrompt(session, display.console, display.paused)
        session.approvals.decider = prompt_on_terminal
    else:
        session.approvals.decider = deny_everything(session)
    with view:
        try:
            async for event in source.turn(prompt):
                view.show(event)
        finally:
            if prompt_on_terminal is not None:
                await prompt_on_terminal.close()
    assert isinstance(event, RunFinished)
    return EXIT_CODES[event.status]


def _log_to(console: Console) -> None:
    """Warnings and logs (pydantic-deep's cost tracking warns on every run of an unpriced model) go to ``console``,
    above the live display rather than through it."""
    quiet_libraries(RichHandler(console=console, show_time=False, show_path=False, markup=False))


@contextlib.contextmanager
def event_stdout() -> Iterator[IO[str]]:
    """A stream on the real stdout for the run's output; everything else written to stdout goes to stderr.

    The swap is at the file-descriptor level, so prints of the user's agent, C
    extensions and child processes cannot interleave with the JSON lines or the answer.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    events = os.fdopen(os.dup(saved), "w", encoding="utf-8", buffering=1)
    old_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield events
    finally:
        with contextlib.suppress(BrokenPipeError):
            events.close()
        sys.stdout = old_stdout
        os.dup2(saved, 1)
        os.close(saved)


class JsonLines:
    """Each event as one line of JSON, flushed at once; a reader that goes away cancels the run."""

    def __init__(self, out: IO[str], on_closed: Callable[[], None]) -> None:
        self.out = out
        self.on_closed = on_closed
        self.closed = False

    def __enter__(self) -> JsonLines:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.closed:
            with contextlib.suppress(BrokenPipeError):
                self.out.flush()

    def show(self, event: Event) -> None:
        if self.closed:
            return
        try:
            self.out.write(json_visible(event.model_dump_json()) + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.closed = True
            print("deep-tui: stdout was closed: cancelling the run", file=sys.stderr)
            self.on_closed()


class AnswerOnly:
    """The answer alone on ``out``, as the model wrote it (controls made visible); ``progress`` shows the rest.

    The answer is the run's final output, written once the run ends, with a
    newline after it if it has none: text between tool calls is progress.
    """

    def __init__(self, out: IO[str], progress: LiveProgress) -> None:
        self.out = out
        self.progress = progress

    def __enter__(self) -> AnswerOnly:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def show(self, event: Event) -> None:
        self.progress.show(event)
        if isinstance(event, RunFinished) and event.output:
            answer = visible(event.output)
            with contextlib.suppress(BrokenPipeError):
                self.out.write(answer if answer.endswith("\n") else answer + "\n")
                self.out.flush()


@dataclass
class _Running:
    """A subagent on the display: its name, the call it is in and since when it runs."""

    name: str
    since: float
    call_id: str = ""
    tool: str = ""


class LiveProgress:
    """A spinner naming the node and tool, the streamed text, tool calls, running subagents, then a usage table.

    The display is redrawn from the event loop, where the events are printed, not from Rich's own thread:
    a redraw racing a print moved the cursor by the wrong height and left old status lines on the screen.
    """

    def __init__(self, console: Console, *, markdown: bool = False, redirect_stderr: bool = True) -> None:
        self.console = console
        self.spinner = Spinner("dots", text="Starting…")
        self.live = Live(
            self.spinner, console=console, auto_refresh=False, transient=True, redirect_stderr=redirect_stderr
        )
        self.ticker: asyncio.TimerHandle | None = None
        self.markdown = MarkdownBlocks() if markdown else None
        """Set when the answer is rendered as markdown; thinking stays plain."""
        self.partial = ""
        self.in_thinking = False
        self.step = 0
        self.node = ""
        self.running: dict[str, str] = {}
        self.subagents: dict[str, _Running] = {}
        """The running subagents by task id, in the order they started."""

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        with contextlib.suppress(RuntimeError):  # no event loop: no animation
            self._tick()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.ticker is not None:
            self.ticker.cancel()
        self.live.__exit__(None, None, None)

    def _tick(self) -> None:
        if self.subagents:  # their elapsed times move on
            self.spinner.update(text=self._status())
        self.live.refresh()
        self.ticker = asyncio.get_running_loop().call_later(1 / REFRESH_PER_SECOND, self._tick)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """The display off the screen, for a question on the terminal."""
        if self.ticker is not None:
            self.ticker.cancel()
            self.ticker = None
        self.live.stop()
        try:
            yield
        finally:
            self.live.start()
            self._tick()

    def show(self, event: Event) -> None:
        if event.origin is not None and not isinstance(event, (ApprovalRequested, ApprovalResolved)):
            self._subagent(event)
        elif isinstance(event, RunStarted):
            self.console.print(
                Text.assemble(
                    ("deep-tui", "bold magenta"),
                    " · ",
                    visible(event.agent),
                    " · ",
                    ("> ", "dim"),
                    visible(event.prompt[:200]),
                )
            )
        elif isinstance(event, TextDelta):
            self._text(visible(event.text), thinking=False)
        elif isinstance(event, ThinkingDelta):
            self._text(visible(event.text), thinking=True)
        elif isinstance(event, NodeEntered):
            self.step, self.node = event.step, event.node
        elif isinstance(event, ToolCallStarted):
            self.running[event.call_id] = f"{visible(event.tool)} {key_argument(event.tool, event.args)}".strip()
        elif isinstance(event, ToolCallFinished):
            label = self.running.pop(event.call_id, visible(event.tool))
            ok = event.outcome == "success"
            self._flush()
            self.console.print(
                Text.assemble(
                    ("  ✓ " if ok else "  ✗ ", "green" if ok else "red"),
                    (label, "bold"),
                    (f"  {event.outcome}" if not ok else "", "red"),
                    (f"  {event.duration * 1000:.0f} ms", "dim"),
                )
            )
        elif isinstance(event, ApprovalRequested):
            self._flush()
            who = f" (subagent {visible(event.origin.name)})" if event.origin else ""
            label = self.running.get(event.call_id, visible(event.tool))
            self.console.print(Text.assemble(("  ? ", "yellow"), (label, "bold"), f"  waits for approval{who}"))
        elif isinstance(event, ApprovalResolved):
            self._flush()
            ok = event.decision != "denied"
            reason = f": {visible(event.reason)}" if event.reason else ""
            self.console.print(
                Text.assemble(
                    ("  ✓ " if ok else "  ✗ ", "green" if ok else "red"),
                    f"{event.decision} ({event.by}){reason}",
                )
            )
        elif isinstance(event, MessageDelivered):  # a message_queued shows once it reaches the model
            self._flush()
            kind = event.kind.replace("_", "-")
            self.console.print(Text.assemble(("↳ you ", "bold cyan"), (f"({kind}): ", "cyan"), event.text))
        elif isinstance(event, RunFinished):
            self._flush()
            self.console.print(self._summary(event))
            return
        self.spinner.update(text=self._status())

    def _subagent(self, event: Event) -> None:
        """A subagent's event: its line on the display, and a line printed when it ends."""
        task_id = event.origin.task_id if event.origin else ""
        if isinstance(event, SubagentStarted):
            self.subagents[task_id] = _Running(visible(event.name), time.monotonic())
        elif isinstance(event, SubagentFinished):
            self.subagents.pop(task_id, None)
            ok = event.status == "completed"
            self._flush()
            self.console.print(
                Text.assemble(
                    ("  ✓ " if ok else "  ✗ ", "green" if ok else "red"),
                    ("subagent ", "dim"),
                    (visible(event.name), "bold"),
                    (f"  {event.status}", "green" if ok else "red"),
                    (f"  {visible(event.error)[:120]}" if event.error else "", "red"),
                    (f"  {event.duration:.1f} s · {event.usage.requests} requests", "dim"),
                )
            )
        elif (running := self.subagents.get(task_id)) is not None:
            if isinstance(event, ToolCallStarted):
                running.call_id = event.call_id
                running.tool = f"{visible(event.tool)} {key_argument(event.tool, event.args)}".strip()
            elif isinstance(event, ToolCallFinished) and event.call_id == running.call_id:
                running.call_id = running.tool = ""

    def _status(self) -> Text:
        tools = ", ".join(self.running.values())
        status = Text.assemble((f"[Step {self.step}] ", "bold blue"), (self.node or "starting", "blue"))
        if tools:
            status.append(f"  running {tools}"[:120], style="yellow")
        now = time.monotonic()
        for running in self.subagents.values():
            status.append(f"\n  ↳ {running.name}", style="bold magenta")
            status.append(f" · {running.tool or 'thinking'}"[:100], style="yellow" if running.tool else "dim")
            status.append(f" · {now - running.since:.0f} s", style="dim")
        # Only the line being written: a live region that changes height mid-refresh leaves lines behind.
        line = self.partial.rstrip("\n").rpartition("\n")[2]
        if line:
            status.append("\n" + line[-200:], style="dim italic" if self.in_thinking else "")
        return status

    def _text(self, text: str, *, thinking: bool) -> None:
        if thinking != self.in_thinking:
            self._flush()
            self.in_thinking = thinking
        self.partial += text
        if self.markdown is not None and not thinking:
            end = self.markdown.cut(self.partial)
            if end:
                self._print_markdown(self.partial[:end])
                self.partial = self.partial[end:]
        elif "\n" in self.partial:
            done, _, self.partial = self.partial.rpartition("\n")
            self.console.print(Text(done, style="dim italic" if thinking else ""), highlight=False)

    def _flush(self) -> None:
        if self.markdown is not None and not self.in_thinking:
            self._print_markdown(self.partial)
            self.markdown.reset()
        elif self.partial:
            self.console.print(Text(self.partial, style="dim italic" if self.in_thinking else ""), highlight=False)
        self.partial = ""

    def _print_markdown(self, source: str) -> None:
        """Finished blocks of the answer, rendered; links show their address (a terminal link could hide it)."""
        if source.strip():
            self.console.print(Markdown(source.strip("\n"), code_theme="ansi_dark", hyperlinks=False))
            self.console.print()

    def _summary(self, event: RunFinished) -> RenderableType:
        colour = {"completed": "green", "failed": "red", "timeout": "yellow", "cancelled": "yellow"}[event.status]
        headline = Text.assemble(("● ", colour), (event.status, f"bold {colour}"))
        if event.error:
            headline.append(f"  {visible(event.error)}", style=colour)
        table = Table(title="Usage", title_justify="left", show_header=False, box=None, padding=(0, 2))
        for name, value in usage_rows(event.usage, event.duration):
            table.add_row(Text(name, style="dim"), value)
        return Group(Text(""), headline, table)


view(
    "headless progress (LiveProgress.show)",
    {
        **dict.fromkeys(
            (
                RunStarted,
                TextDelta,
                ThinkingDelta,
                NodeEntered,
                ToolCallStarted,
                ToolCallFinished,
                RunFinished,
                MessageDelivered,
                SubagentStarted,
                SubagentFinished,
                ApprovalRequested,
                ApprovalResolved,
            ),
            LiveProgress.show,
        ),
        **dict.fromkeys((TodosChanged, FilesChanged, UsageUpdated, MessageQueued), IGNORED),
    },
)
