"""What keeping every file version and seeking in a recording cost, each figure beside a baseline.

    python benchmarks/replay.py            # the full sizes, a few minutes (most of it making a recording)
    python benchmarks/replay.py --quick    # scaled down, to check that it runs
    python benchmarks/replay.py --recording DIR   # seek in an existing recording instead of making one
    python benchmarks/replay.py --recording DIR --only dashboard   # the replay dashboard's figures alone

Each measurement runs in a fresh child process (``replay.py child NAME PARAMS``):

- versions: N files written M times each into a session's workspace, each step's changes
  reported and recorded as the runner does it (hashing, events, blobs on the writer
  thread); peak RSS and disk, against the same writes and reports with no recorder;
- seek: a recording made by ``deep-tui run --stress … --json`` opened (split, turns, first
  state), all keyframes built, and seeks to random positions, for several keyframe
  spacings; then the same on a recording of nearly only tool calls, whose state is large.
  The baseline is a fold from the start to the same positions.

Then the replay dashboard on the stress recording, each figure beside a baseline and its budget:

- first frame: ``python -m deep_tui replay PATH`` started in a real terminal (tmux) until the
  status line says "replay ·" (the dashboard is up; the recording is read after it), and until
  the timeline bar counts the recording's events ("0/99,617"), taking turns with the live
  dashboard's first frame ("deep-tui ·"), the median of each;
- dashboard_seek: ``ReplayScreen.seek`` to random positions and the frame that shows it
  (Pilot, 160×48, every keyframe built), against ``Timeline.state_at`` alone at the same positions;
- play_keys: the whole recording played at "max" (events/s); then keys sent through the terminal
  driver, in turns while it plays at max and paused (the baseline), in a fresh app for each kind:
  focus keys (``ctrl+t``/``ctrl+l``) and the tool-call log's up/down; each until the end of the first
  paint after the change it makes. Then focus keys each sent as a frame of playback starts, the worst moment,
  whose cost one run measures to about a millisecond (the p99 of random moments moves by ten between runs).
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import functools
import json
import os
import random
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deep_tui.cli import cap_frame_rate  # noqa: E402  (light: the standard library)
from deep_tui.timeline import KEYFRAME_EVERY  # noqa: E402  (light: the events and the fold)


def versions(files: int, writes: int, per_step: int, record: bool) -> dict[str, Any]:
    """Write ``files`` files ``writes`` times each, reporting changes every ``per_step`` writes."""
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel

    from deep_tui.events import FilesChanged
    from deep_tui.runner import Session
    from deep_tui.sessions import SessionRecorder

    session = Session(Agent(TestModel()), None, name="bench")
    recorder = SessionRecorder(session) if record else None
    started = time.perf_counter()
    step = 0
    per_event: list[float] = []
    for round_ in range(writes):
        for index in range(files):
            content = f"# file {index}, version {round_}\n" + f"line {round_} of file {index}\n" * 20
            session.files.write_bytes(f"/project/d{index % 50}/f{index}.py", content.encode())
            if (index + 1) % per_step == 0:
                step += 1
                reporting = time.perf_counter()
                changes = session.files.drain_changes()
                event = FilesChanged(seq=step, t=step * 0.001, changes=changes, call_id=f"call{step}")
                if recorder is not None:
                    recorder.record(event)
                per_event.append(time.perf_counter() - reporting)
    result: dict[str, Any] = {
        "seconds": time.perf_counter() - started,
        "steps": step,
        "event_p50_ms": percentile(per_event, 50) * 1000,
        "event_p95_ms": percentile(per_event, 95) * 1000,
    }
    if recorder is not None:
        path = recorder.close(timeout=600)
        result["seconds_with_writing"] = time.perf_counter() - started
        result["blobs"] = len(list((path / "blobs").iterdir()))
        result["blobs_disk_mb"] = _disk(path / "blobs")
        result["blobs_bytes_mb"] = sum(p.stat().st_size for p in (path / "blobs").iterdir()) / 1e6
        result["events_mb"] = (path / "events.jsonl").stat().st_size / 1e6
        result["session_disk_mb"] = _disk(path)
    result["rss_mb"] = peak_rss_mb()
    return result


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ``ru_maxrss``: Linux carries that over from the parent into a child
    it starts, so a child of a parent that once held 190 MB reports at least 190 MB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def _disk(path: Path) -> float:
    """Megabytes the directory takes on disk (whole blocks, as ``du`` counts them)."""
    done = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0]) / 1024


def seek(recording: str, every: list[int], seeks: int) -> dict[str, Any]:
    """Open ``recording`` and seek in it with each keyframe spacing; the baseline folds from the start."""
    from deep_tui.recording import load
    from deep_tui.state import fold
    from deep_tui.timeline import Timeline

    started = time.perf_counter()
    loaded = load(recording)
    timeline = Timeline.of(loaded)
    first = timeline.state_at(0)
    opened = time.perf_counter() - started
    assert first.position == 0
    started = time.perf_counter()
    timeline.build()
    result: dict[str, Any] = {
        "events": len(loaded.events),
        "open_s": opened,
        "build_s": time.perf_counter() - started,
        "built_rss_mb": peak_rss_mb(),
        "spacings": {},
    }
    del timeline
    positions = random.Random(12).sample(range(len(loaded.events) + 1), seeks)
    for spacing in every:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        timeline = Timeline.of(loaded, every=spacing)
        timeline.build()
        keyframes_mb = (tracemalloc.get_traced_memory()[0] - before) / 1e6
        tracemalloc.stop()
        timeline = Timeline.of(loaded, every=spacing)
        started = time.perf_counter()
        timeline.build()
        built = time.perf_counter() - started
        times = []
        for position in positions:
            started = time.perf_counter()
            timeline.state_at(position)
            times.append(time.perf_counter() - started)
        result["spacings"][spacing] = {
            "build_s": built,
            "p50_ms": percentile(times, 50) * 1000,
            "p95_ms": percentile(times, 95) * 1000,
            "keyframes_mb": keyframes_mb,
        }
    baseline = []
    for position in positions[: max(3, seeks // 10)]:
        started = time.perf_counter()
        fold(loaded.events[:position])
        baseline.append(time.perf_counter() - started)
    result["fold_p50_ms"] = percentile(baseline, 50) * 1000
    result["fold_p95_ms"] = percentile(baseline, 95) * 1000
    return result


def many_calls_recording(path: Path, events: int) -> str:
    """A recording whose state is large: about ``events`` events, nearly all tool calls, 1,000 files written
    five times (written directly, as a run of that size takes the stress agent an hour: its history grows)."""
    from deep_tui.events import FileChange, FilesChanged, RunFinished, RunStarted, ToolCallFinished, ToolCallStarted

    path.mkdir(parents=True)
    lines = [RunStarted(run_id="r", session_id="s", turn=1, prompt="go", agent="bench", started_at=time.time())]
    call = 0
    while len(lines) < events - 1:
        seq, t, call_id = len(lines), len(lines) * 0.001, f"c{call}"
        lines.append(ToolCallStarted(seq=seq, t=t, call_id=call_id, tool="write_file", args={"path": f"/f{call}"}))
        lines.append(ToolCallFinished(seq=seq + 1, t=t, call_id=call_id, tool="write_file", outcome="success"))
        if call % 9 == 0:
            change = FileChange(path=f"/d/f{call % 1000}.py", change="modified", size=100, version=f"{call:064x}")
            lines.append(FilesChanged(seq=seq + 2, t=t, changes=[change], call_id=call_id))
        call += 1
    lines.append(RunFinished(seq=len(lines), t=len(lines) * 0.001, status="completed"))
    (path / "events.jsonl").write_text("".join(event.model_dump_json() + "\n" for event in lines))
    return str(path)


# The replay dashboard ----------------------------------------------------------------------------------
#
# Each time is wall-clock (the budget's) and, beside it, the CPU time the process spent meanwhile: on a
# shared, loaded machine the first can be several times the second.


@contextlib.asynccontextmanager
async def replay_app(recording: str, seconds: float = 300) -> AsyncIterator[tuple[Any, Any]]:
    """The replay dashboard of ``recording`` under Pilot at 160×48, attached, with every keyframe built (they
    are made in a thread once the recording is open: measured here, they would compete with what is timed)."""
    from deep_tui.app import DeepTUI
    from deep_tui.source import RecordingSource

    app = DeepTUI(RecordingSource.open(recording))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.dashboard
        deadline = time.perf_counter() + seconds
        while screen.state is None or screen.timeline.built < len(screen.timeline) or app.focused is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("the replay never finished building its keyframes")
            await asyncio.sleep(0.01)
        await pilot.pause()
        yield app, screen


async def _refreshed(app: Any) -> None:
    """Until the frame after what was just done has been drawn."""
    shown = asyncio.Event()
    app.call_after_refresh(shown.set)
    await shown.wait()


async def _dashboard_seek(recording: str, seeks: int) -> dict[str, Any]:
    async with replay_app(recording) as (app, screen):
        timeline = screen.timeline
        positions = random.Random(7).sample(range(len(timeline) + 1), seeks)
        times, cpu = [], []
        for position in positions:
            started, used = time.perf_counter(), time.process_time()
            screen.seek(position)
            await _refreshed(app)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
            assert screen.position == position
            await asyncio.sleep(0.02)
        alone = []
        for position in positions:
            started = time.perf_counter()
            timeline.state_at(position)
            alone.append(time.perf_counter() - started)
    return {"events": len(timeline), "times": times, "cpu": cpu, "alone": alone, "rss_mb": peak_rss_mb()}


def dashboard_seek(recording: str, seeks: int) -> dict[str, Any]:
    """Seeks in the replay dashboard, each until the frame that shows it; ``state_at`` alone is the baseline."""
    return asyncio.run(_dashboard_seek(recording, seeks))


class _Drawn(asyncio.Event):
    """Set as the paint that draws a change ends; ``at`` is when (``time.perf_counter``)."""

    at = 0.0


def _drawn_after_change(app: Any, node: Any, attribute: str) -> Callable[[], _Drawn]:
    """Arm an event that is set as the first paint after the next change of ``node.attribute`` ends, timed there.
    Textual calls the watcher as the value changes, and the screen's compositor refresh is the paint. Polling for
    the change from here would see it only after any paint already queued (a frame of playback), which may already
    show it; Textual's after-paint callbacks come later than the paint, after other callbacks, and a batch of
    updates (a frame of playback holds one) may run them before the paint."""
    armed: list[_Drawn] = []
    changed: list[_Drawn] = []
    screen = app.screen
    paint = screen._compositor_refresh

    def painted() -> None:
        paint()
        if changed:
            drawn = changed.pop()
            drawn.at = time.perf_counter()
            drawn.set()

    def change() -> None:
        if armed:
            changed.append(armed.pop())

    screen._compositor_refresh = painted
    app.watch(node, attribute, change, init=False)

    def arm() -> _Drawn:
        armed.append(_Drawn())
        return armed[-1]

    return arm


def _send(app: Any, key: str) -> None:
    """``key`` as the terminal driver hands a key press to the app."""
    from textual import events

    message = events.Key(key, None)
    message.set_sender(app)
    app._driver.send_message(message)


async def _key(app: Any, key: str, drawn: _Drawn) -> tuple[float, float]:
    """Wall and CPU seconds from ``key`` arriving from the terminal driver to the end of the first paint after
    the change it makes (``drawn``)."""
    started, used = time.perf_counter(), time.process_time()
    _send(app, key)
    try:
        await asyncio.wait_for(drawn.wait(), 30)
    except asyncio.TimeoutError:
        raise TimeoutError(f"{key} had no effect in 30 s") from None
    return drawn.at - started, time.process_time() - used


class _FocusKey:
    """``ctrl+t`` or ``ctrl+l``, whichever moves the focus: timed to the paint that draws the pane focused (the key
    bar's keys for it follow in the next)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.arm = _drawn_after_change(app, app.screen, "focused")

    def next_key(self) -> tuple[str, str]:
        """The key that moves the focus, and the pane that takes it."""
        return ("ctrl+l", "#calls") if self.app.focused is self.app.query_one("#todos") else ("ctrl+t", "#todos")

    async def __call__(self) -> tuple[float, float]:
        key, pane = self.next_key()
        timed = await _key(self.app, key, self.arm())
        assert self.app.focused is self.app.query_one(pane)
        return timed


class _CursorKey:
    """Up or down in the tool-call log (focused), whichever moves its cursor: up while it follows the newest
    call, else down (which follows again from the last row but one)."""

    def __init__(self, app: Any) -> None:
        self.log = app.query_one("#calls")
        self.app = app
        self.arm = _drawn_after_change(app, self.log, "cursor")

    async def __call__(self) -> tuple[float, float]:
        before = self.log.cursor
        timed = await _key(self.app, "up" if before < 0 else "down", self.arm())
        assert self.log.cursor != before
        return timed


async def _keys(app: Any, screen: Any, probe: _FocusKey | _CursorKey, keys: int) -> dict[str, Any]:
    """``keys`` probes paused and as many while playing at max, in turns, so that both kinds of key meet the same
    heap (and the ``FooterKey`` widgets Textual's footer kept of each rebuild, #6666, are counted: none since the
    key bar). Each key comes at a random moment, 0.1-0.35 s after play starts or pauses: at a fixed delay it
    would fall at the same point of playback's frames every time. Play goes on from where it was paused, and
    from the start again once it reached the end."""
    import gc

    from textual.widgets._footer import FooterKey

    log = app.query_one("#calls")
    moment = random.Random(11)
    paused: dict[str, list[float]] = {"times": [], "cpu": []}
    playing: dict[str, list[float]] = {"times": [], "cpu": []}
    rss, plays = peak_rss_mb(), 0
    for _ in range(keys):
        for shown, play in ((paused, False), (playing, True)):
            if play != screen.playback.playing:
                if play and screen.position >= len(screen.timeline):
                    plays += 1  # at the end, play starts again from the start
                screen.action_play()  # play or pause
            await asyncio.sleep(moment.uniform(0.1, 0.35))  # at a random moment: not in step with playback's frames
            if isinstance(probe, _CursorKey) and len(log.rows) < 3:  # played again from the start: the log is empty
                if not screen.playback.playing:
                    screen.action_play()
                while len(log.rows) < 3:
                    await asyncio.sleep(0.01)
                if not play:
                    screen.action_play()  # pause again
            wall, used = await probe()
            shown["times"].append(wall)
            shown["cpu"].append(used)
    if screen.playback.playing:
        screen.action_play()  # pause
    gc.collect()
    replaced = sum(isinstance(kept, FooterKey) and not kept.is_attached for kept in gc.get_objects())
    return {
        "paused": paused,
        "playing": playing,
        "plays": plays,
        "replaced_footer_keys": replaced,
        "rss_growth_mb": peak_rss_mb() - rss,
        "rss_mb": peak_rss_mb(),
    }


async def _keys_as_frames_start(app: Any, screen: Any, probe: _FocusKey, keys: int) -> dict[str, Any]:
    """Focus keys sent just as a frame of playback at max starts to fold: the worst moment for a key, which
    then waits for the fold, the frame's paint and its own. At a random moment, as ``_keys`` sends them, a key
    meets it in a few percent of cases; here in every one, so that its cost is measured in one run to about a
    millisecond, where the p99 of random moments moves by ten."""
    from deep_tui.screens.replay import ReplayScreen

    due: list[Callable[[], None]] = []
    fold = ReplayScreen._frame

    def frame(self: Any) -> Any:
        if due:
            due.pop()()
        return fold(self)

    ReplayScreen._frame = frame  # type: ignore[method-assign]
    moment = random.Random(13)
    times: list[float] = []
    try:
        for _ in range(keys):
            await asyncio.sleep(moment.uniform(0.15, 0.35))  # the last key's frames over
            key, _ = probe.next_key()
            drawn, sent = probe.arm(), [0.0]

            def send(key: str = key, sent: list[float] = sent) -> None:
                sent[0] = time.perf_counter()
                _send(app, key)

            due.append(send)
            deadline = time.perf_counter() + 30
            while not drawn.is_set():
                if not screen.playback.playing:  # at the end: from the start again
                    screen.action_play()
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"{key} had no effect in 30 s")
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(drawn.wait(), 0.05)
            times.append(drawn.at - sent[0])
    finally:
        ReplayScreen._frame = fold  # type: ignore[method-assign]
    if screen.playback.playing:
        screen.action_play()
    return {"times": times}


async def _play_keys(recording: str, keys: int, probe: str) -> dict[str, Any]:
    async with replay_app(recording) as (app, screen):
        result: dict[str, Any] = {"events": len(screen.timeline)}
        while screen.playback.speed is not None:
            screen.action_speed(1)
        if probe == "focus":  # first, the whole recording at max, nothing else asked of the app
            started, used = time.perf_counter(), time.process_time()
            screen.action_play()
            while screen.playback.playing:
                await asyncio.sleep(0.005)
            result["play_s"], result["play_cpu_s"] = time.perf_counter() - started, time.process_time() - used
            assert screen.position == len(screen.timeline)
            screen.seek(0)
        else:  # the tool-call log takes the keys, in the middle of the recording (the calls are in its first tenth)
            app.screen.set_focus(app.query_one("#calls"))
            screen.seek(len(screen.timeline) // 2)
        keyed = _FocusKey(app) if probe == "focus" else _CursorKey(app)
        result.update(await _keys(app, screen, keyed, keys))
        if isinstance(keyed, _FocusKey):
            result["as_frames_start"] = await _keys_as_frames_start(app, screen, keyed, keys)
    return result


def play_keys(recording: str, keys: int, probe: str) -> dict[str, Any]:
    """Keys (``probe``: "focus" or "cursor") while the recording plays at max and paused, in a fresh app;
    with "focus", first the whole recording played at max, timed."""
    return asyncio.run(_play_keys(recording, keys, probe))


CHILDREN = {"versions": versions, "seek": seek, "dashboard_seek": dashboard_seek, "play_keys": play_keys}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(q / 100 * (len(ordered) - 1))), len(ordered) - 1)]


def measure_here(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """One measurement in this process."""
    return CHILDREN[name](**params)


def run_child(name: str, home: str, **params: Any) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "child", name, json.dumps(params)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={**os.environ, "DEEP_TUI_HOME": home, "PYDANTIC_AI_NO_BANNER": "1"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"child {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_recording(home: str, stress: str) -> str:
    """A recording made the way a user makes one: ``deep-tui run --stress … --json``."""
    subprocess.run(
        [sys.executable, "-m", "deep_tui", "run", "--stress", stress, "--json", "go"],
        stdout=subprocess.DEVNULL,
        cwd=ROOT,
        check=True,
        env={**os.environ, "DEEP_TUI_HOME": home, "PYDANTIC_AI_NO_BANNER": "1"},
    )
    (session,) = Path(home, "sessions").iterdir()
    return str(session)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="scaled down: checks that it runs")
    parser.add_argument("--recording", help="seek in this recording instead of making one")
    parser.add_argument(
        "--only", choices=["dashboard"], help="the replay dashboard's figures alone (with --recording, made by none)"
    )
    options = parser.parse_args()
    files, writes = (50, 3) if options.quick else (5000, 10)
    stress = "turns=5,calls_per_turn=10,files=20,answer=4000" if options.quick else (
        "turns=400,calls_per_turn=10,files=100,answer=360000"
    )  # fmt: skip
    spacings = [5, 50] if options.quick else [250, 500, 1000, 2000, 4000]
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    started, load = time.perf_counter(), os.getloadavg()[0]
    from run import SharedChild, machine  # benchmarks/run.py, beside this file

    with contextlib.ExitStack() as stack:
        home = stack.enter_context(tempfile.TemporaryDirectory(prefix="deep-tui-replay-"))
        # --quick's figures are not compared: its measurements share one process rather than each import pydantic-ai.
        run = (
            stack.enter_context(SharedChild(__file__, home))
            if options.quick
            else functools.partial(run_child, home=home)
        )
        recording = options.recording
        if not options.only:
            say(f"versions: {files:,} files written {writes} times…")
            bare = run("versions", files=files, writes=writes, per_step=10, record=False)
            kept = run("versions", files=files, writes=writes, per_step=10, record=True)
        if recording is None:
            say(f"making a recording with --stress {stress}…")
            recording = make_recording(str(Path(home, "stress")), stress)
        if not options.only:
            say("seeking…")
            seeks = 20 if options.quick else 200
            sought = run("seek", recording=recording, every=spacings, seeks=seeks)
            heavy = many_calls_recording(Path(home, "many-calls"), 2_000 if options.quick else 100_000)
            sought_heavy = run("seek", recording=heavy, every=spacings, seeks=seeks)
        say("the replay dashboard: first frames (tmux), seeks, keys while playing at max…")
        dashboard_load = os.getloadavg()[0]
        events = _count_lines(recording)
        frames = replay_first_frames(recording, events, 1 if options.quick else 11, home)
        sought_ui = run("dashboard_seek", recording=recording, seeks=5 if options.quick else 200)
        keys = {
            probe: run("play_keys", recording=recording, keys=3 if options.quick else 100, probe=probe)
            for probe in ("focus", "cursor")
        }
    print(
        f"{machine()} · load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end · "
        f"took {time.perf_counter() - started:.0f} s"
    )
    if options.only:
        print_dashboard(events, frames, sought_ui, keys, dashboard_load)
        return 0
    print(f"\n{files:,} files written {writes} times ({files * writes:,} versions, {kept['steps']:,} steps):\n")
    print("| measure | versions kept | baseline: no recorder |\n|---|---|---|")
    print(f"| peak RSS | {kept['rss_mb']:.0f} MB | {bare['rss_mb']:.0f} MB |")
    print(
        f"| reporting a step (10 changes) on the event loop, p50 / p95 | {kept['event_p50_ms']:.2f} / "
        f"{kept['event_p95_ms']:.2f} ms | {bare['event_p50_ms']:.2f} / {bare['event_p95_ms']:.2f} ms |"
    )
    print(f"| all the writes and steps | {kept['seconds']:.0f} s | {bare['seconds']:.0f} s |")
    print(f"| … and the writer thread done | {kept['seconds_with_writing']:.0f} s | – |")
    print(
        f"| blobs/ | {kept['blobs']:,} files, {kept['blobs_bytes_mb']:.1f} MB of content, "
        f"{kept['blobs_disk_mb']:.0f} MB on disk | – |"
    )
    print(f"| events.jsonl | {kept['events_mb']:.1f} MB | – |")
    print(f"| the session's directory on disk | {kept['session_disk_mb']:.0f} MB | – |")
    for label, result in (("stress recording", sought), ("many-calls recording", sought_heavy)):
        print(
            f"\n{label}, {result['events']:,} events: opened (split, turns, first state) in {result['open_s']:.2f} s\n"
        )
        print("| keyframe every | build all | seek p50 | seek p95 | timeline's memory (state included) |")
        print("|---|---|---|---|---|")
        for spacing, row in result["spacings"].items():
            print(
                f"| {int(spacing):,} | {row['build_s']:.2f} s | {row['p50_ms']:.1f} ms | {row['p95_ms']:.1f} ms "
                f"| {row['keyframes_mb']:.1f} MB |"
            )
        print(f"| fold from the start | – | {result['fold_p50_ms']:.0f} ms | {result['fold_p95_ms']:.0f} ms | – |")
        print(
            f"\nWith a keyframe every {KEYFRAME_EVERY:,} events: every keyframe built in {result['build_s']:.1f} s; "
            f"peak RSS then {result['built_rss_mb']:.0f} MB (before the other spacings were tried)"
        )
    print_dashboard(events, frames, sought_ui, keys, dashboard_load)
    return 0


def _count_lines(recording: str) -> int:
    """The events of a recording (a session directory or an events file): its lines."""
    path = Path(recording)
    with (path / "events.jsonl" if path.is_dir() else path).open("rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))


def replay_first_frames(recording: str, events: int, runs: int, home: str) -> dict[str, float] | None:
    """The replay's first frame and the live dashboard's, in turns; None without tmux."""
    if shutil.which("tmux") is None:
        print("tmux not found: first-frame times skipped", file=sys.stderr)
        return None
    # As benchmarks/run.py does: with bytecode, as a regular `pip install` leaves it.
    compileall.compile_dir(ROOT / "deep_tui", quiet=1)
    from run import first_frames  # benchmarks/run.py, beside this file

    python = shlex.quote(sys.executable)
    return first_frames(
        {
            "live": (f"{python} -m deep_tui --demo-speed 0", ("deep-tui ·",)),
            "replay": (f"{python} -m deep_tui replay {shlex.quote(recording)}", ("replay ·",)),
            "replay shown": (f"{python} -m deep_tui replay {shlex.quote(recording)}", ("replay ·", f"0/{events:,}")),
        },
        runs,
        home,
    )


def print_dashboard(
    events: int, frames: dict[str, float] | None, sought: dict[str, Any], keys: dict[str, Any], load: float
) -> None:
    from deep_tui.playback import MOST_PER_FRAME
    from deep_tui.screens.replay import FRAME

    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:,.1f} ms"

    def row(measure: str, value: str, baseline: str, base: str, budget: str = "–", met: bool | None = None) -> None:
        shown = "–" if met is None else ("yes" if met else "**no**")
        print(f"| {measure} | {value} | {baseline} | {base} | {budget} | {shown} |")

    def timed(
        measure: str, q: float, result: dict[str, Any], baseline: str, base: dict[str, Any], budget: float = 0
    ) -> None:
        """A percentile of wall-clock times, with that of the CPU times beside it in brackets."""
        value = f"{ms(result['times'], q)} ({ms(result['cpu'], q)} CPU)"
        base_value = ms(base["times"], q) + (f" ({ms(base['cpu'], q)} CPU)" if "cpu" in base else "")
        met = percentile(result["times"], q) <= budget if budget else None
        row(measure, value, baseline, base_value, f"≤ {budget * 1000:.0f} ms" if budget else "–", met)

    print(
        f"\nthe replay dashboard on the stress recording, {events:,} events (Pilot at 160×48, tmux at 120×40), "
        f"load average {load:.1f} as it began:\n"
    )
    print("| measure | replay | baseline | baseline value | budget | met |\n|---|---|---|---|---|---|")
    if frames is not None:
        live = ("live dashboard's first frame (--demo-speed 0)", f"{frames['live'] * 1000:,.0f} ms")
        row("first frame, to the status line's \"replay ·\" (median)", f"{frames['replay'] * 1000:,.0f} ms", *live,
            "≤ 1,000 ms", frames["replay"] <= 1.0)  # fmt: skip
        row("first frame, to the recording's event count (median)", f"{frames['replay shown'] * 1000:,.0f} ms",
            *live)  # fmt: skip
    alone = {"times": sought["alone"]}
    seeks = len(sought["times"])
    timed(f"seek and its frame, p50 ({seeks} positions)", 50, sought, "Timeline.state_at alone, p50", alone)
    timed(f"seek and its frame, p95 ({seeks} positions)", 95, sought, "Timeline.state_at alone, p95", alone, 0.1)
    for kind, label in (("focus", "focus key (^t/^l)"), ("cursor", "tool-call log's ↑/↓")):
        playing, paused = keys[kind]["playing"], keys[kind]["paused"]
        n = len(playing["times"])
        timed(f"{label} p50 while playing at max ({n} keys)", 50, playing, "the same keys paused, p50", paused)
        timed(f"{label} p99 while playing at max ({n} keys)", 99, playing, "the same keys paused, p99", paused, 0.05)
    focus = keys["focus"]
    worst = focus["as_frames_start"]
    row(f"focus key sent as a frame of playback starts to fold, p50 / p90 ({len(worst['times'])} keys)",
        f"{ms(worst['times'], 50)} / {ms(worst['times'], 90)}", "focus keys while playing, p50 / p99",
        f"{ms(focus['playing']['times'], 50)} / {ms(focus['playing']['times'], 99)}")  # fmt: skip
    rate = focus["events"] / focus["play_s"]
    played = f"{focus['play_s']:.1f} s ({focus['play_cpu_s']:.1f} s CPU), {rate:,.0f} events/s"
    ceiling = f"at most {MOST_PER_FRAME} events a frame, {1 / FRAME:g} frames/s"
    row("the whole recording at max", played, ceiling, f"{MOST_PER_FRAME / FRAME:,.0f} events/s")
    print(f"\npeak RSS: {sought['rss_mb']:.0f} MB seeking, {focus['rss_mb']:.0f} MB after the focus keys")
    for kind, label in (("focus", "focus keys"), ("cursor", "↑/↓ in the tool-call log")):
        result = keys[kind]
        pressed = 2 * len(result["paused"]["times"])
        kept, grown = result["replaced_footer_keys"], result["rss_growth_mb"]
        print(
            f"after {pressed} {label}: {kept:,} footer keys replaced but still alive (Textual #6666), "
            f"RSS {grown:+.0f} MB (the play's state included)"
        )


if __name__ == "__main__":
    cap_frame_rate()  # before Textual is imported, as the deep-tui command does
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        print(json.dumps(measure_here(sys.argv[2], json.loads(sys.argv[3]))))
        raise SystemExit(0)
    if len(sys.argv) > 1 and sys.argv[1] == "children":  # --quick's shared child
        from run import serve_children  # benchmarks/run.py, beside this file

        serve_children(measure_here)
        raise SystemExit(0)
    raise SystemExit(main())
