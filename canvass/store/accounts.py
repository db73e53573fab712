"""The officials' accounts, sessions, key requests and access log: the web application's
own database, apart from the election's.

Nothing here is part of the election's record: who may sign in is the office's business,
what they did is in the election log under their name. The tables live in their own
database (SQLite beside the election, or a PostgreSQL database for a state), so that the
election's projections and their integrity check stay the log's alone.

``access_log`` is append-only: the application inserts rows and never updates or deletes
one; each row carries the SHA-256 of the row before it, so that a row removed or edited
behind the application's back breaks the chain (:func:`check_access_chain`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    select,
)
from sqlalchemy.engine import Connection

from canvass.errors import StoreError
from canvass.store import db

metadata = MetaData()

account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("full_name", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("scope", String(128), nullable=False, default=""),
    Column("password_hash", Text),
    Column("totp_secret", String(64)),
    Column("active", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(64), nullable=False),
)

invitation = Table(
    "invitation",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("account", Integer, ForeignKey("account.id"), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("used_at", String(32)),
)

web_session = Table(
    "web_session",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("account", Integer, ForeignKey("account.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("second_factor", Boolean, nullable=False, default=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("ended_at", String(32)),
)

key_request = Table(
    "key_request",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", Integer, ForeignKey("account.id"), nullable=False),
    Column("vkey", Text, nullable=False),
    Column("key_role", String(32), nullable=False),
    Column("requested_at", String(32), nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", String(32)),
    Column("decision", String(16)),
    Column("log_entry", Integer),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", String(32), nullable=False),
    Column("username", String(64), nullable=False),
    Column("event", String(32), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", Text, nullable=False),
    Column("address", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("previous_sha256", String(64), nullable=False),
)

ACCESS_FIELDS = ("id", "at", "username", "event", "method", "path", "address", "detail")


def accounts_engine(url: str) -> Engine:
    """The accounts database at ``url`` (``sqlite:///PATH`` or ``postgresql://…``), its
    tables created if absent. Write through :func:`canvass.store.db.write_transaction`."""
    if url.startswith("postgresql://"):
        engine = create_engine("postgresql+psycopg://" + url.removeprefix("postgresql://"))
    elif url.startswith("sqlite:///"):
        engine = db.sqlite_engine(url.removeprefix("sqlite:///"))
    else:
        raise StoreError(f"{url!r}: expected sqlite:///PATH or postgresql://… for the accounts")
    metadata.create_all(engine)
    return engine


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def row_sha256(row: dict[str, object]) -> str:
    """The SHA-256 that the next access-log row carries: of this row's fields and its own
    link, one per line."""
    text = "\n".join(str(row[f]) for f in (*ACCESS_FIELDS, "previous_sha256"))
    return hashlib.sha256(text.encode()).hexdigest()


def append_access(conn: Connection, row: dict[str, str]) -> None:
    """Append a row to the access log, chained to the one before it, in a write
    transaction (which, on SQLite, holds the database's lock; on PostgreSQL the chain's
    own lock is taken here)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7219001)")
    last = conn.execute(select(access_log).order_by(access_log.c.id.desc()).limit(1)).mappings()
    previous = next(iter(last), None)
    link = row_sha256(dict(previous)) if previous is not None else "0" * 64
    conn.execute(access_log.insert().values(**row, previous_sha256=link))


def check_access_chain(conn: Connection) -> list[str]:
    """Where the access log's chain breaks: a row removed, edited or inserted."""
    problems = []
    link = "0" * 64
    for row in conn.execute(select(access_log).order_by(access_log.c.id)).mappings():
        if row["previous_sha256"] != link:
            problems.append(f"access log row {row['id']}: the row before it is not as it was")
        link = row_sha256(dict(row))
    return problems
