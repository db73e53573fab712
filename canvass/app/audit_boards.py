"""An audit board of several members, each signing in their own browser.

Every member of a seated audit board signs each reading of a ballot and each hand count of
a batch (:mod:`canvass.audit.workflow`).
From the command line one person holds every member's key; in the officials' application
each member signs with the key in their own browser, one after the other. Each signature
is checked against the member's registered key as it comes and kept, with the reading it
is over, in the accounts database (``reading_signature``): it is no part of the election's
record until the last member signs the same statement, when the reading is recorded in
the election log with every member's signature, exactly as the command line records it.
Members who sign different readings of a ballot are each kept, and nothing is recorded
until they agree (or say, all of them, that they do not: the ``no_consensus`` finding).
A hand count of a batch is gathered the same way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from canvass.app.accounts import Accounts
from canvass.app.actor import Actor
from canvass.app.audits import interpret, load_audits, tally
from canvass.app.retrieval import reading_to_sign, tally_to_sign
from canvass.audit.workflow import AuditRefused
from canvass.certify.statements import check, message
from canvass.store import accounts as t
from canvass.store.election import ElectionDirectory


@dataclass(frozen=True)
class Signed:
    """What a member's signature did: the log entries of the reading, once every member
    has signed it, or the members it still waits for."""

    entries: list[int]
    waiting: list[str]


def _lock(conn: Connection) -> None:
    """On PostgreSQL, one signer at a time: the last two members signing at once must
    each see the other's signature (SQLite's write transaction is one at a time anyway)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7219002)")


def _where(audit: str, board: str, item: str, contest: str) -> Any:
    c = t.reading_signature.c
    return (c.audit == audit) & (c.board == board) & (c.item == item) & (c.contest == contest)


def _gather(
    accounts: Accounts,
    election: ElectionDirectory,
    actor: Actor,
    audit: str,
    board: str,
    key: tuple[str, str],
    statement: dict[str, Any],
    signature: str,
    kept: dict[str, Any],
    record: Callable[[list[dict[str, str]]], list[int]],
) -> Signed:
    """Check and keep member ``actor``'s ``signature`` over ``statement`` (of ``key``: the
    ballot or batch, and the contest); once every member has signed that statement,
    ``record`` it with all their signatures, in the board's order."""
    state = load_audits(election)
    members = state.audit(audit).boards.get(board)
    if members is None:
        raise AuditRefused(
            f"audit {audit}: {board!r} is not a seated audit board; the state administrator "
            "seats it once its members' keys are registered"
        )
    if actor.name not in members:
        raise AuditRefused(
            f"audit {audit}: {actor.name} is not a member of audit board {board} "
            f"({', '.join(members)})"
        )
    member_key = state.keys.key(actor.name, ("audit-board",), AuditRefused)
    check(
        statement,
        signature,
        member_key,
        f"{actor.name}'s signature of this {statement['statement']}",
    )
    sha = hashlib.sha256(message(statement)).hexdigest()
    item, contest = key
    with accounts.writing() as conn:
        _lock(conn)
        where = _where(audit, board, item, contest)
        mine = t.reading_signature.c.member == actor.name
        conn.execute(t.reading_signature.delete().where(where & mine))
        conn.execute(
            t.reading_signature.insert().values(
                audit=audit,
                board=board,
                item=item,
                contest=contest,
                member=actor.name,
                statement_sha256=sha,
                reading=json.dumps(kept, sort_keys=True),
                signature=signature,
                signed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        )
        rows = conn.execute(
            select(t.reading_signature.c.member, t.reading_signature.c.signature).where(
                where & (t.reading_signature.c.statement_sha256 == sha)
            )
        ).all()
    signed = {str(r.member): str(r.signature) for r in rows}
    waiting = [m for m in members if m not in signed]
    if waiting:
        return Signed([], waiting)
    entries = record([{"member": m, "signature": signed[m]} for m in members])
    with accounts.writing() as conn:
        conn.execute(t.reading_signature.delete().where(_where(audit, board, item, contest)))
    return Signed(entries, [])


def sign_reading(
    accounts: Accounts,
    election: ElectionDirectory,
    actor: Actor,
    audit: str,
    county: str,
    board: str,
    reading: dict[str, Any],
    signature: str,
    reason: str = "",
) -> Signed:
    """Add member ``actor``'s signature over one reading of a ballot of ``county`` by audit
    board ``board``; record the reading once every member of the board has signed it."""
    statement = reading_to_sign(election, audit, county, board, dict(reading), reason)
    return _gather(
        accounts,
        election,
        actor,
        audit,
        board,
        (str(reading["ballot"]), str(reading["contest"])),
        statement,
        signature,
        {"reading": reading, "reason": reason},
        lambda signed: interpret(election, actor, audit, [dict(reading)], board, [signed], reason),
    )


def sign_tally(
    accounts: Accounts,
    election: ElectionDirectory,
    actor: Actor,
    audit: str,
    county: str,
    board: str,
    count: dict[str, Any],
    signature: str,
    reason: str = "",
) -> Signed:
    """Add member ``actor``'s signature over audit board ``board``'s hand count of one
    batch of ``county`` for one contest (``{"batch", "contest", "votes" {choice: n}}``);
    record it once every member of the board has signed it."""
    statement = tally_to_sign(election, audit, county, board, dict(count), reason)
    return _gather(
        accounts,
        election,
        actor,
        audit,
        board,
        (str(count["batch"]), str(count["contest"])),
        statement,
        signature,
        {"reading": count, "reason": reason},
        lambda signed: tally(election, actor, audit, [dict(count)], board, [signed], reason),
    )


def pending_readings(
    accounts: Accounts, audit: str, board: str
) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The readings of audit board ``board`` that some but not every member has signed, by
    (ballot, contest): each reading signed (its votes or finding) with who signed it."""
    c = t.reading_signature.c
    with accounts.reading() as conn:
        rows = conn.execute(
            select(c.item, c.contest, c.statement_sha256, c.reading, c.member)
            .where((c.audit == audit) & (c.board == board))
            .order_by(c.item, c.contest, c.signed_at, c.member)
        ).all()
    found: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_statement = found.setdefault((str(r.item), str(r.contest)), {})
        if r.statement_sha256 not in by_statement:
            kept = json.loads(r.reading)
            by_statement[r.statement_sha256] = {
                "votes": kept["reading"].get("votes") or [],
                "finding": str(kept["reading"].get("finding") or ""),
                "reason": str(kept.get("reason") or ""),
                "members": [],
            }
        by_statement[r.statement_sha256]["members"].append(str(r.member))
    return {key: list(readings.values()) for key, readings in found.items()}
