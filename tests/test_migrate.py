"""Migrations run once, by ``canvass migrate``; opening an election only checks that its
schema is the one this Canvass needs, and never changes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from typer.testing import CliRunner

from canvass.cli import app
from canvass.errors import StoreError
from canvass.store.db import MIGRATIONS, engine, head_revision
from canvass.store.election import ElectionDirectory
from tests.postgres import behind_the_log, election_engine

runner = CliRunner()


def run(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


def _revision(path: Path) -> str:
    with election_engine(path) as made, made.connect() as conn:
        (found,) = conn.execute(text("SELECT version_num FROM alembic_version")).one()
    return str(found)


@pytest.fixture
def behind(tmp_path: Path) -> Path:
    """An election directory whose schema an older Canvass made: one migration behind."""
    path = tmp_path / "county"
    ElectionDirectory.init(path, "canvass.test/county", "clerk").close()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with election_engine(path) as made, made.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    assert _revision(path) == "0002"
    return path


def test_the_newest_migration_is_the_one_this_canvass_needs() -> None:
    assert head_revision() == "0005"


def test_init_creates_the_newest_schema(tmp_path: Path) -> None:
    ElectionDirectory.init(tmp_path / "e").close()
    assert _revision(tmp_path / "e") == head_revision()


def test_opening_a_directory_behind_says_to_migrate_and_changes_nothing(behind: Path) -> None:
    with pytest.raises(StoreError) as e:
        ElectionDirectory.open(behind)
    assert str(e.value) == (
        f"{behind}: the database schema is at revision 0002, and this Canvass needs 0005; "
        f"run 'canvass migrate {behind}' first"
    )
    assert _revision(behind) == "0002"
    assert run("log", "verify", behind, code=1) == f"error: {e.value}\n"
    assert run("results", behind, code=1) == f"error: {e.value}\n"  # read through sqlite3
    assert _revision(behind) == "0002"


def test_canvass_migrate_brings_the_schema_up_once(behind: Path) -> None:
    assert run("migrate", behind) == f"{behind}: migrated the schema from revision 0002 to 0005\n"
    assert _revision(behind) == "0005"
    assert run("migrate", behind) == f"{behind}: the schema is up to date (revision 0005)\n"
    store = ElectionDirectory.open(behind)
    assert store.verify() == []
    store.close()


def test_a_schema_from_a_newer_canvass_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "e"
    ElectionDirectory.init(path).close()
    behind_the_log(path, "UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(StoreError) as e:
        ElectionDirectory.open(path)
    assert str(e.value) == (
        f"{path}: the database schema is at revision 0099, which this Canvass does not know "
        "(its newest is 0005); it was made by a newer Canvass"
    )


def test_migrate_needs_an_election_directory(tmp_path: Path) -> None:
    assert run("migrate", tmp_path, code=1) == (
        f"error: {tmp_path}: not an election directory (no canvass.db or database.toml); "
        "create one with 'canvass init'\n"
    )


def test_a_database_without_a_schema_says_to_migrate(tmp_path: Path) -> None:
    (tmp_path / "canvass.db").touch()
    with pytest.raises(StoreError) as e:
        ElectionDirectory.open(tmp_path)
    assert str(e.value) == (
        f"{tmp_path}: the database has no schema; run 'canvass migrate {tmp_path}'"
    )


def test_an_engine_is_made_from_a_database_url(tmp_path: Path) -> None:
    made = engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert made.dialect.name == "sqlite"
    made.dispose()
    with pytest.raises(StoreError) as e:
        engine("not a url")
    assert str(e.value) == (
        "'not a url' is not a database URL; expected e.g. sqlite:///canvass.db "
        "or postgresql://host/database"
    )
    with pytest.raises(StoreError) as e:
        engine("mysql://clerk:hunter2@db.example/canvass")
    assert str(e.value) == (
        "mysql://clerk:***@db.example/canvass: mysql databases are not supported; "
        "use sqlite:///PATH or postgresql://host/database"
    )
