"""Lines cut to a width are not left to the garbage collector."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest
from rich.segment import Segment
from textual.strip import Strip

from deep_tui.strips import fit


@pytest.fixture
def left_to_the_collector() -> Iterator[Callable[[], list[Strip]]]:
    """The strips that only the garbage collector could free, since the fixture began."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:

        def strips() -> list[Strip]:
            gc.collect()
            return [each for each in gc.garbage if isinstance(each, Strip)]

        yield strips
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_a_line_that_already_fits_is_itself_and_no_cycle(left_to_the_collector: Callable[[], list[Strip]]) -> None:
    line = Strip([Segment("twelve cells")])
    assert fit(line, 0, 12, None) is line
    del line
    assert left_to_the_collector() == []

    line = Strip([Segment("twelve cells")])
    line.crop_extend(0, 12, None)  # Textual's: the same line, kept in its own cache
    del line
    assert len(left_to_the_collector()) == 1


def test_a_line_is_cut_or_padded_as_textual_does() -> None:
    line = Strip([Segment("twelve cells")])
    for start, width in ((0, 6), (3, 6), (0, 20), (5, 20)):
        assert fit(line, start, width, None).text == line.crop_extend(start, start + width, None).text
