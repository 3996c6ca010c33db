"""The output pane: streamed markdown that ends up exactly as if rendered whole."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import App, ComposeResult

from deep_tui.widgets.output_view import OutputView

ANSWER = """## Result

Here is a paragraph with **bold** text and `code`, long enough to wrap across several lines of the pane.

```python
def f(x):

    return x * 2
```

| a | b |
|---|---|
| 1 | 2 |

1. first
2. second

Trailing words at the end without a newline"""


class Pane(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputView()


def pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


async def rendered(chunks: list[str]) -> tuple[str, list[str]]:
    """The pane's text after streaming ``chunks``, and its lines while the last one was live."""
    app = Pane()
    async with app.run_test(size=(60, 30)):
        view = app.query_one(OutputView)
        view.add_prompt("q", 1)
        for chunk in chunks:
            view.add_text(chunk)
        live = view.plain_text.splitlines()
        view.end_turn()
        return view.plain_text, live


async def test_streaming_in_tiny_pieces_ends_exactly_as_one_piece():
    whole, _ = await rendered([ANSWER])
    for size in (1, 4, 7):
        streamed, _ = await rendered(pieces(ANSWER, size))
        assert streamed == whole, size
    assert "def f(x):" in whole and "│ 1 │ 2 │" not in whole  # the table is drawn by Rich
    assert "**bold**" not in whole and "bold" in whole


async def test_a_fenced_block_with_blank_lines_is_not_split():
    streamed, _ = await rendered(pieces("```\na\n\nb\n```\n\nafter", 3))
    lines = streamed.splitlines()
    assert lines.index(" a") < lines.index(" b") < lines.index("after")


async def test_live_text_wraps_at_word_boundaries_within_the_width():
    paragraph = " ".join(f"word{i}" for i in range(400))
    _, live = await rendered(pieces(paragraph, 4))
    width = 58
    body = [line.rstrip() for line in live[2:] if line.strip()]
    assert all(cell_len(line) <= width for line in body)
    assert " ".join(" ".join(body).split()) == paragraph  # no word cut or lost


async def test_words_longer_than_the_line_are_folded():
    long_word = "x" * 150
    _, live = await rendered(pieces(f"short {long_word} tail", 5))
    assert "".join(live).count("x") == 150


async def test_thinking_and_errors_are_separate_from_the_answer():
    app = Pane()
    async with app.run_test(size=(60, 20)):
        view = app.query_one(OutputView)
        view.add_prompt("why", 1)
        view.add_text("pondering", "thinking")
        view.add_text("Answer")
        view.add_error("failed: boom")
        text = view.plain_text
        assert text.index("pondering") < text.index("Answer") < text.index("✗ failed: boom")
        assert view.answer_text() == "Answer"


async def test_the_view_follows_the_end_unless_scrolled_up():
    app = Pane()
    async with app.run_test(size=(60, 12)) as pilot:
        view = app.query_one(OutputView)
        for i in range(40):
            view.add_text(f"line {i}\n\n")
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y > 0
        view.scroll_to(y=0, animate=False, immediate=True)
        view.add_text("more\n\n")
        await pilot.pause()
        assert view.scroll_offset.y == 0
