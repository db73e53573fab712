"""The database engine, its transactions and its schema revision.

An engine is made from a database URL. Today that is SQLite (``sqlite:///path``): WAL
mode with ``synchronous=FULL``, so a commit is on disk before it returns, and every write
transaction starts with ``BEGIN IMMEDIATE``, so two writers never interleave appends to
the log; reads take a plain (deferred) transaction, which in WAL mode reads one snapshot
and never waits for a writer. Another database slots in here: its engine, how a write
transaction takes the log's lock before its first read, and how a read transaction gets
one snapshot.

The schema is created and upgraded only by Alembic migrations (``store/migrations``), run
by :func:`migrate` (``canvass init`` and ``canvass migrate``); opening a database checks
its revision and never changes it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from canvass.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"


def engine(url: str) -> Engine:
    """An engine for the database at ``url``; only SQLite is supported yet."""
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError:
        raise StoreError(
            f"{url!r} is not a database URL; expected e.g. sqlite:///canvass.db"
        ) from None
    if backend != "sqlite":
        raise StoreError(f"{url}: {backend} databases are not supported yet; use sqlite:///PATH")
    return sqlite_engine(make_url(url).database or ":memory:")


def sqlite_engine(path: Path | str) -> Engine:
    """An engine for the SQLite file at ``path`` (``":memory:"`` for a scratch database)."""
    sqlite = create_engine(f"sqlite:///{path}")

    @event.listens_for(sqlite, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if str(path) != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(sqlite, "begin")
    def _on_begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get("canvass_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return sqlite


@contextmanager
def write_transaction(db: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement to its commit."""
    with db.connect().execution_options(canvass_write=True) as conn, conn.begin():
        yield conn


@contextmanager
def read_transaction(db: Engine) -> Iterator[Connection]:
    """A transaction whose every read sees one snapshot of the database."""
    with db.connect() as conn, conn.begin():
        yield conn


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration: the revision this Canvass needs."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def revision(db: Engine) -> str | None:
    """The database's schema revision (None for an empty database)."""
    with db.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest migration; returns the revisions before and after."""
    config = _config()
    with write_transaction(db) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()


def check_revision(db: Engine, where: str) -> None:
    """Refuse a database whose schema is not this Canvass's: behind it (migrate it first)
    or ahead of it (made by a newer Canvass)."""
    found, head = revision(db), head_revision()
    if found == head:
        return
    if found is None:
        raise StoreError(f"{where}: the database has no schema; run 'canvass migrate {where}'")
    known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
    if found in known:
        raise StoreError(
            f"{where}: the database schema is at revision {found}, and this Canvass needs "
            f"{head}; run 'canvass migrate {where}' first"
        )
    raise StoreError(
        f"{where}: the database schema is at revision {found}, which this Canvass does not "
        f"know (its newest is {head}); it was made by a newer Canvass"
    )
