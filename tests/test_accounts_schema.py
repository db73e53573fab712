"""The accounts database's schema under Alembic (``canvass/store/accounts_migrations``):
the migrations make exactly the tables the application declares, on SQLite and on
PostgreSQL; accounts made before their schema was under Alembic are stamped with the
revision their tables show and upgraded, keeping every row; opening accounts at the
newest revision changes nothing."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select

from canvass.store import accounts as t
from canvass.store import db
from tests.postgres import Database


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        found = compare_metadata(context, t.metadata)
    # The revision table is Alembic's own, not the application's.
    return [d for d in found if not (d[0] == "remove_table" and d[1].name == t.VERSION_TABLE)]


def test_the_migrations_make_the_declared_tables(database: Database, tmp_path: Path) -> None:
    url = (
        t.sqlite_url(tmp_path / "accounts.db")
        if database.kind == "sqlite"
        else t.postgresql_url(str(database.url), t.schema_beside(database.schema))
    )
    engine = t.accounts_engine(url)
    try:
        assert _differences(engine) == []
        assert t.accounts_revision(engine) == t.head_revision()
        assert t.migrate_accounts(engine) == (t.head_revision(), t.head_revision())
    finally:
        engine.dispose()


def test_accounts_made_before_alembic_are_upgraded_keeping_their_rows(tmp_path: Path) -> None:
    """Accounts as the application first made them (the tables created whole, without a
    revision, and before the passkey and signature tables): stamped at the first
    revision, upgraded, the account kept."""
    engine = db.sqlite_engine(str(tmp_path / "accounts.db"))
    first = ("account", "invitation", "web_session", "key_request", "one_time_code", "access_log")
    t.metadata.create_all(engine, tables=[t.metadata.tables[name] for name in first])
    with db.write_transaction(engine) as conn:
        conn.execute(
            t.account.insert().values(
                username="admin", full_name="Jocelyn Benson", role="state-admin", scope="",
                active=True, created_at="2026-11-01T00:00:00Z", created_by="installer",
            )
        )  # fmt: skip
    assert t.accounts_revision(engine) is None
    assert t.migrate_accounts(engine) == (None, t.head_revision())
    assert _differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(t.account.c.full_name)).scalars().all() == ["Jocelyn Benson"]
    assert inspect(engine).has_table("passkey")
    engine.dispose()

    # Made whole by a later application, still without a revision: stamped at the newest.
    engine = db.sqlite_engine(str(tmp_path / "later.db"))
    t.metadata.create_all(engine)
    assert t.migrate_accounts(engine) == (None, t.head_revision())
    assert _differences(engine) == []
    engine.dispose()


def test_the_accounts_revision_is_apart_from_the_elections(tmp_path: Path) -> None:
    """Accounts kept in the same database as an election's tables read their own revision,
    never the election's (``alembic_version``)."""
    path = tmp_path / "both.db"
    engine = db.sqlite_engine(str(path))
    db.migrate(engine)
    election_revision = db.revision(engine)
    engine.dispose()
    accounts = t.accounts_engine(t.sqlite_url(path))
    assert t.accounts_revision(accounts) == t.head_revision()
    assert db.revision(accounts) == election_revision
    accounts.dispose()
