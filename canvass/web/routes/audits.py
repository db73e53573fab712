"""Audits: open, commit the frame, the seed ceremony, rounds, retrieval lists per county
grouped by container, the audit boards' entry screen, and the risk measured."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from canvass.app import accounts as acc
from canvass.app import retrieval
from canvass.app.accounts import Account, Role
from canvass.app.audit_boards import pending_readings, sign_reading, sign_tally
from canvass.app.audits import commit, draw, measure, open_audit, record_seed
from canvass.app.results import definition
from canvass.audit.workflow import METHODS
from canvass.certify.statements import message
from canvass.errors import StoreError
from canvass.web.access import EVERYONE, Number, fields, require, text, texts
from canvass.web.render import Done, action, page
from canvass.web.words import statement_words

router = APIRouter()
FINDINGS = {"not_found": "ballot not found", "no_consensus": "the board does not agree"}


def _number(form: dict[str, Any], name: str) -> int:
    value = form.get(name, "")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StoreError(f"{name} is a whole number; found {value!r}") from None


@page(router, "/audits", "audits.html")
def audits(request: Request, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    election = request.app.state.services.election
    return {
        "audits": retrieval.audit_names(election),
        "methods": METHODS,
        "contests": [{"id": c.id, "name": c.name} for c in definition(election).contests],
    }


@action(router, "/audits")
def open_(
    request: Request,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    name = text(form, "name")
    entry = open_audit(
        request.app.state.services.election,
        account.actor,
        name,
        text(form, "method"),
        _number(form, "risk_limit"),
        texts(form, "contests"),
    )
    return Done(f"Audit {name} opened (log entry {entry}).", f"/audits/{name}", {"entry": entry})


@page(router, "/audits/{audit}", "audit.html")
def audit(request: Request, audit: str, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    return retrieval.audit_overview(request.app.state.services.election, audit)


@action(router, "/audits/{audit}/commit")
def commit_(request: Request, audit: str, account: Account = require(Role.STATE_ADMIN)) -> Done:
    entry, _ = commit(request.app.state.services.election, account.actor, audit)
    return Done(
        f"Ballot manifests and CVRs committed in a signed checkpoint (log entry {entry}); "
        "the seed may now be rolled.",
        f"/audits/{audit}",
        {"entry": entry},
    )


@action(router, "/audits/{audit}/seed")
def seed(
    request: Request,
    audit: str,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    entry = record_seed(
        request.app.state.services.election, account.actor, audit, text(form, "seed").strip()
    )
    return Done(f"Seed recorded (log entry {entry}).", f"/audits/{audit}", {"entry": entry})


@action(router, "/audits/{audit}/rounds")
def round_(
    request: Request,
    audit: str,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    entry, _ = draw(
        request.app.state.services.election, account.actor, audit, _number(form, "size")
    )
    return Done(f"Ballots drawn (log entry {entry}).", f"/audits/{audit}", {"entry": entry})


@page(router, "/audits/{audit}/rounds/{number}/retrieval", "retrieval.html")
def retrievaltexts(
    request: Request,
    audit: str,
    number: Number,
    county: str | None = None,
    account: Account = require(*EVERYONE),
) -> dict[str, Any]:
    """Where to find each ballot drawn, by county and container: printable."""
    return retrieval.retrieval(request.app.state.services.election, audit, number, county)


@page(router, "/audits/{audit}/entry", "audit_entry.html")
def entry_screen(
    request: Request, audit: str, account: Account = require(Role.AUDIT_BOARD_MEMBER)
) -> dict[str, Any]:
    """The audit board's screen: each ballot (or batch) drawn in its county, what it was
    read (or counted) as, and what members have signed that the others have not yet."""
    services = request.app.state.services
    county = account.county or ""
    overview = retrieval.audit_overview(services.election, audit)
    pending = pending_readings(services.accounts, audit, account.scope)
    by_batch = overview["method"] == "batch-comparison"
    ballots = [] if by_batch else retrieval.to_read(services.election, audit, county)
    members = overview["boards"].get(account.scope, [])
    batches = []
    if by_batch:
        batches = retrieval.to_count(services.election, audit, county)
        for b in batches:
            b["pending"] = {}
            for c in b["tallies"]:
                signed = pending.get((b["batch"], c), [])
                for p in signed:
                    p["waiting"] = [m for m in members if m not in p["members"]]
                    p["mine"] = account.username in p["members"]
                    p["said"] = ", ".join(f"{k} {v}" for k, v in sorted(p["votes"].items()))
                b["pending"][c] = signed
    names = {
        (c["contest"], ch["choice"]): ch["name"]
        for c in overview["contests"]
        for ch in c["choices"]
    }
    for b in ballots:
        b["pending"], b["proposed"] = {}, {}
        for c in b["readings"]:
            signed = pending.get((b["ballot"], c), [])
            for p in signed:
                p["waiting"] = [m for m in members if m not in p["members"]]
                p["mine"] = account.username in p["members"]
                p["said"] = FINDINGS.get(p["finding"]) or (
                    ", ".join(names.get((c, v), v) for v in p["votes"]) or "no choice marked"
                )
            b["pending"][c] = signed
            # The form starts from a reading the others signed and this member has not.
            others = [p for p in signed if not p["mine"]]
            b["proposed"][c] = (others or [{"votes": []}])[0]["votes"]
    return {
        "audit": overview,
        "ballots": ballots,
        "batches": batches,
        "board": account.scope,
        "members": members,
    }


def _reading(ballot: str, contest: str, votes: list[str], finding: str) -> dict[str, Any]:
    found: dict[str, Any] = {"ballot": ballot, "contest": contest, "votes": votes}
    if finding:
        found["finding"] = finding
    return found


@router.get("/api/audits/{audit}/readings/statement")
def reading_statement(
    request: Request,
    audit: str,
    ballot: str,
    contest: str,
    votes: list[str] = Query([]),
    finding: str = "",
    reason: str = "",
    account: Account = require(Role.AUDIT_BOARD_MEMBER),
) -> dict[str, Any]:
    """The statement the audit board signs for this reading, its bytes and its words."""
    election = request.app.state.services.election
    statement = retrieval.reading_to_sign(
        election,
        audit,
        account.county or "",
        account.scope,
        _reading(ballot, contest, votes, finding),
        reason,
    )
    return {
        "statement": statement,
        "message": base64.b64encode(message(statement)).decode(),
        "words": statement_words(election, account, statement),
    }


@action(router, "/audits/{audit}/readings")
def reading(
    request: Request,
    audit: str,
    account: Account = require(Role.AUDIT_BOARD_MEMBER),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """What the audit board reads on one ballot for one contest: the choices marked, or a
    finding (not found, no consensus), signed with the member's key; recorded once every
    member of the board has signed the same reading, each in their own browser."""
    services = request.app.state.services
    ballot = text(form, "ballot")
    signed = sign_reading(
        services.accounts,
        services.election,
        account.actor,
        audit,
        account.county or "",
        account.scope,
        _reading(ballot, text(form, "contest"), texts(form, "votes"), text(form, "finding")),
        text(form, "signature"),
        text(form, "reason"),
    )
    if signed.waiting:
        said = f"Your signature of the reading of {ballot} is kept; it is recorded when " + (
            f"{', '.join(signed.waiting)} sign{'s' if len(signed.waiting) == 1 else ''} "
            "the same reading."
        )
    else:
        said = f"Reading of {ballot} recorded (log entry {signed.entries[0]})."
    return Done(
        said,
        f"/audits/{audit}/entry#b-{ballot.replace('/', '-')}",
        {"entries": signed.entries, "waiting": signed.waiting},
    )


def _count(form: dict[str, Any]) -> dict[str, Any]:
    """A hand count from a form: ``batch``, ``contest`` and ``count.<choice>`` fields."""
    votes = {}
    for name, value in form.items():
        if name.startswith("count.") and isinstance(value, str):
            try:
                votes[name.removeprefix("count.")] = int(value or "0")
            except ValueError:
                raise StoreError(f"{name} is a whole number of votes; found {value!r}") from None
            if votes[name.removeprefix("count.")] < 0:
                raise StoreError(f"{name} is a whole number of votes; found {value!r}")
    return {"batch": text(form, "batch"), "contest": text(form, "contest"), "votes": votes}


@router.get("/api/audits/{audit}/tallies/statement")
def tally_statement(
    request: Request, audit: str, account: Account = require(Role.AUDIT_BOARD_MEMBER)
) -> dict[str, Any]:
    """The statement the audit board signs for its hand count of a batch, its bytes and
    its words (the count as ``count.<choice>`` parameters)."""
    election = request.app.state.services.election
    form = dict(request.query_params)
    statement = retrieval.tally_to_sign(
        election, audit, account.county or "", account.scope, _count(form), text(form, "reason")
    )
    return {
        "statement": statement,
        "message": base64.b64encode(message(statement)).decode(),
        "words": statement_words(election, account, statement),
    }


@action(router, "/audits/{audit}/tallies")
def tally_(
    request: Request,
    audit: str,
    account: Account = require(Role.AUDIT_BOARD_MEMBER),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """The audit board's hand count of one batch drawn, for one contest, signed with the
    member's key; recorded once every member of the board has signed the same count."""
    services = request.app.state.services
    count = _count(form)
    signed = sign_tally(
        services.accounts,
        services.election,
        account.actor,
        audit,
        account.county or "",
        account.scope,
        count,
        text(form, "signature"),
        text(form, "reason"),
    )
    batch = count["batch"]
    if signed.waiting:
        said = f"Your signature of the count of batch {batch} is kept; it is recorded when " + (
            f"{', '.join(signed.waiting)} sign{'s' if len(signed.waiting) == 1 else ''} "
            "the same count."
        )
    else:
        said = f"Count of batch {batch} recorded (log entry {signed.entries[0]})."
    return Done(
        said,
        f"/audits/{audit}/entry#t-{batch.replace('/', '-')}",
        {"entries": signed.entries, "waiting": signed.waiting},
    )


@action(router, "/audits/{audit}/boards")
def seat_board(
    request: Request,
    audit: str,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    services = request.app.state.services
    board = text(form, "board")
    entry = acc.seat_audit_board(services.accounts, services.election, account.actor, audit, board)
    return Done(
        f"Audit board {board} seated (log entry {entry}).", f"/audits/{audit}", {"entry": entry}
    )


@action(router, "/audits/{audit}/measure")
def measure_(request: Request, audit: str, account: Account = require(Role.STATE_ADMIN)) -> Done:
    measured = measure(request.app.state.services.election, account.actor, audit)
    said = "; ".join(f"{m['contest']}: risk {m.get('risk')}" for m in measured)
    return Done(f"Risk measured — {said}.", f"/audits/{audit}", {"measured": measured})
