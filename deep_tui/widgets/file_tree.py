"""A tree of the agent's in-memory workspace, updated in place as files change.

Textual's ``Tree`` rebuilds its line list after every add (about 67 ms at 5,000
nodes), so changes are buffered and applied in one batch at most four times a
second. Directories holding new files are expanded so new files are visible;
what the last step changed is highlighted with its line counts, and a deleted
file stays struck through until the next step.

Neither a change nor the line count it makes lays out the screen, as Textual's ``Tree`` has it do (16-43 ms
in a replay playing at max, a key pressed meanwhile waiting for it): the tree's box is its style's, not its
nodes'. Only its scrollbar appearing or going does.

A replay shows the files of the run state at its cursor (``show_files``): the tree takes
the paths that differ from what it shows, not a rebuild of every leaf, so a seek that
changed a few files costs a few nodes, and folders stay as the reader expanded them.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from deep_tui.terminal_text import visible
from deep_tui.widgets.steady_scroll_bar import SteadyScrolling

if TYPE_CHECKING:
    from typing_extensions import Self

    from deep_tui.events import FileChange
    from deep_tui.state import FileRecord, FileVersion

APPLY_INTERVAL = 0.25
"""Seconds between batches of changes applied to the tree."""
REBUILD_FROM = 64
"""Files going at once from which ``show_files`` empties the tree, if they are most of it: removing a node
scans its siblings, so thousands of removals cost more than adding back what stays."""


class FileTree(SteadyScrolling, Tree[str]):
    """The workspace as a tree; each node's data is its absolute path."""

    class FileSelected(Message):
        """The user chose a file to view."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))
    """Textual's, without ``layout=True``: its lines are repainted and its scrollbar updated."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("/", data="/", id=id)
        self._lines_changed = False
        """Set while Textual's ``Tree`` redraws its lines, which it does with a layout of the screen."""
        self.show_root = False
        self.guide_depth = 2
        self._by_path: dict[str, TreeNode[str]] = {"/": self.root}
        self._order: dict[str, list[tuple[bool, str]]] = {}
        """Per directory, its children's sort keys (directories first, then by name), in tree order."""
        self._changes: dict[str, FileChange | FileVersion] = {}
        """Per path, its last change, for labels."""
        self._marked: set[str] = set()
        self._pending: list[FileChange] = []
        self._deleted: list[str] = []
        self.root.expand()

    def validate_virtual_size(self, size: Size) -> Size:
        """An empty tree is as wide as nothing: Textual makes it as wide as its box, one column wider than what the
        scrollbar leaves, and a horizontal scrollbar showed under no files."""
        return size if size.height else Size(0, 0)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)  # lays the screen out if a scrollbar appears or goes

    def _invalidate(self) -> None:
        self._lines_changed = True
        try:
            super()._invalidate()
        finally:
            self._lines_changed = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        layout = layout and not self._lines_changed
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    @property
    def paths(self) -> list[str]:
        """The files shown, sorted (directories left out)."""
        return sorted(p for p, n in self._by_path.items() if not n.allow_expand and p not in self._deleted)

    def apply(self, changes: Sequence[FileChange]) -> None:
        """Queue one step's changes; they reach the screen with the next batch."""
        if not self._pending:
            self.set_timer(APPLY_INTERVAL, self._apply_pending)
        self._pending.extend(changes)

    def flush(self) -> None:
        """Apply queued changes now (at the end of a turn)."""
        self._apply_pending()

    def _apply_pending(self) -> None:
        if not self._pending:
            return
        changes, self._pending = self._pending, []
        for path in self._deleted:
            node = self._by_path.pop(path, None)
            if node is not None:
                node.remove()
                self._order[posixpath.dirname(path)].remove(_key(path, False))
        self._deleted.clear()
        for path in self._marked:
            if path in self._by_path:
                self._by_path[path].set_label(self._label(path, fresh=False))
        self._marked.clear()
        for change in changes:
            self._changes[change.path] = change
            node = self._by_path.get(change.path)
            if node is None and change.change != "deleted":
                node = self._add_file(change.path)
            if node is None:
                continue
            if change.change == "deleted":
                self._deleted.append(change.path)
            self._marked.add(change.path)
            node.set_label(self._label(change.path, fresh=True))

    def show_files(self, files: Mapping[str, FileRecord]) -> None:
        """Show exactly the files of ``files`` (a run state's) that are not deleted; the files of the last change
        among them are highlighted as a step's are live.

        Only the paths that differ from those shown are added, removed (with folders left empty) or relabelled.
        Folders stay expanded or collapsed, but one gaining a file opens, as live; the cursor stays on its node,
        or goes to the nearest folder still shown if its file went.
        """
        self._pending.clear()  # the state has every change there is
        wanted: dict[str, FileVersion] = {}
        newest = -1
        for path, record in files.items():
            latest = record.versions[-1]
            newest = max(newest, latest.index)
            if latest.change != "deleted":
                wanted[path] = latest
        shown = {path for path, node in self._by_path.items() if not node.allow_expand}
        gone, new = shown - wanted.keys(), wanted.keys() - shown
        cursor = self.cursor_node
        collapsed: set[str] = set()
        if len(gone) >= REBUILD_FROM and len(gone) > len(shown) // 2:
            collapsed = {path for path, node in self._by_path.items() if node.allow_expand and not node.is_expanded}
            self._empty()
        else:
            for path in gone:
                self._remove_file(path)
        self._deleted.clear()
        for path in sorted(wanted.keys() - self._by_path.keys()):
            version, fresh = wanted[path], wanted[path].index == newest
            self._changes[path] = version
            self._add_file(path, self._label(path, fresh=fresh))
            if fresh:
                self._marked.add(path)
        for path, version in wanted.items():
            fresh = version.index == newest
            known = self._changes.get(path)
            self._changes[path] = version
            if fresh == (path in self._marked) and known is not None and _drawn_alike(known, version):
                continue  # relabelling costs a callback per node: thousands on a far seek
            self._by_path[path].set_label(self._label(path, fresh=fresh))
            if fresh:
                self._marked.add(path)
            else:
                self._marked.discard(path)
        grown = {posixpath.dirname(path) for path in new}
        for path in collapsed - grown:
            if (node := self._by_path.get(path)) is not None:
                node.collapse()
        if cursor is not None and cursor.data is not None and self._by_path.get(cursor.data) is not cursor:
            self._move_cursor_near(cursor.data)

    def _remove_file(self, path: str) -> None:
        """Remove a file's node, and its folders if they are left empty."""
        node = self._by_path.pop(path)
        is_dir = node.allow_expand
        node.remove()
        self._changes.pop(path, None)
        self._marked.discard(path)
        if is_dir:
            del self._order[path]
        parent = posixpath.dirname(path)
        keys = self._order[parent]
        del keys[bisect.bisect_left(keys, _key(path, is_dir))]
        if not keys and parent != "/":
            self._remove_file(parent)

    def _empty(self) -> None:
        self.clear()
        self._by_path = {"/": self.root}
        self._order.clear()
        self._changes.clear()
        self._marked.clear()

    def _move_cursor_near(self, path: str) -> None:
        """Put the cursor on ``path``'s node, or its nearest folder still shown, or the first line."""
        while path not in self._by_path:
            path = posixpath.dirname(path)
        if self.last_line < 0:  # (asking builds the lines, which the nodes' lines come from)
            return
        node = self._by_path[path]
        if node is self.root:
            self.move_cursor_to_line(0)
        else:
            self.move_cursor(node)

    def _add_file(self, path: str, label: Text | None = None) -> TreeNode[str]:
        parent = self._directory(posixpath.dirname(path))
        node = parent.add_leaf(label or Text(_name(path)), data=path, before=self._position(path, False))
        self._by_path[path] = node
        return node

    def _directory(self, path: str) -> TreeNode[str]:
        node = self._by_path.get(path)
        if node is None:
            parent = self._directory(posixpath.dirname(path))
            node = parent.add(
                Text(_name(path) + "/"),
                data=path,
                expand=True,
                before=self._position(path, True),
            )
            self._by_path[path] = node
        elif not node.is_expanded:
            node.expand()
        return node

    def _position(self, path: str, is_dir: bool) -> int | None:
        """Where a new child goes among its siblings, found by bisection."""
        keys = self._order.setdefault(posixpath.dirname(path), [])
        index = bisect.bisect(keys, _key(path, is_dir))
        keys.insert(index, _key(path, is_dir))
        return index if index < len(keys) - 1 else None

    def _label(self, path: str, *, fresh: bool) -> Text:
        name = _name(path)
        change = self._changes.get(path)
        if change is None:
            return Text(name)
        if change.change == "deleted":
            return Text(name, style="strike red" if fresh else "strike dim")
        label = Text(name, style="bold" if fresh else "")
        counts = []
        if change.added:
            counts.append((f" +{change.added}", "green" if fresh else "dim green"))
        if change.removed:
            counts.append((f" −{change.removed}", "red" if fresh else "dim red"))
        if fresh and change.change == "created":
            counts.append(("  new", "green italic"))
        elif fresh and not counts:
            counts.append(("  rewritten", "yellow italic"))
        label.append_text(Text.assemble(*counts))
        return label

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        node = event.node
        if node.data and not node.allow_expand:
            self.post_message(self.FileSelected(node.data))


def _name(path: str) -> str:
    """The path's last part as a label shows it (in a ``Text``: a ``str`` label would be read as markup)."""
    return visible(posixpath.basename(path))


def _drawn_alike(one: FileChange | FileVersion, other: FileChange | FileVersion) -> bool:
    """Whether two changes of a file give it the same label."""
    return one is other or (one.change, one.added, one.removed) == (other.change, other.added, other.removed)


def _key(path: str, is_dir: bool) -> tuple[bool, str]:
    return (not is_dir, posixpath.basename(path).lower())
