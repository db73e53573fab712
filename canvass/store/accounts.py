"""The officials' accounts, sessions, key requests and access log: the web application's
own database, apart from the election's.

Nothing here is part of the election's record: who may sign in is the office's business,
what they did is in the election log under their name. The tables live in their own
database (SQLite beside the election; beside an election on PostgreSQL, a schema of their
own in its database; or any PostgreSQL database a state names), so that the election's
projections and their integrity check stay the log's alone.

``access_log`` is append-only: the application inserts rows and never updates or deletes
one; each row carries the SHA-256 of the row before it, so that a row removed or edited
behind the application's back breaks the chain (:func:`check_access_chain`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

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
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import OperationalError

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

one_time_code = Table(
    "one_time_code",
    metadata,
    Column("account", Integer, ForeignKey("account.id"), primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("used_at", String(32), nullable=False),
)
"""The TOTP time steps whose codes an account has used: a code is accepted once, and
never one older than the last accepted (RFC 6238 §5.2)."""

passkey = Table(
    "passkey",
    metadata,
    Column("credential_id", String(1024), primary_key=True),
    Column("account", Integer, ForeignKey("account.id"), nullable=False),
    Column("public_key", Text, nullable=False),
    Column("sign_count", Integer, nullable=False),
    Column("added_at", String(32), nullable=False),
)
"""An account's WebAuthn passkeys (the second factor instead of a one-time code): the
credential's id and COSE public key (base64url) and the authenticator's signature count."""

passkey_challenge = Table(
    "passkey_challenge",
    metadata,
    Column("session_sha256", String(64), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("challenge", String(128), nullable=False),
    Column("expires_at", String(32), nullable=False),
)
"""The WebAuthn challenge a session was given (to add a passkey, or to sign in with one):
each used once, within five minutes."""

reading_signature = Table(
    "reading_signature",
    metadata,
    Column("audit", String(64), primary_key=True),
    Column("board", String(128), primary_key=True),
    Column("item", String(255), primary_key=True),
    Column("contest", String(128), primary_key=True),
    Column("member", String(64), primary_key=True),
    Column("statement_sha256", String(64), nullable=False),
    Column("reading", Text, nullable=False),
    Column("signature", Text, nullable=False),
    Column("signed_at", String(32), nullable=False),
)
"""Signatures of an audit board's members over a reading (a ballot's ``item``, or a
batch's hand count) not every member has signed yet: each member signs in their own
browser, and the reading is recorded in the election log, with every signature, when the
last of them signs the same statement. A member's later signature of the same ballot and
contest replaces their earlier one; the rows go once the reading is recorded."""

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

VERSION_TABLE = "accounts_alembic_version"
"""Where the accounts' schema revision is kept: a name of its own, so that accounts kept in
the election's own database or schema never read the election's revision."""
MIGRATIONS = Path(__file__).parent / "accounts_migrations"
BEFORE_ALEMBIC = {"account": "a0001", "passkey": "a0002"}
"""Accounts made before their schema was under Alembic (its tables created whole): the
revision each table's presence shows they reached."""


def _config() -> Any:
    from alembic.config import Config  # Alembic loaded only where the accounts are opened

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def accounts_revision(engine: Engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()


def migrate_accounts(engine: Engine, to: str = "head") -> tuple[str | None, str]:
    """Bring the accounts' schema to the newest migration (``store/accounts_migrations``),
    or to the revision ``to``, one process at a time; the revisions before and after.
    Accounts made before the schema was under Alembic are first stamped with the revision
    their tables show."""
    from alembic import command
    from alembic.migration import MigrationContext

    config = _config()
    with db.write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7219003)")
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        before = context.get_current_revision()
        config.attributes["connection"] = conn
        if before is None:
            found = inspect(conn)
            reached = [rev for table, rev in BEFORE_ALEMBIC.items() if found.has_table(table)]
            if reached:
                command.stamp(config, reached[-1])
        command.upgrade(config, to)
    return before, head_revision() if to == "head" else to


ACCESS_FIELDS = ("id", "at", "username", "event", "method", "path", "address", "detail")


SEARCH_PATH = re.compile(r"-c\s*search_path=([^\s,]+)")


def accounts_engine(url: str, to: str = "head") -> Engine:
    """The accounts database at ``url`` (``sqlite:///PATH`` or ``postgresql://…``), its
    tables created if absent. On PostgreSQL they live in the schema the URL's libpq
    ``options`` name (``?options=-csearch_path%3DNAME``; else ``public``), created if
    absent; connections are checked before use, so the accounts outlive a restart of the
    database (``to``: the revision to bring them to, by default the newest). Write through
    :func:`canvass.store.db.write_transaction`."""
    engine = _engine(url)
    try:
        db.create_schema(engine)
        migrate_accounts(engine, to)
    except OperationalError as e:
        engine.dispose()
        if engine.dialect.name != "postgresql":
            raise
        first = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
        raise StoreError(f"{db.public_url(url)}: cannot connect: {first}") from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def existing_accounts(url: str) -> Engine | None:
    """The accounts database at ``url`` if it holds accounts (None, creating nothing, if it
    does not: no SQLite file there, no accounts' tables in that schema)."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            if inspect(conn).has_table(account.name):
                return engine
    except BaseException:
        engine.dispose()
        raise
    engine.dispose()
    return None


def _engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        parsed = make_url(url)
        options = parsed.query.get("options", "")
        found = SEARCH_PATH.search(options if isinstance(options, str) else " ".join(options))
        return db.postgresql_engine(parsed, found.group(1) if found else None)
    if not url.startswith("sqlite:///"):
        raise StoreError(f"{url!r}: expected sqlite:///PATH or postgresql://… for the accounts")
    return db.sqlite_engine(url.removeprefix("sqlite:///"))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def schema_beside(election_schema: str | None) -> str:
    """The schema of the accounts kept beside an election on PostgreSQL."""
    return f"{election_schema or 'public'}_accounts"


def postgresql_url(url: str, schema: str) -> str:
    """The PostgreSQL database at ``url``, with the accounts in ``schema``."""
    with_schema = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return with_schema.render_as_string(hide_password=False)


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


def access_head(conn: Connection, rows: int | None = None) -> tuple[int, str]:
    """How many rows the access log holds and the SHA-256 of the last (of the first
    ``rows``, if given; zeros for none)."""
    query = select(access_log).order_by(access_log.c.id)
    if rows is None:
        count = conn.scalar(select(func.count()).select_from(access_log)) or 0
        query = query.offset(max(count - 1, 0)).limit(1)
    else:
        count = rows
        query = query.offset(max(rows - 1, 0)).limit(1)
    last = next(iter(conn.execute(query).mappings()), None) if count else None
    return int(count), row_sha256(dict(last)) if last is not None else "0" * 64


def check_access_chain(conn: Connection) -> list[str]:
    """Where the access log's chain breaks: a row removed, edited or inserted."""
    problems = []
    link = "0" * 64
    for row in conn.execute(select(access_log).order_by(access_log.c.id)).mappings():
        if row["previous_sha256"] != link:
            problems.append(f"access log row {row['id']}: the row before it is not as it was")
        link = row_sha256(dict(row))
    return problems
