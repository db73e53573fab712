"""What the results site shows, worked out from the documents the bundle publishes: the
results (``results/results.json``), by vote type, the ranked-choice rounds, the
certificates, the audits and the reconciliation. Pure: documents in, plain values out.

Winners are marked by the rules of their contest: the ``seats`` choices with the most
votes in a plurality contest (none when a tie straddles the last seat), the winners of
the final round in a ranked-choice contest, the option with more votes in a measure.
Until the state certificate is in force they are *leading*; after, *elected*, *passed* or
*rejected*.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from canvass.domain.model import Contest, ContestType, ElectionDefinition, JurisdictionKind
from canvass.publish.site.check import LogClaim
from canvass.publish.site.layout import Status
from canvass.publish.site.svg import percent

STATE = "state"


@dataclass(frozen=True)
class SiteData:
    """Everything the pages are rendered from, each a document the bundle also publishes."""

    definition: ElectionDefinition
    results: Mapping[str, Any]
    """``results/results.json``: contests statewide and by county, choice names."""
    ranked: Mapping[str, Sequence[Mapping[str, Any]]]
    """``results/ranked-choice.json``: each ranked-choice contest's passes, round by round."""
    certificates: Sequence[Mapping[str, Any]]
    """``certificates/index.json``'s certificates."""
    audits: Sequence[Mapping[str, Any]]
    """``audits/index.json``'s audits."""
    units: Sequence[Mapping[str, Any]]
    """The reconciliation: one row per county, precinct and vote type, as
    ``reconciliation/units.csv`` lists them."""
    claim: LogClaim
    as_of: str
    """The time of the log's last entry the pages come from."""
    by_vote_type: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    """Totals by vote type, then contest (as ``results.json`` writes totals)."""
    hand_counts: Sequence[Mapping[str, Any]] = ()
    """``audits/index.json``'s full hand counts, each beside the certificate it audits."""
    breakdowns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """``results/breakdowns.json``: every contest by precinct (``county/precinct``) and by
    vote type in each county (``county/vote_type``), among others."""
    reopened: Sequence[Mapping[str, Any]] = ()
    """``certificates/index.json``'s certificates reopened by a correction or a recount."""


@dataclass(frozen=True)
class Line:
    """One choice of a contest, as a page shows it."""

    id: str
    name: str
    votes: int
    share: str
    marked: str = ""
    """``leading``, ``elected``, ``passed``, ``rejected`` or nothing."""

    def to_json(self) -> dict[str, Any]:
        return {
            "choice": self.id,
            "name": self.name,
            "votes": self.votes,
            "share": self.share,
            "marked": self.marked,
        }


def in_force(certificates: Sequence[Mapping[str, Any]], scope: str) -> Mapping[str, Any] | None:
    """The certificate of ``scope`` in force: issued, superseded by nothing, and not fallen
    with a county certificate it rested on."""
    for c in certificates:
        standing = c.get("standing")
        if (
            c["scope"] == scope
            and c.get("issued") is not None
            and not c.get("superseded_by")
            and standing in (None, "in force")
        ):
            return c
    return None


def status(data: SiteData) -> Status:
    counties = county_ids(data.definition)
    reported = sum(1 for c in counties if c in data.results.get("counties", {}))
    certified = in_force(data.certificates, STATE) is not None
    corrected = any(c.get("superseded_by") for c in data.certificates)
    state_issued = any(
        c["scope"] == STATE and c.get("issued") is not None for c in data.certificates
    )
    kinds = {r["kind"] for r in data.reopened}
    if "correction" in kinds:
        return Status("correction", "Correction under way")
    if "recount" in kinds:
        return Status("recount", "Recount under way")
    if certified and corrected:
        again = {c.get("status") for c in data.certificates if c.get("supersedes")}
        if again == {"recount"}:
            return Status("corrected", "Certified after a recount")
        return Status("corrected", "Certified, with corrections")
    if certified:
        return Status("certified", "Certified results")
    if state_issued:
        return Status("recount", "Recount or correction under way")
    return Status(
        "unofficial", f"Unofficial results: {reported} of {len(counties)} counties reported"
    )


def county_ids(definition: ElectionDefinition) -> list[str]:
    return [j.id for j in definition.jurisdictions if j.kind == JurisdictionKind.COUNTY]


def choice_name(data: SiteData, contest: str, choice: str) -> str:
    return str(data.results.get("choices", {}).get(f"{contest}/{choice}", choice))


def lines(
    data: SiteData, contest: Contest, totals: Mapping[str, Any], marks: bool = True
) -> list[Line]:
    """The choices of a contest in ``totals``, most votes first (ties in ballot order),
    each with its share of the votes for choices and its mark."""
    votes: Mapping[str, int] = totals.get("votes", {})
    counted = sum(votes.values())
    order = list(votes)
    ranked = sorted(order, key=lambda c: (-votes[c], order.index(c)))
    won = winners(data, contest, votes) if marks else {}
    return [
        Line(
            c,
            choice_name(data, contest.id, c),
            votes[c],
            percent(votes[c], counted),
            won.get(c, ""),
        )
        for c in ranked
    ]


def winners(data: SiteData, contest: Contest, votes: Mapping[str, int]) -> dict[str, str]:
    """The marked choices of a contest statewide and what marks them."""
    certified = in_force(data.certificates, STATE) is not None
    if contest.type == ContestType.RANKED_CHOICE:
        passes = data.ranked.get(contest.id) or []
        last = passes[-1] if passes else {}
        return {w: "elected" if certified else "leading" for w in last.get("winners", [])}
    if not votes or sum(votes.values()) == 0:
        return {}
    if contest.type in (ContestType.MEASURE, ContestType.RETENTION):
        top = sorted(votes.items(), key=lambda kv: -kv[1])
        if len(top) > 1 and top[0][1] == top[1][1]:
            return {}
        yes = top[0][0] in ("yes", "retain")
        word = ("passed" if yes else "rejected") if certified else "leading"
        return {top[0][0]: word}
    seats = max(contest.seats, contest.votes_allowed)  # vote for N fills N seats
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    if len(ranked) > seats and ranked[seats - 1][1] == ranked[seats][1]:
        return {}  # a tie for the last seat: the law decides, not the page
    return {c: "elected" if certified else "leading" for c, _ in ranked[:seats]}
