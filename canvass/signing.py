"""What a person's own side does with their private key: sign the statement the
application hands over, and send the signature with the change. The command line (and
the demo, which plays every member) signs here with key files; the web application signs
the same statements in the browser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from canvass.app import Actor, Election, audits, boards, elections, state
from canvass.app.boards import VoteRecorded
from canvass.certify.statements import sign
from canvass.log.note import Signer, cosign, parse_note


def move(
    election: Election,
    signer: Signer,
    board: str,
    kind: str,
    certificate: str = "",
    text: str = "",
    time: str | None = None,
) -> int:
    """Make a motion, signed with ``signer``'s key."""
    statement = boards.motion_to_sign(election, board, kind, certificate, text)
    signature = sign(signer, statement)
    return boards.move(
        election, Actor(signer.name), board, kind, signature, certificate, text, time
    )


def vote(
    election: Election, signer: Signer, motion: int, choice: str, time: str | None = None
) -> VoteRecorded:
    """Vote on a motion, signed with ``signer``'s key."""
    signature = sign(signer, boards.vote_to_sign(election, motion, choice))
    return boards.vote(election, Actor(signer.name), motion, choice, signature, time)


def ascertain(
    election: Election,
    signer: Signer,
    doc: dict[str, Any],
    time: str | None = None,
) -> int:
    """Issue the certificate of ascertainment ``doc``, signed with the official's key."""
    signature = sign(signer, state.ascertainment_to_sign(election, doc))
    return state.issue_ascertainment(election, Actor(signer.name), doc, signature, time)


def witness(election: Election, signer: Signer, timestamp: int, since: str | None = None) -> str:
    """Cosign the latest checkpoint as the witness ``signer``, once it is shown to extend
    ``since``; returns the cosigned checkpoint."""
    note = elections.to_cosign(election, signer.name, since)
    line = cosign(parse_note(note).text, signer, timestamp)
    return elections.record_cosignature(election, signer.name, note, line)


def _by_every_member(
    statements: list[dict[str, Any]], members: Sequence[Signer]
) -> list[list[dict[str, str]]]:
    return [
        [{"member": m.name, "signature": sign(m, statement)} for m in members]
        for statement in statements
    ]


def interpret(
    election: Election,
    members: Sequence[Signer],
    name: str,
    readings: Sequence[dict[str, Any]],
    board: str,
    reason: str = "",
    actor: str | None = None,
) -> list[int]:
    """Record an audit board's readings, each signed by every one of its ``members``
    (``reason``: why ballots already read are read again)."""
    statements = audits.readings_to_sign(election, name, readings, board, reason)
    signatures = _by_every_member(statements, members)
    who = Actor(actor or members[0].name)
    return audits.interpret(election, who, name, readings, board, signatures, reason)


def tally(
    election: Election,
    members: Sequence[Signer],
    name: str,
    counts: Sequence[dict[str, Any]],
    board: str,
    reason: str = "",
    actor: str | None = None,
) -> list[int]:
    """Record an audit board's hand counts of drawn batches, each signed by every one of
    its ``members``."""
    statements = audits.tallies_to_sign(election, name, counts, board, reason)
    signatures = _by_every_member(statements, members)
    who = Actor(actor or members[0].name)
    return audits.tally(election, who, name, counts, board, signatures, reason)
