"""Backing up an election and restoring it, on either database.

A backup is a folder holding what the election cannot be rebuilt without: the log (its
entries, every signed checkpoint and witness cosignature), the artifacts its entries name
and the log operator's key. The tree and the projections are not in it: a restore
regenerates them from the log, then verifies the whole, so a restored election is known
to agree with its log before anyone uses it. ::

    OUT/
      backup.json         what the backup holds: the log's size and root, its schema
                          revision, and the SHA-256 of each file below
      entries.jsonl       one entry a line: {"idx": …, "body": base64 of its bytes}
      checkpoints.jsonl   {"size": …, "note": …}
      cosignatures.jsonl  {"size": …, "witness": …, "line": …, "timestamp": …}
      changes.jsonl       the changes made under a requester's key (Idempotency-Key):
                          {"actor": …, "key": …, "request_sha256": …, "entries": …,
                          "answer": …}, so that a request made again after a restore is
                          answered, not made twice (a backup without it restores none)
      artifacts/ab/ab…    as in the election directory
      keys/operator.key   0600
      accounts/*.jsonl    the officials' accounts kept beside the election, if any: one
                          file a table (accounts, sessions, passkeys, key requests, the
                          access log, ...), a row a line

The backup reads one snapshot of the database (and streams: entries a line at a time,
artifacts a chunk at a time), so it runs beside app servers still writing; the accounts
are read from one snapshot of their own database. A backup made from SQLite restores into
PostgreSQL and back, the accounts with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Integer, Table, func, insert, select

from canvass.errors import StoreError, VerificationError
from canvass.log import merkle
from canvass.store import accounts, db
from canvass.store import schema as s
from canvass.store.artifacts import FileArtifactStore
from canvass.store.election import ARTIFACTS_DIR, OPERATOR_KEY, ElectionDirectory

FORMAT = "canvass-backup/1"
MANIFEST = "backup.json"
LOG_FILES = ("entries.jsonl", "checkpoints.jsonl", "cosignatures.jsonl")
CHANGES_FILE = "changes.jsonl"
MANIFEST_FIELDS = (
    ("files", dict, "the SHA-256 of each file"),
    ("artifacts", list, "the SHA-256 of each artifact"),
    ("entries", int, "the number of entries"),
    ("checkpoints", int, "the number of checkpoints"),
    ("root", str, "the log's root"),
)
SHA256 = re.compile("[0-9a-f]{64}")
ACCOUNTS_DIR = "accounts"
BATCH = 5_000


@dataclass(frozen=True)
class Backup:
    """What a backup holds."""

    entries: int
    checkpoints: int
    artifacts: int
    root: str
    """The log's Merkle root, base64."""
    accounts: int = 0
    """The officials' accounts it holds."""


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_lines(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, separators=(",", ":"), sort_keys=True) + "\n")
            count += 1
        f.flush()
        os.fsync(f.fileno())
    return count


def _artifact_path(election: ElectionDirectory, sha256: str) -> Path:
    store = election.artifacts
    if not isinstance(store, FileArtifactStore):  # pragma: no cover - the only backend
        raise StoreError(f"{election.path}: only a file-system artifact store can be backed up")
    path = store.path(sha256)
    # An entry's artifacts are placed just after its transaction commits: wait for them.
    for _ in range(50):
        if path.exists():
            return path
        time.sleep(0.1)
    raise StoreError(f"{election.path}: artifact {sha256} is named by the log but missing")


def backup(election: ElectionDirectory, out: Path, accounts_url: str | None = None) -> Backup:
    """Write a backup of ``election`` to the new folder ``out``, with the accounts at
    ``accounts_url`` if any are kept there."""
    if out.exists():
        raise StoreError(f"{out}: already exists; a backup goes to a new folder")
    out.mkdir(parents=True)
    artifacts = FileArtifactStore(out / ARTIFACTS_DIR)
    with election.reading() as view:
        conn = view.conn
        entries = _write_lines(
            out / "entries.jsonl",
            (
                {"idx": i, "body": base64.b64encode(body).decode()}
                for i, body in enumerate(view.entry_bytes())
            ),
        )
        checkpoints = _write_lines(
            out / "checkpoints.jsonl",
            (
                {"size": size, "note": note}
                for size, note in conn.execute(
                    select(s.checkpoint.c.size, s.checkpoint.c.note).order_by(s.checkpoint.c.size)
                )
            ),
        )
        _write_lines(
            out / "cosignatures.jsonl",
            (
                dict(r)
                for r in conn.execute(
                    select(s.cosignature).order_by(s.cosignature.c.size, s.cosignature.c.witness)
                ).mappings()
            ),
        )
        keyed = s.change_key.c
        _write_lines(
            out / CHANGES_FILE,
            (
                dict(r)
                for r in conn.execute(
                    select(s.change_key).order_by(keyed.actor, keyed.key)
                ).mappings()
            ),
        )
        named = sorted(conn.execute(select(s.artifact.c.sha256)).scalars())
        root = base64.b64encode(view.root()).decode() if view.size else ""
        revision = db.revision(election.engine)
    try:
        for sha256 in named:
            digest, _ = artifacts.put_file(_artifact_path(election, sha256))
            if digest != sha256:
                raise StoreError(f"{election.path}: artifact {sha256} is damaged")
        artifacts.commit_staged(set(named))
    finally:
        artifacts.discard_staged()
    (out / OPERATOR_KEY).parent.mkdir(mode=0o700)
    shutil.copyfile(election.path / OPERATOR_KEY, out / OPERATOR_KEY)
    (out / OPERATOR_KEY).chmod(0o600)
    held = _backup_accounts(accounts_url, out) if accounts_url is not None else None
    manifest = {
        "format": FORMAT,
        "schema_revision": revision,
        "entries": entries,
        "checkpoints": checkpoints,
        "root": root,
        "artifacts": named,
        "files": {name: _sha256_file(out / name) for name in (*LOG_FILES, CHANGES_FILE)},
    }
    if held is not None:
        manifest["accounts"] = held
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return Backup(entries, checkpoints, len(named), root, _accounts_held(manifest))


def _accounts_held(manifest: dict[str, Any]) -> int:
    held = manifest.get("accounts")
    return int(held["rows"].get(accounts.account.name, 0)) if isinstance(held, dict) else 0


def _backup_accounts(url: str, out: Path) -> dict[str, Any] | None:
    """Write every table of the accounts at ``url`` (one snapshot) to ``out/accounts``;
    what the manifest records of them, or None where no accounts are kept."""
    engine = accounts.existing_accounts(url)
    if engine is None:
        return None
    try:
        revision = accounts.accounts_revision(engine)
        (out / ACCOUNTS_DIR).mkdir()
        rows: dict[str, int] = {}
        files: dict[str, str] = {}
        with db.read_transaction(engine) as conn:
            for table in accounts.metadata.sorted_tables:
                if not engine.dialect.has_table(conn, table.name):
                    continue  # not in the accounts' revision
                name = f"{ACCOUNTS_DIR}/{table.name}.jsonl"
                order = list(table.primary_key.columns)
                rows[table.name] = _write_lines(
                    out / name,
                    (dict(r) for r in conn.execute(select(table).order_by(*order)).mappings()),
                )
                files[name] = _sha256_file(out / name)
    finally:
        engine.dispose()
    return {"revision": revision, "rows": rows, "files": files}


def _read_manifest(source: Path) -> dict[str, Any]:
    where = source / MANIFEST
    try:
        manifest = json.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StoreError(f"{source}: not a Canvass backup (no {MANIFEST})") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise StoreError(f"{where}: not JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else manifest
        raise StoreError(f"{where}: expected format {FORMAT!r}, found {found!r}")
    held = manifest.get("accounts")
    if held is not None and not (
        isinstance(held, dict)
        and isinstance(held.get("files"), dict)
        and isinstance(held.get("rows"), dict)
        and isinstance(held.get("revision"), str)
    ):
        raise StoreError(f"{where}: expected accounts with their revision, files and rows")
    known = {f"{ACCOUNTS_DIR}/{table.name}.jsonl" for table in accounts.metadata.sorted_tables}
    if held and not set(held["files"]) <= known:
        strange = sorted(set(held["files"]) - known)[0]
        raise StoreError(f"{where}: {strange!r} is not a file of the accounts")
    for field, kind, what in MANIFEST_FIELDS:
        if not isinstance(manifest.get(field), kind) or isinstance(manifest.get(field), bool):
            raise StoreError(f"{where}: expected {what} under {field!r}")
    files = manifest["files"]
    if not all(isinstance(v, str) for v in files.values()):
        raise StoreError(f"{where}: expected the SHA-256 of each file under 'files'")
    if not all(isinstance(a, str) and SHA256.fullmatch(a) for a in manifest["artifacts"]):
        raise StoreError(f"{where}: expected the SHA-256 of each artifact under 'artifacts'")
    wanted = {**files, **(held["files"] if held else {})}
    changes = [CHANGES_FILE] if CHANGES_FILE in files else []
    for name in [*LOG_FILES, *changes, *(held["files"] if held else [])]:
        want = wanted.get(name)
        path = source / name
        if not path.is_file():
            raise StoreError(f"{source}: {name} is missing")
        if _sha256_file(path) != want:
            raise StoreError(
                f"{path}: its SHA-256 is not the one {MANIFEST} records; the backup is damaged"
            )
    return manifest


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            try:
                row = json.loads(line)
            except ValueError:
                raise StoreError(f"{path} line {number}: not JSON") from None
            if not isinstance(row, dict):
                raise StoreError(f"{path} line {number}: expected an object, found {row!r}")
            yield row


def _rows(path: Path, table: Table) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` in the backup file at ``path``: each holds exactly the
    table's columns, each value of its column's kind, and no two the same key."""
    columns = {c.name: c for c in table.columns}
    key = [c.name for c in table.primary_key.columns]
    seen: set[tuple[Any, ...]] = set()
    for number, row in enumerate(_lines(path), start=1):
        where = f"{path} line {number}"
        if set(row) != set(columns):
            strange = sorted(set(row) ^ set(columns))[0]
            which = "unexpected" if strange in row else "missing"
            raise StoreError(
                f"{where}: {which} field {strange!r}; expected {', '.join(sorted(columns))}"
            )
        for name, column in columns.items():
            value = row[name]
            wanted = int if isinstance(column.type, Integer) else str
            if value is None and column.nullable:
                continue
            if not isinstance(value, wanted) or isinstance(value, bool):
                raise StoreError(
                    f"{where}: field {name!r}: expected "
                    f"{'a whole number' if wanted is int else 'text'}, found {value!r:.60}"
                )
        found = tuple(row[k] for k in key)
        if found in seen:
            said = ", ".join(f"{k} {row[k]!r:.60}" for k in key)
            raise StoreError(f"{where}: a second row with {said}")
        seen.add(found)
        yield row


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def restore(
    source: Path,
    path: Path,
    database: str | None = None,
    schema: str | None = None,
    accounts_url: Callable[[Path], str] | None = None,
) -> Backup:
    """Restore the backup at ``source`` into the new election directory ``path`` (its log
    in ``path``'s SQLite file, or in the PostgreSQL ``database`` under ``schema``); the
    tree and projections are rebuilt from the log and the whole verified. The accounts
    it holds go to ``accounts_url(path)``, which must hold none. If anything fails, the
    new directory is removed (the PostgreSQL schemas are left for the operator to
    drop)."""
    manifest = _read_manifest(source)
    for sha256 in manifest.get("artifacts", []):
        if not (source / ARTIFACTS_DIR / sha256[:2] / sha256).is_file():
            raise StoreError(f"{source}: artifact {sha256} is missing")
    key = source / OPERATOR_KEY
    if not key.is_file():
        raise StoreError(f"{source}: {OPERATOR_KEY} is missing")

    def copy_key(to: Path) -> None:
        shutil.copyfile(key, to)
        to.chmod(0o600)

    election = ElectionDirectory.create(path, copy_key, database, schema)
    try:
        try:
            _fill(election, source, manifest)
        except VerificationError as e:
            raise StoreError(f"{source}: the restored election does not verify: {e}") from None
        problems = election.verify()
        if problems:
            raise StoreError(f"{source}: the restored election does not verify: {problems[0]}")
        if manifest.get("accounts") is not None and accounts_url is not None:
            _restore_accounts(source, manifest["accounts"], accounts_url(path))
    except BaseException:
        election.close()
        shutil.rmtree(path, ignore_errors=True)
        raise
    election.close()
    return Backup(
        manifest["entries"],
        manifest["checkpoints"],
        len(manifest["artifacts"]),
        manifest["root"],
        _accounts_held(manifest) if accounts_url is not None else 0,
    )


def _restore_accounts(source: Path, held: dict[str, Any], url: str) -> None:
    """Fill the accounts at ``url`` (made at the backup's revision, then brought to the
    newest) with the rows of the backup's accounts."""
    from alembic.util import CommandError

    try:
        engine = accounts.accounts_engine(url, held["revision"])
    except CommandError:
        raise StoreError(
            f"{source}: its accounts are at revision {held['revision']!r}, which this "
            "Canvass does not know; they were backed up by a newer Canvass"
        ) from None
    try:
        with db.write_transaction(engine) as conn:
            if conn.execute(select(func.count()).select_from(accounts.account)).scalar():
                raise StoreError(
                    f"{db.public_url(url)}: already holds accounts; the backup's accounts "
                    "are restored only into a new place"
                )
            for table in accounts.metadata.sorted_tables:
                name = f"{ACCOUNTS_DIR}/{table.name}.jsonl"
                if name in held["files"]:
                    for batch in _batches(_lines(source / name)):
                        conn.execute(insert(table), batch)
        _continue_numbering(engine)
        accounts.migrate_accounts(engine)
    finally:
        engine.dispose()


def _continue_numbering(engine: Engine) -> None:
    """On PostgreSQL, set each table's id sequence past the ids restored, so the next row
    inserted takes a new one (SQLite numbers from the largest id already)."""
    if engine.dialect.name != "postgresql":
        return
    with db.write_transaction(engine) as conn:
        for table in accounts.metadata.sorted_tables:
            column = table.autoincrement_column
            if column is None or not engine.dialect.has_table(conn, table.name):
                continue
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                f"COALESCE(MAX({column.name}), 0) + 1, false) FROM {table.name}"
            )


def _fill(election: ElectionDirectory, source: Path, manifest: dict[str, Any]) -> None:
    store = election.artifacts
    assert isinstance(store, FileArtifactStore)
    for sha256 in manifest["artifacts"]:
        digest, _ = store.put_file(source / ARTIFACTS_DIR / sha256[:2] / sha256)
        if digest != sha256:
            raise StoreError(f"{source}: artifact {sha256} is damaged")
    store.commit_staged(set(manifest["artifacts"]))
    with db.write_transaction(election.engine) as conn:
        count = 0
        for batch in _batches(_lines(source / "entries.jsonl")):
            rows = []
            for row in batch:
                if row.get("idx") != count:
                    raise StoreError(
                        f"{source / 'entries.jsonl'} line {count + 1}: expected idx {count}, "
                        f"found {row.get('idx')!r}"
                    )
                try:
                    body = base64.b64decode(row["body"], validate=True)
                except (KeyError, TypeError, ValueError):
                    raise StoreError(
                        f"{source / 'entries.jsonl'} line {count + 1}: expected the entry's "
                        f"bytes in base64 under 'body', found {row.get('body')!r:.60}"
                    ) from None
                rows.append({"idx": count, "leaf_hash": merkle.leaf_hash(body), "body": body})
                count += 1
            conn.execute(insert(s.log_entry), rows)
        if count != manifest["entries"]:
            raise StoreError(
                f"{source}: {MANIFEST} records {manifest['entries']} entries, "
                f"entries.jsonl holds {count}"
            )
        for batch in _batches(_rows(source / "checkpoints.jsonl", s.checkpoint)):
            conn.execute(insert(s.checkpoint), batch)
    size = election.rebuild()
    # Cosignatures last: they are checked against the witnesses the rebuilt tables name.
    with db.write_transaction(election.engine) as conn:
        for batch in _batches(_rows(source / "cosignatures.jsonl", s.cosignature)):
            conn.execute(insert(s.cosignature), batch)
        if CHANGES_FILE in manifest["files"]:
            for batch in _batches(_rows(source / CHANGES_FILE, s.change_key)):
                conn.execute(insert(s.change_key), batch)
    root = base64.b64encode(election.root()).decode() if size else ""
    if root != manifest["root"]:
        raise StoreError(
            f"{source}: the restored log's root is {root}, and {MANIFEST} records "
            f"{manifest['root']}"
        )
