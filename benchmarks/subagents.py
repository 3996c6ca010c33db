"""Subagents at scale: 20 subagents of 500 calls each, through the fold and the tool log.

    python benchmarks/subagents.py            # 20 subagents x 500 calls
    python benchmarks/subagents.py --agents 5 --calls 100 --rounds 3   # a quick look

The subagents run in the background, their calls interleaved (every call of one lands
in the middle of the log, under its ``task`` row, the worst case for insertion). It
measures:

- the run state: folding the stream, copying the final state (what a timeline keyframe
  costs), building a timeline's keyframes, and seeking;
- the tool log: feeding it the events as the dashboard does, ``show_calls`` to states
  a seek reaches, and keys sent through the terminal driver, each timed until the
  frame that shows it: cursor moves and folding or unfolding a subagent's 500 calls.
  The baseline is the same keys in a log of as many calls made by the main agent alone.

Figures are printed as a table and, with ``--json``, as one JSON object; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deep_tui.cli import cap_frame_rate  # noqa: E402
from deep_tui.events import (  # noqa: E402
    Event,
    Origin,
    RunFinished,
    RunStarted,
    SubagentFinished,
    SubagentStarted,
    ToolCallFinished,
    ToolCallStarted,
    Usage,
)

STARTED_AT = 1_790_000_000.0


def delegating_stream(agents: int, calls: int) -> list[Event]:
    """One turn: the main agent starts ``agents`` background subagents, which make ``calls`` calls each, in turn."""
    events: list[Event] = []
    t = 0.0

    def add(kind: type[Any], **fields: Any) -> None:
        nonlocal t
        t += 0.01
        events.append(kind(seq=len(events), t=round(t, 4), **fields))

    add(RunStarted, run_id="r", session_id="s", turn=1, prompt="delegate", agent="bench", started_at=STARTED_AT)
    origins = [Origin(task_id=f"t{n}", name=f"worker-{n}") for n in range(agents)]
    for n, origin in enumerate(origins):
        args = {"description": f"part {n}", "subagent_type": origin.name, "mode": "async"}
        add(ToolCallStarted, call_id=f"task{n}", tool="task", args=args)
        add(ToolCallFinished, call_id=f"task{n}", tool="task", outcome="success", duration=0.01)
        add(SubagentStarted, origin=origin, task_id=origin.task_id, name=origin.name, mode="async", call_id=f"task{n}")
    for c in range(calls):
        for origin in origins:
            args = {"path": f"/{origin.name}/f{c}.txt"}
            add(ToolCallStarted, origin=origin, call_id=f"c{c}", tool="read_file", args=args)
            add(ToolCallFinished, origin=origin, call_id=f"c{c}", tool="read_file", outcome="success", duration=0.005)
    for origin in origins:
        add(
            SubagentFinished,
            origin=origin,
            task_id=origin.task_id,
            name=origin.name,
            status="completed",
            duration=t,
            usage=Usage(requests=calls, input_tokens=100 * calls, output_tokens=10 * calls, tool_calls=calls),
        )
    add(RunFinished, status="completed", duration=t)
    return events


def flat_stream(calls: int) -> list[Event]:
    """The baseline: as many calls, all the main agent's."""
    events: list[Event] = [
        RunStarted(run_id="r", session_id="s", turn=1, prompt="alone", agent="bench", started_at=STARTED_AT)
    ]
    for c in range(calls):
        t = 0.01 * (c + 1)
        events.append(ToolCallStarted(seq=len(events), t=t, call_id=f"c{c}", tool="read_file", args={"path": f"/f{c}"}))
        events.append(ToolCallFinished(seq=len(events), t=t, call_id=f"c{c}", tool="read_file", outcome="success"))
    events.append(RunFinished(seq=len(events), t=0.01 * calls, status="completed"))
    return events


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


async def timed_key(app: Any, name: str, done: Callable[[], bool], give_up: float) -> float:
    """Seconds from ``name`` sent through the terminal driver, as a terminal sends it, until ``done()`` holds and
    the frame after it is painted."""
    from textual import events as textual_events

    shown = asyncio.Event()
    started = time.perf_counter()
    event = textual_events.Key(name, " " if name == "space" else None)
    event.set_sender(app)
    app._driver.send_message(event)
    while not done():
        if time.perf_counter() - started > give_up:
            raise RuntimeError(f"{name} was sent and nothing happened")
        await asyncio.sleep(0)
    app.call_after_refresh(shown.set)
    await shown.wait()
    return time.perf_counter() - started


def state_figures(events: list[Event], flat: list[Event]) -> dict[str, Any]:
    from deep_tui.state import fold
    from deep_tui.timeline import KEYFRAME_EVERY, Timeline

    figures: dict[str, Any] = {}
    for name, stream in (("delegating", events), ("flat", flat)):
        folds = timed(lambda stream=stream: fold(stream), 3)
        state = fold(stream)
        copies = timed(state.copy, 200)
        timeline = Timeline(stream)
        started = time.perf_counter()
        timeline.build()
        built = time.perf_counter() - started
        positions = random.Random(1).sample(range(len(stream) + 1), 200)
        seeks = [timed(lambda p=p, timeline=timeline: timeline.state_at(p), 1)[0] for p in positions]
        figures[name] = {
            "events": len(stream),
            "calls": len(state.calls),
            "fold_s": min(folds),
            "fold_per_event_us": min(folds) / len(stream) * 1e6,
            "copy_median_us": statistics.median(copies) * 1e6,
            "copy_p95_us": percentile(copies, 95) * 1e6,
            "keyframes": len(stream) // KEYFRAME_EVERY + 1,
            "timeline_build_s": built,
            "seek_p95_ms": percentile(seeks, 95) * 1e3,
        }
    return figures


async def log_figures(events: list[Event], rounds: int, baseline: bool) -> dict[str, Any]:
    """Feed the log, then time keys and seeks in it."""
    from textual.app import App, ComposeResult

    from deep_tui.state import fold
    from deep_tui.timeline import Timeline
    from deep_tui.widgets import ToolCallLog
    from deep_tui.widgets.tool_call_log import ToolCallRecord

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield ToolCallLog(id="calls")

    app = Bench()
    figures: dict[str, Any] = {}
    keys: dict[str, list[float]] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        log = app.query_one(ToolCallLog)
        started = time.perf_counter()
        for start in range(0, len(events), 500):
            for e in events[start : start + 500]:
                _feed(log, e)
            log.settle()
            await pilot.pause(0)
        figures["feed_per_event_us"] = (time.perf_counter() - started) / len(events) * 1e6
        log.focus()
        await pilot.pause()

        async def key(name: str, done: Callable[[], bool]) -> None:
            latency = await timed_key(app, name, done, give_up=5)
            keys.setdefault(name if name != "space" else "space (fold/unfold 500 calls)", []).append(latency)
            await asyncio.sleep(0.01)

        async def move(name: str) -> None:
            last, row = len(log.rows) - 1, log._cursor_row()
            target = {"down": row + 1, "up": row - 1, "pagedown": row + 10, "pageup": row - 10, "home": 0, "end": last}
            expected = min(max(target[name], 0), last)
            await key(name, lambda: log._cursor_row() == expected)

        tasks = [n for n, row in enumerate(log.rows) if isinstance(row, ToolCallRecord) and row.children is not None]
        rng = random.Random(7)
        for _ in range(rounds):
            if tasks and not baseline:
                row_index = rng.choice(tasks)
                log.cursor = row_index
                row = log.rows[row_index]
                await pilot.pause()
                await key("space", lambda row=row: not row.folded)
            else:
                log.cursor = rng.randrange(len(log.rows) // 2)
                await pilot.pause()
            for name in ["down"] * 10 + ["pagedown"] * 5 + ["pageup"] * 5 + ["up"] * 10:
                await move(name)
            if tasks and not baseline:
                log.cursor = log.rows.index(row)
                await pilot.pause()
                await key("space", lambda row=row: row.folded)
            await move("end")
            await move("home")

        state_positions = Timeline(events)
        positions = random.Random(3).sample(range(len(events) + 1), 40)
        seeks = []
        for position in positions:
            state = state_positions.state_at(position)
            started = time.perf_counter()
            log.show_calls(state.calls, state.turns, state.subagents)
            log.settle()
            seeks.append(time.perf_counter() - started)
        state = fold(events)
        steps = []
        for position in range(len(events) - 200, len(events) + 1, 10):  # playing: one step at a time
            state = state_positions.state_at(position)
            started = time.perf_counter()
            log.show_calls(state.calls, state.turns, state.subagents)
            steps.append(time.perf_counter() - started)
    figures["keys"] = {
        name: {"n": len(v), "p50_ms": percentile(v, 50) * 1e3, "p95_ms": percentile(v, 95) * 1e3}
        for name, v in keys.items()
    }
    figures["show_calls_seek_p95_ms"] = percentile(seeks, 95) * 1e3
    figures["show_calls_step_p95_ms"] = percentile(steps, 95) * 1e3
    figures["rows_shown"] = len(log.rows)
    return figures


class StreamSource:
    """One turn of canned events, as a live run would stream them: the dashboard's keys measured on real panes."""

    accepts_prompts = True
    timeline = None
    label = "bench"
    rules: list[Any] = []
    problems: list[str] = []

    def __init__(self, events: list[Event]) -> None:
        self.events = events

    async def turn(self, prompt: str) -> Any:
        for start in range(0, len(self.events), 500):  # a fast run: bursts, each a batch of the dashboard's
            for event in self.events[start : start + 500]:
                yield event
            await asyncio.sleep(0)

    def cancel(self) -> None:
        pass

    def steer(self, text: str) -> None:
        return None

    def follow_up(self, text: str) -> None:
        return None

    def approve(self, call_id: str, approve: bool, **decision: Any) -> None:
        raise LookupError(call_id)

    def add_rule(self, tool: str, folder: str | None = None) -> Any:
        raise LookupError(tool)

    def remove_rule(self, rule: Any) -> None:
        pass

    def file(self, path: str, version: str | None = None) -> None:
        return None

    def result(self, call_id: str, task_id: str | None = None) -> None:
        return None

    def report_problems(self, report: Any) -> None:
        pass

    def close(self) -> None:
        return None


async def dashboard_figures(events: list[Event], rounds: int, baseline: bool) -> dict[str, Any]:
    """Keys in the whole dashboard (every pane, the footer) once the run has been shown, each sent through the
    terminal driver and timed until the frame that shows it: focus changes, the tool log's cursor, folding a
    subagent's calls, and drilling into a subagent and back out."""

    from deep_tui.app import DeepTUI
    from deep_tui.widgets import TodoList, ToolCallLog
    from deep_tui.widgets.tool_call_log import ToolCallRecord

    app = DeepTUI(StreamSource(events), prompt="go")
    keys: dict[str, list[float]] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.dashboard
        for _ in range(600):
            if screen.status == "completed":
                break
            await pilot.pause(0.1)
        else:
            raise RuntimeError("the run was never shown to its end")
        log, todos = app.query_one(ToolCallLog), app.query_one(TodoList)
        await pilot.pause(0.3)

        async def key(name: str, done: Callable[[], bool], label: str | None = None) -> None:
            keys.setdefault(label or name, []).append(await timed_key(app, name, done, give_up=10))
            await asyncio.sleep(0.02)

        async def move(name: str) -> None:
            last, row = len(log.rows) - 1, log._cursor_row()
            target = {"down": row + 1, "up": row - 1, "pagedown": row + 10, "pageup": row - 10}
            expected = min(max(target[name], 0), last)
            await key(name, lambda: log._cursor_row() == expected, "tool log cursor (↑ ↓ PgUp PgDn)")

        rng = random.Random(7)
        for _ in range(rounds):
            await key("ctrl+t", lambda: app.focused is todos, "focus another pane (^t, ^l)")
            await key("ctrl+l", lambda: app.focused is log, "focus another pane (^t, ^l)")
            tasks = [n for n, row in enumerate(log.rows) if isinstance(row, ToolCallRecord) and row.children]
            log.cursor = rng.choice(tasks) if tasks and not baseline else rng.randrange(len(log.rows) // 2)
            await pilot.pause()
            row = log._cursor_row_object()
            for name in ["down"] * 3 + ["pagedown"] * 2 + ["pageup"] * 2 + ["up"] * 3:
                await move(name)
            if tasks and not baseline:
                log.cursor = log.rows.index(row)
                await pilot.pause()
                await key("space", lambda row=row: not row.folded, "fold or unfold 500 calls (space)")
                await key("space", lambda row=row: row.folded, "fold or unfold 500 calls (space)")
                task_id = row.subagent.task_id
                await key("enter", lambda t=task_id: screen.drilled == t, "drill into a subagent (enter)")
                await key("escape", lambda: screen.drilled is None, "back out (escape)")
                await pilot.pause()
                log.focus()
                await pilot.pause()
    every = [v for values in keys.values() for v in values]
    figures = {
        name: {
            "n": len(v),
            "p50_ms": percentile(v, 50) * 1e3,
            "p95_ms": percentile(v, 95) * 1e3,
            "p99_ms": percentile(v, 99) * 1e3,
        }
        for name, v in [*keys.items(), ("every key", every)]
    }
    return {"keys": figures}


def _feed(log: Any, e: Event) -> None:
    """What the dashboard does with each event."""
    if isinstance(e, RunStarted):
        log.turn_started(e.turn, e.prompt, e.started_at)
    elif isinstance(e, ToolCallStarted):
        log.call_started(e.call_id, e.tool, e.args, t=e.t, origin=e.origin)
    elif isinstance(e, ToolCallFinished):
        log.call_finished(e.call_id, e.outcome, e.duration, e.preview, e.size, e.traceback, origin=e.origin)
    elif isinstance(e, SubagentStarted):
        log.subagent_started(e.task_id, e.name, parent=e.parent, call_id=e.call_id)
    elif isinstance(e, SubagentFinished):
        log.subagent_finished(e.task_id, e.status)


def main() -> int:
    cap_frame_rate()  # before Textual is imported, as the deep-tui command does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    events = delegating_stream(options.agents, options.calls)
    flat = flat_stream(options.agents * options.calls)
    figures = {
        "state": state_figures(events, flat),
        "log": asyncio.run(log_figures(events, options.rounds, baseline=False)),
        "log_baseline": asyncio.run(log_figures(flat, options.rounds, baseline=True)),
        "dashboard": asyncio.run(dashboard_figures(events, options.rounds * 3, baseline=False)),
        "dashboard_baseline": asyncio.run(dashboard_figures(flat, options.rounds * 3, baseline=True)),
    }
    if options.json:
        print(json.dumps(figures, indent=2))
        return 0
    for name, part in figures["state"].items():
        print(
            f"state, {name}: {part['events']} events, {part['calls']} calls · fold {part['fold_s'] * 1e3:.0f} ms "
            f"({part['fold_per_event_us']:.1f} µs/event) · copy median {part['copy_median_us']:.0f} µs, "
            f"p95 {part['copy_p95_us']:.0f} µs · {part['keyframes']} keyframes built in "
            f"{part['timeline_build_s'] * 1e3:.0f} ms · seek p95 {part['seek_p95_ms']:.1f} ms"
        )
    for name in ("log", "log_baseline"):
        part = figures[name]
        print(
            f"{name}: feed {part['feed_per_event_us']:.0f} µs/event · show_calls seek p95 "
            f"{part['show_calls_seek_p95_ms']:.1f} ms, step p95 {part['show_calls_step_p95_ms']:.1f} ms"
        )
        for key_name, key_figures in part["keys"].items():
            print(f"  {key_name:<32} n={key_figures['n']:<4} p50 {key_figures['p50_ms']:6.1f} ms   p95 "
                  f"{key_figures['p95_ms']:6.1f} ms")  # fmt: skip
    for name in ("dashboard", "dashboard_baseline"):
        print(f"{name}: keys until their frame")
        for key_name, key_figures in figures[name]["keys"].items():
            print(f"  {key_name:<36} n={key_figures['n']:<4} p50 {key_figures['p50_ms']:6.1f} ms   "
                  f"p95 {key_figures['p95_ms']:6.1f} ms   p99 {key_figures['p99_ms']:6.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
