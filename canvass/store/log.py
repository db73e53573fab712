"""Reading and appending the election log inside one database transaction.

:class:`LogReader` reads the log, its tree, its checkpoints and the projections through one
connection, so that everything it returns comes from one snapshot. :class:`LogWriter` is a
reader on a write transaction: it appends entries, projects each in the same transaction,
and signs the checkpoint over them before the transaction commits
(:meth:`~canvass.store.election.ElectionDirectory.writing`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from canvass.domain.model import KeyRole
from canvass.errors import StoreError
from canvass.log import merkle
from canvass.log.entry import Entry, parse_entry
from canvass.log.note import COSIGNATURE_V1, Checkpoint, Signer, VerifierKey, sign_note
from canvass.store import projection
from canvass.store import schema as s
from canvass.store.artifacts import ArtifactStore
from canvass.store.reading import NODES_PER_QUERY, nodes_query


def log_size(conn: Connection) -> int:
    last = conn.scalar(select(func.max(s.log_entry.c.idx)))
    return 0 if last is None else int(last) + 1


_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def read_nodes(conn: Connection, nodes: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
    """Fetch complete tree nodes by primary key.

    One statement whose plan is a primary-key lookup per wanted node, sent straight to the
    driver: on a 10-million-entry log SQLAlchemy's statement compilation would otherwise
    cost more than the lookups themselves (docs/benchmarks.md)."""
    mark = _PLACEHOLDER[conn.dialect.paramstyle]
    found: dict[merkle.Node, bytes] = {}
    wanted = list(nodes)
    for start in range(0, len(wanted), NODES_PER_QUERY):
        chunk = wanted[start : start + NODES_PER_QUERY]
        result = conn.exec_driver_sql(
            nodes_query(mark, len(chunk)), tuple(x for node in chunk for x in node)
        )
        found.update({(lv, i): bytes(h) for lv, i, h in result})
    return found


class LogReader:
    """The log and its projections as one transaction sees them."""

    def __init__(
        self, conn: Connection, artifacts: ArtifactStore, identity: str, where: str
    ) -> None:
        self.conn = conn
        self.artifacts = artifacts
        self.identity = identity
        """Which election's log this is, for caches (with the size and root)."""
        self.where = where
        """The election as messages name it."""
        self.size = log_size(conn)

    # --- entries ----------------------------------------------------------------------

    def entry_bytes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        query = select(s.log_entry.c.body).where(s.log_entry.c.idx >= start)
        if end is not None:
            query = query.where(s.log_entry.c.idx < end)
        for (body,) in self.conn.execute(query.order_by(s.log_entry.c.idx)):
            yield bytes(body)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, Entry]]:
        for i, raw in enumerate(self.entry_bytes(start, end), start=start):
            yield i, parse_entry(raw, f"entry {i}")

    def entry(self, index: int) -> Entry:
        found = next(self.entries(index, index + 1), None)
        if found is None:
            raise StoreError(f"entry {index} is not in the log ({self.size} entries)")
        return found[1]

    # --- the election and its imports ---------------------------------------------------

    def definition_sha256(self) -> str | None:
        """The SHA-256 of the election definition in force (None: none defined yet)."""
        found = self.conn.scalar(select(s.election.c.definition_sha256))
        return None if found is None else str(found)

    def imports(self, kind: str) -> list[dict[str, Any]]:
        """Every import of ``kind`` (ballots, results, manifest), in log order."""
        query = select(s.ballot_import).where(s.ballot_import.c.kind == kind)
        rows = self.conn.execute(query.order_by(s.ballot_import.c.entry)).mappings()
        return [dict(r) for r in rows]

    # --- the tree and its proofs --------------------------------------------------------

    def _hash_ranges(
        self, size: int | None, ranges: Callable[[int], Sequence[tuple[int, int]]]
    ) -> list[bytes]:
        """Hash the leaf ranges ``ranges(size)`` of the tree of ``size`` entries (all when
        None)."""
        if size is None:
            size = self.size
        elif size > self.size:
            raise StoreError(f"the log has {self.size} entries, not {size}")
        return merkle.hash_ranges(ranges(size), lambda nodes: read_nodes(self.conn, nodes))

    def root(self, size: int | None = None) -> bytes:
        return self._hash_ranges(size, lambda n: [(0, n)])[0]

    def leaf_hash(self, index: int) -> bytes:
        h = self.conn.scalar(select(s.log_entry.c.leaf_hash).where(s.log_entry.c.idx == index))
        if h is None:
            raise StoreError(f"entry {index} is not in the log ({self.size} entries)")
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

    # --- checkpoints and keys ---------------------------------------------------------

    def checkpoint(self) -> str:
        """The latest signed checkpoint; every transaction that appends signs one."""
        note = self.conn.scalar(
            select(s.checkpoint.c.note).order_by(s.checkpoint.c.size.desc()).limit(1)
        )
        if note is None:
            raise StoreError(f"{self.where}: the log has no signed checkpoint")
        return str(note)

    def checkpoints(self) -> list[str]:
        rows = self.conn.execute(select(s.checkpoint.c.note).order_by(s.checkpoint.c.size))
        return [str(n) for (n,) in rows]

    def cosigned_checkpoint(self, size: int | None = None) -> str:
        """A checkpoint note with every witness cosignature recorded for it."""
        query = select(s.checkpoint.c.size, s.checkpoint.c.note)
        if size is not None:
            query = query.where(s.checkpoint.c.size == size)
        row = self.conn.execute(query.order_by(s.checkpoint.c.size.desc()).limit(1)).first()
        if row is None:
            raise StoreError(f"no checkpoint of size {size} has been signed")
        lines = (
            self.conn.execute(
                select(s.cosignature.c.line)
                .where(s.cosignature.c.size == row.size)
                .order_by(s.cosignature.c.witness)
            )
            .scalars()
            .all()
        )
        return str(row.note) + "".join(lines)

    def operator_key(self) -> VerifierKey:
        first = next(self.entries(0, 1), None)
        if first is None or first[1].type != "log.opened":
            raise StoreError(f"{self.where}: the log has no opening entry")
        return VerifierKey.decode(first[1].data["operator"])

    def registered_keys(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(s.registered_key).order_by(s.registered_key.c.entry))
        return [dict(r) for r in rows.mappings()]

    def registered_key(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            select(s.registered_key).where(s.registered_key.c.name == name)
        ).first()
        return None if row is None else dict(row._mapping)

    def witness_key(self, name: str) -> VerifierKey:
        row = self.registered_key(name)
        if row is None or row["role"] != KeyRole.WITNESS.value:
            raise StoreError(f"{name!r} is not a registered witness of this election")
        key = VerifierKey.decode(row["vkey"])
        return VerifierKey(key.name, COSIGNATURE_V1, key.public_key)


class LogWriter(LogReader):
    """A reader on a write transaction that appends entries; see
    :meth:`~canvass.store.election.ElectionDirectory.writing`."""

    def __init__(
        self, conn: Connection, artifacts: ArtifactStore, identity: str, where: str
    ) -> None:
        super().__init__(conn, artifacts, identity, where)
        self._nodes: dict[merkle.Node, bytes] = {}
        frontier = merkle.range_nodes(0, self.size)
        if frontier:
            self._nodes = read_nodes(conn, frontier)
        self.appended: list[int] = []
        self.named: set[str] = set()
        """The SHA-256 of every artifact the appended entries name."""
        self.signed: str | None = None
        """The checkpoint signed as the transaction ended, when it appended."""

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
            self.named.update(ref.sha256 for ref in entry.artifacts)
        self.conn.execute(insert(s.log_entry), entry_rows)
        self.conn.execute(insert(s.log_node), node_rows)
        for index, entry in parsed:
            projection.apply(self.conn, index, entry, self.artifacts.get)
            self.appended.append(index)
        return [i for i, _ in parsed]

    def root(self, size: int | None = None) -> bytes:
        if self.size and size in (None, self.size):
            return merkle.fold_range([self._nodes[n] for n in merkle.range_nodes(0, self.size)])
        return super().root(size)

    def sign_checkpoint(self, signer: Signer) -> str:
        """Sign the tree as this transaction leaves it, in the same transaction."""
        note = sign_note(Checkpoint(signer.name, self.size, self.root()).text(), signer)
        self.conn.execute(insert(s.checkpoint).values(size=self.size, note=note))
        self.signed = note
        return note


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode()
