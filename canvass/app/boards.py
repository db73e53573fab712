"""Boards of canvassers and county certificates: seat a board, record its meetings, move
and vote (each signed by the member's own key, on their side: the application takes the
signature, never the key), propose a county's certificate, escalate past a deadline, open
a correction, verify every certificate, and the canvass's status, as data.

Every change runs in :func:`~canvass.app.folds.changing_canvass`: one write transaction in
which the canvass is folded up to the log as it stands, the new entries are applied to it
(which refuses what the rules do not allow), and then appended.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785

from canvass.app.actor import Actor
from canvass.app.folds import append_canvass, canvass, changing_canvass
from canvass.app.reconcile import reconcile
from canvass.app.results import definition, definition_at, definition_sha256, imports_in_force
from canvass.app.snapshot import Source, viewing
from canvass.certify import documents
from canvass.certify.canvass import (
    STATE,
    Canvass,
    CanvassRefused,
    Certificate,
    Member,
    Vote,
    county_board,
    motion_statement,
    vote_statement,
)
from canvass.domain.model import ElectionDefinition, JurisdictionKind
from canvass.errors import StoreError, VerificationError
from canvass.log.entry import ArtifactRef, new_entry, now
from canvass.store.election import ElectionDirectory
from canvass.store.log import LogReader, LogWriter

CERTIFICATE = "application/vnd.canvass.certificate+json"


def store_document(w: LogWriter, doc: dict[str, Any], name: str) -> ArtifactRef:
    data = bytes(rfc8785.dumps(doc))
    return ArtifactRef(w.artifacts.put(data), name, CERTIFICATE, len(data))


def read_document(source: Source, sha256: str) -> dict[str, Any]:
    with viewing(source) as view:
        return documents.read_document(view.artifacts.get, sha256)


def county_of(view: LogReader, county: str) -> str:
    """``county`` if it is the id of a county of the election."""
    counties = {j.id for j in definition(view).jurisdictions if j.kind == JurisdictionKind.COUNTY}
    if county not in counties:
        raise StoreError(f"{county!r} is not a county of the election")
    return county


# --- boards ------------------------------------------------------------------------------


def constitute(
    election: ElectionDirectory,
    actor: Actor,
    board: str,
    profile_key: str,
    members: Sequence[Member],
    time: str | None = None,
    reason: str = "",
) -> int:
    """Seat a board (``state`` or ``county:<id>``) under a state profile, or seat it
    again with other members (``reason`` says why; refused while its certificate is in
    force, unless a correction is open). Motions made before stay judged under the members
    of their time."""
    with changing_canvass(election) as (w, state):
        if board != STATE:
            county_of(w, board.removeprefix("county:"))
        data = {
            "board": board,
            "profile": profile_key,
            "members": [m.__dict__ for m in members],
            "reason": reason,
        }
        entry = new_entry("board.constituted", actor.name, data, time=time)
        return append_canvass(w, state, [entry])[0]


def meeting(
    election: ElectionDirectory,
    actor: Actor,
    board: str,
    action: str,
    present: Sequence[str],
    text: str = "",
    time: str | None = None,
) -> int:
    """Record a board's meeting opened (with the members present) or adjourned."""
    with changing_canvass(election) as (w, state):
        data = {"board": board, "action": action, "present": list(present), "text": text}
        return append_canvass(w, state, [new_entry("board.meeting", actor.name, data, time=time)])[
            0
        ]


def motion_to_sign(
    source: Source, board: str, kind: str, certificate: str = "", text: str = ""
) -> dict[str, Any]:
    """The statement a member signs to make this motion."""
    with viewing(source) as view:
        return motion_statement(definition(view).election.id, board, kind, certificate, text)


def move(
    election: ElectionDirectory,
    actor: Actor,
    board: str,
    kind: str,
    signature: str,
    certificate: str = "",
    text: str = "",
    time: str | None = None,
) -> int:
    """A member's motion: ``actor`` is the member (their key's name), ``signature`` theirs
    over :func:`motion_to_sign`."""
    with changing_canvass(election) as (w, state):
        data = {
            "board": board,
            "kind": kind,
            "certificate": certificate,
            "text": text,
            "mover": actor.name,
            "signature": signature,
        }
        entry = new_entry("board.motion", actor.name, data, time=time)
        return append_canvass(w, state, [entry])[0]


def vote_to_sign(source: Source, motion: int, choice: str) -> dict[str, Any]:
    """The statement a member signs to cast this vote: on a motion to certify, it records
    what the certificate put before them (the imbalances it leaves unexplained)."""
    state = canvass(source)
    found = state.motion(motion)
    return vote_statement(state.election, found, choice, state.shown(found))


@dataclass(frozen=True)
class VoteRecorded:
    entries: list[int]
    """The vote's entry, and the decision and certificate it brought about, if any."""
    yes: int
    no: int
    abstain: int
    outcome: str | None
    """``passed`` or ``failed`` once decided."""
    shown: dict[str, Any] | None = None
    """What the vote records the certificate put before the member (on a motion to
    certify: ``{"unexplained": n}``)."""


def vote(
    election: ElectionDirectory,
    actor: Actor,
    motion: int,
    choice: str,
    signature: str,
    time: str | None = None,
) -> VoteRecorded:
    """A member's vote: ``actor`` is the member, ``signature`` theirs over
    :func:`vote_to_sign`. When it decides the motion, the decision is recorded with it;
    when a motion to certify passes, the certificate is issued with the yes votes as its
    signatures."""
    with changing_canvass(election) as (w, state):
        found = state.motion(motion)
        at = time or now()
        data: dict[str, Any] = {"motion": motion, "member": actor.name, "vote": choice}
        shown = state.shown(found)
        if shown is not None:
            data["shown"] = shown
        data["signature"] = signature
        entries = [new_entry("board.vote", actor.name, data, time=at)]
        decided = copy.copy(found)  # the motion as this vote would leave it
        decided.votes = {**found.votes, actor.name: Vote(actor.name, choice, signature, -1)}
        outcome = state.outcome(decided)
        if outcome is not None and found.outcome is None and found.lapsed is None:
            entries.append(
                new_entry(
                    "board.decided",
                    "operator",
                    {
                        "motion": motion,
                        "outcome": outcome,
                        "yes": decided.count("yes"),
                        "no": decided.count("no"),
                        "abstain": decided.count("abstain"),
                        "needed": decided.seating.needed,
                    },
                    time=at,
                )
            )
            if outcome == "passed" and decided.kind == "certify":
                cert = state.certificates[decided.certificate]
                signatures = [
                    {"member": v.member, "signature": v.signature}
                    for v in decided.votes.values()
                    if v.vote == "yes"
                ]
                entries.append(
                    new_entry(
                        "certificate.issued",
                        "operator",
                        {
                            "certificate": cert.sha256,
                            "motion": motion,
                            "county": cert.county,
                            "signatures": signatures,
                        },
                        time=at,
                    )
                )
        appended = append_canvass(w, state, entries)
        after = state.motions[motion]
        return VoteRecorded(
            appended,
            after.count("yes"),
            after.count("no"),
            after.count("abstain"),
            after.outcome,
            shown,
        )


# --- county certificates -----------------------------------------------------------------


def _county_sources(view: LogReader, county: str) -> list[dict[str, str]]:
    sources = [
        {"sha256": str(r["table_sha256"]), "kind": "ballots", "entry": str(r["entry"])}
        for r in imports_in_force(view, "ballots")
        if r["county"] == county
    ]
    sources += [
        {"sha256": str(r["table_sha256"]), "kind": "results", "entry": str(r["entry"])}
        for r in imports_in_force(view, "results")
    ]
    return sources


def retabulate(source: Source, county: str, sources: Sequence[dict[str, str]]) -> dict[str, Any]:
    """The county's results counted again from the artifacts a certificate names."""
    with viewing(source) as view:
        found = documents.county_results(definition(view), view.artifacts.get, county, sources)
    if found is None:
        raise StoreError(f"no ballots or results have been imported for {county}")
    return found


def propose_county(
    election: ElectionDirectory,
    actor: Actor,
    county: str,
    reason: str = "",
    board: str | None = None,
    time: str | None = None,
) -> str:
    """Write the county's certificate document (its results, its reconciliation and the
    SHA-256 of everything they rest on) for a board to vote on; returns its SHA-256. Its
    status is ``certified``, or, superseding an earlier one, ``recount`` or ``correction``.
    ``board``: the board that votes on it (the county's own, unless the state's after an
    escalation)."""
    with changing_canvass(election) as (w, state):
        county = county_of(w, county)
        return write_county_certificate(w, state, actor, county, reason, board, time)


def write_county_certificate(
    w: LogWriter,
    state: Canvass,
    actor: Actor,
    county: str,
    reason: str,
    board: str | None,
    time: str | None,
) -> str:
    board = board or county_board(county)
    frozen = state.frozen(county)
    if frozen is not None:
        raise CanvassRefused(
            f"{county} is certified (certificate {frozen.sha256[:12]}, log entry {frozen.issued}); "
            "open a correction or order a recount before proposing another"
        )
    previous = state.certificate_of(county)
    status = "certified"
    if previous is not None:
        status = "recount" if state.reopened_by_recount(county) else "correction"
    sources = _county_sources(w, county)
    units = reconcile(w, county)
    sources += [{"sha256": sha, "kind": "pollbook", "entry": ""} for sha in state.pollbooks]
    reconciliation = documents.reconciliation(units)
    doc = {
        "document": "county-certificate",
        "election": state.election,
        "definition": definition_sha256(w),
        "county": county,
        "board": board,
        "status": status,
        "supersedes": previous.sha256 if previous else None,
        "reason": reason,
        "results": retabulate(w, county, sources),
        "reconciliation": reconciliation,
        "rests_on": sources,
    }
    left_out = documents.left_out(
        w.entry(int(source["entry"])).data for source in sources if source["kind"] == "ballots"
    )
    if left_out:  # contests the definition leaves out, named to be left out of its imports
        doc["left_out"] = left_out
    left_out_votes = documents.left_out_votes(
        w.entry(int(source["entry"])).data for source in sources if source["kind"] == "results"
    )
    if left_out_votes:  # the same, of its results-only imports
        doc["left_out_votes"] = left_out_votes
    ref = store_document(w, doc, f"certificate-{county}.json")
    data = {
        "board": board,
        "county": county,
        "certificate": ref.sha256,
        "status": status,
        "supersedes": doc["supersedes"],
        "unexplained": len(reconciliation["unexplained"]),
    }
    entry = new_entry("certificate.proposed", actor.name, data, (ref,), time)
    append_canvass(w, state, [entry])
    return ref.sha256


def escalate(
    election: ElectionDirectory, actor: Actor, county: str, time: str | None = None
) -> int:
    """Record that a county's deadline passed without a certificate, handing its canvass
    to the state (Michigan: the Board of State Canvassers)."""
    with changing_canvass(election) as (w, state):
        county = county_of(w, county)
        profile = state.profile
        if profile is None:
            raise CanvassRefused("no board has been constituted, so no state profile applies")
        at = time or now()
        deadline = profile.county_deadline(definition(w).election.date)
        if at <= deadline:
            raise CanvassRefused(f"{county} has until {deadline} to certify")
        if state.certificate_of(county) is not None:
            raise CanvassRefused(f"{county} has certified")
        data = {"county": county, "deadline": deadline, "to": profile.escalation}
        entry = new_entry("canvass.escalated", actor.name, data, time=at)
        return append_canvass(w, state, [entry])[0]


def open_correction(
    election: ElectionDirectory, actor: Actor, county: str, reason: str, time: str | None = None
) -> int:
    """Open a correction: the county may change and certify again, superseding."""
    with changing_canvass(election) as (w, state):
        county = county_of(w, county)
        if state.certificate_of(county) is None:
            raise CanvassRefused(f"{county} has no certificate to correct")
        data = {"county": county, "reason": reason}
        entry = new_entry("correction.opened", actor.name, data, time=time)
        return append_canvass(w, state, [entry])[0]


# --- checking ----------------------------------------------------------------------------


def check_county_certificate(view: LogReader, state: Canvass, sha: str) -> list[str]:
    """Why a county certificate does not hold: its signatures (checked as the log was
    folded), its board's rule, and its totals against a re-tabulation of its artifacts."""
    problems = []
    if state.certificates[sha].issued is None:
        problems.append(
            f"certificate {sha[:12]} ({state.certificates[sha].county}) was never issued"
        )
    return problems + documents.check_county(
        definition(view), view.artifacts.get, read_document(view, sha)
    )


def verify_canvass(source: Source) -> list[str]:
    """Fold the whole log again (every signature checked) and re-tabulate every issued
    certificate's artifacts; what does not hold, in words."""
    with viewing(source) as view:
        try:
            state = canvass(view)
        except (CanvassRefused, VerificationError) as e:
            return [str(e)]
        problems = []
        for sha, cert in state.certificates.items():
            if cert.issued is not None and cert.county is not None:
                problems += check_county_certificate(view, state, sha)
        for index, sha in state.ascertainments:
            try:
                documents.check_ascertainment(view.artifacts.get, read_document(view, sha))
            except CanvassRefused as e:
                problems.append(f"certificate of ascertainment of log entry {index}: {e}")
        return problems


# --- status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CanvassStatus:
    """The canvass as it stands, for a shell to show."""

    canvass: Canvass
    """Boards, motions and votes, certificates, escalations, recounts (the caller's copy)."""
    names: dict[str, str]
    """Jurisdiction id → name."""
    county_deadline: str | None
    state_deadline: str | None
    """The profile's deadlines; None before any board is constituted."""
    state_deadline_passed: bool
    """The state deadline passed without a state certificate."""
    within_recount_margin: list[str]
    """The contests the state certificate in force finds within the recount margin."""


def status(source: Source) -> CanvassStatus:
    with viewing(source) as view:
        state = canvass(view)
        election = definition(view)
        profile = state.profile
        day = election.election.date
        county_deadline = profile.county_deadline(day) if profile else None
        state_deadline = profile.state_deadline(day) if profile else None
        cert = state.certificate_of(STATE)
        close = read_document(view, cert.sha256).get("within_recount_margin", []) if cert else []
    return CanvassStatus(
        state,
        {j.id: j.name for j in election.jurisdictions},
        county_deadline,
        state_deadline,
        cert is None and state_deadline is not None and now() > state_deadline,
        list(close),
    )


# --- reading a certificate ---------------------------------------------------------------


@dataclass(frozen=True)
class CertificateShown:
    """A certificate as a member reads it before signing (see
    :func:`canvass.publish.certificate_text.certificate_text`)."""

    document: dict[str, Any]
    certificate: Certificate
    """Where the log has it: proposed, issued, superseded, no longer in force."""
    definition: ElectionDefinition
    """The election definition it was counted under."""


def certificate(source: Source, sha256: str) -> CertificateShown:
    """The certificate whose SHA-256 is (or begins with) ``sha256``."""
    with viewing(source) as view:
        state = canvass(view)
        found = [sha for sha in state.certificates if sha.startswith(sha256.lower())]
        if len(sha256) < 6:
            raise StoreError(f"{sha256!r}: give at least 6 hex digits of the certificate's SHA-256")
        if not found:
            raise StoreError(f"{sha256!r}: no certificate's SHA-256 begins so")
        if len(found) > 1:
            raise StoreError(f"{sha256!r}: {len(found)} certificates' SHA-256 begin so; give more")
        doc = read_document(view, found[0])
        election = definition_at(view, str(doc.get("definition")))
        return CertificateShown(doc, state.certificates[found[0]], election)


# --- what awaits a board: for acting on every county at once --------------------------------


def counties_without_board(source: Source) -> list[str]:
    """Every county of the election whose board has not been seated."""
    with viewing(source) as view:
        state = canvass(view)
        counties = [
            j.id for j in definition(view).jurisdictions if j.kind == JurisdictionKind.COUNTY
        ]
        return [c for c in counties if county_board(c) not in state.boards]


def counties_to_certify(source: Source) -> list[str]:
    """Every county with counts to certify and no certificate that freezes them, whose
    board has no certificate proposed and not yet issued."""
    with viewing(source) as view:
        state = canvass(view)
        counted = {str(r["county"]) for r in imports_in_force(view, "ballots")}
        for r in imports_in_force(view, "results"):
            counted |= set(_result_counties(view, str(r["table_sha256"])))
        pending = {c.county for c in state.certificates.values() if c.issued is None and c.county}
        counties = [
            j.id for j in definition(view).jurisdictions if j.kind == JurisdictionKind.COUNTY
        ]
        return [
            c for c in counties if c in counted and state.frozen(c) is None and c not in pending
        ]


def _result_counties(view: LogReader, sha: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(pa.BufferReader(view.artifacts.get(sha)), columns=["county"])
    return sorted(set(table.column("county").to_pylist()))


def awaiting_motion(source: Source, member: str) -> list[tuple[str, str]]:
    """(board, certificate) for every certificate proposed and not issued on a county board
    ``member`` sits on, with no motion to certify it open or passed."""
    with viewing(source) as view:
        state = canvass(view)
        moved = {
            m.certificate
            for m in state.motions.values()
            if m.kind == "certify" and m.outcome in (None, "passed")
        }
        return [
            (c.board, sha)
            for sha, c in state.certificates.items()
            if c.issued is None
            and c.county
            and sha not in moved
            and c.board in state.boards
            and state.boards[c.board].member(member) is not None
        ]


def certificate_to_move(source: Source, board: str, kind: str, given: str) -> str:
    """The certificate a motion of ``kind`` on ``board`` is about: ``given`` (its SHA-256,
    or the first 6 or more hex digits of one proposed on that board), or, for a motion to
    certify with none given, the one certificate proposed on that board that no motion to
    certify has taken up. Refused, saying what to give, when there is none or several."""
    if kind not in ("certify", "rescind"):
        return given
    with viewing(source) as view:
        state = canvass(view)
        if board not in state.boards:
            raise StoreError(f"--board {board}: no such board is seated (canvass board status)")
        on_board = [sha for sha, c in state.certificates.items() if c.board == board]
        if given:
            found = [sha for sha in on_board if sha.startswith(given.lower())]
            if len(given) < 6 or len(found) != 1:
                found_words = (
                    "too short"
                    if len(given) < 6
                    else f"{len(found)} certificates proposed on board {board} begin with it"
                    if found
                    else f"no certificate proposed on board {board} begins with it"
                )
                raise StoreError(
                    f"--certificate {given}: {found_words}; give 6 or more hex digits of the "
                    "SHA-256 of one proposed on that board (canvass board status)"
                )
            return found[0]
        if kind == "rescind":
            raise StoreError("--kind rescind: give --certificate, the certificate to rescind")
        moved = {
            m.certificate
            for m in state.motions.values()
            if m.kind == "certify" and m.outcome in (None, "passed")
        }
        waiting = [
            sha for sha in on_board if state.certificates[sha].issued is None and sha not in moved
        ]
        if len(waiting) != 1:
            raise StoreError(
                f"--kind certify: board {board} has "
                + (
                    "no proposed certificate awaiting a motion"
                    if not waiting
                    else f"{len(waiting)} proposed certificates awaiting a motion"
                )
                + "; give --certificate SHA (canvass certify propose, canvass board status)"
            )
        return waiting[0]


def open_motions(source: Source, member: str) -> list[int]:
    """Every motion not yet decided, on a board ``member`` sits on, that they have not
    voted on."""
    with viewing(source) as view:
        state = canvass(view)
        return [
            index
            for index, m in state.motions.items()
            if m.outcome is None
            and member not in m.votes
            and state.boards[m.board].member(member) is not None
        ]
