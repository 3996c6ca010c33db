"""What keeping every file version and seeking in a recording cost, each figure beside a baseline.

    python benchmarks/replay.py            # the full sizes, a few minutes (most of it making a recording)
    python benchmarks/replay.py --quick    # scaled down, to check that it runs
    python benchmarks/replay.py --recording DIR   # seek in an existing recording instead of making one

Each measurement runs in a fresh child process (``replay.py child NAME PARAMS``):

- versions: N files written M times each into a session's workspace, each step's changes
  reported and recorded as the runner does it (hashing, events, blobs on the writer
  thread); peak RSS and disk, against the same writes and reports with no recorder;
- seek: a recording made by ``deep-tui run --stress … --json`` opened (split, turns, first
  state), all keyframes built, and seeks to random positions, for several keyframe
  spacings; then the same on a recording of nearly only tool calls, whose state is large.
  The baseline is a fold from the start to the same positions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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


CHILDREN = {"versions": versions, "seek": seek}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(round(q / 100 * (len(ordered) - 1))), len(ordered) - 1)]


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
    options = parser.parse_args()
    files, writes = (50, 3) if options.quick else (5000, 10)
    stress = "turns=5,calls_per_turn=10,files=20,answer=4000" if options.quick else (
        "turns=400,calls_per_turn=10,files=100,answer=360000"
    )  # fmt: skip
    spacings = [5, 50] if options.quick else [250, 500, 1000, 2000, 4000]
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="deep-tui-replay-") as home:
        say(f"versions: {files:,} files written {writes} times…")
        bare = run_child("versions", home, files=files, writes=writes, per_step=10, record=False)
        kept = run_child("versions", home, files=files, writes=writes, per_step=10, record=True)
        recording = options.recording
        if recording is None:
            say(f"making a recording with --stress {stress}…")
            recording = make_recording(str(Path(home, "stress")), stress)
        say("seeking…")
        seeks = 20 if options.quick else 200
        sought = run_child("seek", home, recording=recording, every=spacings, seeks=seeks)
        heavy = many_calls_recording(Path(home, "many-calls"), 2_000 if options.quick else 100_000)
        sought_heavy = run_child("seek", home, recording=heavy, every=spacings, seeks=seeks)
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
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        print(json.dumps(CHILDREN[sys.argv[2]](**json.loads(sys.argv[3]))))
        raise SystemExit(0)
    raise SystemExit(main())
