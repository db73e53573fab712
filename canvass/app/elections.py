"""Elections and their logs: create, open and migrate an election, record its definition,
register keys, and the log's own operations (show, prove, checkpoint, cosign, verify,
rebuild)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from canvass.app.actor import Actor
from canvass.app.boards import verify_canvass
from canvass.app.folds import canvass
from canvass.app.snapshot import Source, viewing
from canvass.app.snapshot import open_election as open_election  # where workflows open one
from canvass.domain.definition import load_definition
from canvass.domain.model import KeyRole
from canvass.errors import StoreError
from canvass.log import merkle
from canvass.log.entry import Entry, new_entry
from canvass.log.note import VerifierKey, open_checkpoint, parse_note
from canvass.log.note import verify_cosignature as check_cosignature
from canvass.store import backup as store_backup
from canvass.store import db
from canvass.store import schema as s
from canvass.store.artifacts import sha256_hex
from canvass.store.backup import Backup
from canvass.store.election import ElectionDirectory

# --- opening ---------------------------------------------------------------------------


def init(
    location: Path,
    actor: Actor,
    origin: str | None = None,
    database: str | None = None,
    schema: str | None = None,
) -> ElectionDirectory:
    """Create an election: its log operator key, its schema and its log (in
    ``location``'s SQLite file, or in the PostgreSQL ``database`` under ``schema``)."""
    return ElectionDirectory.init(location, origin, actor.name, database, schema)


def migrate(location: Path) -> tuple[str | None, str]:
    """Bring an election's schema to this Canvass's; the revisions before and after."""
    return ElectionDirectory.migrate(location)


def readiness(election: ElectionDirectory) -> str | None:
    """Why the election cannot serve requests now (its database does not answer, or its
    schema is not this Canvass's), or None when it can."""
    try:
        election.check_schema()
    except StoreError as e:
        return str(e)
    except OperationalError as e:
        return f"the database does not answer: {str(e.orig).strip().splitlines()[0]}"
    return None


UNAVAILABLE = (
    "the database is not answering just now (it may be restarting); try again in a moment, "
    "first checking whether a change you were making was recorded"
)


def unavailable(e: BaseException) -> str | None:
    """What to tell the person when ``e`` says the database cannot be reached just now
    (a request to repeat in a moment), or None for any other error."""
    return UNAVAILABLE if db.unreachable(e) else None


DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError,)
"""What the database layer raises: a shell answers these itself (:func:`unavailable`,
:func:`contended`, else an error of its own), never knowing the database library."""

BUSY = (
    "the election is busy with other changes just now and this one waited too long for its "
    "turn; nothing of it was recorded; try it again in a moment"
)
CONFLICT = (
    "this change met another made at the same moment and was undone; nothing of it was "
    "recorded; try it again"
)


def contended(e: BaseException) -> tuple[str, str] | None:
    """When ``e`` says a change was refused for others made at the same moment (it waited
    too long for its turn, or met another and was undone; nothing of it recorded, so the
    same request may be made again): ``("busy" or "conflict", what to tell the person)``;
    else None."""
    kind = db.contended(e)
    if kind is None:
        return None
    return kind, BUSY if kind == "busy" else CONFLICT


def backup(election: ElectionDirectory, out: Path, accounts: str | None = None) -> Backup:
    """Write a backup of the election (its log, artifacts and operator key) to ``out``,
    with the officials' accounts kept at ``accounts`` (by default beside the election)."""
    from canvass.app.accounts import default_url

    return store_backup.backup(election, out, accounts or default_url(election.path))


def restore(
    source: Path,
    location: Path,
    database: str | None = None,
    schema: str | None = None,
    accounts: str | None = None,
) -> Backup:
    """Restore a backup into a new election (SQLite in ``location``, or the PostgreSQL
    ``database`` under ``schema``): the tree and projections rebuilt from the log, and
    the whole verified; the officials' accounts it holds into ``accounts`` (by default
    beside the new election), which must hold none yet."""
    from canvass.app.accounts import default_url

    return store_backup.restore(
        source, location, database, schema, (lambda _: accounts) if accounts else default_url
    )


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


def draft_definition(
    fmt: str,
    county: str,
    paths: Sequence[Path],
    state: str = "",
    election_id: str | None = None,
    name: str | None = None,
    date: str | None = None,
) -> tuple[str, list[str]]:
    """A definition drafted from one county's export (``county`` empty: the name the export
    gives), as YAML headed by what a person must review before it is recorded with
    :func:`define`; and that list. Changes nothing."""
    from canvass.ingest.draft_sources import draft_definition as drafted

    return drafted(fmt, [(county, paths)], state, election_id, name, date)


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
