"""The file tree: files coming and going repaint it, and lay out the screen only when its scrollbar comes or goes."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Static

from deep_tui.state import fold
from deep_tui.widgets.file_tree import FileTree
from tests.event_streams import created, many_files


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("a pane above", id="pane")
        yield FileTree(id="files")

    CSS = "#files { height: 12; }"


def drawn(tree: FileTree) -> list[str]:
    """The tree's lines as the screen shows them, scrollbar column included."""
    return [strip.text for strip in tree.render_lines(Region(0, 0, *tree.outer_size))]


async def test_files_added_repaint_the_tree_and_only_its_scrollbar_appearing_lays_out_the_screen(screen_layouts):
    app = TreeApp()
    async with app.run_test(size=(40, 20)) as pilot:
        tree = app.query_one(FileTree)
        await pilot.pause()
        screen_layouts.clear()
        tree.apply(created("/a.txt", "/src/b.py"))
        tree.flush()
        await pilot.pause()
        assert any("b.py" in line for line in drawn(tree))  # drawn...
        assert not screen_layouts and not tree.show_vertical_scrollbar  # ...without a layout
        tree.apply(created(*(f"/src/f{index:02}.py" for index in range(20))))
        tree.flush()
        await pilot.pause()
        assert tree.show_vertical_scrollbar and len(screen_layouts) >= 1  # more lines than fit: the bar came
        assert tree.vertical_scrollbar.window_virtual_size == len(tree._tree_lines) == 23
        screen_layouts.clear()
        tree.apply(created(*(f"/src/g{index:02}.py" for index in range(5))))
        tree.flush()
        await pilot.pause()
        assert not screen_layouts  # the bar only grew
        assert tree.vertical_scrollbar.window_virtual_size == len(tree._tree_lines) == 28


async def test_a_tree_that_shrinks_below_its_scroll_shows_its_last_lines_and_drops_its_scrollbar(screen_layouts):
    events = many_files(40)
    app = TreeApp()
    async with app.run_test(size=(40, 20)) as pilot:
        tree = app.query_one(FileTree)
        tree.show_files(fold(events).files)
        await pilot.pause()
        tree.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert tree.show_vertical_scrollbar and tree.scroll_y == tree.max_scroll_y > 20
        tree.show_files(fold(events[:16]).files)  # fifteen files left
        await pilot.pause()
        assert tree.scroll_y == tree.max_scroll_y and tree.show_vertical_scrollbar
        assert any("f014" in line for line in drawn(tree))  # the last file, not blank lines past the end
        tree.show_files(fold(events[:4]).files)  # three: they fit
        await pilot.pause()
        assert tree.scroll_y == 0 and not tree.show_vertical_scrollbar
        assert [line.split()[-2:] for line in drawn(tree)[:6] if "f0" in line] == [
            ["f000.txt", "+1"],
            ["f001.txt", "+1"],
            ["+1", "new"],  # f002.txt, the last
        ]


async def test_an_empty_tree_that_keeps_its_bars_column_shows_no_horizontal_scrollbar():
    app = TreeApp()
    app.CSS = "#files { height: 12; overflow-y: scroll; }"
    async with app.run_test(size=(40, 20)) as pilot:
        tree = app.query_one(FileTree)
        await pilot.pause()
        assert tree.show_vertical_scrollbar and not tree.show_horizontal_scrollbar
        tree.apply(created("/a.txt"))
        tree.flush()
        await pilot.pause()
        assert not tree.show_horizontal_scrollbar and any("a.txt" in line for line in drawn(tree))
