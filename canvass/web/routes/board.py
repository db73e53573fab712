"""The board meeting: seat the board, open and adjourn the meeting, propose the
certificate, and the members' signed motions and votes, updating live for everyone in the
meeting; the certificate in readable form.

A member's browser asks for the statement to sign (``GET /api/boards/{board}/statement``
or ``…/motions/{motion}/statement``), shows it in words, signs its exact bytes with the
member's own key and posts the signature; the application checks it against the key
registered in the log, as it does the command line's.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Request

from canvass.app import accounts as acc
from canvass.app import overview
from canvass.app.accounts import Account, Role
from canvass.app.boards import (
    constitute,
    meeting,
    motion_to_sign,
    move,
    propose_county,
    read_document,
    vote,
    vote_to_sign,
)
from canvass.app.elections import registered_keys
from canvass.app.folds import canvass
from canvass.app.state import propose_state
from canvass.certify.canvass import MOTIONS, STATE, Member
from canvass.certify.profiles import PROFILES
from canvass.certify.statements import message
from canvass.errors import StoreError
from canvass.web.access import EVERYONE, Number, Sha256, fields, require, text, texts
from canvass.web.render import Done, action, page
from canvass.web.words import board_name, statement_words

router = APIRouter()


def _board(board: str) -> str:
    """The board's id as the canvass names it: ``state`` or ``county:<id>``."""
    return board if board == STATE or board.startswith("county:") else f"county:{board}"


@page(router, "/boards/{board}", "board.html")
def board_page(
    request: Request, board: str, account: Account = require(*EVERYONE)
) -> dict[str, Any]:
    services = request.app.state.services
    board = _board(board)
    data = overview.board_state(services.election, board)
    registered = {k["name"] for k in registered_keys(services.election)}
    candidates = [
        {"username": a.username, "full_name": a.full_name, "registered": a.username in registered}
        for a in acc.list_accounts(services.accounts)
        if a.role in (Role.BOARD_MEMBER, Role.STATE_OFFICIAL)
        and a.scope in (board, "")
        and (a.role == Role.BOARD_MEMBER or board == STATE)
    ]
    return {
        **data,
        "name": board_name(services.election, board),
        "candidates": candidates,
        "profiles": sorted(PROFILES),
        "motion_kinds": MOTIONS,
        "is_member": any(m["key"] == account.username for m in data["members"]),
    }


@action(router, "/boards/{board}/seat")
def seat(
    request: Request,
    board: str,
    account: Account = require(Role.COUNTY_CLERK, Role.STATE_ADMIN, scope="board"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """Seat the board: each member by their account (their key's name) and party."""
    services = request.app.state.services
    board = _board(board)
    names = {a.username: a.full_name for a in acc.list_accounts(services.accounts)}
    members = [
        Member(key, names.get(key, key), text(form, f"party_{key}"))
        for key in texts(form, "members")
    ]
    entry = constitute(services.election, account.actor, board, text(form, "profile"), members)
    return Done(f"Board seated (log entry {entry}).", f"/boards/{board}", {"entry": entry})


@action(router, "/boards/{board}/meetings")
def meet(
    request: Request,
    board: str,
    account: Account = require(Role.COUNTY_CLERK, Role.STATE_ADMIN, scope="board"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    board = _board(board)
    entry = meeting(
        request.app.state.services.election,
        account.actor,
        board,
        text(form, "action"),
        texts(form, "present"),
        text(form, "text"),
    )
    return Done(
        f"Meeting {text(form, 'action')} (log entry {entry}).",
        f"/boards/{board}",
        {"entry": entry},
    )


@action(router, "/boards/{board}/certificates")
def propose(
    request: Request,
    board: str,
    account: Account = require(Role.COUNTY_CLERK, Role.STATE_ADMIN, scope="board"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """Write the certificate for the board to vote on (a county's by its clerk, the
    state's by the state administrator)."""
    services = request.app.state.services
    board = _board(board)
    if board == STATE:
        if account.role != Role.STATE_ADMIN:
            raise StoreError("the state certificate is proposed by the state administrator")
        sha = propose_state(services.election, account.actor, text(form, "reason"))
    else:
        county = board.removeprefix("county:")
        sha = propose_county(services.election, account.actor, county, text(form, "reason"))
    return Done(
        f"Certificate {sha[:12]} proposed; the board can now move to certify it.",
        f"/boards/{board}",
        {"certificate": sha},
    )


def _signable(statement: dict[str, Any], words: str) -> dict[str, Any]:
    return {
        "statement": statement,
        "message": base64.b64encode(message(statement)).decode(),
        "words": words,
    }


@router.get("/api/boards/{board}/statement")
def motion_statement(
    request: Request,
    board: str,
    kind: str,
    certificate: str = "",
    text: str = "",
    account: Account = require(Role.BOARD_MEMBER, Role.STATE_OFFICIAL, scope="board"),
) -> dict[str, Any]:
    """The statement a member signs to make this motion, its exact bytes (base64) and
    what it says in words."""
    services = request.app.state.services
    board = _board(board)
    statement = motion_to_sign(services.election, board, kind, certificate, text)
    return _signable(statement, statement_words(services.election, account, statement))


@action(router, "/boards/{board}/motions")
def motion(
    request: Request,
    board: str,
    account: Account = require(Role.BOARD_MEMBER, Role.STATE_OFFICIAL, scope="board"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    board = _board(board)
    entry = move(
        request.app.state.services.election,
        account.actor,
        board,
        text(form, "kind"),
        text(form, "signature"),
        text(form, "certificate"),
        text(form, "text"),
    )
    return Done(
        f"Motion made (log entry {entry}).", f"/boards/{board}#motion-{entry}", {"motion": entry}
    )


@router.get("/api/boards/{board}/motions/{motion}/statement")
def vote_statement(
    request: Request,
    board: str,
    motion: Number,
    choice: str,
    account: Account = require(Role.BOARD_MEMBER, Role.STATE_OFFICIAL, scope="board"),
) -> dict[str, Any]:
    services = request.app.state.services
    statement = vote_to_sign(services.election, motion, choice)
    return _signable(statement, statement_words(services.election, account, statement))


@action(router, "/boards/{board}/motions/{motion}/votes")
def cast(
    request: Request,
    board: str,
    motion: Number,
    account: Account = require(Role.BOARD_MEMBER, Role.STATE_OFFICIAL, scope="board"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    board = _board(board)
    done = vote(
        request.app.state.services.election,
        account.actor,
        motion,
        text(form, "choice"),
        text(form, "signature"),
    )
    result = f"; the motion {done.outcome}" if done.outcome else ""
    return Done(
        f"Vote recorded: {done.yes} yes, {done.no} no, {done.abstain} abstaining{result}.",
        f"/boards/{board}#motion-{motion}",
        {"entries": done.entries, "yes": done.yes, "no": done.no, "outcome": done.outcome},
    )


@page(router, "/certificates/{sha}", "certificate.html")
def certificate(
    request: Request, sha: Sha256, account: Account = require(*EVERYONE)
) -> dict[str, Any]:
    """The certificate as a person reads it."""
    services = request.app.state.services
    doc = read_document(services.election, sha)
    state = canvass(services.election)
    found = state.certificates.get(sha)
    return {
        "sha256": sha,
        "document": doc,
        "proposed": found.proposed if found else None,
        "issued": found.issued if found else None,
        "signatures": found.signatures if found else [],
        "superseded_by": found.superseded_by if found else None,
        "labels": overview.labels(services.election),
        "name": board_name(services.election, str(doc.get("board", ""))),
    }
