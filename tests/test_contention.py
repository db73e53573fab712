"""A change refused for others made at the same moment: the person is told, in one line,
that nothing of it was recorded and to try again (409 for a change undone for meeting
another, 503 for one that waited too long for its turn, each with Retry-After), never a
500; made again, it is recorded once.

The wait is real: another connection holds the election's write lock (PostgreSQL's
advisory lock, SQLite's write lock) while an app server, told to wait one second
(``CANVASS_WRITE_WAIT``), is asked for a change. The conflict is PostgreSQL's own
serialization failure, and the full pool SQLAlchemy's own timeout, each raised where the
application makes a change."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import QueuePool

from canvass.app.elections import BUSY, CONFLICT
from canvass.errors import StoreError
from canvass.store.db import LOCK_CLASS, write_wait
from canvass.store.election import DB_FILE
from tests.load import UNITS, Writes, app_servers, check_log, prepare, signed_in
from tests.officials import make_office, sign_in
from tests.postgres import Database

pytestmark = pytest.mark.timeout(600)


@contextmanager
def lock_held(directory: Path, database: Database) -> Iterator[None]:
    """Another writer holding the election's write lock."""
    if database.url is None:
        conn = sqlite3.connect(directory / DB_FILE, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    with psycopg.connect(database.url, autocommit=True) as pg:
        pg.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (LOCK_CLASS, database.schema))
        try:
            yield
        finally:
            pg.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (LOCK_CLASS, database.schema))


def test_a_change_that_waits_too_long_for_its_turn_is_refused_as_busy(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANVASS_WRITE_WAIT", "1")  # the app servers' environment too
    prepared = prepare(tmp_path, 1, database=database.url, schema=database.schema)
    writes = Writes()
    with app_servers(prepared.directory, 1, tmp_path / "uploads") as [base]:
        client, csrf = signed_in(base, prepared.officials["clerk.0"])
        with lock_held(prepared.directory, database):
            refused = writes.explain(client, csrf, "a note made while the log is held", UNITS[0])
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"] == "2"
        assert refused.json() == {"error": BUSY}
        assert "\n" not in BUSY and "try it again" in BUSY
        again = writes.explain(client, csrf, "a note made while the log is held", UNITS[0])
        assert again.status_code == 200, again.text
        client.close()
    assert check_log(prepared.directory, writes)["explanations"] == 1


def test_the_write_wait_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CANVASS_WRITE_WAIT", raising=False)
    assert write_wait() == 30
    monkeypatch.setenv("CANVASS_WRITE_WAIT", "2.5")
    assert write_wait() == 2.5
    for wrong in ("0", "-1", "soon", "7200"):
        monkeypatch.setenv("CANVASS_WRITE_WAIT", wrong)
        with pytest.raises(StoreError, match="CANVASS_WRITE_WAIT"):
            write_wait()


def serialization_failure(url: str, schema: str) -> SQLAlchemyError:
    """PostgreSQL's own: two transactions change one row at once, the second undone."""
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://"),
        isolation_level="REPEATABLE READ",
        connect_args={"options": f"-csearch_path={schema}"},
    )
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS contended (n integer)"))
            conn.execute(text("INSERT INTO contended VALUES (0)"))
        with engine.connect() as first, engine.connect() as second:
            first.begin()
            first.execute(text("SELECT n FROM contended"))  # its snapshot, taken
            with second.begin():
                second.execute(text("UPDATE contended SET n = 1"))
            try:
                first.execute(text("UPDATE contended SET n = 2"))
            except SQLAlchemyError as e:
                first.rollback()
                return e
        raise AssertionError("no serialization failure")
    finally:
        engine.dispose()


def pool_timeout() -> SQLAlchemyError:
    """SQLAlchemy's own: every connection of the pool in use, one more asked for."""
    engine = create_engine("sqlite://", poolclass=QueuePool, pool_size=1, max_overflow=0)
    engine.pool._timeout = 0.01  # type: ignore[attr-defined]
    try:
        with engine.connect():
            try:
                engine.connect()
            except SQLAlchemyError as e:
                return e
        raise AssertionError("the pool gave a second connection")
    finally:
        engine.dispose()


def test_a_change_undone_for_meeting_another_is_refused_as_a_conflict(
    postgres: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    office = make_office(tmp_path, database=postgres.url, schema=postgres.schema)
    assert postgres.url is not None and postgres.schema is not None
    failures = {
        "conflict": serialization_failure(postgres.url, postgres.schema),
        "busy": pool_timeout(),
    }

    def explain(*_: object) -> int:
        raise failures[kind]

    monkeypatch.setattr("canvass.web.routes.county.explain", explain)
    form = {"precinct": UNITS[0], "vote_type": "absentee", "reason": "other", "text": "n"}
    with TestClient(office.app, base_url="https://testserver") as client:
        csrf = sign_in(client, office.officials["clerk.wayne"])
        answers = {}
        for kind in failures:
            answers[kind] = client.post(
                "/api/counties/wayne/explanations", json=form, headers={"X-CSRF-Token": csrf}
            )
        page = client.post("/counties/wayne/explanations", data={**form, "csrf": csrf})
    assert answers["conflict"].status_code == 409
    assert answers["conflict"].headers["Retry-After"] == "1"
    assert answers["conflict"].json() == {"error": CONFLICT}
    assert answers["busy"].status_code == 503
    assert answers["busy"].headers["Retry-After"] == "2"
    assert answers["busy"].json() == {"error": BUSY}
    assert "\n" not in CONFLICT
    # A browser's form is told the same, on the page "it did not work".
    assert page.status_code == 503 and "waited too long for its" in page.text
