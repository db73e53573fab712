"""Reading an election: what every reader of one snapshot offers (:class:`Snapshot`), and a
reader of an SQLite election through the standard library's ``sqlite3``
(:class:`SQLiteElection`), for commands that only read.

:class:`~canvass.store.log.LogReader` reads through SQLAlchemy, on SQLite or PostgreSQL,
and is what every change and most reads use. Loading SQLAlchemy takes longer than the rest
of a simple command (docs/benchmarks.md, "Start-up"), so ``canvass results`` reads an
SQLite election through this module instead: the same tables, the same snapshot rules (one
deferred transaction, which in WAL mode never waits for a writer), the same schema check.
Both readers answer the same questions the same way (``tests/test_store.py``). This
module loads neither SQLAlchemy nor Alembic, and holds the names the SQLAlchemy side shares
with it (the directory's files, the schema revision, the write wait).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, suppress
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from canvass.errors import StoreError
from canvass.log import merkle
from canvass.log.entry import Entry, parse_entry
from canvass.store.artifacts import ArtifactStore, FileArtifactStore

DB_FILE = "canvass.db"
DATABASE_CONFIG = "database.toml"
ARTIFACTS_DIR = "artifacts"

SCHEMA_REVISION = "0005"
"""The revision of the newest migration in ``store/migrations``: the schema this Canvass
needs (a test holds it equal to Alembic's head)."""
VERSION_TABLE = "alembic_version"

WRITE_WAIT = "CANVASS_WRITE_WAIT"
"""The environment variable of :func:`write_wait`."""


def write_wait() -> float:
    """How many seconds a write waits for its turn (the log's lock) before it is refused
    as busy: ``$CANVASS_WRITE_WAIT``, 30 by default."""
    value = os.environ.get(WRITE_WAIT, "30")
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise StoreError(f"{WRITE_WAIT}={value!r}: expected seconds, more than 0, at most 3600")
    return seconds


def nodes_query(mark: str, count: int) -> str:
    """The statement that fetches ``count`` complete tree nodes by primary key, each given
    as two parameters (level, index) marked ``mark``: one primary-key lookup per node."""
    pairs = ", ".join(f"({mark}, {mark})" for _ in range(count))
    return (
        f"WITH want(level, idx) AS (VALUES {pairs}) "
        "SELECT n.level, n.idx, n.hash FROM want "
        "JOIN log_node AS n ON n.level = want.level AND n.idx = want.idx"
    )


NODES_PER_QUERY = 400


class Snapshot(Protocol):
    """The log and its projections as one read transaction sees them, as the read
    workflows use them."""

    artifacts: ArtifactStore
    identity: str
    """Which election's log this is, for caches (with the size and root)."""
    where: str
    """The election as messages name it."""
    size: int

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, Entry]]: ...

    def entry(self, index: int) -> Entry: ...

    def root(self, size: int | None = None) -> bytes: ...

    def definition_sha256(self) -> str | None:
        """The SHA-256 of the election definition in force (None: none defined yet)."""
        ...

    def imports(self, kind: str) -> list[dict[str, Any]]:
        """Every import of ``kind`` (ballots, results, manifest), in log order."""
        ...


@runtime_checkable
class Readable(Protocol):
    """An election a snapshot can be taken of."""

    def reading(self) -> AbstractContextManager[Snapshot]: ...


IMPORT_COLUMNS = (
    "entry",
    "kind",
    "county",
    "format",
    "cards",
    "sources_sha256",
    "definition_sha256",
    "table_sha256",
    "replaced_by",
)
"""The columns of ``ballot_import`` (``store/schema.py``), in order."""


class SQLiteSnapshot:
    """A :class:`Snapshot` of an SQLite election read through ``sqlite3``."""

    def __init__(
        self, db: sqlite3.Connection, artifacts: ArtifactStore, identity: str, where: str
    ) -> None:
        self._db = db
        self.artifacts = artifacts
        self.identity = identity
        self.where = where
        (last,) = db.execute("SELECT max(idx) FROM log_entry").fetchone()
        self.size = 0 if last is None else int(last) + 1

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, Entry]]:
        query, args = "SELECT idx, body FROM log_entry WHERE idx >= ?", [start]
        if end is not None:
            query, args = query + " AND idx < ?", [start, end]
        for i, body in self._db.execute(query + " ORDER BY idx", args):
            yield i, parse_entry(bytes(body), f"entry {i}")

    def entry(self, index: int) -> Entry:
        found = next(self.entries(index, index + 1), None)
        if found is None:
            raise StoreError(f"entry {index} is not in the log ({self.size} entries)")
        return found[1]

    def root(self, size: int | None = None) -> bytes:
        if size is None:
            size = self.size
        elif size > self.size:
            raise StoreError(f"the log has {self.size} entries, not {size}")
        return merkle.hash_ranges([(0, size)], self._nodes)[0]

    def _nodes(self, nodes: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
        found: dict[merkle.Node, bytes] = {}
        wanted = list(nodes)
        for start in range(0, len(wanted), NODES_PER_QUERY):
            chunk = wanted[start : start + NODES_PER_QUERY]
            rows = self._db.execute(
                nodes_query("?", len(chunk)), [x for node in chunk for x in node]
            )
            found.update({(lv, i): bytes(h) for lv, i, h in rows})
        return found

    def definition_sha256(self) -> str | None:
        row = self._db.execute("SELECT definition_sha256 FROM election").fetchone()
        return None if row is None else str(row[0])

    def imports(self, kind: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {', '.join(IMPORT_COLUMNS)} FROM ballot_import WHERE kind = ? ORDER BY entry",
            [kind],
        )
        return [dict(zip(IMPORT_COLUMNS, row, strict=True)) for row in rows]


class SQLiteElection:
    """An SQLite election opened to read, without SQLAlchemy; see the module's
    docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path / DB_FILE
        self.artifacts: ArtifactStore = FileArtifactStore(path / ARTIFACTS_DIR)
        self.identity = str(path.resolve())
        self._wait = write_wait()

    @classmethod
    def open(cls, path: Path) -> SQLiteElection | None:
        """The election at ``path`` if it is an SQLite election whose schema is this
        Canvass's; else None, and :meth:`ElectionDirectory.open
        <canvass.store.election.ElectionDirectory.open>` opens it or says what is wrong
        (no election there, its log in PostgreSQL, a schema to migrate)."""
        if (path / DATABASE_CONFIG).is_file() or not (path / DB_FILE).is_file():
            return None
        election = cls(path)
        try:
            with closing(election._connect()) as db:
                found = db.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        except sqlite3.DatabaseError:
            return None  # no version table, or not a database: the full opening says so
        if found != [(SCHEMA_REVISION,)]:
            return None
        try:
            election._recover_staged()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"the database could not do it: {e}") from None
        return election

    def _connect(self) -> sqlite3.Connection:
        # Autocommit: the transactions are begun and ended here, as SQLAlchemy's are.
        db = sqlite3.connect(self.file, timeout=self._wait, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout={round(self._wait * 1000)}")
        db.execute("PRAGMA query_only = ON")  # a reader: any write is refused
        return db

    @contextmanager
    def reading(self) -> Iterator[SQLiteSnapshot]:
        """The log and its projections as one snapshot."""
        try:
            with closing(self._connect()) as db:
                db.execute("BEGIN")
                try:
                    yield SQLiteSnapshot(db, self.artifacts, self.identity, str(self.path))
                finally:
                    # Ended already where SQLite undid it on an error: keep that error.
                    with suppress(sqlite3.OperationalError):
                        db.execute("ROLLBACK")
        except sqlite3.DatabaseError as e:
            # As the command line says of SQLAlchemy's OperationalError (cli/common.py).
            raise StoreError(f"the database could not do it: {e}") from None

    def _recover_staged(self) -> None:
        """Place what a killed process staged and the log names, as the full opening does
        (see ``artifacts.py``)."""
        recover = getattr(self.artifacts, "recover", None)
        if recover is None:
            return

        def named(sha256: str) -> bool:
            with closing(self._connect()) as db:
                found = db.execute("SELECT 1 FROM artifact WHERE sha256 = ?", [sha256])
                return found.fetchone() is not None

        recover(named)

    def close(self) -> None:
        """Nothing is held open between reads."""
