"""What the read workflows take: an election (each call reads its own snapshot) or a
reader already open on one, so that several reads can share a snapshot.

The store (and SQLAlchemy) load when a workflow first needs them, not on import:
:func:`open_to_read` opens an SQLite election without them, for commands that only read
(``canvass results``), and the reads that such a command makes take any
:class:`~canvass.store.reading.Snapshot` (:data:`ReadSource`, :func:`reading`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from canvass.store.reading import Readable, Snapshot, SQLiteElection

if TYPE_CHECKING:
    from canvass.store.election import ElectionDirectory
    from canvass.store.log import LogReader

    Election: TypeAlias = ElectionDirectory
    """An election the workflows act on: today an election directory."""

    Source: TypeAlias = ElectionDirectory | LogReader

ReadSource: TypeAlias = Readable | Snapshot
"""What a read that needs only a :class:`~canvass.store.reading.Snapshot` takes: any
election opened (:func:`open_election` or :func:`open_to_read`), or a reader on one."""


def __getattr__(name: str) -> Any:
    if name in ("Election", "Source"):
        from canvass.store.election import ElectionDirectory
        from canvass.store.log import LogReader

        return ElectionDirectory if name == "Election" else ElectionDirectory | LogReader
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_election(location: Path) -> Election:
    """Open an election whose schema is this Canvass's (else: run
    :func:`canvass.app.elections.migrate`); here for commands that only read it, which need
    none of the workflows that change it."""
    from canvass.store.election import ElectionDirectory

    return ElectionDirectory.open(location)


def open_to_read(location: Path) -> Readable:
    """Open an election only to read it: an SQLite election through the standard
    library's ``sqlite3``, any other as :func:`open_election` does (which also says what is
    wrong with one that cannot be opened)."""
    return SQLiteElection.open(location) or open_election(location)


@contextmanager
def viewing(source: Source) -> Iterator[LogReader]:
    """A reader on ``source``: itself, or a new snapshot of the election."""
    from canvass.store.election import ElectionDirectory

    if isinstance(source, ElectionDirectory):
        with source.reading() as view:
            yield view
    else:
        yield source


@contextmanager
def reading(source: ReadSource) -> Iterator[Snapshot]:
    """A snapshot of ``source``: itself, or a new snapshot of the election."""
    if isinstance(source, Readable):
        with source.reading() as view:
            yield view
    else:
        yield source
