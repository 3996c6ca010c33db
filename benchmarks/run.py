"""deep-tui's benchmark: every figure beside a baseline measured in the same run.

    python benchmarks/run.py            # the full run, about five minutes
    python benchmarks/run.py --quick    # scaled down, to check that it works
    python benchmarks/run.py --only search   # one step alone

Each measurement runs in a fresh child process (``run.py child NAME PARAMS``) so
that one cannot warm or bloat the next; with ``--quick``, whose figures mean nothing,
all but peak RSS share one child (``run.py children``). The dashboard runs headless under
``App.run_test``: Textual still lays out and renders every frame through its
compositor and skips only the final write to a terminal. The first-frame times
are taken in a real terminal (tmux). The table goes to stdout and, with
``--write``, to docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import os
import platform
import random
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from deep_tui.cli import cap_frame_rate

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = (
    "from textual.app import App\nfrom textual.widgets import Static\n"
    "class Bare(App):\n    def compose(self):\n        yield Static('BARE-READY')\nBare().run()\n"
)


@dataclass
class Row:
    """One line of the table: a figure, its baseline, and the budget it is held to."""

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    budget: str
    passed: bool | None

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


# Children: each prints one JSON object -------------------------------------------------------------


def child(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in this process."""
    os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")
    return asyncio.run(CHILDREN[name](**params))


async def raw_run(stress: str) -> dict[str, Any]:
    """The stress agent iterated with pydantic-ai alone: no deep-tui at all."""
    from pydantic_ai import Agent
    from pydantic_deep import DeepAgentDeps

    from deep_tui.agents import build_deep_agent
    from deep_tui.runner import USAGE_LIMITS
    from deep_tui.stress import StressConfig, stress_model

    agent = build_deep_agent(stress_model(StressConfig.parse(stress)))
    started = time.perf_counter()
    async with agent.iter("go", deps=DeepAgentDeps(), usage_limits=USAGE_LIMITS) as run:
        async for node in run:
            if Agent.is_model_request_node(node) or Agent.is_call_tools_node(node):
                async with node.stream(run.ctx) as stream:
                    async for _ in stream:
                        pass
    return {"seconds": time.perf_counter() - started}


async def dashboard_run(stress: str, key_probe: bool = False, after_keys: int = 60) -> dict[str, Any]:
    """The stress agent in the dashboard, until the app has shown its RunFinished.

    With ``key_probe``, a key is typed into the prompt every 50 ms during the run
    and its latency measured; after the run, ``after_keys`` more keys are measured.
    """
    from deep_tui.app import DeepTUI
    from deep_tui.source import Live
    from deep_tui.spec import AgentSpec

    app = DeepTUI(Live(AgentSpec(stress=stress)))
    during: list[float] = []
    after: list[float] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await _until(pilot, lambda: app.source is not None)
        started = time.perf_counter()
        app._start("go")
        if key_probe:
            while app.running:  # from the prompt sent until its run_finished is shown
                during.append(await _key_latency(app))
                await asyncio.sleep(0.05)
        await _until(pilot, lambda: app.dashboard.status == "completed", seconds=600)
        seconds = time.perf_counter() - started
        if key_probe:
            for _ in range(after_keys):
                after.append(await _key_latency(app))
                await asyncio.sleep(0.02)
        rows = len(app.query_one("#calls").records)
    return {
        "seconds": seconds,
        "during": during,
        "after": after,
        "rows": rows,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


async def headless_run(stress: str) -> dict[str, Any]:
    """``deep-tui run --json`` on the stress agent, timed by its own RunFinished."""
    done = subprocess.run(
        [sys.executable, "-m", "deep_tui", "run", "--json", "--stress", stress, "go"],
        capture_output=True,
        text=True,
        check=False,
    )
    last = json.loads(done.stdout.splitlines()[-1])
    return {"seconds": last["duration"], "status": last["status"]}


async def idle_keys(n: int = 60) -> dict[str, Any]:
    """Key latency in an idle dashboard: the baseline for keys typed during and after runs."""
    from deep_tui.app import DeepTUI
    from deep_tui.source import Live
    from deep_tui.spec import AgentSpec

    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    latencies = []
    async with app.run_test(size=(160, 48)) as pilot:
        await _until(pilot, lambda: app.source is not None)
        for _ in range(n):
            latencies.append(await _key_latency(app))
            await asyncio.sleep(0.02)
    return {"latencies": latencies, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


async def _key_latency(app: Any) -> float:
    """Seconds from a key arriving from the terminal driver to the frame that shows it."""
    from textual import events
    from textual.widgets import Input

    prompt = app.query_one("#prompt", Input)
    if app.focused is not prompt:
        prompt.focus()
        await asyncio.sleep(0.01)
    if len(prompt.value) > 40:
        prompt.value = ""
        await asyncio.sleep(0.01)
    expected = prompt.value + "x"
    shown = asyncio.Event()
    started = time.perf_counter()
    key = events.Key("x", "x")
    key.set_sender(app)
    app._driver.send_message(key)
    while prompt.value != expected:
        await asyncio.sleep(0)
    app.call_after_refresh(shown.set)
    await shown.wait()
    return time.perf_counter() - started


SEARCHES = {"output": "sigma omegaz", "calls": "d7/f127x"}
"""What is typed into each pane's search: a query that matches on every screen, then a character that
matches nothing; and then erased, a character at a time (a shorter query has to scan every line again)."""


async def search_keys(calls: int, chars: int, rounds: int) -> dict[str, Any]:
    """Keystroke latency of search after ``calls`` tool calls and ``chars`` of output.

    The log and the output are filled through the app's event handler, the run is
    finished, then each pane is focused with its key and its query is typed after
    ``/`` and erased, ``rounds`` times, each key sent through the terminal driver
    and timed until the frame that shows its matches. The baseline of the typing is
    the same keys typed into the prompt of the same dashboard; that of ``/`` is the
    key that focused the pane (both move the focus, which redraws the footer).
    """
    from textual import events
    from textual.widgets import Input

    from deep_tui.app import DeepTUI
    from deep_tui.events import RunFinished, RunStarted, TextDelta, ToolCallFinished, ToolCallStarted
    from deep_tui.source import Live
    from deep_tui.spec import AgentSpec
    from deep_tui.stress import StressConfig, answer_text

    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    latencies: dict[str, list[float]] = {"output": [], "calls": [], "prompt": []}
    opened: dict[str, float] = {}
    focused: dict[str, float] = {}
    async with app.run_test(size=(160, 48)) as pilot:
        await _until(pilot, lambda: app.source is not None)
        app._show([RunStarted(run_id="b", session_id="b", turn=1, prompt="search", agent="bench")])
        for start in range(0, calls, 1000):
            batch: list[Any] = []
            for n in range(start, min(start + 1000, calls)):
                args = {"path": f"/stress/d{n % 20}/f{n}.txt"}
                batch.append(ToolCallStarted(call_id=f"s{n}", tool="read_file", args=args))
                batch.append(ToolCallFinished(call_id=f"s{n}", tool="read_file", outcome="success", duration=0.001))
            app._show(batch)
            await pilot.pause(0)
        text = answer_text(StressConfig(answer=chars, paragraph=50_000))
        for start in range(0, len(text), 64_000):
            app._show([TextDelta(text=text[start : start + 64_000])])
            await pilot.pause(0)
        app._show([RunFinished(status="completed")])
        await pilot.pause()
        lines = len(app.query_one("#output").plain_text.splitlines())

        async def key(name: str, char: str | None, done: Callable[[], bool]) -> float:
            shown = asyncio.Event()
            started = time.perf_counter()
            event = events.Key(name, char)
            event.set_sender(app)
            app._driver.send_message(event)
            while not done():
                await asyncio.sleep(0)
            app.call_after_refresh(shown.set)
            await shown.wait()
            return time.perf_counter() - started

        app.query_one("#prompt").focus()
        await pilot.pause()
        for pane, focus_key in (("output", "ctrl+o"), ("calls", "ctrl+l"), ("prompt", "ctrl+n")):
            widget = app.query_one(f"#{pane}")
            focused[pane] = await key(focus_key, None, lambda w=widget: app.focused is w)
            await pilot.pause()
            if pane != "prompt":
                opened[pane] = await key("slash", "/", lambda: getattr(app.focused, "id", "") == "search-input")
                await pilot.pause()  # the footer redraws after the focus moved: not a part of the first key
            field = app.focused if pane != "prompt" else app.query_one("#prompt", Input)  # the pane's search bar
            searched = widget if pane != "prompt" else None
            for _ in range(rounds):
                for name, char, typed in _typing(SEARCHES.get(pane, SEARCHES["output"])):
                    latencies[pane].append(await key(name, char, partial(_shows, field, searched, typed)))
                    await asyncio.sleep(0.02)
            if pane != "prompt":
                await key("escape", None, lambda f=field: not f.has_focus)
        rows = len(app.query_one("#calls").records)
    return {"latencies": latencies, "opened": opened, "focused": focused, "lines": lines, "rows": rows}


def _typing(query: str) -> list[tuple[str, str | None, str]]:
    """The keys that type ``query`` and erase it again: (key, character, the text after it)."""
    steps = [("space" if char == " " else char, char, query[: n + 1]) for n, char in enumerate(query)]
    return steps + [("backspace", None, query[:n]) for n in reversed(range(len(query)))]


def _shows(field: Any, searched: Any, typed: str) -> bool:
    """Whether ``field`` holds ``typed`` and the pane searched (if any) has searched for it."""
    return field.value == typed and (searched is None or searched.search.query == typed)


async def output_throughput(
    chars: int, paragraph: int, baseline_markdown: bool = False, cap_seconds: float = 20.0
) -> dict[str, Any]:
    """Text deltas of 4 characters through the dashboard's event path, with a frame painted per chunk.

    Chunks of ``CHUNK`` deltas go to the app's event handler, as a burst does in a
    run, and each is followed by a painted frame; the rate is deltas over the time
    spent handling and painting them, so a pane whose cost grows with the answer
    shows as a falling rate from the first tenth to the last. With
    ``baseline_markdown`` the same text goes instead to Textual's own ``Markdown``
    widget through ``MarkdownStream``, delta by delta as it is meant to be used,
    capped in time.
    """
    from deep_tui.stress import StressConfig, answer_text

    text = answer_text(StressConfig(answer=chars, paragraph=paragraph))
    deltas = [text[i : i + 4] for i in range(0, len(text), 4)]
    if baseline_markdown:
        return await _markdown_throughput(deltas, cap_seconds)
    from deep_tui.app import DeepTUI
    from deep_tui.events import RunStarted, TextDelta
    from deep_tui.source import Live
    from deep_tui.spec import AgentSpec

    app = DeepTUI(Live(AgentSpec(demo_speed=0)))
    absorbed: list[tuple[float, float]] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await _until(pilot, lambda: app.source is not None)
        app._show([RunStarted(run_id="b", session_id="b", turn=1, prompt="throughput", agent="bench")])
        spent = 0.0
        for start in range(0, len(deltas), CHUNK):
            events = [TextDelta(seq=start + n, text=d) for n, d in enumerate(deltas[start : start + CHUNK])]
            began = time.perf_counter()
            app._show(events)
            await pilot.pause(0)  # paints the frame now
            spent += time.perf_counter() - began
            absorbed.append((spent, start + len(events)))
    return _rates(0.0, absorbed, len(deltas))


CHUNK = 256
"""Deltas handled per frame: a model streaming at 4,000 deltas/s, painted 15 times a second."""


async def _markdown_throughput(deltas: list[str], cap_seconds: float) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from textual.widgets import Markdown

    class Baseline(App[None]):
        def compose(self) -> ComposeResult:
            with VerticalScroll():
                yield Markdown()

    app = Baseline()
    absorbed: list[tuple[float, int]] = []
    async with app.run_test(size=(160, 48)):
        markdown = app.query_one(Markdown)
        stream = Markdown.get_stream(markdown)
        started = time.perf_counter()
        for n, delta in enumerate(deltas, 1):
            await stream.write(delta)
            absorbed.append((time.perf_counter(), n))
            if time.perf_counter() - started > cap_seconds:
                break
        await stream.stop()
    return _rates(started, absorbed, len(absorbed))


def _rates(started: float, absorbed: list[tuple[float, float]], total: int) -> dict[str, Any]:
    """Overall deltas/s and the rates over the first and last tenth of the deltas.

    Deltas arrive in batches, so the time a given delta was drawn is interpolated
    between the batches around it.
    """
    points = [(started, 0), *absorbed]

    def time_at(n: int) -> float:
        for (t0, c0), (t1, c1) in zip(points, points[1:], strict=False):
            if c1 >= n:
                return t0 + (t1 - t0) * (n - c0) / max(c1 - c0, 1)
        return points[-1][0]

    tenth = max(total // 10, 1)
    end = points[-1][0]
    first = tenth / max(time_at(tenth) - started, 1e-9)
    last = tenth / max(end - time_at(total - tenth), 1e-9)
    return {"rate": total / (end - started), "first": first, "last": last, "deltas": total}


async def cancels(n: int, raw: bool) -> dict[str, Any]:
    """Escape-to-stopped latency at random points of a paced stress run (or, raw, task.cancel())."""
    rng = random.Random(7)
    stress = "turns=40,calls_per_turn=5,files=20,answer=400000,paragraph=50000,rate=5000"
    latencies: list[float] = []
    if raw:
        from pydantic_ai import Agent
        from pydantic_deep import DeepAgentDeps

        from deep_tui.agents import build_deep_agent
        from deep_tui.stress import StressConfig, stress_model

        for _ in range(n):
            agent = build_deep_agent(stress_model(StressConfig.parse(stress)))

            async def drive(agent: Any = agent) -> None:
                async with agent.iter("go", deps=DeepAgentDeps()) as run:
                    async for node in run:
                        if Agent.is_model_request_node(node) or Agent.is_call_tools_node(node):
                            async with node.stream(run.ctx) as events:
                                async for _ in events:
                                    pass

            task = asyncio.create_task(drive())
            await asyncio.sleep(rng.uniform(0.1, 1.5))
            started = time.perf_counter()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            latencies.append(time.perf_counter() - started)
        return {"latencies": latencies}
    from textual import events as textual_events

    from deep_tui.app import DeepTUI
    from deep_tui.source import Live
    from deep_tui.spec import AgentSpec

    app = DeepTUI(Live(AgentSpec(stress=stress)))
    async with app.run_test(size=(160, 48)) as pilot:
        await _until(pilot, lambda: app.source is not None)
        for _ in range(n):
            app._start("go")
            await asyncio.sleep(rng.uniform(0.1, 1.5))
            shown = asyncio.Event()
            started = time.perf_counter()
            key = textual_events.Key("escape", None)
            key.set_sender(app)
            app._driver.send_message(key)
            while app.dashboard.status != "cancelled":
                await asyncio.sleep(0)
            app.call_after_refresh(shown.set)
            await shown.wait()
            latencies.append(time.perf_counter() - started)
            await pilot.pause()
    return {"latencies": latencies}


async def approvals(n: int, raw: bool) -> dict[str, Any]:
    """Seconds from ``y`` on the approval screen to the approved tool running (or, raw, from ``Session.approve``)."""
    from deep_tui.agents import open_session
    from deep_tui.app import DeepTUI
    from deep_tui.screens.approval import ApprovalScreen
    from deep_tui.source import Live
    from deep_tui.spec import AgentSpec

    agent_file = ROOT / "benchmarks" / "approval_agent.py"
    spec = AgentSpec(agent=f"{agent_file}:build", approve="mark", save=False)
    latencies: list[float] = []

    def ran() -> list[float]:  # the agent's module, as deep-tui imported it
        module = next(m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == str(agent_file))
        return module.RAN

    if raw:
        session = open_session(spec)
        for _ in range(n):
            asked = asyncio.Event()

            def sink(event: Any, asked: asyncio.Event = asked) -> None:
                if event.type == "approval_requested":
                    asked.set()

            turn = asyncio.create_task(session.run("go", sink))
            await asked.wait()
            await asyncio.sleep(0.01)
            before = len(ran())
            started = time.perf_counter()
            session.approve(session.approvals.waiting()[0].call_id, True)
            while len(ran()) == before:
                await asyncio.sleep(0)
            latencies.append(ran()[-1] - started)
            await turn
        return {"latencies": latencies}
    from textual import events as textual_events

    app = DeepTUI(Live(spec))
    async with app.run_test(size=(160, 48)) as pilot:
        await _until(pilot, lambda: app.source is not None)
        for _ in range(n):
            app._start("go")
            await _until(pilot, lambda: isinstance(app.screen, ApprovalScreen))
            painted = asyncio.Event()
            app.call_after_refresh(painted.set)
            await painted.wait()  # the call is on screen: a person could only now press y
            await asyncio.sleep(0.05)
            before = len(ran())
            key = textual_events.Key("y", "y")
            key.set_sender(app)
            started = time.perf_counter()
            app._driver.send_message(key)
            while len(ran()) == before:
                await asyncio.sleep(0)
            latencies.append(ran()[-1] - started)
            await _until(pilot, lambda: app.dashboard.status == "completed")
    return {"latencies": latencies}


async def rss(stress: str | None) -> dict[str, Any]:
    """Peak RSS of the dashboard after a stress run (or of an idle bare Textual app)."""
    if stress is None:
        from textual.app import App, ComposeResult
        from textual.widgets import Static

        class Bare(App[None]):
            def compose(self) -> ComposeResult:
                yield Static("bare")

        async with Bare().run_test(size=(160, 48)) as pilot:
            await pilot.pause(0.5)
        return {"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    result = await dashboard_run(stress)
    return {"rss_mb": result["rss_mb"], "seconds": result["seconds"], "rows": result["rows"]}


async def terminal_text(chars: int) -> dict[str, Any]:
    """``visible`` on text with no controls and on text with one in eight, beside a plain ``str.translate`` of the
    same table (what the docs suggest, and slow as soon as the text is not ASCII). Best of five."""
    import timeit

    from deep_tui.terminal_text import PICTURES, visible

    table = str.maketrans(PICTURES)
    texts = {
        "clean": ("Plain prose — with ünïcode ✓ and code,\n\tindented.\n" * (chars // 40 + 1))[:chars],
        "hostile": ("text \x1b[2J \x1b]0;t\x07 \x9b2J\n" * (chars // 24 + 1))[:chars],
    }
    return {
        name: {
            "ours": min(timeit.repeat(lambda text=text: visible(text), number=1, repeat=5)),
            "translate": min(timeit.repeat(lambda text=text: text.translate(table), number=1, repeat=5)),
        }
        for name, text in texts.items()
    }


CHILDREN: dict[str, Callable[..., Any]] = {
    "raw_run": raw_run,
    "dashboard_run": dashboard_run,
    "headless_run": headless_run,
    "idle_keys": idle_keys,
    "output_throughput": output_throughput,
    "terminal_text": terminal_text,
    "search_keys": search_keys,
    "cancels": cancels,
    "approvals": approvals,
    "rss": rss,
}


async def _until(pilot: Any, condition: Callable[[], bool], seconds: float = 60) -> None:
    """Wait for ``condition`` without ``pilot.pause``, which forces a repaint on every call."""
    del pilot
    deadline = time.perf_counter() + seconds
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step did not finish")
        await asyncio.sleep(0.01)


# The parent: run the children, build the table ------------------------------------------------------


def run_child(name: str, **params: Any) -> dict[str, Any]:
    """Run one measurement in a fresh process; sessions are saved, as by default, but to a scratch directory."""
    with tempfile.TemporaryDirectory(prefix="deep-tui-bench-") as home:
        done = subprocess.run(
            [sys.executable, __file__, "child", name, json.dumps(params)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
            env={**os.environ, "DEEP_TUI_HOME": home},
        )
    if done.returncode != 0:
        raise RuntimeError(f"child {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


RunChild = Callable[..., dict[str, Any]]
RESULT = "result: "
"""How the shared child marks its answer line among whatever else a measurement prints."""


class SharedChild:
    """One child process (``SCRIPT children``) that takes the measurements one after another.

    For ``--quick`` only, whose figures are not compared: a fresh process per measurement would
    spend most of the quick run starting Python and importing pydantic-ai again for every row.
    ``script`` is the benchmark whose ``children`` command serves them (``serve_children``), and
    ``home`` the child's ``DEEP_TUI_HOME`` (by default, a directory of its own).
    """

    def __init__(self, script: str = __file__, home: str | None = None) -> None:
        self._script = script
        self._home = tempfile.TemporaryDirectory(prefix="deep-tui-bench-") if home is None else None
        self._home_path = home if self._home is None else self._home.name

    def __enter__(self) -> SharedChild:
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(
            [sys.executable, self._script, "children"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=ROOT,
            env={**os.environ, "DEEP_TUI_HOME": self._home_path, "PYDANTIC_AI_NO_BANNER": "1"},
        )
        return self

    def __call__(self, name: str, **params: Any) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps([name, params]) + "\n")
        self._process.stdin.flush()
        for line in self._process.stdout:
            if line.startswith(RESULT):
                answer = json.loads(line[len(RESULT) :])
                if "failed" not in answer:
                    return answer["result"]
                raise RuntimeError(f"child {name} failed:\n{answer['failed'][-3000:]}")
        self._stderr.seek(0)
        raise RuntimeError(f"child {name} failed:\n{self._stderr.read()[-3000:]}")

    def __exit__(self, *exc: object) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        finally:
            self._process.kill()
            self._stderr.close()
            if self._home is not None:
                self._home.cleanup()


def serve_children(measure: Callable[[str, dict[str, Any]], dict[str, Any]] = child) -> None:
    """The shared child: one ``[name, params]`` line in, ``measure(name, params)``'s line out, until stdin ends."""
    import traceback

    for line in sys.stdin:
        name, params = json.loads(line)
        try:
            answer: dict[str, Any] = {"result": measure(name, params)}
        except Exception:
            answer = {"failed": traceback.format_exc()}
        print(RESULT + json.dumps(answer), flush=True)


def first_frames(
    commands: dict[str, tuple[str, tuple[str, ...]]], runs: int, home: str | None = None
) -> dict[str, float]:
    """Median seconds from starting each command in a real terminal (tmux) until all its markers are on screen
    (with ``home``, its ``DEEP_TUI_HOME``).

    The commands take turns, run by run, so that a busy moment of the machine
    falls on all of them alike.
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="deeptui-tmux-") as sockets:
        for n in range(runs):
            for name, (command, markers) in commands.items():
                session = f"{name}-{n}"
                # A tmux server per run, as a shared one that exits with its last session can refuse the next.
                tmux = ["tmux", "-S", os.path.join(sockets, session)]
                started = time.perf_counter()
                # The pane must size itself from tmux, not from a size in the environment.
                at_home = f"export DEEP_TUI_HOME={shlex.quote(home)}; " if home is not None else ""
                pane = f"unset COLUMNS LINES; cd {ROOT}; {at_home}exec {command}"
                subprocess.run([*tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", pane], check=True)
                try:
                    _until_shown(tmux, session, markers, started)
                    times[name].append(time.perf_counter() - started)
                finally:
                    subprocess.run([*tmux, "kill-server"], check=False)
                time.sleep(0.3)
    return {name: statistics.median(values) for name, values in times.items()}


def _until_shown(tmux: list[str], session: str, markers: tuple[str, ...], started: float) -> None:
    while True:
        shown = subprocess.run([*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
        if all(marker in shown for marker in markers):
            return
        if time.perf_counter() - started > 30:
            raise TimeoutError(f"{markers!r} never all appeared; the screen:\n{shown}")
        time.sleep(0.005)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(q / 100 * (len(ordered) - 1))), len(ordered) - 1)]


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is: the issue's sizes, or small ones that only check the benchmark runs."""

    frame_runs: int
    long_runs: int
    calls: int
    deltas: int
    answer: int
    paragraph: int
    markdown_cap: float
    idle_keys: int
    after_keys: int
    streaming: str
    many_calls: str
    cancels: int
    big: str
    big_label: str
    search_calls: int
    search_chars: int
    search_rounds: int
    text_chars: int
    rss_apart: bool
    """Peak RSS in a fresh process each (a process's peak means nothing in a shared one)."""


FULL = Sizes(
    frame_runs=11, long_runs=3, calls=2000, deltas=60_000, answer=320_000, paragraph=50_000, markdown_cap=20,
    idle_keys=100, after_keys=60,
    streaming="turns=0,answer=480000,paragraph=20000,rate=5000",
    many_calls="turns=1000,calls_per_turn=10,files=200,answer=4000",
    cancels=20,
    big="turns=1000,calls_per_turn=10,files=5000,answer=1000000,paragraph=50000",
    big_label="1 MB output, 5,000 files",
    search_calls=10_000, search_chars=1_000_000, search_rounds=3, text_chars=1_000_000, rss_apart=True,
)  # fmt: skip
QUICK = Sizes(
    frame_runs=1, long_runs=1, calls=20, deltas=250, answer=2_000, paragraph=500, markdown_cap=0.5, idle_keys=5,
    after_keys=5,
    streaming="turns=0,answer=2000,paragraph=500,rate=5000",
    many_calls="turns=2,calls_per_turn=10,files=10,answer=400",
    cancels=2,
    big="turns=2,calls_per_turn=10,files=10,answer=2000,paragraph=500",
    big_label="2 KB output, 10 files",
    search_calls=200, search_chars=20_000, search_rounds=1, text_chars=20_000, rss_apart=False,
)  # fmt: skip


def measure(size: Sizes, run: RunChild = run_child) -> list[Row]:
    rows: list[Row] = []
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    if shutil.which("tmux"):
        say("first frame (tmux)…")
        # As a regular `pip install` leaves it: without bytecode (an editable install with
        # PYTHONDONTWRITEBYTECODE=1, as on this machine) every start would compile deep-tui's source again.
        compileall.compile_dir(ROOT / "deep_tui", quiet=1)
        bare_script = ROOT / "benchmarks" / ".bare_app.py"
        bare_script.write_text(BARE_APP)
        try:
            frames = first_frames(
                {"bare": (f"{sys.executable} {bare_script}", ("BARE-READY",)),
                 "ours": (f"{sys.executable} -m deep_tui", ("deep-tui ·",))},
                runs=size.frame_runs,
            )  # fmt: skip
        finally:
            bare_script.unlink()
        bare, ours = frames["bare"], frames["ours"]
        rows.append(Row("first frame, deep-tui", ours, "s", "bare Textual app", bare, "≤ 1.3×", ours <= 1.3 * bare))
    else:
        say("tmux not found: first-frame times skipped")

    calls, deltas = size.calls, size.deltas
    stress = f"turns={calls // 10},calls_per_turn=10,files=100,answer={deltas * 4},paragraph={deltas * 2},delta=4"
    say(f"{calls} tool calls and {deltas} deltas: raw, headless, dashboard, {size.long_runs} times each…")
    timings: dict[str, list[float]] = {"raw": [], "headless": [], "dashboard": []}
    for _ in range(size.long_runs):  # in turns, so that a busy spell of the machine falls on all three
        timings["raw"].append(run("raw_run", stress=stress)["seconds"])
        timings["headless"].append(run("headless_run", stress=stress)["seconds"])
        timings["dashboard"].append(run("dashboard_run", stress=stress)["seconds"])
    raw, headless, dashboard = (statistics.median(timings[k]) for k in ("raw", "headless", "dashboard"))
    rows.append(Row(f"{calls}-call run, headless --json (median)", headless, "s", "pydantic-ai alone", raw, "–",
                    None))  # fmt: skip
    rows.append(Row(f"{calls}-call run, dashboard (median)", dashboard, "s", "headless --json", headless, "≤ 1.2×",
                    dashboard <= 1.2 * headless))  # fmt: skip

    say("output throughput…")
    for label, chars, paragraph in (
        (f"{size.answer:,}-char answer", size.answer, 4_000),
        (f"{size.paragraph:,}-char paragraph", size.paragraph, size.paragraph),
    ):
        ours = run("output_throughput", chars=chars, paragraph=paragraph)
        base = run("output_throughput", chars=chars, paragraph=paragraph, baseline_markdown=True,
                         cap_seconds=size.markdown_cap)  # fmt: skip
        rows.append(Row(f"output, {label}: deltas/s", ours["rate"], "/s", "Textual MarkdownStream", base["rate"],
                        "≥ 10,000/s", ours["rate"] >= 10_000))  # fmt: skip
        rows.append(Row(f"output, {label}: last/first decile", ours["last"] / ours["first"], "", "MarkdownStream",
                        base["last"] / base["first"], "≥ 0.8", ours["last"] >= 0.8 * ours["first"]))  # fmt: skip

    say("key latency…")
    idle = run("idle_keys", n=size.idle_keys)["latencies"]
    streaming = run("dashboard_run", stress=size.streaming, key_probe=True, after_keys=size.after_keys)
    many_calls = run("dashboard_run", stress=size.many_calls, key_probe=True, after_keys=size.after_keys)
    for label, values in (
        ("while streaming 5,000 deltas/s", streaming["during"]),
        (f"after {many_calls['rows']:,} tool calls", many_calls["after"]),
    ):
        p99 = percentile(values, 99)
        rows.append(Row(f"key p50, {label}", percentile(values, 50), "s", "idle p50", percentile(idle, 50), "–", None))
        rows.append(Row(f"key p99, {label}", p99, "s", "idle p99", percentile(idle, 99), "≤ 50 ms", p99 <= 0.05))

    rows.extend(measure_search(size, run))

    say("cancel latency…")
    n = size.cancels
    ours_cancel = run("cancels", n=n, raw=False)["latencies"]
    raw_cancel = run("cancels", n=n, raw=True)["latencies"]
    rows.append(Row(f"Escape→cancelled p50 ({n} cancels)", percentile(ours_cancel, 50), "s",
                    "task.cancel() of pydantic-ai alone, p50", percentile(raw_cancel, 50), "–", None))  # fmt: skip
    p95 = percentile(ours_cancel, 95)
    rows.append(Row(f"Escape→cancelled p95 ({n} cancels)", p95, "s", "task.cancel() alone, p95",
                    percentile(raw_cancel, 95), "≤ 100 ms", p95 <= 0.1))  # fmt: skip

    say("approval latency…")
    ours_approve = run("approvals", n=n, raw=False)["latencies"]
    raw_approve = run("approvals", n=n, raw=True)["latencies"]
    p95 = percentile(ours_approve, 95)
    rows.append(Row(f"y→approved tool running p95 ({n} calls)", p95, "s", "Session.approve()→tool, p95",
                    percentile(raw_approve, 95), "≤ 100 ms", p95 <= 0.1))  # fmt: skip

    say("peak RSS…")
    rss = run_child if size.rss_apart else run
    bare_rss = rss("rss", stress=None)["rss_mb"]
    peak = rss("rss", stress=size.big)
    rows.append(Row(f"peak RSS, {peak['rows']:,} calls, {size.big_label}", peak["rss_mb"], "MB", "bare Textual app",
                    bare_rss, "≤ 250 MB", peak["rss_mb"] <= 250))  # fmt: skip

    say("terminal text…")
    shown = run("terminal_text", chars=size.text_chars)
    # Clean text is the path of every streamed delta; hostile text is the rare case, shown without a budget.
    for label, kind, budget in (("no controls", "clean", 0.05), ("one control in eight", "hostile", None)):
        ours = shown[kind]["ours"]
        megabytes = f"{size.text_chars / 1e6:g} MB"
        rows.append(Row(f"agent text made terminal-safe, {megabytes}, {label}", ours, "s", "str.translate, same table",
                        shown[kind]["translate"], f"≤ {budget * 1000:.0f} ms" if budget else "–",
                        ours <= budget if budget else None))  # fmt: skip
    return rows


def measure_search(size: Sizes, run: RunChild = run_child) -> list[Row]:
    """Search keystroke latency in the output and the tool log, against prompt keys in the same dashboard."""
    print("search latency…", file=sys.stderr, flush=True)
    rows: list[Row] = []
    found = run("search_keys", calls=size.search_calls, chars=size.search_chars, rounds=size.search_rounds)
    typed = found["latencies"]
    prompt_p50, prompt_p99 = percentile(typed["prompt"], 50), percentile(typed["prompt"], 99)
    for pane, label in (
        ("output", f"{size.search_chars / 1e6:g} MB output ({found['lines']:,} lines)"),
        ("calls", f"{found['rows']:,} tool calls"),
    ):
        p99 = percentile(typed[pane], 99)
        rows.append(Row(f"search key p50, {label}", percentile(typed[pane], 50), "s", "prompt key p50, same dashboard",
                        prompt_p50, "–", None))  # fmt: skip
        rows.append(Row(f"search key p99, {label}", p99, "s", "prompt key p99, same dashboard", prompt_p99,
                        "≤ 50 ms", p99 <= 0.05))  # fmt: skip
        rows.append(Row(f"search opens (first /), {label}", found["opened"][pane], "s", "the key that focused it",
                        found["focused"][pane], "–", None))  # fmt: skip
    return rows


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "/s":
        return f"{value:,.0f}/s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:.2f}"


def table(rows: list[Row]) -> str:
    lines = [
        "| measure | deep-tui | baseline | baseline value | ratio | budget | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        met = "–" if row.passed is None else ("yes" if row.passed else "**no**")
        lines.append(
            f"| {row.name} | {fmt(row.value, row.unit)} | {row.baseline_name} | "
            f"{fmt(row.baseline, row.unit)} | {row.ratio:.2f}× | {row.budget} | {met} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        cpu = model
    except (OSError, StopIteration):
        pass
    import textual

    return (
        f"{time.strftime('%Y-%m-%d')} · {platform.system()} {platform.machine()} · {cpu} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()} · Textual {textual.__version__}"
    )


def main() -> int:
    cap_frame_rate()  # before Textual is imported, as the deep-tui command does (children inherit it)
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        print(json.dumps(child(sys.argv[2], json.loads(sys.argv[3]))))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "children":
        serve_children()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaled down: checks that it runs, not the budgets")
    parser.add_argument("--write", action="store_true", help="also write the table to docs/performance.md")
    parser.add_argument("--only", choices=["search"], help="run one step alone (its rows are not written)")
    options = parser.parse_args()
    if options.only and options.write:
        parser.error("--write writes the whole table: run every step, without --only")
    started = time.perf_counter()
    size = QUICK if options.quick else FULL
    with SharedChild() if options.quick else nullcontext(run_child) as run:
        rows = measure_search(size, run) if options.only == "search" else measure(size, run)
    report = f"{machine()} · benchmark took {time.perf_counter() - started:.0f} s\n\n{table(rows)}\n"
    print(report)
    if options.write:
        path = ROOT / "docs" / "performance.md"
        text = path.read_text()
        start, end = "<!-- table -->", "<!-- /table -->"
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        path.write_text(f"{head}{start}\n{report}{end}{tail}")
    return 0 if all(r.passed is not False for r in rows) or options.quick else 1


if __name__ == "__main__":
    raise SystemExit(main())
