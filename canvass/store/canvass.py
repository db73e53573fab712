"""The canvass in an election directory: constitute boards, propose certificates, move and
vote (each signed by the member's own key), issue certificates when the votes are there,
escalate past deadlines, order recounts and corrections, roll counties up to the state, and
issue the certificate of ascertainment.

Every operation folds the log into a :class:`~canvass.certify.canvass.Canvass`, builds the
new entry, applies it to that state (which refuses what the rules do not allow) and only
then appends it, in one transaction that also checks nobody appended in between.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

import rfc8785

from canvass.certify import documents
from canvass.certify.canvass import (
    STATE,
    Canvass,
    CanvassRefused,
    Member,
    Vote,
    ascertainment_statement,
    county_board,
    motion_statement,
    vote_statement,
)
from canvass.certify.statements import sign
from canvass.domain.model import JurisdictionKind
from canvass.errors import StoreError, VerificationError
from canvass.log.entry import ArtifactRef, Entry, new_entry, now
from canvass.log.note import Signer
from canvass.store.ballots import _imports, definition, definition_sha256, ranked_choice_results
from canvass.store.election import ElectionDirectory, _log_size
from canvass.store.reconcile import reconcile

CERTIFICATE = "application/vnd.canvass.certificate+json"


_CACHE: dict[str, tuple[Canvass, bytes]] = {}
"""The fold of each election directory (with the log's root at its size), brought up to
date entry by entry: an operation folds only what was appended since the last one."""


def load(store: ElectionDirectory) -> Canvass:
    """The canvass as the log stands. It is shared: change it only through :func:`_append`."""
    key = str(store.path.resolve())
    cached = _CACHE.get(key)
    state: Canvass | None = None
    if cached is not None:
        state, root = cached
        if state.size > store.size() or (state.size and store.root(state.size) != root):
            state = None  # another log at this path: fold it afresh
    if state is None:
        state = Canvass(definition(store).election.id)
    for index, entry in store.entries(state.size):
        state.apply(index, entry)
    _CACHE[key] = (state, store.root(state.size) if state.size else b"")
    return state


def _append(store: ElectionDirectory, state: Canvass, entries: Sequence[Entry]) -> list[int]:
    """Apply ``entries`` to ``state`` (which refuses what the rules do not allow), then
    append them, in one transaction that checks nobody appended since ``state``."""
    last = state.last_time
    try:
        with store.writing() as w:
            if _log_size(w.conn) != state.size:
                raise StoreError("the log moved on while this was being prepared; try again")
            for entry in entries:
                if entry.time < last:
                    raise CanvassRefused(
                        f"{entry.type}: its time {entry.time} is before the log's last entry "
                        f"({last})"
                    )
                last = entry.time
                state.apply(w.size, entry)
                w.append(entry)
            appended = w.appended
    except BaseException:
        _CACHE.pop(str(store.path.resolve()), None)  # the fold may hold what was not written
        raise
    _CACHE[str(store.path.resolve())] = (state, store.root(state.size))
    return appended


def _document(store: ElectionDirectory, doc: dict[str, Any], name: str) -> ArtifactRef:
    return store.store_artifact(bytes(rfc8785.dumps(doc)), name, CERTIFICATE)


def read_document(store: ElectionDirectory, sha256: str) -> dict[str, Any]:
    return documents.read_document(store.artifacts.get, sha256)


# --- boards ------------------------------------------------------------------------------


def constitute(
    store: ElectionDirectory,
    board: str,
    profile_key: str,
    members: Sequence[Member],
    actor: str,
    time: str | None = None,
) -> int:
    """Seat a board (``state`` or ``county:<id>``) under a state profile."""
    state = load(store)
    if board != STATE:
        _county_id(store, board.removeprefix("county:"))
    data = {
        "board": board,
        "profile": profile_key,
        "members": [m.__dict__ for m in members],
    }
    return _append(store, state, [new_entry("board.constituted", actor, data, time=time)])[0]


def _county_id(store: ElectionDirectory, county: str) -> str:
    counties = {j.id for j in definition(store).jurisdictions if j.kind == JurisdictionKind.COUNTY}
    if county not in counties:
        raise StoreError(f"{county!r} is not a county of the election")
    return county


def meeting(
    store: ElectionDirectory,
    board: str,
    action: str,
    present: Sequence[str],
    actor: str,
    text: str = "",
    time: str | None = None,
) -> int:
    """Record a board's meeting opened (with the members present) or adjourned."""
    state = load(store)
    data = {"board": board, "action": action, "present": list(present), "text": text}
    return _append(store, state, [new_entry("board.meeting", actor, data, time=time)])[0]


def move(
    store: ElectionDirectory,
    board: str,
    kind: str,
    signer: Signer,
    certificate: str = "",
    text: str = "",
    time: str | None = None,
) -> int:
    """A member's motion, signed with their key."""
    state = load(store)
    statement = motion_statement(state.election, board, kind, certificate, text)
    data = {
        "board": board,
        "kind": kind,
        "certificate": certificate,
        "text": text,
        "mover": signer.name,
        "signature": sign(signer, statement),
    }
    return _append(store, state, [new_entry("board.motion", signer.name, data, time=time)])[0]


def vote(
    store: ElectionDirectory, motion: int, choice: str, signer: Signer, time: str | None = None
) -> list[int]:
    """A member's vote, signed with their key. When it decides the motion, the decision is
    recorded with it; when a motion to certify passes, the certificate is issued with the
    yes votes as its signatures."""
    state = load(store)
    found = state.motion(motion)
    at = time or now()
    signature = sign(signer, vote_statement(state.election, found, choice))
    data = {"motion": motion, "member": signer.name, "vote": choice, "signature": signature}
    entries = [new_entry("board.vote", signer.name, data, time=at)]
    decided = copy.copy(found)  # the motion as this vote would leave it
    decided.votes = {**found.votes, signer.name: Vote(signer.name, choice, signature, -1)}
    outcome = state.outcome(decided)
    if outcome is not None and found.outcome is None:
        board = state.boards[decided.board]
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
                    "needed": board.needed,
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
    return _append(store, state, entries)


# --- certificates ------------------------------------------------------------------------


def _county_sources(store: ElectionDirectory, county: str) -> list[dict[str, str]]:
    sources = [
        {"sha256": str(r["table_sha256"]), "kind": "ballots", "entry": str(r["entry"])}
        for r in _imports(store, "ballots")
        if r["county"] == county
    ]
    sources += [
        {"sha256": str(r["table_sha256"]), "kind": "results", "entry": str(r["entry"])}
        for r in _imports(store, "results")
    ]
    return sources


def retabulate(
    store: ElectionDirectory, county: str, sources: Sequence[dict[str, str]]
) -> dict[str, Any]:
    """The county's results counted again from the artifacts a certificate names."""
    found = documents.county_results(definition(store), store.artifacts.get, county, sources)
    if found is None:
        raise StoreError(f"no ballots or results have been imported for {county}")
    return found


def propose_county(
    store: ElectionDirectory,
    county: str,
    actor: str,
    reason: str = "",
    board: str | None = None,
    time: str | None = None,
) -> str:
    """Write the county's certificate document (its results, its reconciliation and the
    SHA-256 of everything they rest on) for a board to vote on; returns its SHA-256. Its
    status is ``certified``, or, superseding an earlier one, ``recount`` or ``correction``."""
    county = _county_id(store, county)
    state = load(store)
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
    sources = _county_sources(store, county)
    units = reconcile(store, county)
    sources += [{"sha256": sha, "kind": "pollbook", "entry": ""} for sha in state.pollbooks]
    doc = {
        "document": "county-certificate",
        "election": state.election,
        "definition": definition_sha256(store),
        "county": county,
        "board": board,
        "status": status,
        "supersedes": previous.sha256 if previous else None,
        "reason": reason,
        "results": retabulate(store, county, sources),
        "reconciliation": documents.reconciliation(units),
        "rests_on": sources,
    }
    ref = _document(store, doc, f"certificate-{county}.json")
    data = {
        "board": board,
        "county": county,
        "certificate": ref.sha256,
        "status": status,
        "supersedes": doc["supersedes"],
    }
    _append(store, state, [new_entry("certificate.proposed", actor, data, (ref,), time)])
    return ref.sha256


def escalate(store: ElectionDirectory, county: str, actor: str, time: str | None = None) -> int:
    """Record that a county's deadline passed without a certificate, handing its canvass
    to the state (Michigan: the Board of State Canvassers)."""
    county = _county_id(store, county)
    state = load(store)
    profile = state.profile
    if profile is None:
        raise CanvassRefused("no board has been constituted, so no state profile applies")
    at = time or now()
    deadline = profile.county_deadline(definition(store).election.date)
    if at <= deadline:
        raise CanvassRefused(f"{county} has until {deadline} to certify")
    if state.certificate_of(county) is not None:
        raise CanvassRefused(f"{county} has certified")
    data = {"county": county, "deadline": deadline, "to": profile.escalation}
    return _append(store, state, [new_entry("canvass.escalated", actor, data, time=at)])[0]


def order_recount(
    store: ElectionDirectory, contest: str, reason: str, actor: str, time: str | None = None
) -> int:
    """Open every county that voted on ``contest`` for a recount: their certificates no
    longer freeze them until they certify again."""
    state = load(store)
    election = definition(store)
    if contest not in {c.id for c in election.contests}:
        raise StoreError(f"no contest {contest!r}")
    counties = sorted(s for s in state.current if s != STATE)
    data = {
        "contest": contest,
        "counties": counties,
        "reason": reason,
        "margin": _margin(store, state, contest),
    }
    return _append(store, state, [new_entry("recount.ordered", actor, data, time=time)])[0]


def open_correction(
    store: ElectionDirectory, county: str, reason: str, actor: str, time: str | None = None
) -> int:
    county = _county_id(store, county)
    state = load(store)
    if state.certificate_of(county) is None:
        raise CanvassRefused(f"{county} has no certificate to correct")
    data = {"county": county, "reason": reason}
    return _append(store, state, [new_entry("correction.opened", actor, data, time=time)])[0]


# --- the state ---------------------------------------------------------------------------


def check_county_certificate(store: ElectionDirectory, state: Canvass, sha: str) -> list[str]:
    """Why a county certificate does not hold: its signatures (checked as the log was
    folded), its board's rule, and its totals against a re-tabulation of its artifacts."""
    problems = []
    if state.certificates[sha].issued is None:
        problems.append(
            f"certificate {sha[:12]} ({state.certificates[sha].county}) was never issued"
        )
    return problems + documents.check_county(
        definition(store), store.artifacts.get, read_document(store, sha)
    )


def propose_state(
    store: ElectionDirectory, actor: str, reason: str = "", time: str | None = None
) -> str:
    """The state certificate document: every county's certificate checked and summed."""
    state = load(store)
    election = definition(store)
    counties = sorted(j.id for j in election.jurisdictions if j.kind == JurisdictionKind.COUNTY)
    missing = [c for c in counties if state.certificate_of(c) is None or c in state.reopened]
    if missing:
        raise CanvassRefused(
            f"{len(missing)} of {len(counties)} counties have no certificate in force: "
            f"{', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}"
        )
    problems = [
        p for c in counties for p in check_county_certificate(store, state, state.current[c])
    ]
    if problems:
        raise VerificationError("county certificates do not hold:\n  " + "\n  ".join(problems))
    totals = documents.state_results(read_document(store, state.current[c]) for c in counties)
    previous = state.certificate_of(STATE)
    ranked = {
        contest: {"winners": passes[-1].winners, "rounds": len(passes[-1].rounds)}
        for contest, passes in ranked_choice_results(store).items()
    }
    profile = state.profile
    close = [
        contest
        for contest, t in totals.items()
        if profile is not None and _close(profile, t["votes"])
    ]
    doc = {
        "document": "state-certificate",
        "election": state.election,
        "board": STATE,
        "definition": definition_sha256(store),
        "status": "recount"
        if previous and state.reopened_by_recount(STATE)
        else ("correction" if previous else "certified"),
        "supersedes": previous.sha256 if previous else None,
        "reason": reason,
        "counties": {c: state.current[c] for c in counties},
        "results": totals,
        "ranked_choice": ranked,
        "within_recount_margin": close,
    }
    ref = _document(store, doc, "certificate-state.json")
    data = {
        "board": STATE,
        "county": None,
        "certificate": ref.sha256,
        "status": doc["status"],
        "supersedes": doc["supersedes"],
    }
    _append(store, state, [new_entry("certificate.proposed", actor, data, (ref,), time)])
    return ref.sha256


def _ranked(votes: dict[str, int]) -> list[int]:
    return sorted(votes.values(), reverse=True)


def _close(profile: Any, votes: dict[str, int]) -> bool:
    top = _ranked(votes)
    if len(top) < 2:
        return False
    return bool(profile.within_recount_margin(top[0] - top[1], sum(top)))


def _margin(store: ElectionDirectory, state: Canvass, contest: str) -> int | None:
    cert = state.certificate_of(STATE)
    if cert is None:
        return None
    votes = read_document(store, cert.sha256)["results"].get(contest, {}).get("votes", {})
    top = _ranked(votes)
    return top[0] - top[1] if len(top) >= 2 else None


def county_certificate_for_state_board(
    store: ElectionDirectory, county: str, actor: str, time: str | None = None
) -> str:
    """After a county's deadline passed and its canvass was escalated, the state board's
    own certificate for it, to vote on."""
    state = load(store)
    if county not in state.escalated:
        raise CanvassRefused(f"{county}'s canvass has not been escalated to the state")
    return propose_county(store, county, actor, board=STATE, time=time)


# --- the certificate of ascertainment ----------------------------------------------------


def prepare_ascertainment(
    store: ElectionDirectory, contest: str, electors: dict[str, list[str]], official: str
) -> dict[str, Any]:
    """The certificate of ascertainment for ``contest`` (the presidential contest) from the
    certified state results: every elector candidate's votes and the electors appointed."""
    state = load(store)
    cert = state.certificate_of(STATE)
    if cert is None or cert.issued is None or STATE in state.reopened:
        raise CanvassRefused("the state has not certified its results")
    results = read_document(store, cert.sha256)["results"]
    if contest not in results:
        raise StoreError(f"no contest {contest!r} in the state certificate")
    votes = results[contest]["votes"]
    winner = max(votes, key=lambda c: votes[c])
    if winner not in electors:
        raise StoreError(f"no electors are named for {winner}, who received the most votes")
    previous = [sha for _, sha in state.ascertainments]
    return {
        "document": "certificate-of-ascertainment",
        "election": state.election,
        "state": definition(store).election.state,
        "contest": contest,
        "state_certificate": cert.sha256,
        "votes": votes,
        "electors": electors,
        "appointed": electors[winner],
        "official": official,
        "date": now()[:10],
        "supersedes": previous[-1] if previous else None,
    }


def check_ascertainment(store: ElectionDirectory, doc: dict[str, Any]) -> None:
    documents.check_ascertainment(store.artifacts.get, doc)


def issue_ascertainment(
    store: ElectionDirectory,
    doc: dict[str, Any],
    official: str,
    signature: str,
    time: str | None = None,
) -> int:
    """Record a certificate of ascertainment signed by a registered state official."""
    state = load(store)
    cert = state.certificate_of(STATE)
    if cert is None or cert.issued is None or doc.get("state_certificate") != cert.sha256:
        raise CanvassRefused(
            "the certificate of ascertainment does not rest on the state certificate in force"
        )
    check_ascertainment(store, doc)
    ref = _document(store, doc, "certificate-of-ascertainment.json")
    data = {"certificate": ref.sha256, "official": official, "signature": signature}
    return _append(store, state, [new_entry("ascertainment.issued", official, data, (ref,), time)])[
        0
    ]


def sign_ascertainment(store: ElectionDirectory, doc: dict[str, Any], signer: Signer) -> str:
    sha = hashlib.sha256(bytes(rfc8785.dumps(doc))).hexdigest()
    return sign(signer, ascertainment_statement(definition(store).election.id, sha))


def verify_canvass(store: ElectionDirectory) -> list[str]:
    """Fold the whole log again (every signature checked) and re-tabulate every issued
    certificate's artifacts; what does not hold, in words."""
    try:
        state = load(store)
    except (CanvassRefused, VerificationError) as e:
        return [str(e)]
    problems = []
    for sha, cert in state.certificates.items():
        if cert.issued is not None and cert.county is not None:
            problems += check_county_certificate(store, state, sha)
    for index, sha in state.ascertainments:
        try:
            check_ascertainment(store, read_document(store, sha))
        except CanvassRefused as e:
            problems.append(f"certificate of ascertainment of log entry {index}: {e}")
    return problems


def status(store: ElectionDirectory) -> str:
    """The canvass in words: boards, motions and votes, certificates, deadlines, recounts."""
    state = load(store)
    election = definition(store)
    names = {j.id: j.name for j in election.jurisdictions}
    lines = []
    profile = state.profile
    if profile is None:
        return "No board of canvassers has been constituted yet.\n"
    day = election.election.date
    lines.append(
        f"Profile: {profile.name} (county deadline {profile.county_deadline(day)[:10]}, "
        f"state deadline {profile.state_deadline(day)[:10]})"
    )
    for board in state.boards.values():
        scope = names.get(board.county or "", "State") if board.county else "State"
        members = ", ".join(f"{m.name} ({m.party})" if m.party else m.name for m in board.members)
        lines.append(f"Board {board.id} — {scope}: {members}; {board.needed} votes carry a motion")
        for index, at, action, present, text in state.meetings.get(board.id, []):
            who = f", present: {', '.join(present)}" if present else ""
            lines.append(
                f"  meeting {action} at {at[:16]} (log entry {index}){who} {text}".rstrip()
            )
        for motion in (m for m in state.motions.values() if m.board == board.id):
            votes = ", ".join(f"{v.member} {v.vote}" for v in motion.votes.values())
            target = f" certificate {motion.certificate[:12]}" if motion.certificate else ""
            lines.append(
                f"  motion {motion.index}: {motion.kind}{target} by {motion.mover}: "
                f"{motion.outcome or 'open'} ({votes or 'no votes yet'})"
            )
        cert = state.certificate_of(board.county or STATE) if board.county else None
        if board.county:
            if cert is not None:
                lines.append(
                    f"  certified: {cert.sha256[:12]} ({cert.status}), log entry {cert.issued}"
                    + (", reopened" if board.county in state.reopened else "")
                )
            elif board.county in state.escalated:
                lines.append(f"  deadline passed; escalated to {profile.escalation}")
            else:
                lines.append("  not certified")
    cert = state.certificate_of(STATE)
    if cert is None and now() > profile.state_deadline(day):
        lines.append(
            f"State deadline {profile.state_deadline(day)[:10]} passed without a certificate"
        )
    if cert is not None:
        doc = read_document(store, cert.sha256)
        lines.append(
            f"State certificate: {cert.sha256[:12]} ({cert.status}), log entry {cert.issued}"
        )
        for contest in doc.get("within_recount_margin", []):
            lines.append(f"  {contest}: within the recount margin")
    for index, recount in state.recounts:
        lines.append(
            f"Recount of {recount['contest']} ordered at log entry {index}: {recount['reason']}"
        )
    for index, sha in state.ascertainments:
        lines.append(f"Certificate of ascertainment {sha[:12]}, log entry {index}")
    return "\n".join(lines) + "\n"
