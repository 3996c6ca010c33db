"""The benchmark still runs: every measurement, scaled down (its timings are not checked here)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("tmux") is None, reason="the first-frame measurement needs tmux")
def test_the_quick_benchmark_prints_every_row():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    table = done.stdout
    for row in (
        "first frame",
        "-call run, headless --json",
        "-call run, dashboard",
        "deltas/s",
        "last/first decile",
        "key p99, while streaming",
        "key p99, after",
        "search key p99, 0.02 MB output",
        "search key p99, 200 tool calls",
        "search opens (first /)",
        "Escape→cancelled p95",
        "y→approved tool running p95",
        "peak RSS",
        "agent text made terminal-safe, 0.02 MB, no controls",
    ):
        assert row in table, row
    assert table.count("\n| ") >= 16


def test_the_quick_replay_benchmark_prints_every_figure():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "replay.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = ["peak RSS", "on the event loop", "blobs/", "stress recording", "many-calls recording", "seek p95"]
    figures += ["seek and its frame, p95", "focus key (^t/^l) p99 while playing", "↑/↓ p99 while playing"]
    figures += ["the whole recording at max", "focus key sent as a frame of playback starts to fold"]
    if shutil.which("tmux"):
        figures.append("first frame, to the recording's event count")
    for figure in figures:
        assert figure in done.stdout, figure
