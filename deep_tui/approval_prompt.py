"""Headless ``run`` deciding gated calls: ``--yes`` approves, a terminal is asked, and anything else denies.

The terminal is asked one call at a time, oldest first, with the same preview the dashboard shows (the
diff or the command, highlighted, control characters made visible). Keys are read from stdin by the
event loop, not by a blocked thread, so a Ctrl+C, a time-out or the end of the turn stop the question.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.syntax import Syntax
from rich.text import Text

from deep_tui.approvals import NO_ONE, NotWaiting, Waiting, folder_of
from deep_tui.terminal_text import visible

if TYPE_CHECKING:
    from deep_tui.runner import Session

LANGUAGES = {"diff": "diff", "command": "bash", "args": "json"}
"""How each kind of preview is highlighted."""

PREVIEW_LINES = 200
"""Lines of a preview printed on the terminal; the whole call is in the session's events."""

ANSWERS = "[y]es · [n]o (then a reason) · [a]lways this tool · [A]lways this tool in this folder"


def approve_everything(session: Session) -> Callable[[Waiting], None]:
    """``--yes``."""
    return lambda waiting: session.approve(waiting.call_id, True, reason="--yes", by="headless")


def deny_everything(session: Session) -> Callable[[Waiting], None]:
    """``--json`` or no terminal: nobody can be asked, so the call is denied and the turn goes on."""
    return lambda waiting: session.approve(waiting.call_id, False, reason=NO_ONE, by="headless")


class TerminalPrompt:
    """Asks on the terminal about each waiting call, in the order they asked.

    ``pause`` is entered around each question, to take a live display off the screen meanwhile.
    """

    def __init__(
        self,
        session: Session,
        console: Console,
        pause: Callable[[], contextlib.AbstractContextManager[object]] = contextlib.nullcontext,
        stdin: IO[str] | None = None,
    ) -> None:
        self.session = session
        self.console = console
        self.pause = pause
        self.stdin = stdin or sys.stdin
        self._queue: deque[Waiting] = deque()
        self._task: asyncio.Task[None] | None = None

    def __call__(self, waiting: Waiting) -> None:
        self._queue.append(waiting)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._ask_all())

    async def close(self) -> None:
        """Stop asking (the turn has ended)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _ask_all(self) -> None:
        while self._queue:
            waiting = self._queue.popleft()
            if waiting.future.done():
                continue
            with self.pause():
                await self._ask(waiting)

    async def _ask(self, waiting: Waiting) -> None:
        self._show(waiting)
        while not waiting.future.done():
            answer = await self._read(waiting, f"Approve {visible(waiting.tool)}? {ANSWERS}: ")
            if answer is None:
                self.console.print(Text("  decided elsewhere, or the turn ended", style="dim"))
                return
            choice = answer.strip()
            try:
                if not answer:  # end of input: nobody is left to answer
                    self.session.approve(waiting.call_id, False, reason=NO_ONE, by="headless")
                elif choice.lower() in ("y", "yes"):
                    self.session.approve(waiting.call_id, True, by="headless")
                elif choice.lower() in ("n", "no"):
                    reason = await self._read(waiting, "Reason for the agent (Enter for none): ")
                    if reason is not None:
                        self.session.approve(waiting.call_id, False, reason=reason, by="headless")
                elif choice in ("a", "A"):
                    folder = folder_of(waiting.args) if choice == "A" else None
                    if choice == "A" and folder is None:
                        self.console.print(Text("  this call names no file: a, y or n", style="yellow"))
                        continue
                    self.session.approve(waiting.call_id, True, by="headless")
                    rule = self.session.approvals.add_rule(waiting.tool, folder)
                    self.console.print(Text(f"  {rule.describe()} from now on, in this session", style="dim"))
                else:
                    self.console.print(Text("  answer y, n, a or A", style="yellow"))
            except NotWaiting:
                return

    def _show(self, waiting: Waiting) -> None:
        who = f" · asked by subagent {visible(waiting.origin.name)}" if waiting.origin else ""
        self.console.print(Text.assemble(("? ", "bold yellow"), (visible(waiting.tool), "bold"), (who, "dim")))
        preview, kind = self.session.approvals.preview(waiting.tool, waiting.args)
        lines = visible(preview).splitlines()
        shown = "\n".join(lines[:PREVIEW_LINES])
        self.console.print(Syntax(shown, LANGUAGES[kind], theme="ansi_dark", word_wrap=True))
        if len(lines) > PREVIEW_LINES:
            self.console.print(Text(f"  … {len(lines) - PREVIEW_LINES} more lines", style="dim"))

    async def _read(self, waiting: Waiting, question: str) -> str | None:
        """A line typed on the terminal; None if the call was decided or closed before one came."""
        self.console.print(Text(question, style="bold"), end="")
        self.console.file.flush()
        with self._lines() as line:
            done, _ = await asyncio.wait({line, waiting.future}, return_when=asyncio.FIRST_COMPLETED)
        if line in done and not line.cancelled():
            return line.result()
        self.console.print()
        return None

    @contextlib.contextmanager
    def _lines(self) -> Iterator[asyncio.Future[str]]:
        """A future for the next line of stdin, read when the terminal has one (it sends whole lines)."""
        loop = asyncio.get_running_loop()
        line: asyncio.Future[str] = loop.create_future()
        fd = self.stdin.fileno()

        def readable() -> None:
            if not line.done():
                line.set_result(self.stdin.readline())

        loop.add_reader(fd, readable)
        try:
            yield line
        finally:
            loop.remove_reader(fd)
            line.cancel()
