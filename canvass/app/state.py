"""The state: roll every county's certificate up into the state certificate, the state
board's own certificate for a county past its deadline, recounts, and the certificate of
ascertainment (signed by the registered state official, on their side)."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from canvass.app.actor import Actor
from canvass.app.boards import (
    check_county_certificate,
    county_of,
    read_document,
    store_document,
    write_county_certificate,
)
from canvass.app.folds import append_canvass, canvass, changing_canvass
from canvass.app.results import definition, definition_sha256, ranked_choice_results
from canvass.app.snapshot import Source, viewing
from canvass.certify import documents
from canvass.certify.canvass import STATE, Canvass, CanvassRefused, ascertainment_statement
from canvass.certify.profiles import Profile
from canvass.domain.model import JurisdictionKind
from canvass.errors import StoreError, VerificationError
from canvass.log.entry import new_entry, now
from canvass.store.election import ElectionDirectory
from canvass.store.log import LogReader


def propose_state(
    election: ElectionDirectory, actor: Actor, reason: str = "", time: str | None = None
) -> str:
    """The state certificate document: every county's certificate checked and summed, for
    the state board to vote on; returns its SHA-256."""
    with changing_canvass(election) as (w, state):
        election_def = definition(w)
        counties = sorted(
            j.id for j in election_def.jurisdictions if j.kind == JurisdictionKind.COUNTY
        )
        missing = [c for c in counties if state.certificate_of(c) is None or c in state.reopened]
        if missing:
            raise CanvassRefused(
                f"{len(missing)} of {len(counties)} counties have no certificate in force: "
                f"{', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}"
            )
        problems = [
            p for c in counties for p in check_county_certificate(w, state, state.current[c])
        ]
        if problems:
            raise VerificationError("county certificates do not hold:\n  " + "\n  ".join(problems))
        totals = documents.state_results(read_document(w, state.current[c]) for c in counties)
        previous = state.certificate_of(STATE)
        ranked = {
            contest: {"winners": passes[-1].winners, "rounds": len(passes[-1].rounds)}
            for contest, passes in ranked_choice_results(w).items()
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
            "definition": definition_sha256(w),
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
        ref = store_document(w, doc, "certificate-state.json")
        data = {
            "board": STATE,
            "county": None,
            "certificate": ref.sha256,
            "status": doc["status"],
            "supersedes": doc["supersedes"],
        }
        entry = new_entry("certificate.proposed", actor.name, data, (ref,), time)
        append_canvass(w, state, [entry])
        return ref.sha256


def _ranked(votes: dict[str, int]) -> list[int]:
    return sorted(votes.values(), reverse=True)


def _close(profile: Profile, votes: dict[str, int]) -> bool:
    top = _ranked(votes)
    if len(top) < 2:
        return False
    return bool(profile.within_recount_margin(top[0] - top[1], sum(top)))


def county_certificate_for_state_board(
    election: ElectionDirectory, actor: Actor, county: str, time: str | None = None
) -> str:
    """After a county's deadline passed and its canvass was escalated, the state board's
    own certificate for it, to vote on."""
    with changing_canvass(election) as (w, state):
        if county not in state.escalated:
            raise CanvassRefused(f"{county}'s canvass has not been escalated to the state")
        county = county_of(w, county)
        return write_county_certificate(w, state, actor, county, "", STATE, time)


def order_recount(
    election: ElectionDirectory, actor: Actor, contest: str, reason: str, time: str | None = None
) -> int:
    """Open every county that voted on ``contest`` for a recount: their certificates no
    longer freeze them until they certify again."""
    with changing_canvass(election) as (w, state):
        if contest not in {c.id for c in definition(w).contests}:
            raise StoreError(f"no contest {contest!r}")
        counties = sorted(s for s in state.current if s != STATE)
        data = {
            "contest": contest,
            "counties": counties,
            "reason": reason,
            "margin": _margin(w, state, contest),
        }
        entry = new_entry("recount.ordered", actor.name, data, time=time)
        return append_canvass(w, state, [entry])[0]


def _margin(view: LogReader, state: Canvass, contest: str) -> int | None:
    cert = state.certificate_of(STATE)
    if cert is None:
        return None
    votes = read_document(view, cert.sha256)["results"].get(contest, {}).get("votes", {})
    top = _ranked(votes)
    return top[0] - top[1] if len(top) >= 2 else None


# --- the certificate of ascertainment ----------------------------------------------------


def prepare_ascertainment(
    source: Source, contest: str, electors: dict[str, list[str]], official: str
) -> dict[str, Any]:
    """The certificate of ascertainment for ``contest`` (the presidential contest) from the
    certified state results: every elector candidate's votes and the electors appointed."""
    for candidate, names in electors.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise StoreError(
                f"electors: {candidate}: expected a list of elector names; found "
                f"{type(names).__name__ if not isinstance(names, list) else 'other values'}"
            )
    with viewing(source) as view:
        state = canvass(view)
        cert = state.certificate_of(STATE)
        if cert is None or cert.issued is None or STATE in state.reopened:
            raise CanvassRefused("the state has not certified its results")
        results = read_document(view, cert.sha256)["results"]
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
            "state": definition(view).election.state,
            "contest": contest,
            "state_certificate": cert.sha256,
            "votes": votes,
            "electors": electors,
            "appointed": electors[winner],
            "official": official,
            "date": now()[:10],
            "supersedes": previous[-1] if previous else None,
        }


def ascertainment_to_sign(source: Source, doc: dict[str, Any]) -> dict[str, Any]:
    """The statement the state official signs to issue ``doc``."""
    sha = hashlib.sha256(bytes(rfc8785.dumps(doc))).hexdigest()
    return ascertainment_statement(definition(source).election.id, sha)


def issue_ascertainment(
    election: ElectionDirectory,
    actor: Actor,
    doc: dict[str, Any],
    signature: str,
    time: str | None = None,
) -> int:
    """Record a certificate of ascertainment: ``actor`` is the registered state official,
    ``signature`` theirs over :func:`ascertainment_to_sign`."""
    with changing_canvass(election) as (w, state):
        cert = state.certificate_of(STATE)
        if cert is None or cert.issued is None or doc.get("state_certificate") != cert.sha256:
            raise CanvassRefused(
                "the certificate of ascertainment does not rest on the state certificate in force"
            )
        documents.check_ascertainment(w.artifacts.get, doc)
        ref = store_document(w, doc, "certificate-of-ascertainment.json")
        data = {"certificate": ref.sha256, "official": actor.name, "signature": signature}
        entry = new_entry("ascertainment.issued", actor.name, data, (ref,), time)
        return append_canvass(w, state, [entry])[0]
