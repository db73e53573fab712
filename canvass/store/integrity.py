"""The database against its log: verify the log, its tree, checkpoints, cosignatures and
artifacts; replay the log into a scratch database and compare every projection row; and
rebuild the tree and the projections from the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select

from canvass.errors import ArtifactError, CanvassError, VerificationError
from canvass.log import merkle
from canvass.log.note import parse_note, verify_cosignature
from canvass.log.verify import verify_log as verify_entries
from canvass.store import db, projection
from canvass.store import schema as s
from canvass.store.log import LogReader

if TYPE_CHECKING:
    from canvass.store.election import ElectionDirectory


@dataclass(frozen=True)
class Discrepancy:
    table: str
    key: str
    problem: str

    def __str__(self) -> str:
        return f"table {self.table}, row {self.key}: {self.problem}"


def _replay(log: LogReader, conn: Connection) -> None:
    """Project every entry of ``log`` into the projection tables of ``conn``."""
    for table in s.PROJECTIONS:
        conn.execute(delete(table))
    for index, entry in log.entries():
        projection.apply(conn, index, entry, log.artifacts.get)


def rebuild(store: ElectionDirectory) -> int:
    """Regenerate the tree nodes and every projection from the log and artifacts, in one
    transaction that first checks the log."""
    with store.writing() as w:
        problems = verify_log(w)
        if problems:
            raise VerificationError(
                "the log itself does not verify, so it cannot be replayed: " + problems[0]
            )
        tree = merkle.MerkleTree()
        for raw in w.entry_bytes():
            tree.append(raw)
        w.conn.execute(delete(s.log_node))
        rows = [{"level": lv, "idx": i, "hash": h} for lv, i, h in tree.nodes()]
        for start in range(0, len(rows), 50_000):
            w.conn.execute(insert(s.log_node), rows[start : start + 50_000])
        _replay(w, w.conn)
    return tree.size


def verify_log(log: LogReader, trusted: Sequence[str] = ()) -> list[str]:
    """Entries against checkpoints, stored tree nodes and artifacts."""
    entries = list(log.entry_bytes())
    report = verify_entries(entries, log.checkpoints(), log.operator_key(), trusted)
    problems = list(report.problems)
    tree = report.tree
    conn = log.conn
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
            note = conn.scalar(select(s.checkpoint.c.note).where(s.checkpoint.c.size == cosig_size))
            verify_cosignature(parse_note(str(note) + line), log.witness_key(witness))
        except CanvassError as e:
            problems.append(f"cosignature by {witness} on checkpoint {cosig_size}: {e}")
    named: set[str] = set()
    for index, entry in enumerate(report.entries):
        for ref in entry.artifacts:
            named.add(ref.sha256)
            try:
                log.artifacts.get(ref.sha256)
            except ArtifactError as e:
                problems.append(f"entry {index}: {e}")
    for sha256 in log.artifacts:
        if sha256 not in named:
            problems.append(f"artifact {sha256}: in the artifact store, but no log entry names it")
    return problems


def verify_projections(log: LogReader) -> list[Discrepancy]:
    """Replay the log into a scratch database and compare every projection row."""
    scratch = db.sqlite_engine(":memory:")
    s.metadata.create_all(scratch, tables=list(s.PROJECTIONS))
    found: list[Discrepancy] = []
    with scratch.begin() as expected_conn:
        _replay(log, expected_conn)
        for table in s.PROJECTIONS:
            found.extend(_compare_table(table, expected_conn, log.conn))
    scratch.dispose()
    return found


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
