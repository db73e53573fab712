"""What a person's own side does with their private key: sign the statement the
application hands over, and send the signature with the change. The command line (and
the demo, which plays every member) signs here with key files; the web application signs
the same statements in the browser."""

from __future__ import annotations

from typing import Any

from canvass.app import Actor, Election, boards, elections, state
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
