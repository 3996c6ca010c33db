"""What the page opens on demand in a run: its answer as markdown, a file's content, a tool call in full.

The event stream carries what changed, not everything (a tool result is a
preview, a file is its size and line counts); these read-only endpoints answer
from the run's own session and from what its events said, so a viewer can see
the rest when asked. What they return is data (JSON), and the page shows every
string of it as text.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from deep_tui.events import Event, TextDelta, ToolCallFinished, ToolCallStarted, ToolOutcome
from deep_tui.redact import redact
from deep_tui.web.markdown import render, settled_end

if TYPE_CHECKING:
    from deep_tui.web.server import Run

FILE_LIMIT = 1024 * 1024
"""Bytes of a file sent; a bigger one is cut, and the answer says so."""
RESULT_LIMIT = 1024 * 1024
"""Characters of a tool result sent; a bigger one is cut, and the answer says so."""


class RunNotes:
    """What a run's events said that the endpoints look up later: its text by seq, its calls by id.

    Kept as the events pass (O(1) each), so no request has to read the stream again.
    """

    def __init__(self) -> None:
        self._text_seqs: list[int] = []
        self._texts: list[str] = []
        self.calls: dict[str, ToolCallStarted] = {}
        self.results: dict[str, ToolCallFinished] = {}

    def add(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self._text_seqs.append(event.seq)
            self._texts.append(event.text)
        elif isinstance(event, ToolCallStarted):
            self.calls[event.call_id] = event
        elif isinstance(event, ToolCallFinished):
            self.results[event.call_id] = event

    def text(self, first: int, last: int | None) -> str:
        """The text of the run's text deltas with ``first <= seq <= last``."""
        start = bisect_left(self._text_seqs, first)
        end = len(self._texts) if last is None else bisect_right(self._text_seqs, last)
        return "".join(self._texts[start:end])


class Answer(BaseModel):
    nodes: list[Any]
    """The markdown as ``[tag, attributes, *children]`` lists and strings (text), for DOM calls, never HTML."""
    end: int
    """Characters (code points) of the text rendered in ``nodes`` so far: the ``offset`` of the next request."""
    utf16: int
    """UTF-16 code units in ``nodes`` (from ``offset`` to ``end``): how much a page's plain text is now shown."""
    partial: list[Any] = []
    """With ``settled``: the text after ``end`` up to its last line break (a list growing, a code block still
    open), rendered alone; later text can change it, so a page replaces it at each request."""
    partial_utf16: int = 0
    """UTF-16 code units in ``partial``."""


class FileContent(BaseModel):
    path: str
    size: int
    """Bytes in the file."""
    text: str | None
    """The content, up to ``FILE_LIMIT`` bytes, secrets masked; None for a binary file."""
    truncated: bool


class CallDetail(BaseModel):
    call_id: str
    tool: str
    args: dict[str, object]
    status: ToolOutcome | Literal["running"]
    duration: float | None
    size: int | None
    """The whole result's length in characters, once there is one."""
    result: str | None
    """The result (or error) in full up to ``RESULT_LIMIT`` characters, secrets masked; None while running."""
    truncated: bool


def router(find: Callable[[str], Run]) -> APIRouter:
    """The endpoints, finding runs with ``find`` (which answers 404 for an unknown id)."""
    routes = APIRouter()

    @routes.get("/runs/{run_id}/answer")
    async def answer(
        run_id: str,
        first: int = Query(0, ge=0, description="the seq of the first text delta to take"),
        last: int | None = Query(None, ge=0, description="the seq of the last text delta to take (default: all)"),
        offset: int = Query(0, ge=0, description="characters of that text already rendered: the `end` of an answer"),
        settled: bool = Query(False, description="stop after the last blank line outside a code fence"),
    ) -> Answer:
        """The run's answer (the text of its text deltas from ``first`` to ``last``) as a markdown tree.

        A page streaming the answer asks for ``settled`` parts as they come, from the ``end`` it was given
        last, each with the ``partial`` rest of its complete lines, and for the whole text once it is over.
        """
        text = find(run_id).notes.text(first, last)[offset:]
        # markdown-it-py parses about a megabyte in seconds: on a thread, the loop keeps streaming meanwhile
        return await asyncio.to_thread(_answer, text, offset, settled)

    @routes.get("/runs/{run_id}/files")
    async def file(run_id: str, path: str = Query(description="the file's path in the workspace")) -> FileContent:
        """A file of the run's workspace as it is now; 404 if there is none at ``path``."""
        run = find(run_id)
        data = _read(run, path)
        if data is None:
            raise HTTPException(404, f"no file {path!r} in run {run_id}'s workspace")
        text = _decode(data[:FILE_LIMIT], cut=len(data) > FILE_LIMIT)
        return FileContent(
            path=path, size=len(data), text=None if text is None else redact(text), truncated=len(data) > FILE_LIMIT
        )

    @routes.get("/runs/{run_id}/calls/{call_id:path}")
    async def call(run_id: str, call_id: str) -> CallDetail:
        """A tool call's arguments and its whole result (the events carry only a preview); 404 if unknown."""
        run = find(run_id)
        started = run.notes.calls.get(call_id)
        if started is None:
            raise HTTPException(404, f"no tool call {call_id!r} in run {run_id}")
        finished = run.notes.results.get(call_id)
        if finished is None:
            return CallDetail(
                call_id=call_id,
                tool=started.tool,
                args=started.args,
                status="running",
                duration=None,
                size=None,
                result=None,
                truncated=False,
            )
        whole = run.session.tool_result(call_id) if run.session is not None else None
        if whole is not None:
            result, truncated = redact(whole[:RESULT_LIMIT]), len(whole) > RESULT_LIMIT
        else:  # an error or a retry has no result in the history: its event's text is what there is
            result, truncated = finished.preview, finished.size > len(finished.preview)
        return CallDetail(
            call_id=call_id,
            tool=started.tool,
            args=started.args,
            status=finished.outcome,
            duration=finished.duration,
            size=finished.size,
            result=result,
            truncated=truncated,
        )

    return routes


def _answer(text: str, offset: int, settled: bool) -> Answer:
    if not settled:
        return Answer(nodes=render(text), end=offset + len(text), utf16=_utf16(text))
    done = settled_end(text)
    lines = text[done : text.rfind("\n") + 1]
    return Answer(
        nodes=render(text[:done]),
        end=offset + done,
        utf16=_utf16(text[:done]),
        partial=render(lines),
        partial_utf16=_utf16(lines),
    )


def _utf16(text: str) -> int:
    """The length of ``text`` in a browser's strings."""
    return len(text.encode("utf-16-le")) // 2


def _read(run: Run, path: str) -> bytes | None:
    if run.session is None:
        return None
    try:
        return run.session.files.read_bytes(path) if run.session.files.is_file(path) else None
    except (OSError, ValueError):  # a name the backend refuses (a NUL byte), or content it did not write
        return None


def _decode(data: bytes, *, cut: bool) -> str | None:
    """``data`` as UTF-8 text, or None if it is binary; a character cut at the end of a cut file is dropped."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if cut and error.start >= len(data) - 3:
            return data[: error.start].decode("utf-8")
        return None
