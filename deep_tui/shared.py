"""Containers whose copies share their storage, for run states copied every few hundred events.

With a keyframe every 1,000 events, the timeline of a recording of 45,000 tool calls took 51 MB,
24 of them copies of the list of calls (docs/performance.md); a workspace of 5,000 files would
cost as much again in copies of the files' mapping. Here the items live in chunks of
``CHUNK``: a copy copies the list of chunks, and whichever of two copies changes a shared
chunk first (appends to it, replaces an item) takes a copy of that chunk alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeVar, overload

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

CHUNK = 256
"""Items per chunk: a copy costs one pointer per ``CHUNK`` items, a first change ``CHUNK`` pointers."""


class SharedList(Sequence[T]):
    """A sequence with ``append``, item assignment and a cheap ``copy``."""

    __slots__ = ("_chunks", "_len", "_mine")

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._chunks: list[list[T]] = []
        self._mine: set[int] = set()
        """The chunks no copy shares: this list may change them in place."""
        self._len = 0
        for item in items:
            self.append(item)

    def append(self, item: T) -> None:
        if self._len % CHUNK == 0:
            self._mine.add(len(self._chunks))
            self._chunks.append([item])
        else:
            self._own(len(self._chunks) - 1).append(item)
        self._len += 1

    def __setitem__(self, index: int, item: T) -> None:
        index = self._index(index)
        self._own(index // CHUNK)[index % CHUNK] = item

    def copy(self) -> SharedList[T]:
        """An equal list; from now on the two share every chunk until one of them changes it."""
        new: SharedList[T] = SharedList()
        new._chunks = list(self._chunks)
        new._len = self._len
        self._mine = set()
        return new

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        index = self._index(index)
        return self._chunks[index // CHUNK][index % CHUNK]

    def __iter__(self) -> Iterator[T]:
        for chunk in self._chunks:
            yield from chunk

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SharedList):
            return self._len == other._len and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __repr__(self) -> str:
        return f"SharedList({list(self)!r})"

    def _index(self, index: int) -> int:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(index)
        return index

    def _own(self, chunk: int) -> list[T]:
        if chunk not in self._mine:
            self._chunks[chunk] = list(self._chunks[chunk])
            self._mine.add(chunk)
        return self._chunks[chunk]


class SharedMap(Mapping[K, V]):
    """A mapping whose keys are only ever added, with item assignment and a cheap ``copy``.

    Keys and values are ``SharedList``s in insertion order; the index from key to position is
    shared by copies too, each ignoring the positions past its own length, until one adds a key
    while another copy's key is in the index: it takes an index of its own then.
    """

    __slots__ = ("_index", "_keys", "_values")

    def __init__(self) -> None:
        self._index: dict[K, int] = {}
        self._keys: SharedList[K] = SharedList()
        self._values: SharedList[V] = SharedList()

    def __getitem__(self, key: K) -> V:
        position = self._index.get(key)
        if position is None or position >= len(self._keys):
            raise KeyError(key)
        return self._values[position]

    def __setitem__(self, key: K, value: V) -> None:
        position = self._index.get(key)
        if position is not None and position < len(self._keys):
            self._values[position] = value
            return
        if len(self._index) != len(self._keys):  # a copy added keys to the index we share
            self._index = {k: p for k, p in self._index.items() if p < len(self._keys)}
        self._index[key] = len(self._keys)
        self._keys.append(key)
        self._values.append(value)

    def copy(self) -> SharedMap[K, V]:
        new: SharedMap[K, V] = SharedMap()
        new._index, new._keys, new._values = self._index, self._keys.copy(), self._values.copy()
        return new

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[K]:
        return iter(self._keys)

    def __repr__(self) -> str:
        return f"SharedMap({dict(self.items())!r})"
