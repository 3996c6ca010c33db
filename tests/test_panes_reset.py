"""Panes reset to a run state, as a replay's seek does: the output and the file tree show the state at the cursor."""

from __future__ import annotations

import random

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from deep_tui.events import (
    Event,
    MessageDelivered,
    RunFinished,
    RunStarted,
    TextDelta,
    ThinkingDelta,
)
from deep_tui.format import duration
from deep_tui.state import RunState, fold
from deep_tui.widgets.file_tree import FileTree
from deep_tui.widgets.output_view import OutputView
from tests.event_streams import STARTED_AT, Stream

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


async def test_a_nearby_seek_redraws_only_the_blocks_that_differ():
    events = transcript()
    app = Panes()
    async with app.run_test(size=(70, 30)):
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
