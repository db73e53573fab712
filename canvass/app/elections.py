"""Elections and their logs: create, open and migrate an election, record its definition,
register keys, and the log's own operations (show, prove, checkpoint, cosign, verify,
rebuild)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select

from canvass.app.actor import Actor
from canvass.app.boards import verify_canvass
from canvass.app.folds import canvass
from canvass.app.snapshot import Source, viewing
from canvass.domain.definition import load_definition
from canvass.domain.model import KeyRole
from canvass.errors import StoreError
from canvass.log import merkle
from canvass.log.entry import Entry, new_entry
from canvass.log.note import VerifierKey, open_checkpoint, parse_note
from canvass.log.note import verify_cosignature as check_cosignature
from canvass.store import schema as s
from canvass.store.artifacts import sha256_hex
from canvass.store.election import ElectionDirectory

# --- opening ---------------------------------------------------------------------------


def init(location: Path, actor: Actor, origin: str | None = None) -> ElectionDirectory:
    """Create an election: its log operator key, its schema and its log."""
    return ElectionDirectory.init(location, origin, actor.name)


def open_election(location: Path) -> ElectionDirectory:
    """Open an election whose schema is this Canvass's (else: run :func:`migrate`)."""
    return ElectionDirectory.open(location)


def migrate(location: Path) -> tuple[str | None, str]:
    """Bring an election's schema to this Canvass's; the revisions before and after."""
    return ElectionDirectory.migrate(location)


# --- definition and keys ---------------------------------------------------------------


def define(election: ElectionDirectory, actor: Actor, data: bytes, name: str) -> int | None:
    """Record an election definition; None when the same bytes are already in force."""
    definition = load_definition(data, name)
    with election.writing() as w:
        current = w.conn.execute(select(s.election.c.id, s.election.c.definition_sha256)).first()
        if current and current.definition_sha256 == sha256_hex(data):
            return None
        if current and current.id != definition.election.id:
            raise StoreError(
                f"{name}: election.id is {definition.election.id!r}, but this directory holds "
                f"election {current.id!r}; one directory holds one election"
            )
        if current:
            state = canvass(w)
            frozen = [scope for scope in state.current if state.frozen(scope) is not None]
            if frozen:
                raise StoreError(
                    f"{name}: the election's results are certified "
                    f"({', '.join(sorted(frozen))}); its definition cannot change unless a "
                    "correction or a recount is opened"
                )
        ref = election.store_artifact(data, Path(name).name)
        entry = new_entry(
            "election.defined",
            actor.name,
            {
                "election": definition.election.id,
                "contests": len(definition.contests),
                "jurisdictions": len(definition.jurisdictions),
                "supersedes": current.definition_sha256 if current else None,
            },
            (ref,),
        )
        return w.append(entry)


def register_key(election: ElectionDirectory, actor: Actor, key: VerifierKey, role: KeyRole) -> int:
    """Register a person's (or a witness's) public key with its role."""
    with election.writing() as w:
        row = w.registered_key(key.name)
        if row is not None:
            raise StoreError(
                f"a key named {key.name!r} is already registered (role {row['role']}); "
                "key names are unique in an election"
            )
        data = {"name": key.name, "role": role.value, "vkey": key.encode()}
        return w.append(new_entry("key.registered", actor.name, data))


def registered_keys(source: Source) -> list[dict[str, Any]]:
    with viewing(source) as view:
        return view.registered_keys()


# --- the log -----------------------------------------------------------------------------


def entries(source: Source, start: int = 0, limit: int | None = None) -> list[tuple[int, Entry]]:
    with viewing(source) as view:
        return list(view.entries(start, None if limit is None else start + limit))


def entry_bytes(source: Source, start: int = 0, limit: int | None = None) -> list[bytes]:
    """Entries as the log holds them: canonical JSON."""
    with viewing(source) as view:
        return list(view.entry_bytes(start, None if limit is None else start + limit))


def size(source: Source) -> int:
    """How many entries the log holds."""
    with viewing(source) as view:
        return view.size


def operator_key(source: Source) -> VerifierKey:
    """The key of the log's operator, which signs its checkpoints."""
    with viewing(source) as view:
        return view.operator_key()


def checkpoint(source: Source) -> str:
    """The latest signed checkpoint."""
    with viewing(source) as view:
        return view.checkpoint()


def cosigned_checkpoint(source: Source) -> str:
    """The latest checkpoint with every witness's cosignature."""
    with viewing(source) as view:
        return view.cosigned_checkpoint()


def prove_inclusion(source: Source, index: int, size: int | None = None) -> dict[str, Any]:
    """A checked inclusion proof of entry ``index`` in the tree of ``size`` (all)."""
    with viewing(source) as view:
        return view.inclusion_proof_document(index, view.size if size is None else size)


def prove_consistency(source: Source, since: int, size: int | None = None) -> dict[str, Any]:
    """A checked proof that the tree of ``size`` (all) extends the tree of ``since``."""
    with viewing(source) as view:
        return view.consistency_proof_document(since, view.size if size is None else size)


def to_cosign(source: Source, witness: str, since: str | None = None) -> str:
    """The latest checkpoint, for the registered witness ``witness`` to cosign on its own
    side, after checking that it extends ``since`` (a checkpoint the witness cosigned
    before) and that every entry it covers is in the log."""
    with viewing(source) as view:
        view.witness_key(witness)
        operator = view.operator_key()
        note = view.checkpoint()
        latest = open_checkpoint(note, operator)
        if since is not None:
            old = open_checkpoint(since, operator, "the earlier checkpoint")
            proof = view.consistency_proof(old.size, latest.size) if old.size < latest.size else []
            merkle.verify_consistency(old.size, latest.size, proof, old.root, latest.root)
        return note


def record_cosignature(election: ElectionDirectory, witness: str, note: str, line: str) -> str:
    """Keep ``witness``'s cosignature ``line`` (C2SP tlog-cosignature) on ``note``, a
    checkpoint this log signed; returns the cosigned checkpoint."""
    with election.writing() as w:
        wkey = w.witness_key(witness)
        signed = open_checkpoint(note, w.operator_key())
        kept = w.conn.scalar(select(s.checkpoint.c.note).where(s.checkpoint.c.size == signed.size))
        if kept != note:
            raise StoreError(f"the log signed no checkpoint of size {signed.size} like this one")
        cosigned = parse_note(note + line)
        ids = [sig.key_id for sig in cosigned.signatures if sig.name == witness]
        if ids and wkey.id not in ids:
            raise StoreError(f"the key that signed for {witness!r} is not its registered key")
        timestamp = check_cosignature(cosigned, wkey)
        w.conn.execute(
            delete(s.cosignature).where(
                (s.cosignature.c.size == signed.size) & (s.cosignature.c.witness == witness)
            )
        )
        w.conn.execute(
            insert(s.cosignature).values(
                size=signed.size, witness=witness, line=line, timestamp=timestamp
            )
        )
    return note + line


@dataclass(frozen=True)
class LogCheck:
    problems: list[str]
    """Everything that does not hold, in words; empty when all of it does."""
    entries: int
    checkpoints: int


def verify(election: ElectionDirectory, trusted: Sequence[str] = ()) -> LogCheck:
    """Check entries, tree, checkpoints, cosignatures, artifacts and every table row
    (``trusted``: checkpoints seen before, which the log must extend); and the canvass:
    every signed vote and certificate, each against the ballots it rests on."""
    problems = election.verify(trusted)
    with election.reading() as view:
        if not problems and any(e.type == "certificate.issued" for _, e in view.entries()):
            problems = verify_canvass(view)
        return LogCheck(problems, view.size, len(view.checkpoints()))


def rebuild(election: ElectionDirectory) -> int:
    """Regenerate every table from the log and the artifacts; the log's size."""
    return election.rebuild()
