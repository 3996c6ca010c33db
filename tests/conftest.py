import gc
import os
import tempfile
from collections.abc import Iterator

import pytest
from textual.screen import Screen

os.environ.setdefault("PYDANTIC_AI_NO_BANNER", "1")
for _key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "DEEP_TUI_MODEL", "DEEP_TUI_TOKEN"):
    os.environ.pop(_key, None)

# Saved sessions go to a scratch directory, never to the user's own data directory.
os.environ["DEEP_TUI_HOME"] = tempfile.mkdtemp(prefix="deep-tui-tests-")
# Preferences too: a test that picks a theme must not change the user's, nor the user's change a test.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="deep-tui-tests-config-")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` go first, one to each worker as it gets free (``--maxschedchunk 1``): the workers
    then end on short tests together, instead of one of them running a long test alone while the others are done."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _heap_thawed() -> Iterator[None]:
    """A dashboard freezes the heap once a turn ends (``deep_tui.heap``): process-wide, so each test starts thawed."""
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.fixture
def screen_layouts(monkeypatch: pytest.MonkeyPatch) -> list[Screen[object]]:
    """Each full layout of a screen from now on (clear it to count from a later point): a widget whose box does
    not change should not cause one, since it costs every widget of the screen its place."""
    made: list[Screen[object]] = []
    lay_out = Screen._refresh_layout

    def counted(self: Screen[object], *args: object, **kwargs: object) -> None:
        made.append(self)
        lay_out(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    return made
