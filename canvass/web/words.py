"""What a statement says, in words, for the person about to sign it."""

from __future__ import annotations

from typing import Any

from canvass.app.accounts import Account
from canvass.app.boards import read_document
from canvass.app.results import definition
from canvass.app.snapshot import Source
from canvass.certify.canvass import STATE
from canvass.errors import CanvassError

MOTION_WORDS = {
    "certify": "certify the results in certificate {certificate}",
    "recess": "recess the meeting",
    "request_recount": "request a recount",
    "rescind": "rescind the board's earlier decision on certificate {certificate}",
    "correct": "open a correction of certificate {certificate}",
}


def board_name(source: Source, board: str) -> str:
    if board == STATE:
        return "the Board of State Canvassers"
    county = board.removeprefix("county:")
    names = {j.id: j.name for j in definition(source).jurisdictions}
    return f"the Board of Canvassers of {names.get(county, county)}"


def certificate_words(source: Source, sha: str) -> str:
    """A certificate's totals and the imbalances it carries, in a sentence."""
    try:
        doc = read_document(source, sha)
    except CanvassError:
        return f"certificate {sha[:12]} (not found)"
    results = doc.get("results", {})
    ballots = max((c.get("ballots", 0) for c in results.values()), default=0)
    out = doc.get("reconciliation", {}).get("out_of_balance", [])
    unexplained = [u for u in out if not u.get("explanations")]
    where = doc.get("county") or "the state"
    return (
        f"certificate {sha[:12]} ({where}: {len(results)} contests, {ballots:,} ballots in the "
        f"largest; {len(out)} units out of balance, {len(unexplained)} of them unexplained)"
    )


def statement_words(source: Source, account: Account, statement: dict[str, Any]) -> str:
    who = f"You, {account.full_name} (key {account.username}),"
    board = board_name(source, str(statement.get("board", "")))
    cert = str(statement.get("certificate") or "")
    certificate = certificate_words(source, cert) if cert else "(none)"
    kind = str(statement.get("kind", ""))
    what = MOTION_WORDS.get(kind, kind).format(certificate=certificate)
    if statement.get("statement") == "motion":
        text = f' — "{statement["text"]}"' if statement.get("text") else ""
        return f"{who} move that {board} {what}{text}."
    if statement.get("statement") == "vote":
        choice = {"yes": "YES", "no": "NO", "abstain": "to ABSTAIN"}.get(
            str(statement.get("vote")), str(statement.get("vote"))
        )
        return f"{who} vote {choice} on motion {statement.get('motion')} of {board}: to {what}."
    if statement.get("statement") == "certificate-of-ascertainment":
        return (
            f"{who} issue the certificate of ascertainment {cert[:12]} of election "
            f"{statement.get('election')}, appointing the electors it names."
        )
    again = (
        f" This supersedes log entry {statement['supersedes']}: {statement.get('reason')}."
        if statement.get("supersedes") is not None
        else ""
    )
    if statement.get("statement") == "audit-tally":
        votes = statement.get("votes") or {}
        counted = ", ".join(f"{k} {v:,}" for k, v in sorted(votes.items())) or "no votes"
        return (
            f"{who} for audit board {statement.get('board')}, record that counting batch "
            f"{statement.get('batch')} by hand finds, in {statement.get('contest')}: "
            f"{counted}.{again}"
        )
    if statement.get("statement") == "audit-reading":
        marked = ", ".join(statement.get("votes") or []) or "no choice marked"
        found = {
            "not_found": "the ballot was not found",
            "no_consensus": "the board does not agree",
        }
        what = found.get(str(statement.get("finding")), f"it is marked: {marked}")
        again = (
            f" This reads it again, superseding log entry {statement['supersedes']}: "
            f"{statement.get('reason')}."
            if statement.get("supersedes") is not None
            else ""
        )
        return (
            f"{who} for audit board {statement.get('board')}, record that on ballot "
            f"{statement.get('ballot')}, in {statement.get('contest')}, {what}.{again}"
        )
    return f"{who} sign {statement}."
