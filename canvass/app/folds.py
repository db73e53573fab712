"""The canvass and the audits as the log stands: pure folds of its entries
(:class:`~canvass.certify.canvass.Canvass`, :class:`~canvass.audit.workflow.Audits`), kept
in caches keyed on the log's size and root so that a workflow folds only what was
appended since.

A workflow that changes the canvass opens :func:`changing_canvass`: the write transaction
takes the log's lock, the fold is brought up to the log as that transaction sees it (a
private copy: nobody else sees it change), the workflow checks and applies its entries to
it and appends them, and only after the commit is the new state kept for others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeVar

from canvass.app.results import definition
from canvass.app.snapshot import ReadSource, Source, reading, viewing
from canvass.audit.workflow import Audits
from canvass.certify.canvass import Canvass, CanvassRefused
from canvass.log.entry import Entry
from canvass.store.cache import LogPosition, LogStateCache
from canvass.store.election import ElectionDirectory
from canvass.store.log import LogWriter
from canvass.store.reading import Snapshot


class _Fold(Protocol):
    size: int

    def apply(self, index: int, entry: Entry) -> None: ...


F = TypeVar("F", bound=_Fold)

_CANVASS: LogStateCache[Canvass] = LogStateCache(16)
_AUDITS: LogStateCache[Audits] = LogStateCache(16)


def _position(view: Snapshot) -> LogPosition:
    return (view.identity, view.size, view.root() if view.size else b"")


def _fold(view: Snapshot, cache: LogStateCache[F], start: Callable[[], F]) -> F:
    """The fold of the log as ``view`` sees it: kept, or a kept fold of a prefix of it
    brought up to date, or folded from the start. The caller gets its own copy."""
    position = _position(view)
    state = cache.get(position)
    if state is not None:
        return state
    for size, root in cache.earlier(view.identity, view.size):
        if size and view.root(size) == root:
            state = cache.get((view.identity, size, root))
            if state is not None:
                break
    if state is None:
        state = start()
    for index, entry in view.entries(state.size):
        state.apply(index, entry)
    if not isinstance(view, LogWriter) or not view.appended:
        cache.put(position, state)  # every entry folded is committed
    return state


def canvass(source: ReadSource) -> Canvass:
    """The canvass as the log stands (a copy of its own for the caller)."""
    with reading(source) as view:
        return _fold(view, _CANVASS, lambda: Canvass(definition(view).election.id))


def audits(source: Source) -> Audits:
    """Every audit as the log stands (a copy of its own for the caller)."""
    with viewing(source) as view:
        return _fold(view, _AUDITS, Audits)


@contextmanager
def _changing(
    election: ElectionDirectory, cache: LogStateCache[F], fold: Callable[[LogWriter], F]
) -> Iterator[tuple[LogWriter, F]]:
    with election.writing() as w:
        state = fold(w)
        yield w, state
    if state.size == w.size:  # committed, and every entry of it folded
        cache.put((w.identity, w.size, w.root()), state)


def changing_canvass(
    election: ElectionDirectory,
) -> AbstractContextManager[tuple[LogWriter, Canvass]]:
    """A write transaction and the canvass as it sees the log; see the module's docstring."""
    return _changing(election, _CANVASS, canvass)


def changing_audits(
    election: ElectionDirectory,
) -> AbstractContextManager[tuple[LogWriter, Audits]]:
    """A write transaction and the audits as it sees the log."""
    return _changing(election, _AUDITS, audits)


def append_canvass(w: LogWriter, state: Canvass, entries: Sequence[Entry]) -> list[int]:
    """Apply ``entries`` to ``state`` (which refuses what the rules do not allow), then
    append them."""
    last = state.last_time
    appended = []
    for entry in entries:
        if entry.time < last:
            raise CanvassRefused(
                f"{entry.type}: its time {entry.time} is before the log's last entry ({last})"
            )
        last = entry.time
        state.apply(w.size, entry)
        appended.append(w.append(entry))
    return appended


def append_audits(w: LogWriter, state: Audits, entries: Sequence[Entry]) -> list[int]:
    """Apply ``entries`` to ``state`` (which refuses a step out of order), then append
    them."""
    appended = []
    for entry in entries:
        state.apply(w.size, entry)
        appended.append(w.append(entry))
    return appended
