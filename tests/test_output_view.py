"""The output pane: streamed markdown that ends up exactly as if rendered whole."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.geometry import Region

from deep_tui.markdown_blocks import markdown
from deep_tui.output_blocks import OutputBlock
from deep_tui.output_lines import BIG_CODE
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


def paragraphs(count: int) -> str:
    """``count`` paragraphs of a few lines each; some of words so long that they take more lines than their length
    says (a view that has not drawn a paragraph yet counts it for the lines its length says)."""
    word = ("a" * 29, "some", "wrapping")
    return "\n\n".join(f"Paragraph {n}: " + f"{word[n % 3]} " * (n % 7 + 1) for n in range(count))


def painted(view: OutputView) -> list[str]:
    return [strip.text.rstrip() for strip in view.render_lines(Region(0, 0, view.size.width, view.size.height))]


async def test_a_reset_draws_only_what_comes_into_view_and_the_rest_when_scrolled_to():
    """A replay's seek to a long answer draws its last screenful, not its hundreds of paragraphs."""
    state = [OutputBlock("prompt", "q", 1), OutputBlock("answer", paragraphs(400), 1)]
    app = Pane()
    async with app.run_test(size=(60, 30)) as pilot:
        view = app.query_one(OutputView)
        drawn = Drawn(app)
        view.show_blocks(state)
        await pilot.pause()
        assert 0 < len(drawn.markdown) <= view.size.height  # a screenful of paragraphs at most
        assert painted(view)[-2].startswith("Paragraph 399:")  # the end, as the view follows it
        assert view.scroll_offset.y == view.max_scroll_y

        view.scroll_home(animate=False, immediate=True)  # scrolled to: drawn then
        await pilot.pause()
        assert painted(view)[:3] == [" turn 1  > q", "", f"Paragraph 0: {'a' * 29}"]
        assert len(drawn.markdown) <= 2 * view.size.height

        fresh = OutputView()
        await app.mount(fresh)
        await pilot.pause()
        fresh.show_blocks(state)
        assert view.plain_text == fresh.plain_text  # all of it, as any view draws it


async def test_scrolling_up_into_blocks_not_drawn_yet_keeps_the_lines_in_view_in_place():
    app = Pane()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(OutputView)
        view.show_blocks([OutputBlock("answer", paragraphs(60), 1)])
        await pilot.pause()
        seen = painted(view)
        while view.scroll_offset.y > 0:  # a line at a time, as the wheel or ↑ does it
            view.scroll_to(y=view.scroll_offset.y - 1, animate=False, immediate=True)
            now = painted(view)
            assert now[1:] == seen[:-1], view.scroll_offset.y  # what was on screen moved down by one line
            seen = now
        assert seen[0] == f"Paragraph 0: {'a' * 29}"


async def test_paragraphs_are_drawn_with_one_markdown_parser_as_rich_draws_them():
    from markdown_it import MarkdownIt
    from rich.markdown import Markdown

    source = "# Title\n\n- **bold** and ~~gone~~ [link](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    app = Pane()
    async with app.run_test(size=(60, 30)):
        options = app.console.options.update_width(50)
        assert app.console.render_lines(markdown(source), options) == app.console.render_lines(
            Markdown(source, code_theme="ansi_dark"), options
        )
        made: list[object] = []
        init = MarkdownIt.__init__

        def counted(self: MarkdownIt, *args: object, **kwargs: object) -> None:
            made.append(self)
            init(self, *args, **kwargs)  # type: ignore[arg-type]

        MarkdownIt.__init__ = counted  # type: ignore[method-assign]
        try:
            view = app.query_one(OutputView)
            view.show_blocks([OutputBlock("answer", paragraphs(50), 1)])
            text = view.plain_text  # every paragraph drawn
        finally:
            MarkdownIt.__init__ = init  # type: ignore[method-assign]
        assert "Paragraph 0:" in text and "Paragraph 49:" in text
        assert len(made) <= 1  # the shared one, if it was not made yet


class Drawn:
    """What the app's console renders, as the output pane draws its blocks with it."""

    def __init__(self, app: App[None]) -> None:
        from rich.markdown import Markdown

        self.markdown: list[str] = []
        render_lines = app.console.render_lines

        def counted(renderable: object, *args: object, **kwargs: object) -> object:
            if isinstance(renderable, Markdown):
                self.markdown.append(renderable.markup)
            return render_lines(renderable, *args, **kwargs)  # type: ignore[arg-type]

        app.console.render_lines = counted  # type: ignore[method-assign]


async def test_a_big_code_block_is_drawn_in_a_thread_and_shown_as_its_text_until_then():
    code = "```python\n" + "".join(f"def f{n}(x):\n    return x * {n}\n" for n in range(BIG_CODE)) + "```"
    app = Pane()
    async with app.run_test(size=(60, 30)) as pilot:
        view = app.query_one(OutputView)
        view.add_prompt("write it", 1)
        view.add_text(code + "\n\nThat is all.")
        view.end_turn()
        assert "```python" in view.plain_text  # the block as it streamed, while it is drawn
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = view.plain_text
        assert "```" not in text and "def f0(x):" in text and f"return x * {BIG_CODE - 1}" in text
        assert text.rstrip().endswith("That is all.")
        small = Pane()  # the same block, drawn on the event loop as any other, is drawn the same
        async with small.run_test(size=(60, 30)):
            other = small.query_one(OutputView)
            other._out._draw_later = None
            other.add_prompt("write it", 1)
            other.add_text(code + "\n\nThat is all.")
            other.end_turn()
            assert other.plain_text == text
        assert view.virtual_size.height == view._out.lines
