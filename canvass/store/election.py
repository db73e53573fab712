"""An election directory: the database, the artifact store and the log operator's key.

::

    DIR/
      canvass.db          SQLite (WAL, synchronous=FULL): the log and its projections
      artifacts/ab/ab…    content-addressed files, named by SHA-256
      keys/operator.key   the log operator's Ed25519 key (0600), which signs checkpoints

Every change goes through :meth:`ElectionDirectory.writing`: one database transaction
that appends the change's log entries, updates the projections from them, and commits
both or neither.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from canvass import keys
from canvass.domain.definition import load_definition
from canvass.domain.model import KeyRole
from canvass.errors import ArtifactError, CanvassError, StoreError, VerificationError
from canvass.log import merkle
from canvass.log.entry import ArtifactRef, Entry, new_entry, parse_entry
from canvass.log.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Signer,
    VerifierKey,
    cosign,
    open_checkpoint,
    parse_note,
    sign_note,
    verify_cosignature,
)
from canvass.log.verify import verify_log
from canvass.store import projection
from canvass.store import schema as s
from canvass.store.artifacts import ArtifactStore, sha256_hex
from canvass.store.db import migrate, sqlite_engine, write_transaction

DB_FILE = "canvass.db"
ARTIFACTS_DIR = "artifacts"
OPERATOR_KEY = Path("keys") / "operator.key"

MEDIA_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml", ".json": "application/json"}


class LogWriter:
    """Appends entries inside one open transaction; see :meth:`ElectionDirectory.writing`."""

    def __init__(self, conn: Connection, artifacts: ArtifactStore) -> None:
        self.conn = conn
        self.artifacts = artifacts
        self.size = _log_size(conn)
        self._nodes: dict[merkle.Node, bytes] = {}
        frontier = merkle.range_nodes(0, self.size)
        if frontier:
            self._nodes = _read_nodes(conn, frontier)
        self.appended: list[int] = []

    def append(self, entry: Entry) -> int:
        """Append ``entry`` and project it; its artifacts must already be stored."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[Entry]) -> list[int]:
        entry_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        parsed: list[tuple[int, Entry]] = []
        for entry in entries:
            body = entry.canonical()
            index = self.size
            h = merkle.leaf_hash(body)
            entry_rows.append({"idx": index, "leaf_hash": h, "body": body})
            node_rows.append({"level": 0, "idx": index, "hash": h})
            self._nodes[(0, index)] = h
            level, i = 0, index
            while i & 1:
                h = merkle.node_hash(self._nodes[(level, i - 1)], h)
                level, i = level + 1, i >> 1
                self._nodes[(level, i)] = h
                node_rows.append({"level": level, "idx": i, "hash": h})
            self.size += 1
            parsed.append((index, entry))
        self.conn.execute(insert(s.log_entry), entry_rows)
        self.conn.execute(insert(s.log_node), node_rows)
        for index, entry in parsed:
            projection.apply(self.conn, index, entry, self.artifacts.get)
            self.appended.append(index)
        return [i for i, _ in parsed]

    def sign_checkpoint(self, signer: Signer) -> str:
        """Sign the tree as this transaction leaves it, in the same transaction."""
        root = merkle.fold_range([self._nodes[n] for n in merkle.range_nodes(0, self.size)])
        note = sign_note(Checkpoint(signer.name, self.size, root).text(), signer)
        self.conn.execute(insert(s.checkpoint).values(size=self.size, note=note))
        return note


def _log_size(conn: Connection) -> int:
    last = conn.scalar(select(func.max(s.log_entry.c.idx)))
    return 0 if last is None else int(last) + 1


_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _read_nodes(conn: Connection, nodes: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
    """Fetch complete tree nodes by primary key.

    One statement whose plan is a primary-key lookup per wanted node, sent straight to the
    driver: on a 10-million-entry log SQLAlchemy's statement compilation would otherwise
    cost more than the lookups themselves (docs/benchmarks.md)."""
    mark = _PLACEHOLDER[conn.dialect.paramstyle]
    found: dict[merkle.Node, bytes] = {}
    wanted = list(nodes)
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        pairs = ", ".join(f"({mark}, {mark})" for _ in chunk)
        result = conn.exec_driver_sql(
            f"WITH want(level, idx) AS (VALUES {pairs}) "
            "SELECT n.level, n.idx, n.hash FROM want "
            "JOIN log_node AS n ON n.level = want.level AND n.idx = want.idx",
            tuple(x for node in chunk for x in node),
        )
        found.update({(lv, i): bytes(h) for lv, i, h in result})
    return found


@dataclass(frozen=True)
class Discrepancy:
    table: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"table {self.table}, row {self.key}: {self.problem}"


class ElectionDirectory:
    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.artifacts = ArtifactStore(path / ARTIFACTS_DIR)
        self._signer: Signer | None = None

    # --- Opening ----------------------------------------------------------------------

    @classmethod
    def init(
        cls, path: Path, origin: str | None = None, actor: str = "operator"
    ) -> ElectionDirectory:
        """Create a new election directory with its log operator key and opening entry."""
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(f"{path}: already exists and is not empty; choose a new directory")
        origin = origin or f"canvass.invalid/{_slug(path.resolve().name)}-{secrets.token_hex(4)}"
        signer = keys.new_signer(origin)
        path.mkdir(parents=True, exist_ok=True)
        (path / OPERATOR_KEY).parent.mkdir(mode=0o700)
        keys.write_key(signer, path / OPERATOR_KEY)
        (path / ARTIFACTS_DIR).mkdir()
        engine = sqlite_engine(path / DB_FILE)
        migrate(engine)
        store = cls(path, engine)
        opened = new_entry(
            "log.opened",
            actor,
            {"origin": origin, "operator": signer.verifier().encode(), "operator_name": origin},
        )
        with store.writing() as w:
            w.append(opened)
        return store

    @classmethod
    def open(cls, path: Path) -> ElectionDirectory:
        db = path / DB_FILE
        if not db.is_file():
            raise StoreError(
                f"{path}: not an election directory (no {DB_FILE}); create one with 'canvass init'"
            )
        engine = sqlite_engine(db)
        migrate(engine)
        return cls(path, engine)

    def close(self) -> None:
        self.engine.dispose()

    # --- Writing ----------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[LogWriter]:
        """One durable transaction: entries appended and projected together, and the
        checkpoint over them signed, or none of it."""
        signer = self.operator_signer()
        with write_transaction(self.engine) as conn:
            writer = LogWriter(conn, self.artifacts)
            yield writer
            if writer.appended:
                writer.sign_checkpoint(signer)

    def store_artifact(self, data: bytes, name: str, media_type: str | None = None) -> ArtifactRef:
        digest = self.artifacts.put(data)
        media = media_type or MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")
        return ArtifactRef(digest, name, media, len(data))

    def define(self, data: bytes, name: str, actor: str) -> int | None:
        """Record an election definition; None when the same bytes are already in force."""
        definition = load_definition(data, name)
        with self.engine.connect() as conn:
            current = conn.execute(select(s.election.c.id, s.election.c.definition_sha256)).first()
        if current and current.definition_sha256 == sha256_hex(data):
            return None
        if current and current.id != definition.election.id:
            raise StoreError(
                f"{name}: election.id is {definition.election.id!r}, but this directory holds "
                f"election {current.id!r}; one directory holds one election"
            )
        if current:
            from canvass.certify.canvass import Canvass

            state = Canvass.replay(current.id, self.entries())
            frozen = [scope for scope in state.current if state.frozen(scope) is not None]
            if frozen:
                raise StoreError(
                    f"{name}: the election's results are certified ({', '.join(sorted(frozen))}); "
                    "its definition cannot change unless a correction or a recount is opened"
                )
        ref = self.store_artifact(data, Path(name).name)
        entry = new_entry(
            "election.defined",
            actor,
            {
                "election": definition.election.id,
                "contests": len(definition.contests),
                "jurisdictions": len(definition.jurisdictions),
                "supersedes": current.definition_sha256 if current else None,
            },
            (ref,),
        )
        with self.writing() as w:
            return w.append(entry)

    def register_key(self, key: VerifierKey, role: KeyRole, actor: str) -> int:
        with self.writing() as w:
            row = w.conn.execute(
                select(s.registered_key).where(s.registered_key.c.name == key.name)
            ).first()
            if row is not None:
                raise StoreError(
                    f"a key named {key.name!r} is already registered (role {row.role}); "
                    "key names are unique in an election"
                )
            data = {"name": key.name, "role": role.value, "vkey": key.encode()}
            return w.append(new_entry("key.registered", actor, data))

    # --- Reading the log --------------------------------------------------------------

    def size(self) -> int:
        with self.engine.connect() as conn:
            return _log_size(conn)

    def entry_bytes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        query = select(s.log_entry.c.body).where(s.log_entry.c.idx >= start)
        if end is not None:
            query = query.where(s.log_entry.c.idx < end)
        with self.engine.connect() as conn:
            for (body,) in conn.execute(query.order_by(s.log_entry.c.idx)):
                yield bytes(body)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, Entry]]:
        for i, raw in enumerate(self.entry_bytes(start, end), start=start):
            yield i, parse_entry(raw, f"entry {i}")

    def operator_key(self) -> VerifierKey:
        first = next(self.entries(0, 1), None)
        if first is None or first[1].type != "log.opened":
            raise StoreError(f"{self.path}: the log has no opening entry")
        return VerifierKey.decode(first[1].data["operator"])

    def operator_signer(self) -> Signer:
        if self._signer is None:
            self._signer = keys.read_key(self.path / OPERATOR_KEY)
        return self._signer

    def _hash_ranges(
        self, size: int | None, ranges: Callable[[int], Sequence[tuple[int, int]]]
    ) -> list[bytes]:
        """Hash the leaf ranges ``ranges(size)`` of the tree of ``size`` entries (all when
        None), reading the log's size and nodes in one connection."""
        with self.engine.connect() as conn:
            current = _log_size(conn)
            if size is None:
                size = current
            elif size > current:
                raise StoreError(f"the log has {current} entries, not {size}")
            return merkle.hash_ranges(ranges(size), lambda nodes: _read_nodes(conn, nodes))

    def root(self, size: int | None = None) -> bytes:
        return self._hash_ranges(size, lambda n: [(0, n)])[0]

    def leaf_hash(self, index: int) -> bytes:
        with self.engine.connect() as conn:
            h = conn.scalar(select(s.log_entry.c.leaf_hash).where(s.log_entry.c.idx == index))
        if h is None:
            raise StoreError(f"entry {index} is not in the log ({self.size()} entries)")
        return bytes(h)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return self._hash_ranges(size, lambda n: merkle.inclusion_proof_ranges(index, n))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return self._hash_ranges(size2, lambda n: merkle.consistency_proof_ranges(size1, n))

    def inclusion_proof_document(self, index: int, size: int) -> dict[str, Any]:
        """An inclusion proof, checked before it leaves, in the JSON form of the
        transparency-dev golden probes (hashes in base64)."""
        proof, root, leaf = (
            self.inclusion_proof(index, size),
            self.root(size),
            self.leaf_hash(index),
        )
        merkle.verify_inclusion(index, size, leaf, proof, root)
        return {
            "leafIdx": index,
            "treeSize": size,
            "leafHash": _b64(leaf),
            "root": _b64(root),
            "proof": [_b64(p) for p in proof],
        }

    def consistency_proof_document(self, size1: int, size2: int) -> dict[str, Any]:
        """A consistency proof, checked before it leaves, in the same JSON form."""
        proof, root1, root2 = (
            self.consistency_proof(size1, size2),
            self.root(size1),
            self.root(size2),
        )
        merkle.verify_consistency(size1, size2, proof, root1, root2)
        return {
            "size1": size1,
            "size2": size2,
            "root1": _b64(root1),
            "root2": _b64(root2),
            "proof": [_b64(p) for p in proof],
        }

    # --- Checkpoints and witnesses ----------------------------------------------------

    def checkpoint(self) -> str:
        """The latest signed checkpoint; every transaction that appends signs one."""
        with self.engine.connect() as conn:
            note = conn.scalar(
                select(s.checkpoint.c.note).order_by(s.checkpoint.c.size.desc()).limit(1)
            )
        if note is None:
            raise StoreError(f"{self.path}: the log has no signed checkpoint")
        return str(note)

    def checkpoints(self) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(s.checkpoint.c.note).order_by(s.checkpoint.c.size))
            return [str(n) for (n,) in rows]

    def cosigned_checkpoint(self, size: int | None = None) -> str:
        """A checkpoint note with every witness cosignature recorded for it."""
        with self.engine.connect() as conn:
            query = select(s.checkpoint.c.size, s.checkpoint.c.note)
            if size is not None:
                query = query.where(s.checkpoint.c.size == size)
            row = conn.execute(query.order_by(s.checkpoint.c.size.desc()).limit(1)).first()
            if row is None:
                raise StoreError(f"no checkpoint of size {size} has been signed")
            lines = (
                conn.execute(
                    select(s.cosignature.c.line)
                    .where(s.cosignature.c.size == row.size)
                    .order_by(s.cosignature.c.witness)
                )
                .scalars()
                .all()
            )
        return str(row.note) + "".join(lines)

    def witness_key(self, name: str) -> VerifierKey:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.registered_key).where(s.registered_key.c.name == name)
            ).first()
        if row is None or row.role != KeyRole.WITNESS.value:
            raise StoreError(f"{name!r} is not a registered witness of this election")
        key = VerifierKey.decode(row.vkey)
        return VerifierKey(key.name, COSIGNATURE_V1, key.public_key)

    def cosign(self, witness: Signer, timestamp: int, since: str | None = None) -> str:
        """Have ``witness`` cosign the latest checkpoint, after checking that it extends
        ``since`` (a checkpoint the witness cosigned before) and that every entry it
        covers is in the log. Returns the cosigned checkpoint."""
        wkey = self.witness_key(witness.name)
        if wkey.public_key != witness.verifier().public_key:
            raise StoreError(f"the key file for {witness.name!r} is not the registered key")
        operator = self.operator_key()
        note_text = self.checkpoint()
        latest = open_checkpoint(note_text, operator)
        if since is not None:
            old = open_checkpoint(since, operator, "the earlier checkpoint")
            proof = self.consistency_proof(old.size, latest.size) if old.size < latest.size else []
            merkle.verify_consistency(old.size, latest.size, proof, old.root, latest.root)
        line = cosign(parse_note(note_text).text, witness, timestamp)
        verify_cosignature(parse_note(note_text + line), wkey)
        with self.writing() as w:
            w.conn.execute(
                delete(s.cosignature).where(
                    (s.cosignature.c.size == latest.size)
                    & (s.cosignature.c.witness == witness.name)
                )
            )
            w.conn.execute(
                insert(s.cosignature).values(
                    size=latest.size, witness=witness.name, line=line, timestamp=timestamp
                )
            )
        return note_text + line

    # --- Rebuild and verify -----------------------------------------------------------

    def _replay(self, conn: Connection) -> None:
        for table in s.PROJECTIONS:
            conn.execute(delete(table))
        for index, entry in self.entries():
            projection.apply(conn, index, entry, self.artifacts.get)

    def rebuild(self) -> int:
        """Regenerate the tree nodes and every projection from the log and artifacts."""
        problems = self.verify_log()
        if problems:
            raise VerificationError(
                "the log itself does not verify, so it cannot be replayed: " + problems[0]
            )
        tree = merkle.MerkleTree()
        with self.writing() as w:
            w.conn.execute(delete(s.log_node))
            for raw in self.entry_bytes():
                tree.append(raw)
            rows = [{"level": lv, "idx": i, "hash": h} for lv, i, h in tree.nodes()]
            for start in range(0, len(rows), 50_000):
                w.conn.execute(insert(s.log_node), rows[start : start + 50_000])
            self._replay(w.conn)
        return tree.size

    def verify_log(self, trusted: Sequence[str] = ()) -> list[str]:
        """Entries against checkpoints, stored tree nodes and artifacts."""
        entries = list(self.entry_bytes())
        report = verify_log(entries, self.checkpoints(), self.operator_key(), trusted)
        problems = list(report.problems)
        tree = report.tree
        with self.engine.connect() as conn:
            for i, h in conn.execute(select(s.log_entry.c.idx, s.log_entry.c.leaf_hash)):
                if i >= tree.size or bytes(h) != tree.node(0, i):
                    problems.append(f"table log_entry, row idx={i}: leaf_hash does not match body")
            for lv, i, h in conn.execute(select(s.log_node)):
                try:
                    ok = tree.node(lv, i) == bytes(h)
                except IndexError:
                    ok = False
                if not ok:
                    problems.append(f"table log_node, row level={lv}, idx={i}: wrong hash")
            for cosig_size, witness, line in conn.execute(
                select(s.cosignature.c.size, s.cosignature.c.witness, s.cosignature.c.line)
            ):
                try:
                    note = conn.scalar(
                        select(s.checkpoint.c.note).where(s.checkpoint.c.size == cosig_size)
                    )
                    verify_cosignature(parse_note(str(note) + line), self.witness_key(witness))
                except CanvassError as e:
                    problems.append(f"cosignature by {witness} on checkpoint {cosig_size}: {e}")
        for index, entry in enumerate(report.entries):
            for ref in entry.artifacts:
                try:
                    self.artifacts.get(ref.sha256)
                except ArtifactError as e:
                    problems.append(f"entry {index}: {e}")
        return problems

    def verify_projections(self) -> list[Discrepancy]:
        """Replay the log into a scratch database and compare every projection row."""
        scratch = sqlite_engine(":memory:")
        s.metadata.create_all(scratch, tables=list(s.PROJECTIONS))
        found: list[Discrepancy] = []
        with scratch.begin() as expected_conn, self.engine.connect() as actual_conn:
            self._replay(expected_conn)
            for table in s.PROJECTIONS:
                found.extend(_compare_table(table, expected_conn, actual_conn))
        scratch.dispose()
        return found

    def verify(self, trusted: Sequence[str] = ()) -> list[str]:
        problems = self.verify_log(trusted)
        if not problems:
            problems.extend(str(d) for d in self.verify_projections())
        return problems


def _compare_table(
    table: Any, expected_conn: Connection, actual_conn: Connection
) -> list[Discrepancy]:
    pk = [c.name for c in table.primary_key.columns]
    cols = [c.name for c in table.columns]

    def rows(conn: Connection) -> dict[tuple[Any, ...], dict[str, Any]]:
        out = {}
        for r in conn.execute(select(table)).mappings():
            out[tuple(r[k] for k in pk)] = dict(r)
        return out

    want, have = rows(expected_conn), rows(actual_conn)

    def key(k: tuple[Any, ...]) -> str:
        return ", ".join(f"{name}={value!r}" for name, value in zip(pk, k, strict=True))

    found = []
    for k in sorted(want.keys() | have.keys(), key=repr):
        if k not in have:
            found.append(Discrepancy(table.name, key(k), "missing, though the log records it"))
        elif k not in want:
            found.append(Discrepancy(table.name, key(k), "present, though no log entry made it"))
        else:
            for c in cols:
                if want[k][c] != have[k][c]:
                    found.append(
                        Discrepancy(
                            table.name,
                            key(k),
                            f"column {c} is {have[k][c]!r}, but the log says {want[k][c]!r}",
                        )
                    )
    return found


def registered_keys(store: ElectionDirectory) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(s.registered_key).order_by(s.registered_key.c.entry))
        return [dict(r) for r in rows.mappings()]


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "election"


def default_actor() -> str:
    """Who is acting, for entries made from the command line."""
    return os.environ.get("CANVASS_ACTOR") or os.environ.get("USER") or "operator"
