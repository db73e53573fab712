"""The election directory's database: SQLite by default, through SQLAlchemy 2.

SQLite runs in WAL mode with ``synchronous=FULL``, so a commit is on disk before it
returns, and every write transaction starts with ``BEGIN IMMEDIATE``, so two writers never
interleave appends to the log; reads take a plain (deferred) transaction and, in WAL
mode, never wait for a writer. The schema is created and upgraded by Alembic migrations
(``store/migrations``) so that a PostgreSQL deployment follows the same history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_engine(path: Path | str) -> Engine:
    """An engine for the SQLite file at ``path`` (``":memory:"`` for a scratch database)."""
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if str(path) != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get("canvass_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement to its commit."""
    with engine.connect().execution_options(canvass_write=True) as conn, conn.begin():
        yield conn


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with write_transaction(engine) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
