"""Bounded, thread-safe caches that can never serve a stale state.

Two kinds, by what their keys promise:

- :class:`ContentCache` holds values computed from immutable inputs named by their
  content (a definition by its SHA-256, a poll book by its own): the key changes whenever
  the input would, so an entry is never stale.
- :class:`LogStateCache` holds states folded from a log, each under the log's identity,
  its size and its Merkle root at that size: the root names every entry folded, so a
  state is served only for exactly that log. A state is kept as a frozen copy (pickled)
  taken after the transaction that made it committed, and every caller gets its own copy
  back: nobody can change what another reads, and nothing a failed transaction did can
  be served.

Both evict the least recently used entry beyond their capacity.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class ContentCache(Generic[K, V]):
    """Values computed from content-addressed inputs; callers must treat them as
    read-only, since every caller shares them."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: two threads may both make it; both are right
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


LogPosition = tuple[str, int, bytes]
"""(identity of the log, its size, its Merkle root at that size)."""


class LogStateCache(Generic[T]):
    """States folded from logs, by :data:`LogPosition`."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[LogPosition, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, position: LogPosition) -> T | None:
        """A private copy of the state at exactly ``position``, if kept."""
        with self._lock:
            frozen = self._items.get(position)
            if frozen is not None:
                self._items.move_to_end(position)
        return None if frozen is None else self._thaw(frozen)

    def earlier(self, identity: str, size: int) -> list[tuple[int, bytes]]:
        """The (size, root) of every state kept of ``identity`` at ``size`` or before,
        largest first: one of them may be a prefix of the log to fold on from."""
        with self._lock:
            found = [(n, root) for (who, n, root) in self._items if who == identity and n <= size]
        return sorted(found, key=lambda k: -k[0])

    def put(self, position: LogPosition, state: T) -> None:
        """Keep a copy of ``state`` as the fold of the log at ``position``; call it only once
        that position is committed."""
        frozen = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._items[position] = frozen
            self._items.move_to_end(position)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def discard(self, identity: str) -> None:
        with self._lock:
            for position in [p for p in self._items if p[0] == identity]:
                del self._items[position]

    def __len__(self) -> int:
        return len(self._items)

    @staticmethod
    def _thaw(frozen: bytes) -> T:
        state: T = pickle.loads(frozen)
        return state
