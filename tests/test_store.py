"""The election directory: durable set-up, entries and projections in one transaction,
rebuild from the log, and verification that catches every way of changing the record
behind the log's back."""

from __future__ import annotations

import shutil
import stat
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from canvass import keys
from canvass.app.actor import Actor
from canvass.app.elections import define, register_key
from canvass.domain.model import KeyRole
from canvass.errors import DefinitionError, StoreError, VerificationError
from canvass.log import merkle
from canvass.log.entry import new_entry
from canvass.signing import witness as cosign_as
from canvass.store import schema as s
from canvass.store.election import ElectionDirectory
from tests.conftest import EXAMPLES

EXAMPLE = EXAMPLES / "election.yaml"


class Behind:
    """Someone with the database's password, changing rows behind the log's back: plain
    SQL, each statement committed at once."""

    def __init__(self, store: ElectionDirectory) -> None:
        self.engine = store.engine

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.engine.dialect.name == "postgresql":
            sql = sql.replace("?", "%s")
        with self.engine.begin() as c:
            result = c.exec_driver_sql(sql, params)
            return list(result) if result.returns_rows else []


def db(store: ElectionDirectory) -> Behind:
    return Behind(store)


def only_sqlite(store: ElectionDirectory) -> None:
    """For tests that copy the election directory, which on SQLite holds the database."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("copies the election directory, which holds the database only on SQLite")


def test_init_lays_out_a_durable_directory(election_dir: ElectionDirectory) -> None:
    path = election_dir.path
    assert (path / "artifacts").is_dir()
    key = path / "keys" / "operator.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    if election_dir.engine.dialect.name == "sqlite":
        assert (path / "canvass.db").is_file()
        assert db(election_dir).execute("PRAGMA journal_mode")[0][0] == "wal"
        with election_dir.engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    else:
        config = (path / "database.toml").read_text()
        assert "url = " in config and "schema = " in config
        assert stat.S_IMODE((path / "database.toml").stat().st_mode) == 0o600
        with election_dir.engine.connect() as c:
            assert c.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    assert election_dir.size() == 1
    assert next(election_dir.entries())[1].type == "log.opened"
    assert election_dir.verify() == []


def test_init_refuses_a_directory_in_use(election_dir: ElectionDirectory) -> None:
    with pytest.raises(StoreError, match="already exists and is not empty"):
        ElectionDirectory.init(election_dir.path)


def test_open_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as e:
        ElectionDirectory.open(tmp_path)
    assert str(e.value) == (
        f"{tmp_path}: not an election directory (no canvass.db or database.toml); create one with 'canvass init'"
    )


def test_migrations_build_exactly_the_schema(election_dir: ElectionDirectory) -> None:
    with election_dir.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), s.metadata)
    assert diff == []


def test_define_projects_the_definition(defined: ElectionDirectory) -> None:
    with defined.engine.connect() as conn:
        assert conn.execute(select(s.election.c.id)).scalar() == "example-2026-general"
        assert conn.execute(
            select(s.contest.c.id).order_by(s.contest.c.position)
        ).scalars().all() == [
            "president",
            "board-of-education",
            "village-council",
            "proposal-1",
            "retain-hale",
        ]
        choices = (
            conn.execute(
                select(s.choice.c.id)
                .where(s.choice.c.contest == "president")
                .order_by(s.choice.c.position)
            )
            .scalars()
            .all()
        )
        assert choices == ["harris", "trump", "write-in"]
        art = conn.execute(select(s.artifact)).mappings().one()
    assert art["sha256"] == merkle.hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()
    assert defined.artifacts.get(art["sha256"]) == EXAMPLE.read_bytes()
    assert defined.verify() == []


def test_defining_the_same_bytes_again_changes_nothing(defined: ElectionDirectory) -> None:
    size = defined.size()
    assert define(defined, Actor("clerk"), EXAMPLE.read_bytes(), EXAMPLE.name) is None
    assert defined.size() == size


def test_a_new_definition_supersedes_in_the_open(defined: ElectionDirectory) -> None:
    data = EXAMPLE.read_bytes().replace(b"Example County General", b"Antrim County General")
    index = define(defined, Actor("clerk"), data, EXAMPLE.name)
    assert index is not None
    entries = dict(defined.entries())
    assert entries[index].data["supersedes"] == entries[index - 1].artifacts[0].sha256
    with defined.engine.connect() as conn:
        assert conn.execute(select(s.election.c.name)).scalar() == "Antrim County General Election"


def test_a_bad_definition_changes_nothing(election_dir: ElectionDirectory) -> None:
    before = election_dir.size()
    with pytest.raises(DefinitionError):
        define(election_dir, Actor("clerk"), b"election: [", "bad.yaml")
    assert election_dir.size() == before
    assert list(election_dir.artifacts) == []


def test_one_directory_holds_one_election(defined: ElectionDirectory) -> None:
    data = EXAMPLE.read_bytes().replace(b"id: example-2026-general", b"id: other-election")
    with pytest.raises(StoreError) as e:
        define(defined, Actor("clerk"), data, "other.yaml")
    assert str(e.value) == (
        "other.yaml: election.id is 'other-election', but this directory holds election "
        "'example-2026-general'; one directory holds one election"
    )


def test_register_key_once(election_dir: ElectionDirectory) -> None:
    member = keys.new_signer("jane.doe")
    register_key(election_dir, Actor("clerk"), member.verifier(), KeyRole.BOARD_MEMBER)
    size = election_dir.size()
    with pytest.raises(StoreError, match=r"a key named 'jane\.doe' is already registered"):
        register_key(
            election_dir, Actor("clerk"), keys.new_signer("jane.doe").verifier(), KeyRole.CLERK
        )
    assert election_dir.size() == size


def test_a_failed_transaction_leaves_nothing(election_dir: ElectionDirectory) -> None:
    before = election_dir.size()
    with pytest.raises(RuntimeError), election_dir.writing() as w:
        w.append(new_entry("note.test", "clerk", {"n": 1}))
        raise RuntimeError("crash before commit")
    assert election_dir.size() == before
    assert election_dir.verify() == []


def test_proofs_from_the_store_match_the_in_memory_tree(election_dir: ElectionDirectory) -> None:
    with election_dir.writing() as w:
        w.append_many([new_entry("note.test", "clerk", {"n": i}) for i in range(40)])
    tree = merkle.MerkleTree(election_dir.entry_bytes())
    size = election_dir.size()
    assert election_dir.root() == tree.root()
    for index in (0, 7, 20, size - 1):
        assert election_dir.inclusion_proof(index) == tree.inclusion_proof(index)
    for old in (1, 8, 13, size):
        assert election_dir.consistency_proof(old) == tree.consistency_proof(old)


# --- Tampering ---------------------------------------------------------------------------


def test_a_row_changed_behind_the_log_is_named(defined: ElectionDirectory) -> None:
    db(defined).execute("UPDATE contest SET votes_allowed = 3 WHERE id = 'president'")
    assert defined.verify() == [
        "table contest, row id='president': column votes_allowed is 3, but the log says 1"
    ]


def test_rows_added_or_removed_behind_the_log_are_named(defined: ElectionDirectory) -> None:
    conn = db(defined)
    conn.execute("DELETE FROM choice WHERE contest = 'president' AND id = 'write-in'")
    conn.execute("INSERT INTO candidate VALUES ('ghost', 'Ghost Candidate', NULL, FALSE)")
    assert defined.verify() == [
        "table candidate, row id='ghost': present, though no log entry made it",
        "table choice, row contest='president', id='write-in': missing, though the log records it",
    ]


def test_rebuild_restores_the_tables(defined: ElectionDirectory) -> None:
    db(defined).execute("UPDATE candidate SET name = 'Someone Else' WHERE id = 'harris'")
    assert defined.verify() != []
    defined.rebuild()
    assert defined.verify() == []


def test_rewritten_entry_is_caught(defined: ElectionDirectory) -> None:
    conn = db(defined)
    body = bytes(conn.execute("SELECT body FROM log_entry WHERE idx = 1")[0][0])
    conn.execute(
        "UPDATE log_entry SET body = ? WHERE idx = 1",
        (body.replace(b'"actor":"clerk"', b'"actor":"mallory"'),),
    )
    problems = defined.verify()
    assert "table log_entry, row idx=1: leaf_hash does not match body" in problems
    assert any("no longer hash to its root" in p for p in problems)
    with pytest.raises(VerificationError, match="cannot be replayed"):
        defined.rebuild()


def test_reordered_entries_are_caught(defined: ElectionDirectory) -> None:
    register_key(defined, Actor("clerk"), keys.new_signer("witness").verifier(), KeyRole.WITNESS)
    defined.checkpoint()
    conn = db(defined)
    rows = conn.execute("SELECT idx, leaf_hash, body FROM log_entry WHERE idx IN (1, 2)")
    conn.execute("UPDATE log_entry SET idx = -1 WHERE idx = 1")
    conn.execute("UPDATE log_entry SET idx = 1 WHERE idx = 2")
    conn.execute("UPDATE log_entry SET idx = 2 WHERE idx = -1")
    assert rows[0][2] != rows[1][2]
    problems = defined.verify()
    assert any("checkpoint of size 3: the entries no longer hash" in p for p in problems)


def test_truncated_log_is_caught(defined: ElectionDirectory) -> None:
    defined.checkpoint()
    conn = db(defined)
    conn.execute("DELETE FROM log_entry WHERE idx = 1")
    conn.execute("DELETE FROM log_node WHERE level = 0 AND idx = 1")
    conn.execute("DELETE FROM log_node WHERE level = 1 AND idx = 0")
    problems = defined.verify()
    assert "checkpoint of size 2: truncated: the log holds only 1 entries" in problems


def test_rollback_is_caught_against_a_checkpoint_seen_before(
    defined: ElectionDirectory, tmp_path: Path
) -> None:
    only_sqlite(defined)
    backup = tmp_path / "backup"
    shutil.copytree(defined.path, backup)
    register_key(defined, Actor("clerk"), keys.new_signer("witness").verifier(), KeyRole.WITNESS)
    seen = defined.checkpoint()
    defined.close()
    shutil.rmtree(defined.path)
    shutil.copytree(backup, defined.path)
    restored = ElectionDirectory.open(defined.path)
    assert restored.verify() == []  # alone, the old state is self-consistent...
    problems = restored.verify([seen])  # ...but not with what an observer saw
    assert problems == ["trusted checkpoint of size 3: rolled back: the log holds only 2 entries"]


def test_fork_is_caught(defined: ElectionDirectory, tmp_path: Path) -> None:
    only_sqlite(defined)
    twin_path = tmp_path / "twin"
    shutil.copytree(defined.path, twin_path)
    twin = ElectionDirectory.open(twin_path)
    register_key(twin, Actor("clerk"), keys.new_signer("mallory").verifier(), KeyRole.CLERK)
    shown_to_others = twin.checkpoint()
    register_key(defined, Actor("clerk"), keys.new_signer("jane").verifier(), KeyRole.CLERK)
    defined.checkpoint()
    problems = defined.verify([shown_to_others])
    assert problems == [
        "trusted checkpoint of size 3: forked: another checkpoint of that size has a different root"
    ]
    twin.close()


def test_damaged_artifact_is_caught(defined: ElectionDirectory) -> None:
    (sha,) = list(defined.artifacts)
    path = defined.artifacts.path(sha)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b"Harris", b"Harrys"))
    problems = defined.verify()
    assert len(problems) == 1
    assert problems[0].startswith(f"entry 1: artifact {sha} is damaged: its bytes hash to ")


def test_missing_artifact_is_caught(defined: ElectionDirectory) -> None:
    (sha,) = list(defined.artifacts)
    defined.artifacts.path(sha).unlink()
    assert defined.verify() == [
        f"entry 1: artifact {sha} is missing from {defined.path / 'artifacts'}"
    ]


def test_tampered_tree_node_is_caught(defined: ElectionDirectory) -> None:
    db(defined).execute("UPDATE log_node SET hash = ? WHERE level = 1 AND idx = 0", (bytes(32),))
    assert defined.verify() == ["table log_node, row level=1, idx=0: wrong hash"]


def test_forged_checkpoint_is_caught(defined: ElectionDirectory) -> None:
    defined.checkpoint()
    db(defined).execute(
        "UPDATE checkpoint SET note = replace(note, '\n2\n', '\n1\n') WHERE size = 2"
    )
    problems = defined.verify()
    assert problems == ["checkpoint: the signature by canvass.test/county does not verify"]


def test_witness_cosigns_only_an_extension(defined: ElectionDirectory, tmp_path: Path) -> None:
    witness = keys.new_signer("gazette")
    only_sqlite(defined)
    register_key(defined, Actor("clerk"), witness.verifier(), KeyRole.WITNESS)
    twin_path = tmp_path / "twin"
    shutil.copytree(defined.path, twin_path)
    first = cosign_as(defined, witness, 1_800_000_000)
    register_key(defined, Actor("clerk"), keys.new_signer("jane").verifier(), KeyRole.CLERK)
    second = cosign_as(defined, witness, 1_800_000_100, since=first)
    assert second.count("\u2014 ") == 2
    assert defined.verify() == []
    # The operator shows the witness a different history of the same length: refused.
    twin = ElectionDirectory.open(twin_path)
    register_key(twin, Actor("clerk"), keys.new_signer("mallory").verifier(), KeyRole.CLERK)
    with pytest.raises(VerificationError, match="two different roots for the same size 4"):
        cosign_as(twin, witness, 1_800_000_200, since=second)
    twin.close()


def test_cosignature_by_an_unregistered_witness_is_refused(defined: ElectionDirectory) -> None:
    with pytest.raises(StoreError, match="'stranger' is not a registered witness"):
        cosign_as(defined, keys.new_signer("stranger"), 1_800_000_000)


@pytest.fixture
def counted(tmp_path: Path) -> Path:
    """An SQLite election with ballots imported, then replaced by a recount."""
    from tests.test_cli import run
    from tests.test_dominion import BALLOTS, write_export
    from tests.test_import import DEFINITION

    definition = tmp_path / "e.yaml"
    definition.write_text(DEFINITION)
    election = tmp_path / "adams"
    run("init", election)
    run("define", election, definition)
    run("import", election, write_export(tmp_path / "cvr", BALLOTS[:3]), "--county", "adams")
    recount = write_export(tmp_path / "recount", BALLOTS[:2])
    run("import", election, recount, "--county", "adams", "--replace")
    return election


@pytest.mark.sqlite_only("reads the SQLite file through sqlite3, as canvass results does")
def test_the_sqlite_reader_reads_what_the_full_reader_reads(counted: Path) -> None:
    """``canvass results`` reads an SQLite election through ``sqlite3``, without
    SQLAlchemy: both readers give the same answers from the same election."""
    from canvass.app.results import import_notes, results_and_rounds
    from canvass.store.reading import SQLiteElection

    full = ElectionDirectory.open(counted)
    light = SQLiteElection.open(counted)
    assert light is not None
    with full.reading() as a, light.reading() as b:
        assert b.size == a.size == 4
        assert b.definition_sha256() == a.definition_sha256() is not None
        imported = a.imports("ballots")
        assert len(imported) == 2 and imported[0]["replaced_by"] == imported[1]["entry"]
        for kind in ("ballots", "results", "manifest"):
            assert b.imports(kind) == a.imports(kind)
        assert [(i, e.canonical()) for i, e in b.entries()] == [
            (i, e.canonical()) for i, e in a.entries()
        ]
        assert [i for i, _ in b.entries(2, 4)] == [2, 3]
        assert b.entry(1).canonical() == a.entry(1).canonical()
        assert [b.root(n) for n in range(1, a.size + 1)] == [
            a.root(n) for n in range(1, a.size + 1)
        ]
        for wrong in (lambda r: r.root(a.size + 1), lambda r: r.entry(a.size)):
            with pytest.raises(StoreError) as full_says:
                wrong(a)
            with pytest.raises(StoreError) as light_says:
                wrong(b)
            assert str(light_says.value) == str(full_says.value)
    assert results_and_rounds(light) == results_and_rounds(full)
    assert import_notes(light) == import_notes(full)
    full.close()


@pytest.mark.sqlite_only("reads the SQLite file through sqlite3, as canvass results does")
def test_the_sqlite_reader_reads_one_snapshot(counted: Path) -> None:
    from canvass.store.reading import SQLiteElection

    full = ElectionDirectory.open(counted)
    light = SQLiteElection.open(counted)
    assert light is not None
    with light.reading() as view:
        size = view.size
        register_key(full, Actor("clerk"), keys.new_signer("jane").verifier(), KeyRole.CLERK)
        assert len(list(view.entries())) == size
        assert view.root() == full.root(size)
    with light.reading() as view:
        assert view.size == size + 1
    full.close()
    # A reader: a write through its connection is refused, and said in one line.
    refused = pytest.raises(StoreError, match="the database could not do it: attempt to write")
    with refused, light.reading() as view:
        view._db.execute("DELETE FROM log_entry")
    again = ElectionDirectory.open(counted)
    assert again.size() == size + 1
    again.close()


def test_only_a_current_sqlite_election_is_read_without_sqlalchemy(
    election_dir: ElectionDirectory, tmp_path: Path
) -> None:
    """Any other is opened in full, which says what is wrong with it."""
    from canvass.app.snapshot import open_to_read
    from canvass.store.reading import SQLiteElection

    opened = open_to_read(election_dir.path)
    sqlite = election_dir.engine.dialect.name == "sqlite"
    assert isinstance(opened, SQLiteElection if sqlite else ElectionDirectory)
    assert SQLiteElection.open(tmp_path / "nowhere") is None
    with pytest.raises(StoreError, match="not an election directory"):
        open_to_read(tmp_path / "nowhere")
    if sqlite:
        db(election_dir).execute("UPDATE alembic_version SET version_num = '0099'")
        assert SQLiteElection.open(election_dir.path) is None
        with pytest.raises(StoreError, match="at revision 0099, which this Canvass does not"):
            open_to_read(election_dir.path)


@pytest.mark.sqlite_only("changes the SQLite file behind the log")
def test_the_sqlite_reader_says_what_the_database_could_not_do(counted: Path) -> None:
    """As the command line says of an error SQLAlchemy reports (``cli/common.py``)."""
    import sqlite3

    from tests.test_cli import run

    with closing(sqlite3.connect(counted / "canvass.db")) as behind, behind:
        behind.execute("DROP TABLE ballot_import")
    assert run("results", counted, code=1) == (
        "error: the database could not do it: no such table: ballot_import\n"
    )
