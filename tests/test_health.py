"""The officials' application's health and readiness endpoints, on either database."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from canvass.store import db
from canvass.web.app import create_app
from canvass.web.settings import Settings
from tests.postgres import Database


def test_ready_only_while_the_database_answers_at_this_schema(
    database: Database, tmp_path: Path
) -> None:
    database.init(tmp_path / "e", "canvass.test/e").close()
    settings = Settings.for_election(
        tmp_path / "e", accounts_url=f"sqlite:///{tmp_path / 'accounts.db'}", upload_dir=tmp_path
    )
    app = create_app(settings)
    client = TestClient(app, base_url="https://testserver")
    assert client.get("/healthz").json() == {"live": True}
    assert client.get("/readyz").json() == {"ready": True}

    election = app.state.services.election
    with election.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0003'")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {
        "ready": False,
        "problem": f"{tmp_path / 'e'}: the database schema is at revision 0003, and this "
        f"Canvass needs {db.head_revision()}; run 'canvass migrate {tmp_path / 'e'}' first",
    }
    assert client.get("/healthz").status_code == 200

    if database.url is not None:  # PostgreSQL gone: not ready, and says so
        live = election.engine
        election.engine = db.engine("postgresql://postgres@127.0.0.1:9/test", database.schema)
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["problem"].startswith("the database does not answer: ")
        election.engine.dispose()
        election.engine = live
    election.close()
