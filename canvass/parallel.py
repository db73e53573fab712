"""Work spread over the machine's cores, one process per core.

:func:`process_map` runs a function over items in worker processes and hands back the
results in the items' order, a few items ahead of the one handed back (so results wait in
memory only that far); the first item whose call raises stops the run with that item's
error, as a loop would. One item, or one core, or a call from inside a worker, or work too
small to be worth starting processes for, and it runs in this process.

Workers are forked from this process when it runs no other thread (a command line):
they start at once with everything already loaded. A process with threads (a server)
starts them from a clean fork server instead, since a fork copies locks other threads may
hold. ``CANVASS_WORKERS`` sets how many (1: none; default: the cores this process may
use).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from canvass.errors import CanvassError

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

_shared: Any = None
"""In a worker: what :func:`process_map` was given to share with every call."""
_in_worker = False


def workers() -> int:
    """How many processes to use: ``CANVASS_WORKERS``, or the cores this process may use."""
    given = os.environ.get("CANVASS_WORKERS", "").strip()
    if given:
        if not given.isdigit() or int(given) < 1:
            raise CanvassError(f"CANVASS_WORKERS: expected a whole number from 1; found {given!r}")
        return int(given)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _start(shared: Any) -> None:
    global _shared, _in_worker
    _shared, _in_worker = shared, True


def _call(function: Callable[[Any, T], R], item: T) -> R:
    return function(_shared, item)


def _pool(count: int, shared: Any) -> ProcessPoolExecutor:
    """``count`` worker processes, each given ``shared``; see the module's docstring.
    Loaded here, not on import: a count on one core, or too small, starts none."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    method = "fork" if threading.active_count() == 1 else "forkserver"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(count, context, initializer=_start, initargs=(shared,))


def process_map(
    function: Callable[[S, T], R],
    shared: S,
    items: Sequence[T],
    worth_it: bool = True,
    ahead: int = 0,
) -> Iterator[R]:
    """``function(shared, item)`` for each item, in order, computed in worker processes;
    ``shared`` reaches each worker once (with a fork, without being copied at all).
    ``worth_it``: whether the work outweighs starting processes (else it runs here).
    ``ahead``: how many items may be handed to the workers before the caller has taken
    their results (at least two a worker): enough that the workers keep going while the
    caller works on what it took, few enough that the results waiting fit in memory."""
    count = 1 if _in_worker or not worth_it else min(workers(), len(items))
    if count <= 1:
        for item in items:
            yield function(shared, item)
        return
    with _pool(count, shared) as pool:
        waiting: deque[Future[R]] = deque()
        try:
            for item in items:
                waiting.append(pool.submit(_call, function, item))
                if len(waiting) >= max(2 * count, ahead):
                    yield waiting.popleft().result()
            while waiting:
                yield waiting.popleft().result()
        finally:
            for future in waiting:
                future.cancel()


@contextmanager
def beside(
    function: Callable[[S, T], R], shared: S, items: Sequence[T], worth_it: bool = True
) -> Iterator[Iterator[R]]:
    """``function(shared, item)`` for every item, in worker processes that start on every
    item at once, while the caller's block does other work in this process (which keeps a
    core for it: one process fewer than :func:`workers`); the block takes the results, in
    the items' order, when it needs them (the first whose call raised raises there). The
    items no worker has started by the time the block asks are worked on here, from the
    last back, while the workers go on from the first: whichever finishes first, the other
    side's core is not left idle. Each result waits in memory until taken: for small
    results. One core, a call from inside a worker, or work not worth it, and the items are
    worked on here as they are taken."""
    count = 0 if _in_worker or not worth_it else min(workers() - 1, len(items))
    if count < 1:
        yield (function(shared, item) for item in items)
        return
    with _pool(count, shared) as pool:
        futures = [pool.submit(_call, function, item) for item in items]
        try:
            yield _taken(function, shared, items, futures)
        finally:
            for future in futures:
                future.cancel()


def _taken(
    function: Callable[[S, T], R], shared: S, items: Sequence[T], futures: list[Future[R]]
) -> Iterator[R]:
    """The results in the items' order; first, the items from the last back that no worker
    has started (a future cancelled before it starts never runs) are worked on here."""
    here: dict[int, tuple[R | None, Exception | None]] = {}
    for n in reversed(range(len(items))):
        if not futures[n].cancel():
            break
        try:
            here[n] = (function(shared, items[n]), None)
        except Exception as e:  # raised in its turn, as a worker's error is
            here[n] = (None, e)
    for n, future in enumerate(futures):
        if n not in here:
            yield future.result()
            continue
        result, error = here.pop(n)
        if error is not None:
            raise error
        yield cast(R, result)


SIDE_BY_SIDE_BYTES = 8 * 2**20
"""Input below which reading runs in one process: starting workers (a fork server, in a
process with threads) costs more than reading a few megabytes."""


def worth_it(sizes: Iterable[int]) -> bool:
    """Whether files of these sizes are worth reading side by side."""
    return sum(sizes) >= SIDE_BY_SIDE_BYTES
