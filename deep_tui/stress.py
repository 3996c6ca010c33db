"""The stress agent: a scripted, offline load for benchmarks and for trying deep-tui on a long run.

``deep-tui --stress calls_per_turn=10,turns=200,answer=240000`` runs a real
pydantic-deep agent whose model makes ``turns`` responses of ``calls_per_turn``
parallel tool calls (writing ``files`` files, then reading them back), and then
streams an answer of ``answer`` characters in ``delta``-character pieces, whose
first paragraph is ``paragraph`` characters long. ``rate`` paces the answer in
deltas per second; 0 (the default) streams with no delays at all.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, fields
from typing import Any

from pydantic_ai.messages import ModelMessage, ModelResponse
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda sigma omega".split()


@dataclass(frozen=True)
class StressConfig:
    """The load; every field can be set as ``name=value`` in ``--stress``."""

    turns: int = 200
    """Model responses that call tools."""
    calls_per_turn: int = 10
    """Parallel tool calls in each of those responses."""
    files: int = 100
    """Distinct files written; the remaining calls read them back."""
    answer: int = 240_000
    """Characters of the final answer."""
    paragraph: int = 120_000
    """Characters of the answer's first paragraph (one paragraph, no blank line)."""
    delta: int = 4
    """Characters per streamed text delta."""
    rate: float = 0.0
    """Text deltas per second; 0 streams as fast as the machine allows."""

    @classmethod
    def parse(cls, spec: str) -> StressConfig:
        """``"turns=10,answer=5000"`` into a config; unknown names and bad values raise ValueError."""
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, value = item.partition("=")
            if not sep or name not in known:
                raise ValueError(f"unknown stress option {item!r}; known: {', '.join(known)}")
            try:
                values[name] = float(value) if name == "rate" else int(value)
            except ValueError:
                raise ValueError(f"stress option {name} needs a number, got {value!r}") from None
            if values[name] < 0 or (name == "delta" and values[name] == 0):
                raise ValueError(f"stress option {name} must be positive, got {value}")
        return cls(**values)

    @property
    def calls(self) -> int:
        return self.turns * self.calls_per_turn


def answer_text(config: StressConfig) -> str:
    """The answer: one long paragraph, then short ones, ``config.answer`` characters in all."""
    words = itertools.cycle(WORDS)
    long_paragraph = _prose(words, min(config.paragraph, config.answer))
    parts = [long_paragraph]
    size = len(long_paragraph)
    while size < config.answer:
        paragraph = "\n\n" + _prose(words, min(300, config.answer - size - 2))
        parts.append(paragraph)
        size += len(paragraph)
    return "".join(parts)[: config.answer]


def _prose(words: itertools.cycle[str], length: int) -> str:
    pieces: list[str] = []
    size = 0
    while size < length:
        word = next(words)
        pieces.append(word)
        size += len(word) + 1
    return " ".join(pieces)[:length]


def stress_model(config: StressConfig) -> FunctionModel:
    """The scripted model that plays the load."""
    text = answer_text(config)

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        del info
        step = sum(isinstance(m, ModelResponse) for m in messages)
        if step < config.turns:
            for index in range(config.calls_per_turn):
                call = step * config.calls_per_turn + index
                yield {index: DeltaToolCall(*_call(call, config), tool_call_id=f"s{call}")}
            return
        pause = 50 / config.rate if config.rate else 0.0
        for n, start in enumerate(range(0, len(text), config.delta)):
            if pause and n % 50 == 49:
                await asyncio.sleep(pause)
            yield text[start : start + config.delta]

    return FunctionModel(stream_function=stream, model_name="stress")


def _call(call: int, config: StressConfig) -> tuple[str, str]:
    index = call % max(config.files, 1)
    path = f"/stress/d{index % 20}/f{index}.txt"
    if call < config.files:
        return "write_file", json.dumps({"path": path, "content": f"file {call}\n" * 3})
    if config.files:
        return "read_file", json.dumps({"path": path})
    return "read_todos", "{}"
