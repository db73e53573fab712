"""A person's signing key, asked for in the application and registered in the election
log once an official who may approve it does: the request, its decision, and the
settling of a decision a stopped process left half-made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from canvass.app.accounts import (
    SIGNING_ROLES,
    Account,
    AccountError,
    Accounts,
    Role,
    _at,
    _now,
)
from canvass.app.elections import register_key, registered_keys
from canvass.domain.model import KeyRole
from canvass.errors import CanvassError
from canvass.log.note import ED25519, VerifierKey
from canvass.store import accounts as t
from canvass.store.election import ElectionDirectory


@dataclass(frozen=True)
class KeyRequest:
    id: int
    username: str
    full_name: str
    account_role: Role
    scope: str
    vkey: str
    key_role: str
    requested_at: str
    decision: str | None
    decided_by: str | None
    log_entry: int | None


def request_key(accounts: Accounts, account: Account, public_key: bytes) -> int:
    """Ask for the Ed25519 public key ``public_key`` (32 bytes, made on the person's own
    side) to be registered as the account's signing key."""
    role = SIGNING_ROLES.get(account.role)
    if role is None:
        raise AccountError(f"a {account.role} does not sign with a key")
    if len(public_key) != 32:
        raise AccountError(f"an Ed25519 public key is 32 bytes; found {len(public_key)}")
    vkey = VerifierKey(account.username, ED25519, public_key).encode()
    with accounts.writing() as conn:
        pending = conn.scalar(
            select(t.key_request.c.id).where(
                (t.key_request.c.account == account.id)
                & (
                    t.key_request.c.decision.is_(None)
                    | t.key_request.c.decision.in_(("approved", APPROVING))
                )
            )
        )
        if pending is not None:
            raise AccountError(
                "a key for this account is registered or waiting for approval already; "
                "a registered key is never replaced"
            )
        made = conn.execute(
            t.key_request.insert().values(
                account=account.id, vkey=vkey, key_role=role.value, requested_at=_at(_now())
            )
        ).inserted_primary_key
        assert made is not None
        return int(made[0])


APPROVING = "approving"
"""A request an approver has taken up and whose key may be in the election log already:
what the log holds decides it (:func:`decide_key`)."""


def key_requests(
    accounts: Accounts, election: ElectionDirectory, account: Account | None = None
) -> list[KeyRequest]:
    """Every key request (or one account's), newest first; one being approved is approved
    if its key is in the election log, else waiting."""
    query = (
        select(t.key_request, t.account)
        .join(t.account, t.account.c.id == t.key_request.c.account)
        .order_by(t.key_request.c.id.desc())
    )
    if account is not None:
        query = query.where(t.key_request.c.account == account.id)
    with accounts.reading() as conn:
        rows = list(conn.execute(query))
    logged = {k["vkey"]: k for k in registered_keys(election)} if rows else {}
    found = []
    for r in rows:
        decision, decided_by, entry = r.decision, r.decided_by, r.log_entry
        if decision == APPROVING:
            key = logged.get(r.vkey)
            if key is not None and key["role"] == r.key_role:
                decision, entry = "approved", key["entry"]
            else:
                decision = decided_by = None
        found.append(
            KeyRequest(
                r.id,
                r.username,
                r.full_name,
                Role(r.role),
                r.scope,
                r.vkey,
                r.key_role,
                r.requested_at,
                decision,
                decided_by,
                entry,
            )
        )
    return found


def may_approve(approver: Account, request: KeyRequest) -> bool:
    """The state administrator approves any key; a county clerk, those of their county's
    board and audit boards."""
    if approver.role == Role.STATE_ADMIN:
        return True
    if approver.role != Role.COUNTY_CLERK:
        return False
    if request.account_role == Role.BOARD_MEMBER:
        return request.scope == f"county:{approver.scope}"
    if request.account_role == Role.AUDIT_BOARD_MEMBER:
        return request.scope.split("/", 1)[0] == approver.scope
    return False


def _undecided(request_id: int) -> Any:
    return (t.key_request.c.id == request_id) & (
        t.key_request.c.decision.is_(None) | (t.key_request.c.decision == APPROVING)
    )


def decide_key(
    accounts: Accounts,
    election: ElectionDirectory,
    approver: Account,
    request_id: int,
    approve: bool,
) -> int | None:
    """Approve (register the key in the election log, under the approver's name) or
    refuse a key request; the log entry when approved.

    The accounts and the election log are two databases, so an approval is three steps,
    with the log's entry the moment it happens: the request is marked as being approved,
    the key registered, the request marked approved. A crash after the first leaves the
    request waiting (its key is not in the log); after the second, approved (it is): read
    by :func:`key_requests`, settled by :func:`settle_key_requests`, and approving it again
    completes it with the entry already in the log."""
    found = next((r for r in key_requests(accounts, election) if r.id == request_id), None)
    if found is None:
        raise AccountError(f"no key request {request_id}")
    if found.decision is not None:
        raise AccountError(f"key request {request_id} was {found.decision} already")
    if not may_approve(approver, found):
        raise AccountError(
            f"a {approver.role} cannot approve the key of a {found.account_role} "
            f"({found.scope or 'statewide'})"
        )
    decided = {"decided_by": approver.username, "decided_at": _at(_now())}
    if not approve:
        with accounts.writing() as conn:
            done = conn.execute(
                t.key_request.update()
                .where(_undecided(request_id))
                .values(decision="refused", **decided)
            )
            if done.rowcount != 1:
                raise AccountError(f"key request {request_id} was decided already")
        return None
    with accounts.writing() as conn:
        conn.execute(
            t.key_request.update()
            .where(_undecided(request_id))
            .values(decision=APPROVING, **decided)
        )
    try:
        entry = _register(election, approver, found)
    except CanvassError:
        with accounts.writing() as conn:
            conn.execute(
                t.key_request.update()
                .where((t.key_request.c.id == request_id) & (t.key_request.c.decision == APPROVING))
                .values(decision=None, decided_by=None, decided_at=None)
            )
        raise
    with accounts.writing() as conn:
        conn.execute(
            t.key_request.update()
            .where(t.key_request.c.id == request_id)
            .values(decision="approved", log_entry=entry, **decided)
        )
    return entry


def _register(election: ElectionDirectory, approver: Account, request: KeyRequest) -> int:
    """Register the request's key in the election log; if an approval that did not finish
    registered it already, its entry."""
    key = VerifierKey.decode(request.vkey)
    logged = next((k for k in registered_keys(election) if k["name"] == key.name), None)
    if logged is not None and (logged["vkey"], logged["role"]) == (request.vkey, request.key_role):
        return int(logged["entry"])
    return register_key(election, approver.actor, key, KeyRole(request.key_role))


def settle_key_requests(accounts: Accounts, election: ElectionDirectory) -> None:
    """Record the outcome of approvals that stopped half-way (the process ended between
    their steps), as the election log decides it; run when the application starts."""
    with accounts.reading() as conn:
        stopped = set(
            conn.scalars(select(t.key_request.c.id).where(t.key_request.c.decision == APPROVING))
        )
    if not stopped:
        return
    for r in key_requests(accounts, election):
        if r.id not in stopped:
            continue
        with accounts.writing() as conn:
            where = (t.key_request.c.id == r.id) & (t.key_request.c.decision == APPROVING)
            if r.decision == "approved":
                values = {"decision": "approved", "log_entry": r.log_entry}
            else:
                values = {"decision": None, "decided_by": None, "decided_at": None}
            conn.execute(t.key_request.update().where(where).values(**values))
