"""Search (``/``, ``n``, ``N``) in the output and the tool log, and the tool log's filter (``f``, ``F``)."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input, Label

from deep_tui.output_blocks import OutputBlock
from deep_tui.search import LineSearch
from deep_tui.tool_filter import CallFilter
from deep_tui.widgets import OutputView, ToolCallLog
from deep_tui.widgets.line_view import LineView
from deep_tui.widgets.output_view import UNSEEN_HINT
from deep_tui.widgets.search_bar import SearchBar
from tests.test_app import demo, until

NEEDLES = (40, 90, 150)
"""Paragraphs of the test answer that hold the word "needle"."""


def answer(paragraphs: int = 200, needles: tuple[int, ...] = NEEDLES) -> str:
    return "\n\n".join(
        f"Paragraph {n}: {'a needle in the hay' if n in needles else 'only hay here'}." for n in range(paragraphs)
    )


class Panes(App[None]):
    """The two searchable panes, one above the other, as in the dashboard's right column."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield OutputView(id="output")
            yield ToolCallLog(id="calls")


def bar(app: App) -> SearchBar:
    return app.query_one(SearchBar)  # one pane searched per test: its bar is the only one


def count(app: App) -> str:
    """The count the open search bar shows."""
    label = next(each for each in app.query(SearchBar) if each.is_open).query_one("#search-count", Label)
    return label.visual.plain  # type: ignore[union-attr]


def painted(view: LineView) -> list[str]:
    """The visible lines, as drawn."""
    return [strip.text for strip in view.render_lines(Region(0, 0, view.size.width, view.size.height))]


def highlights(view: LineView) -> list[tuple[int, str, str]]:
    """(line, text, "current" or "match") for every highlighted piece of text on screen."""
    current = view.get_component_rich_style("line-view--match-current").bgcolor
    match = view.get_component_rich_style("line-view--match").bgcolor
    found = []
    top = view.scroll_offset.y
    for y, strip in enumerate(view.render_lines(Region(0, 0, view.size.width, view.size.height))):
        for segment in strip:
            if segment.style is not None and segment.style.bgcolor in (current, match):
                kind = "current" if segment.style.bgcolor == current else "match"
                found.append((top + y, segment.text, kind))
    return found


async def retype(pilot: Pilot, text: str) -> None:
    """Clear the search bar and type ``text`` into it."""
    bar(pilot.app).query_one(Input).value = ""
    await pilot.press(*text)
    await pilot.pause()


def needle_lines(view: OutputView) -> list[int]:
    return [n for n, line in enumerate(view.plain_text.splitlines()) if "needle" in line.lower()]


async def filled(pilot: Pilot, text: str) -> OutputView:
    output = pilot.app.query_one(OutputView)
    output.add_prompt("look in the hay", 1)
    output.add_text(text)
    output.end_turn()
    output.settle()
    await pilot.pause()
    return output


# Search in the output --------------------------------------------------------------------------------


async def test_typing_a_query_moves_to_its_first_match_and_highlights_it():
    app = Panes()
    async with app.run_test(size=(80, 30)) as pilot:
        output = await filled(pilot, answer())
        lines = needle_lines(output)
        assert len(lines) == 3
        output.focus()
        output.scroll_home(animate=False, immediate=True)
        await pilot.press("slash")
        assert app.focused is bar(app).query_one(Input)
        await pilot.press(*"need")
        await pilot.pause()
        assert count(app) == "1/3"
        top = output.scroll_offset.y
        assert top <= lines[0] < top + output.size.height  # scrolled to it
        assert (lines[0], "need", "current") in highlights(output)
        await pilot.press(*"le")  # as you type: still the same three lines
        await pilot.pause()
        assert count(app) == "1/3"
        assert [kind for line, text, kind in highlights(output) if text == "needle"] == ["current"]

        await pilot.press("backspace", *"x")  # "needlx": nothing
        await pilot.pause()
        assert count(app) == "no match" and highlights(output) == []


async def test_n_and_shift_n_go_to_the_next_and_previous_match_and_wrap():
    app = Panes()
    async with app.run_test(size=(80, 30)) as pilot:
        output = await filled(pilot, answer())
        lines = needle_lines(output)
        output.focus()
        output.scroll_home(animate=False, immediate=True)
        await pilot.press("slash", *"needle", "enter")
        await pilot.pause()
        assert app.focused is output and not bar(app).is_open
        assert output.border_subtitle == "/needle 1/3"
        seen = []
        for key in ("n", "n", "n", "N", "N"):
            await pilot.press(key)
            await pilot.pause()
            seen.append(output.border_subtitle.split()[-1])
            current = [line for line, _, kind in highlights(output) if kind == "current"]
            assert current and current[0] in lines  # the current match is on screen, marked
        assert seen == ["2/3", "3/3", "1/3", "3/3", "2/3"]


async def test_escape_closes_the_search_clears_the_highlights_and_gives_the_focus_back():
    app = Panes()
    async with app.run_test(size=(80, 30)) as pilot:
        output = await filled(pilot, answer())
        output.focus()
        await pilot.press("slash", *"needle")
        await pilot.pause()
        assert highlights(output)
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is output and not bar(app).display
        assert highlights(output) == [] and not output.border_subtitle
        before = output.scroll_offset.y
        await pilot.press("n")  # no search: n does nothing
        assert output.scroll_offset.y == before


async def test_lowercase_ignores_case_and_a_capital_makes_it_exact():
    app = Panes()
    async with app.run_test(size=(80, 30)) as pilot:
        output = await filled(pilot, answer().replace("a needle in", "a NEEDLE in", 1))
        output.focus()
        await pilot.press("slash", *"needle")
        await pilot.pause()
        assert count(app) == "1/3"
        await retype(pilot, "NEEDLE")
        assert count(app) == "1/1"
        await retype(pilot, "Needle")
        await pilot.pause()
        assert count(app) == "no match"


async def test_output_arriving_during_a_search_is_searched_too():
    app = Panes()
    async with app.run_test(size=(80, 30)) as pilot:
        output = await filled(pilot, answer())
        output.focus()
        await pilot.press("slash", *"needle")
        await pilot.pause()
        assert count(app) == "1/3"
        output.add_prompt("more", 2)
        output.add_text("\n\n".join(["one more needle", "hay", "and a needle streaming"]))
        output.settle()
        await pilot.pause()
        assert count(app) == "1/5"  # the streaming block's line too, before the turn ends
        output.end_turn()  # the live block is replaced by its markdown: still one match, not two
        output.settle()
        await pilot.pause()
        assert count(app) == "1/5"


async def test_a_search_finds_text_in_blocks_a_seek_did_not_draw_and_shows_it():
    app = Panes()
    async with app.run_test(size=(80, 30)) as pilot:
        output = app.query_one(OutputView)
        output.show_blocks([OutputBlock("prompt", "look in the hay", 1), OutputBlock("answer", answer(), 1)])
        await pilot.pause()  # showing the end: the needles, far above, not drawn
        output.focus()
        output.scroll_home(animate=False, immediate=True)
        await pilot.press("slash", *"needle")
        await pilot.pause()
        assert count(app) == "1/3"
        current = [(line, text) for line, text, kind in highlights(output) if kind == "current"]
        assert current and current[0][0] == needle_lines(output)[0]
        assert "Paragraph 40: a needle in the hay." in painted(output)[current[0][0] - output.scroll_offset.y]


async def test_a_kept_search_and_the_new_output_hint_share_the_border():
    app = Panes()
    async with app.run_test(size=(80, 30)) as pilot:
        output = await filled(pilot, answer())
        output.focus()
        output.scroll_home(animate=False, immediate=True)
        await pilot.press("slash", *"needle", "enter")
        await pilot.pause()
        output.add_text("\n\nanother needle, below the reader")
        output.settle()
        await pilot.pause()
        assert output.border_subtitle == f"/needle 1/4 · {UNSEEN_HINT}"
        await pilot.press("end")
        await pilot.pause()
        assert output.border_subtitle == "/needle 1/4"  # the hint goes, the search stays


# Search in the tool log -----------------------------------------------------------------------------


def fill_log(log: ToolCallLog, calls: int, failing: int = 7) -> None:
    """``calls`` calls over turns of 100: every ``failing``-th fails, each reads /data/fN.txt."""
    for n in range(calls):
        if n % 100 == 0:
            log.turn_started(n // 100 + 1, f"batch {n // 100}")
        tool = "read_file" if n % 3 else "write_file"
        log.call_started(f"c{n}", tool, {"path": f"/data/f{n}.txt"})
        log.call_finished(f"c{n}", "failed" if n % failing == 0 else "success", 0.01, "", 0)
    log.settle()


async def test_search_in_the_tool_log_moves_the_cursor_to_the_matching_call():
    app = Panes()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(ToolCallLog)
        fill_log(log, 300)
        log.focus()
        await pilot.press("home", "slash", *"f12")  # f12.txt, f120.txt … f129.txt
        await pilot.pause()
        assert count(app) == "1/11"
        assert log.rows[log.cursor].key == "/data/f12.txt"
        await pilot.press("enter", "n")
        await pilot.pause()
        assert log.rows[log.cursor].key == "/data/f120.txt"
        assert log.border_subtitle == "/f12 2/11"
        assert any(text == "f12" and kind == "current" for _, text, kind in highlights(log))


async def test_search_in_a_10000_row_log_finds_every_match():
    app = Panes()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(ToolCallLog)
        fill_log(log, 10_000)
        log.focus()
        await pilot.press("home", "slash", *"f999")  # f999, f9990 … f9999
        await pilot.pause()
        assert count(app) == "1/11"
        assert log.rows[log.cursor].key == "/data/f999.txt"
        await pilot.press("up")  # ↑ in the bar: the previous match, wrapping to the last
        await pilot.pause()
        assert log.rows[log.cursor].key == "/data/f9999.txt" and count(app) == "11/11"
        await retype(pilot, "failed")  # the outcome word: every failed call
        await pilot.pause()
        assert count(app).endswith(f"/{len(range(0, 10_000, 7))}")


# Filter --------------------------------------------------------------------------------------------------


async def test_filter_by_tool_shows_those_calls_under_their_turns_until_cleared():
    app = Panes()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(ToolCallLog)
        log.border_title = "Tool calls"
        fill_log(log, 250)
        log.focus()
        await pilot.press("f", *"tool:write_file", "enter")
        await pilot.pause()
        assert app.focused is log and not bar(app).display
        calls = [row for row in log.rows if hasattr(row, "tool")]
        assert len(calls) == 84 and {row.tool for row in calls} == {"write_file"}
        assert [row.turn for row in log.rows if not hasattr(row, "tool")] == [1, 2, 3]
        assert "tool:write_file" in log.border_title and "84/250" in log.border_title
        assert not any("read_file" in line for line in painted(log))

        await pilot.press("F")
        await pilot.pause()
        assert len(log.rows) == 253 and log.border_title == "Tool calls"


async def test_filter_by_outcome_applies_to_calls_that_arrive_and_end_later():
    app = Panes()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(ToolCallLog)
        fill_log(log, 30)
        log.focus()
        await pilot.press("f", *"status:failed", "enter")
        await pilot.pause()
        assert [row.call_id for row in log.rows if hasattr(row, "tool")] == ["c0", "c7", "c14", "c21", "c28"]

        log.turn_started(2, "second batch")
        log.call_started("late-ok", "read_file", {"path": "/ok.txt"})
        log.call_started("late-bad", "read_file", {"path": "/bad.txt"})
        log.settle()
        await pilot.pause()
        assert len(log.rows) == 6  # running calls are not failures (yet), and their turn shows no divider
        log.call_finished("late-ok", "success", 0.1, "", 0)
        log.call_finished("late-bad", "failed", 0.1, "boom", 4)
        log.settle()
        await pilot.pause()
        assert [getattr(row, "call_id", f"turn {getattr(row, 'turn', '')}") for row in log.rows][-2:] == [
            "turn 2",
            "late-bad",
        ]
        assert any("/bad.txt" in line for line in painted(log))
        assert "6/32" in log.border_title


async def test_a_bad_filter_says_why_and_keeps_what_was_typed():
    app = Panes()
    async with app.run_test(size=(100, 40)) as pilot:
        log = app.query_one(ToolCallLog)
        fill_log(log, 20)
        log.focus()
        await pilot.press("f", *"status:broken", "enter")
        await pilot.pause()
        assert bar(app).is_open and bar(app).value == "status:broken"
        assert len(log.rows) == 21  # nothing filtered
        assert any("no outcome 'broken'" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+u", *"status:[/b]", "enter")  # what was typed is quoted as text, not markup
        await pilot.pause()
        said = [n for n in app._notifications if "[/b]" in n.message]
        assert said and not said[-1].markup
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is log and len(log.rows) == 21


# In the dashboard ------------------------------------------------------------------------------------


async def test_in_the_dashboard_slash_searches_the_output_and_f_filters_the_tool_calls():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=(130, 40)) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.press("ctrl+o", "slash", *"counter", "enter")
        await pilot.pause()
        output = app.query_one(OutputView)
        assert app.focused is output and output.border_subtitle.startswith("/counter ")
        assert any(text.lower() == "counter" for _, text, _ in highlights(output))

        await pilot.press("ctrl+l", "f", *"tool:read", "enter")
        await pilot.pause()
        log = app.query_one(ToolCallLog)
        calls = [row for row in log.rows if hasattr(row, "tool")]
        assert calls and all(row.tool == "read_file" for row in calls)
        # 16 calls: the agent's 15 and its tester's one.
        assert "tool:read" in log.border_title and f"{len(calls)}/16" in log.border_title


async def test_a_pane_shown_full_screen_keeps_its_search_bar_in_view():
    app = demo(prompt="build a word counter")
    async with app.run_test(size=(60, 16)) as pilot:
        await until(pilot, lambda: app.dashboard.status == "completed")
        await pilot.press("ctrl+l", "slash", *"read")  # too short for the tool calls: they fill the screen
        await pilot.pause()
        log = app.query_one(ToolCallLog)
        search_bar = next(each for each in app.query(SearchBar) if each.is_open)
        assert app.screen.maximized is log
        assert search_bar.region.height == 1 and search_bar.region.bottom <= 15  # above the footer
        assert count(app) == "1/2"  # read_file and README.md
        await pilot.press("escape")  # back to the normal view: the search goes with the full screen
        await pilot.pause()
        assert app.screen.maximized is None and not search_bar.is_open and not log.border_subtitle


# The parts alone ------------------------------------------------------------------------------------------


def test_a_longer_query_narrows_and_changed_lines_are_read_again():
    lines = ["alpha beta", "beta gamma", "Gamma delta", "delta"]
    search = LineSearch(lambda: len(lines), lines.__getitem__)
    search.set_query("ta")
    assert search.matches == [0, 1, 2, 3]
    search.set_query("eta")
    assert search.matches == [0, 1]
    search.set_query("gamma")
    assert search.matches == [1, 2]
    search.set_query("Gamma")
    assert search.matches == [2]
    lines[2] = "no longer"
    lines.append("Gamma again")
    search.changed_from(2)
    assert search.sync() and search.matches == [4]
    assert search.next_after(4) == 4 and search.previous_before(4) == 4  # one match: both wrap to it


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("status:nope", "no outcome 'nope'"),
        ("colour:red", "'colour:' is not a filter"),
        ("tool:", "needs a value"),
    ],
)
def test_a_filter_that_cannot_mean_anything_says_why(text: str, message: str):
    with pytest.raises(ValueError, match=message):
        CallFilter.parse(text)


def test_a_filter_reads_tools_outcomes_and_words():
    parsed = CallFilter.parse("tool:read_file,write  status:failed,retried  data  12:")
    assert parsed.tools == ("read_file", "write") and parsed.outcomes == {"failed", "retried"}
    assert parsed.words == ("data", "12:") and parsed.text == "tool:read_file,write status:failed,retried data 12:"
