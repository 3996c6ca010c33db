"""The replay's timeline bar: what it says at each width, its turn marks, and a click seeking."""

from __future__ import annotations

import time

from textual.app import App, ComposeResult

from deep_tui.widgets.timeline_bar import TimelineBar

CLOCK = 1_790_000_000.0
BAR_GLYPHS = set("━─●┃")


class Replay(App[None]):
    CSS = "TimelineBar { dock: bottom; }"

    def __init__(self) -> None:
        super().__init__()
        self.seeks: list[int] = []

    def compose(self) -> ComposeResult:
        yield TimelineBar(id="timeline")

    def on_timeline_bar_seek(self, event: TimelineBar.Seek) -> None:
        assert event.control is self.query_one(TimelineBar)
        self.seeks.append(event.position)


def row(bar: TimelineBar) -> str:
    """The row as drawn inside its padding (one cell each side)."""
    return bar.render_line(0).text


def bar_span(text: str) -> tuple[int, int]:
    """Where the bar starts in the row, and its cells."""
    start = next(i for i, char in enumerate(text) if char in BAR_GLYPHS)
    end = start
    while end < len(text) and text[end] in BAR_GLYPHS:
        end += 1
    return start, end - start


def setup(bar: TimelineBar, *, position: int = 1234) -> None:
    bar.length, bar.position, bar.speed, bar.clock = 100_000, position, "2×", CLOCK
    bar.set_turns([(1, 1), (20_001, 2), (40_001, 3), (60_001, 4), (80_001, 5)])


async def test_the_row_says_where_the_replay_is_and_gives_way_when_narrow():
    app = Replay()
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(TimelineBar)
        setup(bar, position=45_000)
        await pilot.pause()
        wide = row(bar)
        start, cells = bar_span(wide)
        clock = time.strftime("%H:%M:%S", time.localtime(CLOCK))
        assert wide[:start] == "❚❚ 2× "
        assert wide[start + cells :].rstrip() == f" {clock} · 45,000/100,000 · turn 3/5"
        bar.playing = True
        await pilot.pause()
        playing = row(bar)
        assert playing[: bar_span(playing)[0]] == "▶ 2× "
        await pilot.resize_terminal(30, 5)
        await pilot.pause()
        narrow = row(bar)
        assert narrow[: bar_span(narrow)[0]] == "▶ " and narrow.rstrip().endswith(" 45,000/100,000")
        assert clock not in narrow and "turn" not in narrow and "2×" not in narrow
        assert bar_span(narrow)[1] >= 10 and len(narrow) == 28


async def test_the_bar_marks_the_cursor_and_each_turn():
    app = Replay()
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(TimelineBar)
        setup(bar, position=50_000)
        await pilot.pause()
        text = row(bar)
        start, cells = bar_span(text)
        drawn = text[start : start + cells]
        cell = lambda position: round(position / 100_000 * (cells - 1))  # noqa: E731
        assert drawn.index("●") == cell(50_000)
        assert [i for i, char in enumerate(drawn) if char == "┃"] == [
            cell(p) for p in (1, 20_001, 40_001, 60_001, 80_001)
        ]
        assert set(drawn[: cell(50_000)]) == {"━", "┃"} and set(drawn[cell(50_000) + 1 :]) == {"─", "┃"}
        bar.position = 0
        await pilot.pause()
        assert "turn" not in row(bar)  # before the first turn starts
        bar.position = 250_000  # past the end, as a screen could set it for a moment: the cursor stays on the bar
        await pilot.pause()
        past = row(bar)
        assert past[sum(bar_span(past)) - 1] == "●" and len(past) == len(text)


async def test_a_click_on_the_bar_seeks_to_the_position_under_the_mouse():
    app = Replay()
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(TimelineBar)
        setup(bar)
        await pilot.pause()
        start, cells = bar_span(row(bar))
        for x in (start, start + cells - 1, start + cells // 3):
            await pilot.click(TimelineBar, offset=(1 + x, 0))
        await pilot.click(TimelineBar, offset=(1, 0))  # the play state
        await pilot.click(TimelineBar, offset=(1 + start + cells + 3, 0))  # the clock
        await pilot.pause()
        assert app.seeks == [0, 100_000, round((cells // 3) / (cells - 1) * 100_000)]


async def test_the_end_of_a_recording_cut_off_is_said_there_only():
    app = Replay()
    async with app.run_test(size=(120, 5)) as pilot:
        bar = app.query_one(TimelineBar)
        setup(bar)
        bar.ending = "ended here: the recording was cut off \x1b[2J"
        await pilot.pause()
        assert "ended here" not in row(bar)
        bar.position = 100_000
        await pilot.pause()
        assert row(bar).rstrip().endswith("100,000/100,000 · turn 5/5 · ended here: the recording was cut off ␛[2J")
        await pilot.resize_terminal(60, 5)
        await pilot.pause()
        narrow = row(bar)
        assert "100,000/100,000" in narrow and "ended here" in narrow and "…" in narrow and len(narrow) == 58
