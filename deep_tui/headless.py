"""Headless mode: one turn without the dashboard, as JSON lines or a live Rich display.

``deep-tui run --json`` prints each event as one JSON line, flushed as it
happens, and nothing else on stdout. Without ``--json`` a Rich display in the
spirit of the streaming doc's progress examples shows a spinner with the current
node and tool, the streamed text and the tool calls as they finish, and a usage
table at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import IO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.logging import RichHandler
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from deep_tui.dispatch import IGNORED, view
from deep_tui.events import (
    Event,
    FilesChanged,
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
from deep_tui.format import key_argument, usage_rows
from deep_tui.quiet import quiet_libraries
from deep_tui.runner import Session
from deep_tui.sessions import SessionRecorder

EXIT_CODES = {"completed": 0, "failed": 1, "timeout": 3, "cancelled": 4}
"""Exit status per run status; 2 is reserved for bad input."""


async def run_headless(
    session: Session,
    prompt: str,
    out: IO[str],
    recorder: SessionRecorder | None = None,
    *,
    as_json: bool,
    timeout: float | None,
) -> int:
    """Run one turn of ``session``, showing it on ``out`` and keeping it with ``recorder``; returns the exit code.

    SIGINT and SIGTERM cancel the turn, which still ends with its RunFinished.
    """
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, session.cancel)
    if as_json:
        view: JsonLines | LiveProgress = JsonLines(out, on_closed=session.cancel)
    else:
        console = Console(file=out)
        # Warnings and logs print above the live display instead of tearing through it.
        quiet_libraries(RichHandler(console=console, show_time=False, show_path=False, markup=False))
        view = LiveProgress(console)

    def show(event: Event) -> None:
        view.show(event)
        if recorder is not None:
            recorder.record(event)

    with view:
        finished = await session.run(prompt, show, timeout=timeout)
    return EXIT_CODES[finished.status]


@contextlib.contextmanager
def event_stdout() -> Iterator[IO[str]]:
    """A stream on the real stdout for events; everything else written to stdout goes to stderr.

    The swap is at the file-descriptor level, so prints of the user's agent, C
    extensions and child processes cannot interleave with the JSON lines.
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
            self.out.write(event.model_dump_json() + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.closed = True
            print("deep-tui: stdout was closed: cancelling the run", file=sys.stderr)
            self.on_closed()


class LiveProgress:
    """A spinner naming the node and tool, the streamed text, tool calls, then a usage table."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.spinner = Spinner("dots", text="Starting…")
        self.live = Live(self.spinner, console=console, refresh_per_second=12, transient=True)
        self.partial = ""
        self.in_thinking = False
        self.step = 0
        self.node = ""
        self.running: dict[str, str] = {}

    def __enter__(self) -> LiveProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(None, None, None)

    def show(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.console.print(
                Text.assemble(
                    ("deep-tui", "bold magenta"), " · ", event.agent, " · ", ("> ", "dim"), event.prompt[:200]
                )
            )
        elif isinstance(event, TextDelta):
            self._text(event.text, thinking=False)
        elif isinstance(event, ThinkingDelta):
            self._text(event.text, thinking=True)
        elif isinstance(event, NodeEntered):
            self.step, self.node = event.step, event.node
        elif isinstance(event, ToolCallStarted):
            self.running[event.call_id] = f"{event.tool} {key_argument(event.tool, event.args)}".strip()
        elif isinstance(event, ToolCallFinished):
            label = self.running.pop(event.call_id, event.tool)
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
        elif isinstance(event, RunFinished):
            self._flush()
            self.console.print(self._summary(event))
            return
        self.spinner.update(text=self._status())

    def _status(self) -> Text:
        tools = ", ".join(self.running.values())
        status = Text.assemble((f"[Step {self.step}] ", "bold blue"), (self.node or "starting", "blue"))
        if tools:
            status.append(f"  running {tools}"[:120], style="yellow")
        if self.partial:
            status.append("\n" + self.partial[-200:], style="dim italic" if self.in_thinking else "")
        return status

    def _text(self, text: str, *, thinking: bool) -> None:
        if thinking != self.in_thinking:
            self._flush()
            self.in_thinking = thinking
        self.partial += text
        if "\n" in self.partial:
            done, _, self.partial = self.partial.rpartition("\n")
            self.console.print(Text(done, style="dim italic" if thinking else ""), highlight=False)

    def _flush(self) -> None:
        if self.partial:
            self.console.print(Text(self.partial, style="dim italic" if self.in_thinking else ""), highlight=False)
            self.partial = ""

    def _summary(self, event: RunFinished) -> RenderableType:
        colour = {"completed": "green", "failed": "red", "timeout": "yellow", "cancelled": "yellow"}[event.status]
        headline = Text.assemble(("● ", colour), (event.status, f"bold {colour}"))
        if event.error:
            headline.append(f"  {event.error}", style=colour)
        table = Table(title="Usage", title_justify="left", show_header=False, box=None, padding=(0, 2))
        for name, value in usage_rows(event.usage, event.duration):
            table.add_row(Text(name, style="dim"), value)
        return Group(Text(""), headline, table)


view(
    "headless progress (LiveProgress.show)",
    {
        **dict.fromkeys(
            (RunStarted, TextDelta, ThinkingDelta, NodeEntered, ToolCallStarted, ToolCallFinished, RunFinished),
            LiveProgress.show,
        ),
        **dict.fromkeys((TodosChanged, FilesChanged, UsageUpdated), IGNORED),
    },
)
