"""A source of events made in the tests, to show that the views need nothing of deep-tui's own sources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from deep_tui.events import Event, RunFinished, RunStarted
from deep_tui.timeline import Timeline


class CannedSource:
    """An in-memory source: canned turns of events, canned files and results. Nothing in deep_tui knows it."""

    accepts_prompts = True
    timeline: Timeline | None = None
    label = "canned"

    def __init__(self, turns: list[list[Event]], files: dict[str, bytes], results: dict[str, str]) -> None:
        self.turns = list(turns)
        self.files = files
        self.results = results
        self.cancelled = False

    async def turn(self, prompt: str) -> AsyncIterator[Event]:
        for event in self.turns.pop(0):
            if self.cancelled:
                yield RunFinished(seq=event.seq, t=event.t, status="cancelled")
                return
            yield event.model_copy(update={"prompt": prompt}) if isinstance(event, RunStarted) else event

    def cancel(self) -> None:
        self.cancelled = True

    def steer(self, text: str) -> str | None:
        return None

    def follow_up(self, text: str) -> str | None:
        return None

    def approve(self, call_id: str, approve: bool, *, reason: str | None = None, args: dict | None = None) -> None:
        raise LookupError(call_id)

    @property
    def rules(self) -> list:
        return []

    def add_rule(self, tool: str, folder: str | None = None):
        raise LookupError(tool)

    def remove_rule(self, rule) -> None:
        pass

    def file(self, path: str, version: str | None = None) -> bytes | None:
        return self.files.get(version) if version is not None else None

    def result(self, call_id: str, task_id: str | None = None) -> str | None:
        return self.results.get(call_id) if task_id is None else None

    def report_problems(self, report) -> None:
        pass

    @property
    def problems(self) -> list[str]:
        return []

    def close(self) -> Path | None:
        return None
