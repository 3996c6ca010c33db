"""Panes reset to a run state, as a replay's seek does: the output and the file tree show the state at the cursor."""

from __future__ import annotations

import random

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets.tree import TreeNode

from deep_tui.events import (
    Event,
    FileChange,
    FilesChanged,
    MessageDelivered,
    RunFinished,
    RunStarted,
    TextDelta,
    ThinkingDelta,
)
from deep_tui.format import duration
from deep_tui.live_wrap import MARK_LINES
from deep_tui.state import RunState, fold
from deep_tui.timeline import Timeline
from deep_tui.widgets.file_tree import FileTree
from deep_tui.widgets.output_view import OutputView
from tests.event_streams import STARTED_AT, Stream, many_files

ANSWER = [
    "Here is the plan, ",
    "long enough to wrap across the pane's width at least once or twice.\n\n```python\ndef f(x):\n",
    "\n    return x\n```\n\n- one\n- two\n\n",
    "\n## Next\n\nA **bold** end",
]
"""An answer cut mid-paragraph, mid-fence and between paragraphs."""
STEER = "use [b]tabs[/b]\x1b[2J"


def transcript() -> list[Event]:
    """Four turns: thinking, markdown and a steering message; a failure; a cancel; one still streaming."""
    s = Stream()
    s.add(RunStarted, run_id="r1", session_id="s", turn=1, prompt="plan it", agent="demo", started_at=STARTED_AT)
    s.add(ThinkingDelta, text="Let me ")
    s.add(ThinkingDelta, text="think.")
    for piece in ANSWER[:3]:
        s.add(TextDelta, text=piece)
    s.seq += 1  # ``Stream.add`` takes ``kind`` for the event's class
    s.events.append(MessageDelivered(seq=s.seq, t=s.t, message_id="m1", kind="steer", text=STEER, step=3))
    for piece in ANSWER[3:]:
        s.add(TextDelta, text=piece)
    s.add(RunFinished, status="completed", output="".join(ANSWER), duration=4.0)
    s.add(RunStarted, run_id="r2", session_id="s", turn=2, prompt="break it", agent="demo", started_at=STARTED_AT + 9)
    s.add(TextDelta, text="Trying")
    s.add(RunFinished, status="failed", error="ValueError: no", duration=1.0)
    s.add(RunStarted, run_id="r3", session_id="s", turn=3, prompt="stop", agent="demo", started_at=STARTED_AT + 20)
    s.add(TextDelta, text="Working on")
    s.add(RunFinished, status="cancelled", duration=2.5)
    s.add(RunStarted, run_id="r4", session_id="s", turn=4, prompt="again", agent="demo", started_at=STARTED_AT + 30)
    for word in ("Streaming ", "still, ", "paragraph one.\n\n", "And ", "two"):
        s.add(TextDelta, text=word)
    return s.events


class Panes(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputView(id="output")
        yield FileTree(id="files")


def live(view: OutputView, event: Event) -> None:
    """What the dashboard does with an event, for the output."""
    if isinstance(event, RunStarted):
        view.add_prompt(event.prompt, event.turn)
    elif isinstance(event, (TextDelta, ThinkingDelta)):
        view.add_text(event.text, "answer" if isinstance(event, TextDelta) else "thinking")
    elif isinstance(event, MessageDelivered):
        view.add_message(event.text, event.kind)
    elif isinstance(event, RunFinished):
        view.end_turn()
        if event.status == "failed":
            view.add_error(f"{event.status}: {event.error}")
        elif event.status == "cancelled":
            view.add_note(f"■ cancelled after {duration(event.duration)}")


def show(view: OutputView, state: RunState) -> None:
    view.show_blocks(state.output, streaming=state.running)


async def fresh_texts(pilot: Pilot[None], states: list[RunState]) -> list[str]:
    """What a new view shows for each of ``states``."""
    views = [OutputView() for _ in states]
    await pilot.app.mount_all(views)
    await pilot.pause()  # laid out: each draws at its width
    texts = []
    for view, state in zip(views, states, strict=True):
        show(view, state)
        texts.append(view.plain_text)
        await view.remove()
    return texts


async def test_the_output_shows_the_state_as_the_live_view_drew_it():
    events = transcript()
    app = Panes()
    async with app.run_test(size=(70, 30)) as pilot:
        streamed, shown = OutputView(), OutputView()
        await app.mount_all([streamed, shown])
        await pilot.pause()
        state = RunState()
        for position, event in enumerate(events, 1):
            live(streamed, event)
            show(shown, state.apply(event))
            assert shown.plain_text == streamed.plain_text, position
        text = shown.plain_text
    assert "## Next" not in text and "Next" in text and "**bold**" not in text  # finished markdown
    assert "↳ you (steer): use [b]tabs[/b]␛[2J" in text  # the message drawn as delivered, made terminal-safe
    assert "✗ failed: ValueError: no" in text and f"■ cancelled after {duration(2.5)}" in text
    assert text.rstrip().endswith("two")  # the last turn still streams


async def test_seeking_back_and_forth_shows_what_a_new_view_shows():
    events = transcript()
    states = [fold(events[:position]) for position in range(len(events) + 1)]
    middle = next(i for i, e in enumerate(events) if isinstance(e, MessageDelivered))
    app = Panes()
    async with app.run_test(size=(70, 30)) as pilot:
        view = app.query_one(OutputView)
        show(view, states[-1])
        at_end = view.plain_text
        show(view, states[0])
        assert view.plain_text == ""
        show(view, states[middle])
        assert "• two" in view.plain_text and "Next" not in view.plain_text
        expected = await fresh_texts(pilot, states)
        assert view.plain_text == expected[middle]
        show(view, states[-1])
        assert view.plain_text == at_end
        order = [
            *range(len(states)),
            *reversed(range(len(states))),
            *random.Random(7).choices(range(len(states)), k=60),
        ]
        for position in order:
            show(view, states[position])
            assert view.plain_text == expected[position], position


async def test_seeking_inside_a_long_streaming_paragraph_shows_what_a_new_view_shows():
    words = [f"word{i}" if i % 37 else "x" * 90 for i in range(800)]  # some longer than the line
    text = " ".join(words) + "\n\nThe next paragraph, which ends the first."
    s = Stream()
    s.add(RunStarted, run_id="r1", session_id="s", turn=1, prompt="go", agent="demo", started_at=STARTED_AT)
    for start in range(0, len(text), 23):  # pieces that cut words
        s.add(TextDelta, text=text[start : start + 23])
    timeline = Timeline(s.events, every=50)
    picks = [*random.Random(5).sample(range(1, len(timeline) - 1), 10), len(timeline) - 1, len(timeline)]
    app = Panes()
    async with app.run_test(size=(70, 30)) as pilot:
        expected = dict(zip(picks, await fresh_texts(pilot, [timeline.state_at(p) for p in picks]), strict=True))
        view = app.query_one(OutputView)
        for position in [
            *picks,
            *sorted(picks),
            *sorted(picks, reverse=True),
            *(p for q in picks for p in (len(timeline), q)),
        ]:
            for step in (position, position - 1, position):  # and one event back and forth
                show(view, timeline.state_at(step))
            assert view.plain_text == expected[position], position
    assert expected[len(timeline) - 1].count("\n") > 3 * MARK_LINES  # long enough to go back to a line far into it
    assert "The next paragraph" in expected[len(timeline)]


async def test_a_nearby_seek_redraws_only_the_blocks_that_differ():
    events = transcript()
    app = Panes()
    async with app.run_test(size=(70, 100)):  # tall enough for the whole transcript: every block in view
        view = app.query_one(OutputView)
        renders: list[object] = []
        render_lines = app.console.render_lines
        app.console.render_lines = lambda renderable, *a, **k: (
            renders.append(renderable)
            or render_lines(  # type: ignore[method-assign]
                renderable, *a, **k
            )
        )
        end = len(events)
        show(view, fold(events))
        everything = len(renders)
        for position in (end - 1, end, end - 2, end):  # within the streaming answer of the last turn
            renders.clear()
            show(view, fold(events[:position]))
            assert len(renders) <= 1, position  # at most its one finished paragraph, never the turns before
        renders.clear()
        show(view, fold(events[:-5]))  # back to before the last answer: nothing to draw anew
        assert renders == []
    assert everything > 10


async def test_seeking_follows_the_end_unless_the_reader_scrolled_up_and_a_new_turn_follows_again():
    events = transcript()
    first_turn_end = next(i for i, e in enumerate(events) if isinstance(e, RunFinished)) + 1
    app = Panes()
    async with app.run_test(size=(70, 12)) as pilot:
        view = app.query_one(OutputView)
        show(view, fold(events[: first_turn_end - 1]))
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y > 0
        view.scroll_to(y=0, animate=False, immediate=True)
        show(view, fold(events[:first_turn_end]))
        await pilot.pause()
        assert view.scroll_offset.y == 0  # reading up there: the seek does not pull the view down
        show(view, fold(events[: first_turn_end + 1]))  # the next turn's prompt
        await pilot.pause()
        assert view.scroll_offset.y == view.max_scroll_y > 0


async def test_adding_after_a_seek_goes_on_from_the_state_shown():
    events = transcript()
    app = Panes()
    async with app.run_test(size=(70, 30)) as pilot:
        view, expected = OutputView(), OutputView()
        await app.mount_all([view, expected])
        await pilot.pause()
        show(view, fold(events[:3]))
        for event in events[3:8]:
            live(view, event)
        for event in events[:8]:
            live(expected, event)
        assert view.plain_text == expected.plain_text
        show(view, fold(events[:5]))  # and a seek after adding starts from what is shown
        assert [view.plain_text] == await fresh_texts(pilot, [fold(events[:5])])
        live(view, events[5])
        show(view, RunState())  # back to the start, even from what was added
        assert view.plain_text == ""


def workspace() -> list[Event]:
    """Files written over four steps: three folders, a file rewritten, two deleted, one of them created again."""
    s = Stream()
    s.add(RunStarted, run_id="r1", session_id="s", turn=1, prompt="files", agent="demo", started_at=STARTED_AT)
    steps = [
        [("/src/app.py", "created"), ("/src/util/io.py", "created"), ("/docs/readme.md", "created")],
        [("/src/app.py", "modified"), ("/docs/guide.md", "created"), ("/tmp/scratch.txt", "created")],
        [("/tmp/scratch.txt", "deleted"), ("/docs/readme.md", "deleted")],
        [("/docs/readme.md", "created"), ("/src/zeta.py", "created")],
    ]
    for step, changes in enumerate(steps, 1):
        s.add(
            FilesChanged,
            changes=[FileChange(path=path, change=change, size=10, added=step) for path, change in changes],  # type: ignore[arg-type]
            call_id=f"c{step}",
        )
    s.add(RunFinished, status="completed", duration=1.0)
    return s.events


def existing(state: RunState) -> list[str]:
    return sorted(path for path, record in state.files.items() if not record.deleted)


def rows(tree: FileTree) -> list[str]:
    """The tree as drawn: each line's indent and label, a collapsed folder marked, bold labels starred."""
    out: list[str] = []

    def walk(node: TreeNode[str], depth: int) -> None:
        for child in node.children:
            label = child.label if isinstance(child.label, Text) else Text(str(child.label))
            mark = " ▸" if child.allow_expand and not child.is_expanded else ""
            out.append("  " * depth + label.plain + mark + (" *" if "bold" in str(label.style) else ""))
            if child.is_expanded:
                walk(child, depth + 1)

    walk(tree.root, 0)
    return out


def node(tree: FileTree, path: str) -> TreeNode[str]:
    found = [n for n in _nodes(tree.root) if n.data == path]
    assert found, path
    return found[0]


def _nodes(parent: TreeNode[str]) -> list[TreeNode[str]]:
    return [n for child in parent.children for n in (child, *_nodes(child))]


async def test_the_file_tree_shows_the_files_of_the_state_and_drops_deleted_ones():
    events = workspace()
    states = [fold(events[:position]) for position in range(len(events) + 1)]
    app = Panes()
    async with app.run_test(size=(70, 30)) as pilot:
        tree = app.query_one(FileTree)
        tree.show_files(states[2].files)  # after the first step
        assert tree.paths == ["/docs/readme.md", "/src/app.py", "/src/util/io.py"]
        tree.show_files(states[4].files)  # /tmp/scratch.txt and /docs/readme.md deleted
        assert tree.paths == ["/docs/guide.md", "/src/app.py", "/src/util/io.py"]
        assert "tmp/" not in rows(tree)  # a folder left empty goes with its last file
        tree.show_files(states[3].files)
        assert rows(tree) == [
            "docs/",
            "  guide.md +2  new *",
            "  readme.md +1",
            "src/",
            "  util/",
            "    io.py +1",
            "  app.py +2 *",
            "tmp/",
            "  scratch.txt +2  new *",
        ]
        tree.show_files(states[0].files)
        assert tree.paths == [] and rows(tree) == []
        order = [
            *range(len(states)),
            *reversed(range(len(states))),
            *random.Random(3).choices(range(len(states)), k=30),
        ]
        for position in order:
            tree.show_files(states[position].files)
            assert tree.paths == existing(states[position]), position
        fresh = FileTree()
        await app.mount(fresh)
        fresh.show_files(states[order[-1]].files)
        await pilot.pause()
        assert rows(tree) == rows(fresh)


async def test_a_seek_keeps_the_nodes_and_folders_it_does_not_change_and_the_cursor_on_its_file():
    events = workspace()
    states = [fold(events[:position]) for position in range(len(events) + 1)]
    app = Panes()
    async with app.run_test(size=(70, 30)) as pilot:
        tree = app.query_one(FileTree)
        tree.show_files(states[2].files)
        await pilot.pause()
        node(tree, "/src/util").collapse()
        await pilot.pause()
        app_py, io = node(tree, "/src/app.py"), node(tree, "/src/util/io.py")
        tree.move_cursor(app_py)
        tree.show_files(states[3].files)  # /docs/guide.md comes above the cursor; /src/app.py is rewritten
        await pilot.pause()
        assert node(tree, "/src/util/io.py") is io and node(tree, "/src/app.py") is app_py  # the same nodes
        assert tree.cursor_node is app_py and "  app.py +2 *" in rows(tree)  # relabelled, the cursor on it
        assert "  util/ ▸" in rows(tree)  # still collapsed: nothing came into it
        tree.move_cursor(node(tree, "/docs/readme.md"))
        tree.show_files(states[4].files)  # its file deleted: the cursor goes to its folder
        await pilot.pause()
        assert tree.cursor_node is node(tree, "/docs")
        node(tree, "/src").collapse()
        tree.show_files(states[3].files)
        tree.show_files(states[2].files)
        assert "src/ ▸" in rows(tree)  # back and forth: still collapsed
        tree.show_files(states[5].files)  # /src/zeta.py comes into it: it opens, as live
        assert "  zeta.py +4  new *" in rows(tree)


async def test_a_seek_that_removes_most_files_keeps_the_folders_as_they_were():
    events = many_files(300)
    app = Panes()
    async with app.run_test(size=(70, 30)) as pilot:
        tree = app.query_one(FileTree)
        tree.show_files(fold(events).files)
        await pilot.pause()
        node(tree, "/d1").collapse()
        await pilot.pause()
        tree.move_cursor(node(tree, "/d2/f002.txt"))
        tree.show_files(fold(events[:11]).files)  # ten files left
        await pilot.pause()
        assert tree.paths == sorted(f"/d{index % 5}/f{index:03}.txt" for index in range(10))
        assert "d1/ ▸" in rows(tree) and tree.cursor_node is node(tree, "/d2/f002.txt")
