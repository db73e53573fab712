"""Work spread over the machine's cores, one process per core.

:func:`process_map` runs a function over items in worker processes and hands back the
results in the items' order, a few items ahead of the one handed back (so results wait in
memory only that far); the first item whose call raises stops the run with that item's
error, as a loop would. A caller with work of its own to do on each result (naming and
writing what a worker read) is one of the processes: while the result it needs next is
not ready it works on an item no worker has started, so there is a worker fewer and no
core has two processes wanting it. One item, or one core, or a call from inside a
worker, or work too small to be worth starting processes for, and it runs in this
process.

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
    caller_works: bool = False,
) -> Iterator[R]:
    """``function(shared, item)`` for each item, in order, computed in worker processes;
    ``shared`` reaches each worker once (with a fork, without being copied at all).
    ``worth_it``: whether the work outweighs starting processes (else it runs here).
    ``ahead``: how many items may be worked on before the caller has taken their results
    (at least two a process): enough that every process keeps going while the caller
    works on what it took, few enough that the results waiting fit in memory.
    ``caller_works``: whether the caller works on each result it takes; then this process
    works on items too (see :func:`_with_this_process`)."""
    count = 0 if _in_worker or not worth_it else min(workers(), len(items))
    if count < 2:
        for item in items:
            yield function(shared, item)
        return
    if caller_works:
        yield from _with_this_process(function, shared, items, count - 1, ahead)
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


def _with_this_process(
    function: Callable[[S, T], R], shared: S, items: Sequence[T], count: int, ahead: int
) -> Iterator[R]:
    """:func:`process_map` with ``count`` workers and this process. The items within
    ``ahead`` are handed to the workers, which take them in order; while the result this
    process needs next is not ready, it takes back the last item handed out that no worker
    has started and works on it, rather than wait. A worker's result reaches this process
    as a file in memory (``/dev/shm`` where there is one), read when it is taken: sent
    through a pipe, a large result would hold the worker until this process, busy with an
    item of its own, read it."""
    window = max(4 * (count + 1), ahead)
    with _pool(count, shared) as pool, _results_folder() as folder:
        handed: dict[int, Future[tuple[str | None, R | None]]] = {}
        here: dict[int, tuple[R | None, Exception | None]] = {}
        listed = 0
        try:
            for n in range(len(items)):
                for m in range(listed, min(len(items), n + window)):
                    handed[m] = pool.submit(_call_to_file, function, items[m], folder)
                listed = max(listed, n + window)
                future = handed.pop(n, None)
                while future is not None and not future.done():
                    taken = _unstarted(handed, n, listed)
                    if taken is None:
                        break
                    here[taken] = _here(function, shared, items[taken])
                if future is not None:
                    yield _from_file(future.result())
                    continue
                result, error = here.pop(n)
                if error is not None:
                    raise error
                yield cast(R, result)
        finally:
            for future in handed.values():
                future.cancel()


def _unstarted(handed: dict[int, Future[Any]], after: int, listed: int) -> int | None:
    """The last item handed out, after ``after``, that no worker has started, taken back
    (a future cancelled before it starts never runs); None when every one has started.
    Workers start items in order, so the search ends at the first one started."""
    for m in range(listed - 1, after, -1):
        future = handed.get(m)
        if future is None:
            continue
        if not future.cancel():
            return None
        del handed[m]
        return m
    return None


def _call_to_file(
    function: Callable[[Any, T], R], item: T, folder: str
) -> tuple[str | None, R | None]:
    """``function(shared, item)``, its result written to a new file in ``folder``: the
    file's path; or, where no file can be written (the folder full), the result itself."""
    import pickle
    import tempfile

    result = function(_shared, item)
    try:
        made, path = tempfile.mkstemp(dir=folder)
    except OSError:
        return None, result
    try:
        with os.fdopen(made, "wb") as f:
            pickle.dump(result, f, pickle.HIGHEST_PROTOCOL)
    except OSError:
        os.unlink(path)
        return None, result
    return path, None


def _from_file(sent: tuple[str | None, R | None]) -> R:
    """The result :func:`_call_to_file` sent, read from its file (then removed)."""
    import pickle

    path, result = sent
    if path is None:
        return cast(R, result)
    with open(path, "rb") as f:
        data = f.read()
    os.unlink(path)
    loaded: R = pickle.loads(data)
    return loaded


def _results_folder() -> Any:
    """A folder for the workers' results, removed with whatever is left in it."""
    import tempfile

    memory = "/dev/shm"
    return tempfile.TemporaryDirectory(
        prefix="canvass-", dir=memory if os.access(memory, os.W_OK) else None
    )


def _here(function: Callable[[S, T], R], shared: S, item: T) -> tuple[R | None, Exception | None]:
    """``function(shared, item)`` worked out in this process: its result, or the error it
    raised, to be raised in its turn as a worker's error is."""
    try:
        return function(shared, item), None
    except Exception as e:
        return None, e


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
        here[n] = _here(function, shared, items[n])
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
