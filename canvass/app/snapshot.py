"""What the read workflows take: an election (each call reads its own snapshot) or a
reader already open on one, so that several reads can share a snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from canvass.store.election import ElectionDirectory
from canvass.store.log import LogReader

Election = ElectionDirectory
"""An election the workflows act on: today an election directory."""

Source = ElectionDirectory | LogReader


def open_election(location: Path) -> Election:
    """Open an election whose schema is this Canvass's (else: run
    :func:`canvass.app.elections.migrate`); here for commands that only read it, which need
    none of the workflows that change it."""
    return ElectionDirectory.open(location)


@contextmanager
def viewing(source: Source) -> Iterator[LogReader]:
    """A reader on ``source``: itself, or a new snapshot of the election."""
    if isinstance(source, LogReader):
        yield source
    else:
        with source.reading() as view:
            yield view
