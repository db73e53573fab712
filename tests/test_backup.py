"""``canvass backup`` and ``canvass restore``: a backup of an election in use restores,
on either database, into an election that verifies, rebuilt from its log."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from typer.testing import CliRunner

from canvass import keys
from canvass.app.accounts import default_url, invite, list_accounts
from canvass.app.actor import Actor
from canvass.app.elections import register_key
from canvass.cli import app
from canvass.domain.model import KeyRole
from canvass.signing import witness as cosign_as
from canvass.store.accounts import account, accounts_engine, check_access_chain, metadata, passkey
from canvass.store.election import ElectionDirectory
from canvass.web.app import create_app
from canvass.web.settings import Settings
from tests.officials import make_office, sign_in
from tests.postgres import Database, drop_schema, fresh

runner = CliRunner()
PEOPLE = [
    ("admin", "Jocelyn Benson", "state-admin", ""),
    ("clerk.wayne", "Cathy Garrett", "county-clerk", "wayne"),
    ("observer", "An Observer", "observer", ""),
]


def run(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


@pytest.fixture
def cosigned(defined: ElectionDirectory) -> ElectionDirectory:
    """An election with a definition (an artifact), a witness and a cosignature."""
    witness = keys.new_signer("gazette")
    register_key(defined, Actor("clerk"), witness.verifier(), KeyRole.WITNESS)
    cosign_as(defined, witness, 1_800_000_000)
    return defined


def test_backup_and_restore_on_either_database(
    cosigned: ElectionDirectory, database: Database, tmp_path: Path
) -> None:
    """Restored into a new directory on the same kind of database (on PostgreSQL, a new
    schema)."""
    seen = cosigned.cosigned_checkpoint()
    size, root = cosigned.size(), cosigned.root()
    run("backup", cosigned.path, tmp_path / "b1")
    other = (
        ["--database", str(database.url), "--schema", f"{database.schema}_r"]
        if (database.url)
        else []
    )
    restored = tmp_path / "restored"
    try:
        said = run("restore", tmp_path / "b1", restored, *other)
        assert said.startswith(f"Restored {tmp_path / 'b1'} to {restored}: {size} entries, ")
        assert run("log", "verify", restored).startswith(f"OK: {size} entries")
        copy = ElectionDirectory.open(restored)
        assert (copy.size(), copy.root()) == (size, root)
        assert copy.cosigned_checkpoint() == seen
        assert copy.verify([seen]) == []
        assert list(copy.entry_bytes()) == list(cosigned.entry_bytes())
        copy.close()
    finally:
        if database.url:
            drop_schema(f"{database.schema}_r")


def test_a_damaged_backup_is_refused_and_leaves_nothing(
    cosigned: ElectionDirectory, tmp_path: Path
) -> None:
    backup = tmp_path / "b"
    run("backup", cosigned.path, backup)
    lines = (backup / "entries.jsonl").read_text().splitlines()
    (backup / "entries.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    assert run("restore", backup, tmp_path / "r", code=1) == (
        f"error: {backup / 'entries.jsonl'}: its SHA-256 is not the one backup.json records; "
        "the backup is damaged\n"
    )
    assert not (tmp_path / "r").exists()
    # A backup whose files agree with its manifest but not with its checkpoints.
    manifest = json.loads((backup / "backup.json").read_text())
    manifest["files"]["entries.jsonl"] = hashlib.sha256(
        (backup / "entries.jsonl").read_bytes()
    ).hexdigest()
    manifest["entries"] -= 1
    (backup / "backup.json").write_text(json.dumps(manifest))
    message = run("restore", backup, tmp_path / "r", code=1)
    assert message.startswith(f"error: {backup}: the restored election does not verify: ")
    assert not (tmp_path / "r").exists()


def test_backup_needs_a_new_folder_and_restore_a_backup(
    cosigned: ElectionDirectory, tmp_path: Path
) -> None:
    assert run("backup", cosigned.path, tmp_path, code=1) == (
        f"error: {tmp_path}: already exists; a backup goes to a new folder\n"
    )
    assert run("restore", tmp_path, tmp_path / "r", code=1) == (
        f"error: {tmp_path}: not a Canvass backup (no backup.json)\n"
    )


def test_a_backup_moves_an_election_from_sqlite_to_postgresql_and_back(
    cosigned: ElectionDirectory, database: Database, tmp_path: Path
) -> None:
    if database.url is not None:
        pytest.skip("the SQLite election is the one moved")
    seen = cosigned.cosigned_checkpoint()
    (tmp_path / "seen.txt").write_text(seen)
    run("backup", cosigned.path, tmp_path / "b1")
    with fresh("postgresql") as postgres:
        run("restore", tmp_path / "b1", tmp_path / "on-pg", *postgres.init_args())
        assert not (tmp_path / "on-pg" / "canvass.db").exists()
        assert run(
            "log", "verify", tmp_path / "on-pg", "--trusted", tmp_path / "seen.txt"
        ).startswith("OK: ")
        run("backup", tmp_path / "on-pg", tmp_path / "b2")
    run("restore", tmp_path / "b2", tmp_path / "back")
    back = ElectionDirectory.open(tmp_path / "back")
    assert list(back.entry_bytes()) == list(cosigned.entry_bytes())
    assert back.cosigned_checkpoint() == seen
    assert back.verify([seen]) == []
    back.close()


def _rows(url: str) -> dict[str, list[dict[str, object]]]:
    engine = accounts_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: [
                    dict(r)
                    for r in conn.execute(
                        select(table).order_by(*table.primary_key.columns)
                    ).mappings()
                ]
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_the_officials_accounts_are_backed_up_and_restored(
    database: Database, tmp_path: Path
) -> None:
    """Accounts, sessions, passkeys and the access log come back with the election, on
    either database, and the officials sign in to the restored election as before."""
    office = make_office(tmp_path / "old", PEOPLE, database.url, database.schema)
    official = office.officials["clerk.wayne"]
    with TestClient(office.app, base_url="https://testserver") as browser:
        sign_in(browser, official)
    with office.app.state.services.accounts.writing() as conn:
        conn.execute(
            insert(passkey).values(
                credential_id="Y3JlZGVudGlhbA",
                account=select(account.c.id)
                .where(account.c.username == "clerk.wayne")
                .scalar_subquery(),
                public_key="cHVibGljIGtleQ",
                sign_count=3,
                added_at="2026-11-04T09:00:00.000000Z",
            )
        )
    before = _rows(default_url(office.directory))
    assert len(before["account"]) == len(PEOPLE) and before["passkey"] and before["web_session"]
    other = ["--database", str(database.url), "--schema", f"{database.schema}_r"]
    said = run("backup", office.directory, tmp_path / "b")
    assert f", {len(PEOPLE)} accounts; root " in said
    restored = tmp_path / "restored"
    try:
        said = run("restore", tmp_path / "b", restored, *(other if database.url else []))
        assert f", {len(PEOPLE)} accounts; root " in said
        after = _rows(default_url(restored))
        assert after == before
        engine = accounts_engine(default_url(restored))
        try:
            with engine.connect() as conn:
                assert check_access_chain(conn) == []
        finally:
            engine.dispose()
        # The restored officials sign in, and a new official's account takes a new id.
        settings = Settings.for_election(
            restored, password_hash="test-only-cheapest", upload_dir=tmp_path
        )
        app_ = create_app(settings)
        with TestClient(app_, base_url="https://testserver") as browser:
            sign_in(browser, official)
        services = app_.state.services
        admin = next(a for a in list_accounts(services.accounts) if a.username == "admin")
        invite(services.accounts, services.election, admin, "new.clerk", "A New Clerk", "observer")
        ids = [a.id for a in list_accounts(services.accounts)]
        assert len(ids) == len(PEOPLE) + 1 == len(set(ids))
        # Restoring again into the same accounts is refused: they already hold accounts.
        again = run(
            "restore",
            tmp_path / "b",
            tmp_path / "again",
            *(
                ["--database", str(database.url), "--schema", f"{database.schema}_a"]
                if database.url
                else []
            ),
            "--accounts",
            default_url(restored),
            code=1,
        )
        assert again.endswith(
            "already holds accounts; the backup's accounts are restored only into a new place\n"
        )
        assert not (tmp_path / "again").exists()
    finally:
        if database.url:
            drop_schema(f"{database.schema}_r")
            drop_schema(f"{database.schema}_a")


def test_an_election_without_accounts_backs_up_none(
    defined: ElectionDirectory, tmp_path: Path
) -> None:
    said = run("backup", defined.path, tmp_path / "b")
    assert ", 0 accounts; root " in said
    assert "accounts" not in json.loads((tmp_path / "b" / "backup.json").read_text())
    assert not (tmp_path / "b" / "accounts").exists()


def test_changes_made_under_a_key_are_backed_up_and_restored(
    cosigned: ElectionDirectory, tmp_path: Path
) -> None:
    """A request made again after a restore, under the key it was made with, is answered
    with what was made, not made twice."""
    from canvass.store import changes

    request = hashlib.sha256(b"register the herald").hexdigest()
    with changes.keyed("clerk", "key-1", request) as key:
        register_key(
            cosigned, Actor("clerk"), keys.new_signer("herald").verifier(), KeyRole.WITNESS
        )
    assert key.entries == [cosigned.size() - 1]
    changes.answered(cosigned.engine, key, {"entry": key.entries[0]})
    run("backup", cosigned.path, tmp_path / "b")
    run("restore", tmp_path / "b", tmp_path / "r")
    copy = ElectionDirectory.open(tmp_path / "r")
    try:
        again = changes.Key("clerk", "key-1", request)
        assert changes.made(copy.engine, again) == changes.Made(
            key.entries, {"entry": key.entries[0]}
        )
        with pytest.raises(changes.ChangeMade), changes.keyed("clerk", "key-1", request):
            register_key(
                copy, Actor("clerk"), keys.new_signer("herald").verifier(), KeyRole.WITNESS
            )
        assert copy.size() == cosigned.size()
    finally:
        copy.close()

    # A row that is not the table's is named, and nothing is left behind.
    path = tmp_path / "b" / "changes.jsonl"
    path.write_text(path.read_text().replace('"answer"', '"reply"'))
    manifest = json.loads((tmp_path / "b" / "backup.json").read_text())
    manifest["files"]["changes.jsonl"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "b" / "backup.json").write_text(json.dumps(manifest))
    assert run("restore", tmp_path / "b", tmp_path / "r2", code=1) == (
        f"error: {path} line 1: missing field 'answer'; expected actor, answer, entries, key, "
        "request_sha256\n"
    )
    assert not (tmp_path / "r2").exists()


def _damaged(backup: Path, to: Path, name: str, change: Any) -> Path:
    """A copy of ``backup`` with ``name`` changed and its SHA-256 recorded again, so only
    what the file says is wrong."""
    import shutil

    shutil.copytree(backup, to)
    path = to / name
    if name == "backup.json":
        manifest = json.loads(path.read_text())
        change(manifest)
        path.write_text(json.dumps(manifest))
        return to
    path.write_text(change(path.read_text()))
    manifest = json.loads((to / "backup.json").read_text())
    manifest["files"][name] = hashlib.sha256(path.read_bytes()).hexdigest()
    (to / "backup.json").write_text(json.dumps(manifest))
    return to


def test_a_backup_that_says_the_wrong_thing_is_named_and_restores_nothing(
    cosigned: ElectionDirectory, tmp_path: Path
) -> None:
    from canvass.store import changes

    request = hashlib.sha256(b"register the herald").hexdigest()
    with changes.keyed("clerk", "key-1", request):
        register_key(
            cosigned, Actor("clerk"), keys.new_signer("herald").verifier(), KeyRole.WITNESS
        )
    run("backup", cosigned.path, tmp_path / "b")
    row = (tmp_path / "b" / "changes.jsonl").read_text().strip()
    cases = [
        (
            "backup.json",
            lambda m: m.update(files=["entries.jsonl"]),
            "backup.json: expected the SHA-256 of each file under 'files'",
        ),
        (
            "backup.json",
            lambda m: m.update(artifacts=[7]),
            "backup.json: expected the SHA-256 of each artifact under 'artifacts'",
        ),
        (
            "backup.json",
            lambda m: m.update(entries="many"),
            "backup.json: expected the number of entries under 'entries'",
        ),
        (
            "changes.jsonl",
            lambda t: t.replace('"key":"key-1"', '"key":{"a":1}'),
            "changes.jsonl line 1: field 'key': expected text, found {'a': 1}",
        ),
        (
            "changes.jsonl",
            lambda t: t.replace('"key":"key-1"', '"key":null'),
            "changes.jsonl line 1: field 'key': expected text, found None",
        ),
        (
            "changes.jsonl",
            lambda t: t + row + "\n",
            "changes.jsonl line 2: a second row with actor 'clerk', key 'key-1'",
        ),
        (
            "checkpoints.jsonl",
            lambda t: re.sub(r'"size":\d+', '"size":true', t, count=1),
            "checkpoints.jsonl line 1: field 'size': expected a whole number, found True",
        ),
        (
            "entries.jsonl",
            lambda t: t.replace('"body":"', '"body":"!', 1),
            "entries.jsonl line 1: expected the entry's bytes in base64 under 'body', found '!",
        ),
    ]
    for n, (name, change, said) in enumerate(cases):
        damaged = _damaged(tmp_path / "b", tmp_path / f"d{n}", name, change)
        message = run("restore", damaged, tmp_path / f"r{n}", code=1)
        assert message.startswith(f"error: {damaged}/{said}"), (name, message)
        assert not (tmp_path / f"r{n}").exists()
