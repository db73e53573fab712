"""PostgreSQL as the election's database: ``canvass init --database``, one schema per
election, appends serialised by the log's advisory lock, reads on one snapshot."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from canvass.cli import app
from canvass.errors import StoreError
from canvass.log.entry import new_entry
from canvass.store import db
from canvass.store.election import ElectionDirectory
from tests.postgres import POSTGRES_URL, Database, drop_schema

runner = CliRunner()


def run(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


def test_canvass_init_keeps_the_log_in_the_database(postgres: Database, tmp_path: Path) -> None:
    path = tmp_path / "county"
    run("init", path, *postgres.init_args(), "--origin", "canvass.test/county")
    assert not (path / "canvass.db").exists()
    assert (path / "database.toml").read_text().splitlines()[2:] == [
        f'url = "{POSTGRES_URL}"',
        f'schema = "{postgres.schema}"',
    ]
    assert run("log", "verify", path) == (
        "OK: 1 entries, 1 checkpoints, tree, artifacts and tables agree with the log\n"
    )
    store = ElectionDirectory.open(path)
    with store.engine.connect() as conn:
        tables = conn.execute(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = :s"), {"s": postgres.schema}
        ).scalar()
    assert tables and tables > 10
    store.close()


def test_a_schema_holding_an_election_is_refused(postgres: Database, tmp_path: Path) -> None:
    postgres.init(tmp_path / "a").close()
    assert run("init", tmp_path / "b", *postgres.init_args(), code=1) == (
        f"error: {POSTGRES_URL}: schema '{postgres.schema}' already holds an election; "
        "choose another with --schema\n"
    )
    assert not (tmp_path / "b").exists()


def test_several_elections_in_one_database(postgres: Database, tmp_path: Path) -> None:
    other = Database("postgresql", POSTGRES_URL, f"{postgres.schema}_b")
    try:
        a = postgres.init(tmp_path / "a", "canvass.test/a")
        b = other.init(tmp_path / "b", "canvass.test/b")
        with a.writing() as w:
            w.append_many([new_entry("note.test", "clerk", {"n": i}) for i in range(3)])
        assert (a.size(), b.size()) == (4, 1)
        assert a.verify() == [] and b.verify() == []
        assert a.operator_key() != b.operator_key()
        a.close()
        b.close()
    finally:
        drop_schema(f"{postgres.schema}_b")


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://clerk:hunter2@127.0.0.1:9/canvass"
    message = run("init", tmp_path / "e", "--database", url, code=1)
    assert message.startswith("error: postgresql://clerk:***@127.0.0.1:9/canvass: cannot connect: ")
    assert "hunter2" not in message
    assert not (tmp_path / "e").exists()


def test_a_bad_database_config_is_named(tmp_path: Path) -> None:
    path = tmp_path / "e"
    path.mkdir()
    (path / "database.toml").write_text('schema = "x"\n')
    assert run("log", "verify", path, code=1) == (
        f'error: {path / "database.toml"}: expected url = "postgresql://…", found None\n'
    )
    with pytest.raises(StoreError) as e:
        db.engine(POSTGRES_URL, "Robert'); DROP TABLE")
    assert str(e.value) == (
        '"Robert\'); DROP TABLE" is not a schema name this Canvass uses; expected lower-case '
        "letters, digits and underscores, not starting with a digit"
    )


def test_a_writer_waits_for_the_log_lock_and_then_sees_every_commit(
    postgres: Database, tmp_path: Path
) -> None:
    """Two app servers' transactions: the second to start its write waits for the first
    to commit, and its first read sees the first's entry (no max(idx)+1 collision)."""
    first = postgres.init(tmp_path / "e", "canvass.test/e")
    second = ElectionDirectory.open(first.path)  # its own engine, as another server's
    inside, order = threading.Event(), []

    def slow() -> None:
        with first.writing() as w:
            inside.set()
            time.sleep(0.5)
            w.append(new_entry("note.test", "first", {}))
            order.append(("first", w.size))

    thread = threading.Thread(target=slow)
    thread.start()
    assert inside.wait(10)
    with second.writing() as w:
        seen = w.size
        w.append(new_entry("note.test", "second", {}))
        order.append(("second", w.size))
    thread.join()
    assert seen == 2
    assert order == [("first", 2), ("second", 3)]
    assert second.verify() == []
    assert [c.split("\n")[1] for c in second.checkpoints()] == ["1", "2", "3"]
    first.close()
    second.close()


def test_a_reader_sees_one_snapshot_while_a_writer_commits(
    postgres: Database, tmp_path: Path
) -> None:
    store = postgres.init(tmp_path / "e", "canvass.test/e")
    with store.reading() as view:
        assert view.size == 1
        with store.writing() as w:
            w.append(new_entry("note.test", "clerk", {}))
        assert view.size == 1
        assert len(list(view.entry_bytes())) == 1
        assert len(view.checkpoints()) == 1
    assert store.size() == 2
    store.close()


def test_the_demo_builds_publishes_and_verifies_on_postgresql(
    postgres: Database, tmp_path: Path
) -> None:
    """What ``make demo DATABASE=…`` runs, on a small state; its results are those of the
    same demo on SQLite."""
    from canvass.demo.officials import demo_officials

    small = ("--counties", "3", "--precincts", "12", "--ballots-per-precinct", "10")
    path = tmp_path / "demo"
    text = run("demo", path, *small, *postgres.init_args())
    assert "3 counties, 12 precincts, 5 contests, 120 ballot cards, " in text
    assert "3 county boards certified" in text and "The state board certified" in text
    assert not (path / "canvass.db").exists() and (path / "database.toml").is_file()
    assert run("log", "verify", path).startswith("OK: ")
    trust = tmp_path / "trusted-checkpoints.json"
    assert run("verify", path / "public", "--trust-store", trust).endswith("Everything holds.\n")
    assert run("certify", "verify", path).startswith("OK: every signature checks")
    assert [username for username, *_ in demo_officials(path)][:2] == ["admin", "clerk.c001"]

    on_sqlite = tmp_path / "demo-sqlite"
    run("demo", on_sqlite, *small)
    for where in (path, on_sqlite):
        assert ElectionDirectory.open(where).size() > 100
    results = [
        json.loads(run("results", where, "--by", "county", "--format", "json"))
        for where in (path, on_sqlite)
    ]
    assert results[0] == results[1]

    # --replace drops the old demo's schema with its directory, then builds anew in it.
    run(
        "demo",
        path,
        "--replace",
        *small[:4],
        "--ballots-per-precinct",
        "0",
        "--schema",
        str(postgres.schema),
        "--database",
        POSTGRES_URL,
    )
    assert run("log", "verify", path).startswith("OK: 3 entries")


def test_the_demo_reads_its_database_from_the_environment(
    postgres: Database, tmp_path: Path
) -> None:
    path = tmp_path / "demo"
    result = runner.invoke(
        app,
        [
            "demo",
            str(path),
            "--counties",
            "2",
            "--precincts",
            "8",
            "--ballots-per-precinct",
            "0",
            "--schema",
            str(postgres.schema),
        ],
        env={"CANVASS_DATABASE": POSTGRES_URL},
    )
    assert result.exit_code == 0, result.stderr
    assert ElectionDirectory.database(path) == (POSTGRES_URL, postgres.schema)
    assert run("demo", path, "--tamper", "--replace", "--database", POSTGRES_URL, code=1) == (
        "error: the tamper drill changes copies of the election's SQLite file; "
        "run it without --database\n"
    )


def test_the_accounts_are_kept_beside_an_election_on_postgresql(
    postgres: Database, tmp_path: Path
) -> None:
    """Every app server reaches them: a schema of their own in the election's database,
    named after the election's; removing the election removes them."""
    from canvass.app import accounts as acc

    path = tmp_path / "e"
    postgres.init(path).close()
    url = acc.default_url(path)
    assert url == f"{POSTGRES_URL}?options=-csearch_path%3D{postgres.schema}_accounts"
    first = acc.Accounts.open(url)
    acc.create_administrator(first, "admin", "The Administrator")
    second = acc.Accounts.open(url)  # another app server's
    assert acc.account_named(second, "admin") is not None
    with psycopg.connect(POSTGRES_URL) as conn:
        (count,) = conn.execute(f'SELECT count(*) FROM "{postgres.schema}_accounts".account')
        assert count == (1,)
    first.engine.dispose()
    second.engine.dispose()
    assert acc.default_url(tmp_path / "other") == f"sqlite:///{tmp_path / 'other' / 'accounts.db'}"

    ElectionDirectory.remove(path)
    assert not path.exists()
    with psycopg.connect(POSTGRES_URL) as conn:
        left = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (f"{postgres.schema}%",)
        ).fetchall()
    assert left == []


def test_accounts_at_an_unreachable_url_are_named_without_the_password() -> None:
    from canvass.app import accounts as acc

    with pytest.raises(StoreError) as e:
        acc.Accounts.open("postgresql://clerk:hunter2@127.0.0.1:9/canvass")
    assert str(e.value).startswith("postgresql://clerk:***@127.0.0.1:9/canvass: cannot connect: ")


def test_the_same_account_asked_for_on_several_servers_at_once_is_made_once(
    postgres: Database, tmp_path: Path
) -> None:
    """A conflict between app servers is refused in words, never a database error: the
    check that the username is free and the insert are one transaction, under the
    accounts' lock."""
    from canvass.app import accounts as acc
    from canvass.app.actor import Actor
    from canvass.app.elections import define
    from tests.officials import wayne_definition

    path = tmp_path / "e"
    election = postgres.init(path)
    definition = yaml.safe_dump(wayne_definition()).encode()
    define(election, Actor("installer"), definition, "michigan.yaml")
    servers = [acc.Accounts.open(acc.default_url(path)) for _ in range(6)]
    admin = acc.invitation(servers[0], acc.create_administrator(servers[0], "admin", "Admin"))
    start, outcomes = threading.Barrier(len(servers)), []

    def invite(accounts: acc.Accounts) -> None:
        start.wait()
        try:
            acc.invite(accounts, election, admin, "clerk.wayne", "A Clerk", "county-clerk", "wayne")
            outcomes.append("made")
        except acc.AccountError as e:
            outcomes.append(str(e))

    threads = [threading.Thread(target=invite, args=(a,)) for a in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["an account named 'clerk.wayne' exists already"] * 5 + ["made"]
    for accounts in servers:
        accounts.engine.dispose()
    election.close()
