"""The database engine, its transactions and its schema revision.

An engine is made from a database URL:

- **SQLite** (``sqlite:///path``): WAL mode with ``synchronous=FULL``, so a commit is on
  disk before it returns; every write transaction starts with ``BEGIN IMMEDIATE``, so two
  writers never interleave appends to the log; reads take a plain (deferred) transaction,
  which in WAL mode reads one snapshot and never waits for a writer.
- **PostgreSQL** (``postgresql://…``, through psycopg 3), one election to a schema of the
  database (several elections share one database). A write transaction runs at READ
  COMMITTED and its first statement takes the election's transaction-scoped advisory lock
  (``pg_advisory_xact_lock``), so every app server's appends to one log queue there, and
  every read after it sees each commit made before: the checks a change rests on read
  the log exactly as the change extends it. A read transaction is REPEATABLE READ, READ
  ONLY: one snapshot, which never waits for a writer. Commits are durable
  (``synchronous_commit`` is the server's, ``on`` by default).

A write waits for its turn at most :func:`write_wait` seconds (``$CANVASS_WRITE_WAIT``,
30 by default: SQLite's ``busy_timeout``, PostgreSQL's ``lock_timeout`` in a write
transaction); one that waits longer is refused, nothing of it committed, and
:func:`contended` says so, as it says of a transaction PostgreSQL undid for meeting
another (a serialization failure or a deadlock) and of a request that found no
connection free: each may be made again.

The schema is created and upgraded only by Alembic migrations (``store/migrations``), run
by :func:`migrate` (``canvass init`` and ``canvass migrate``); opening a database checks
its revision against :data:`SCHEMA_REVISION` and never changes it. Alembic itself is
loaded only to migrate, or to explain a revision that is not this Canvass's: every
command opens an election, and loading Alembic costs more than the rest of the opening.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from canvass.errors import StoreError
from canvass.store.reading import SCHEMA_REVISION as SCHEMA_REVISION
from canvass.store.reading import VERSION_TABLE as VERSION_TABLE
from canvass.store.reading import WRITE_WAIT as WRITE_WAIT
from canvass.store.reading import write_wait as write_wait

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


LOCK_CLASS = 0x63616E76
"""The first key of the log's advisory lock ("canv"); the second is the election's
schema, hashed."""

_SCHEMAS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()

SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def public_url(url: str | URL) -> str:
    """``url`` as messages show it: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return str(url)


def engine(url: str, schema: str | None = None) -> Engine:
    """An engine for the database at ``url``: ``sqlite:///PATH``, or ``postgresql://…``
    with the ``schema`` that holds the election (``public`` when None)."""
    try:
        parsed = make_url(url)
        backend = parsed.get_backend_name()
    except ArgumentError:
        raise StoreError(
            f"{url!r} is not a database URL; expected e.g. sqlite:///canvass.db "
            "or postgresql://host/database"
        ) from None
    if backend == "sqlite":
        return sqlite_engine(parsed.database or ":memory:")
    if backend == "postgresql":
        return postgresql_engine(parsed, schema)
    raise StoreError(
        f"{public_url(url)}: {backend} databases are not supported; "
        "use sqlite:///PATH or postgresql://host/database"
    )


def postgresql_engine(url: str | URL, schema: str | None = None) -> Engine:
    """An engine for the PostgreSQL database at ``url`` whose tables live in ``schema``.

    Connections are checked before use, so an app server outlives a restart of the
    database: the requests during it fail with a clear error, the next ones reconnect."""
    url = make_url(url).set(drivername="postgresql+psycopg")
    schema = schema or "public"
    if not SCHEMA_NAME.fullmatch(schema):
        raise StoreError(
            f"{schema!r} is not a schema name this Canvass uses; expected lower-case "
            "letters, digits and underscores, not starting with a digit"
        )
    try:
        pg = create_engine(
            url,
            pool_pre_ping=True,
            isolation_level="REPEATABLE READ",
            connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 10},
        )
    except NoSuchModuleError:  # pragma: no cover - psycopg is in the lock
        raise StoreError(f"{public_url(url)}: psycopg is not installed") from None
    _SCHEMAS[pg] = schema
    wait = f"{round(write_wait() * 1000)}ms"

    @event.listens_for(pg, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("canvass_write", False):
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{wait}'")
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_CLASS, schema)
            )
        elif options.get("canvass_read", False):
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    return pg


CONFLICT_STATES = ("40001", "40P01")
"""SQLSTATEs of a transaction undone for meeting another (serialization_failure,
deadlock_detected)."""
BUSY_STATES = ("55P03", "57014")
"""SQLSTATEs of a wait that ran out (lock_not_available: ``lock_timeout``;
query_canceled: ``statement_timeout``); with class 53 (insufficient resources: too many
connections among them), the server too busy just now."""
SQLITE_BUSY = ("database is locked", "database is busy")


def contended(e: BaseException) -> str | None:
    """``conflict`` when ``e`` says the transaction met another made at the same moment
    and was undone, ``busy`` when it waited too long for its turn or for a connection,
    else None. Either way nothing of it was committed, and the same request may succeed
    if made again."""
    if isinstance(e, PoolTimeout):
        return "busy"  # every connection of the pool in use for longer than it waits
    if not isinstance(e, DBAPIError):
        return None
    state = getattr(e.orig, "sqlstate", None)
    if state is not None:
        if state in CONFLICT_STATES:
            return "conflict"
        if state in BUSY_STATES or str(state).startswith("53"):
            return "busy"
        return None
    if isinstance(e.orig, sqlite3.OperationalError) and str(e.orig) in SQLITE_BUSY:
        return "busy"
    return None


UNREACHABLE_STATES = ("57P01", "57P02", "57P03")
"""SQLSTATEs of a server shutting down or starting (admin_shutdown, crash_shutdown,
cannot_connect_now); with class 08 (connection exception), the server out of reach."""


def unreachable(e: BaseException) -> bool:
    """Whether ``e`` says the database server cannot be reached just now (stopped,
    restarting, the connection lost), so that the same request may succeed if made again;
    not that the request or the data is wrong."""
    if not isinstance(e, DBAPIError):
        return False
    if e.connection_invalidated:
        return True
    state = getattr(e.orig, "sqlstate", None)
    if state is not None:
        return str(state).startswith("08") or state in UNREACHABLE_STATES
    # psycopg's own OperationalError, without a state: no connection could be made.
    return isinstance(e, OperationalError) and type(e.orig).__module__.startswith("psycopg")


def schema_of(db: Engine) -> str | None:
    """The PostgreSQL schema the engine's election lives in (None for SQLite)."""
    return _SCHEMAS.get(db)


def create_schema(db: Engine) -> None:
    """Create the PostgreSQL schema the engine's election lives in, if absent."""
    schema = schema_of(db)
    if schema in (None, "public"):
        return
    with db.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def drop_schema(db: Engine) -> None:
    """Drop the PostgreSQL schema the engine's election lives in, with all it holds (never
    ``public``, which is the database's own)."""
    schema = schema_of(db)
    if schema in (None, "public"):
        return
    with db.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def sqlite_engine(path: Path | str) -> Engine:
    """An engine for the SQLite file at ``path`` (``":memory:"`` for a scratch database)."""
    sqlite = create_engine(f"sqlite:///{path}")
    wait = write_wait()

    @event.listens_for(sqlite, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if str(path) != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={round(wait * 1000)}")
        cursor.close()

    @event.listens_for(sqlite, "begin")
    def _on_begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get("canvass_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return sqlite


@contextmanager
def write_transaction(db: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement to its commit."""
    options: dict[str, Any] = {"canvass_write": True}
    if db.dialect.name == "postgresql":
        # Each statement's own snapshot: after the lock, every commit before it is seen.
        options["isolation_level"] = "READ COMMITTED"
    with db.connect().execution_options(**options) as conn, conn.begin():
        yield conn


@contextmanager
def read_transaction(db: Engine) -> Iterator[Connection]:
    """A transaction whose every read sees one snapshot of the database."""
    with db.connect().execution_options(canvass_read=True) as conn, conn.begin():
        yield conn


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration, as Alembic finds it among the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def revision(db: Engine) -> str | None:
    """The database's schema revision (None for an empty database), read from the table
    where Alembic keeps it."""
    with db.connect() as conn:
        return _revision(conn)


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    found = conn.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalars().all()
    if len(found) > 1:
        raise StoreError(f"the database records {len(found)} schema revisions; expected one")
    return str(found[0]) if found else None


def migrate(db: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest migration; returns the revisions before and after."""
    from alembic import command

    config = _config()
    with write_transaction(db) as conn:
        before = _revision(conn)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return before, head_revision()


def check_revision(db: Engine, where: str) -> None:
    """Refuse a database whose schema is not this Canvass's: behind it (migrate it first)
    or ahead of it (made by a newer Canvass)."""
    found = revision(db)
    if found == SCHEMA_REVISION:
        return
    if found is None:
        raise StoreError(f"{where}: the database has no schema; run 'canvass migrate {where}'")
    from alembic.script import ScriptDirectory

    head = head_revision()
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
