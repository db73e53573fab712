"""NIST SP 1500-100 v2 election results reports (JSON).

:func:`election_report` turns the election definition and its counted results into an
``ElectionResults.ElectionReport`` of format ``summary-contest``: the state and every
county as reporting units, each candidate, party and contest, and for every selection
its ``total`` at the state and at each county, and its count per vote type at the state.
Overvotes and undervotes go in each contest's ``OtherCounts``. The ``Status`` is one of
the NIST result statuses (``unofficial-partial``, ``unofficial-complete``, ``certified``,
``recount``, ``correction``, ``pre-election``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from canvass.domain.model import (
    ContestType,
    ElectionDefinition,
    JurisdictionKind,
    contest_choices,
)
from canvass.tabulate.plurality import ContestTotals, Results

STATUSES = (
    "pre-election",
    "unofficial-partial",
    "unofficial-complete",
    "certified",
    "recount",
    "correction",
)
COUNT_TYPES = {
    "election_day": "election-day",
    "early": "early",
    "absentee": "absentee-mail",
    "provisional": "provisional",
    "uocava": "uocava",
}
_UNIT_TYPES = {
    JurisdictionKind.STATE: "state",
    JurisdictionKind.COUNTY: "county",
    JurisdictionKind.MUNICIPALITY: "municipality",
    JurisdictionKind.PRECINCT: "precinct",
    JurisdictionKind.DISTRICT: "other",
}


def _text(text: str) -> dict[str, Any]:
    return {
        "@type": "ElectionResults.InternationalizedText",
        "Text": [{"@type": "ElectionResults.LanguageString", "Content": text, "Language": "en"}],
    }


def _counts(unit: str, count_type: str, count: int) -> dict[str, Any]:
    return {
        "@type": "ElectionResults.VoteCounts",
        "GpUnitId": unit,
        "Type": count_type,
        "Count": count,
    }


def election_report(
    definition: ElectionDefinition,
    overall: Results,
    by_county: Results,
    by_vote_type: Results,
    status: str,
    issuer: str,
    generated: datetime | None = None,
) -> dict[str, Any]:
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not a NIST result status: {', '.join(STATUSES)}")
    e = definition.election
    state = next(j for j in definition.jurisdictions if j.parent is None)
    units = [j for j in definition.jurisdictions if j.kind != JurisdictionKind.PRECINCT]
    unit_ids = {j.id: f"ru-{j.id}" for j in units}
    for j in definition.jurisdictions:  # contests voted in precincts report under them
        for p in j.portions:
            unit_ids.setdefault(p.id, f"ru-{p.id}")
        unit_ids.setdefault(j.id, f"ru-{j.id}")
    gp_units = [
        {
            "@id": unit_ids[j.id],
            "@type": "ElectionResults.ReportingUnit",
            "Type": _UNIT_TYPES[j.kind],
            "Name": _text(j.name),
        }
        for j in definition.jurisdictions
    ] + [
        {
            "@id": unit_ids[p.id],
            "@type": "ElectionResults.ReportingUnit",
            "Type": "split-precinct",
            "Name": _text(p.name or p.id),
        }
        for j in definition.jurisdictions
        for p in j.portions
    ]
    candidates = {c.id: c for c in definition.candidates}
    contests = []
    for n, contest in enumerate(definition.contests):
        totals = overall.contests[n]
        county_totals = {county: group[n] for county, group in by_county.groups.items()}
        type_totals = {vt: group[n] for vt, group in by_vote_type.groups.items()}
        selections = []
        for choice in contest_choices(contest, candidates):
            counts = [_counts(unit_ids[state.id], "total", totals.votes.get(choice.id, 0))]
            counts += [
                _counts(unit_ids[county], "total", t.votes.get(choice.id, 0))
                for county, t in sorted(county_totals.items())
                if county in unit_ids
            ]
            counts += [
                _counts(unit_ids[state.id], COUNT_TYPES.get(vt, "other"), t.votes.get(choice.id, 0))
                for vt, t in sorted(type_totals.items())
                if vt in COUNT_TYPES
            ]
            sel_id = f"sel-{contest.id}-{choice.id}"
            if contest.type in (ContestType.MEASURE, ContestType.RETENTION):
                selections.append(
                    {
                        "@id": sel_id,
                        "@type": "ElectionResults.BallotMeasureSelection",
                        "Selection": _text(choice.name),
                        "VoteCounts": counts,
                    }
                )
            else:
                selection: dict[str, Any] = {
                    "@id": sel_id,
                    "@type": "ElectionResults.CandidateSelection",
                    "VoteCounts": counts,
                }
                if choice.write_in:
                    selection["IsWriteIn"] = True
                else:
                    selection["CandidateIds"] = [f"can-{choice.candidate}"]
                selections.append(selection)
        other = [_other(unit_ids[state.id], totals)] + [
            _other(unit_ids[county], t)
            for county, t in sorted(county_totals.items())
            if county in unit_ids
        ]
        doc: dict[str, Any] = {
            "@id": f"con-{contest.id}",
            "Name": contest.name,
            "ElectionDistrictId": unit_ids[contest.jurisdiction],
            "ContestSelection": selections,
            "OtherCounts": other,
        }
        if contest.type == ContestType.MEASURE:
            doc.update(
                {
                    "@type": "ElectionResults.BallotMeasureContest",
                    "FullText": _text(contest.text or contest.name),
                }
            )
        elif contest.type == ContestType.RETENTION:
            doc.update(
                {
                    "@type": "ElectionResults.RetentionContest",
                    "CandidateId": f"can-{contest.candidate}",
                    "FullText": _text(contest.text or contest.name),
                }
            )
        else:
            doc.update(
                {
                    "@type": "ElectionResults.CandidateContest",
                    "VotesAllowed": contest.votes_allowed,
                    "NumberElected": contest.seats,
                }
            )
            if contest.type == ContestType.RANKED_CHOICE:
                doc["VoteVariation"] = "rcv"
        contests.append(doc)
    when = (generated or datetime.now(UTC)).replace(microsecond=0).isoformat()
    return {
        "@type": "ElectionResults.ElectionReport",
        "Format": "summary-contest",
        "GeneratedDate": when,
        "Issuer": issuer,
        "IssuerAbbreviation": issuer,
        "SequenceStart": 1,
        "SequenceEnd": 1,
        "Status": status,
        "VendorApplicationId": "Canvass",
        "GpUnit": gp_units,
        "Party": [
            {
                "@id": f"par-{p.id}",
                "@type": "ElectionResults.Party",
                "Name": _text(p.name),
                **({"Abbreviation": _text(p.abbreviation)} if p.abbreviation else {}),
            }
            for p in definition.parties
        ],
        "Election": [
            {
                "@type": "ElectionResults.Election",
                "ElectionScopeId": unit_ids[state.id],
                "Name": _text(e.name),
                "StartDate": e.date.isoformat(),
                "EndDate": e.date.isoformat(),
                "Type": "general",
                "Candidate": [
                    {
                        "@id": f"can-{c.id}",
                        "@type": "ElectionResults.Candidate",
                        "BallotName": _text(c.name),
                        **({"PartyId": f"par-{c.party}"} if c.party else {}),
                    }
                    for c in definition.candidates
                ],
                "Contest": contests,
            }
        ],
    }


def _other(unit: str, t: ContestTotals) -> dict[str, Any]:
    return {
        "@type": "ElectionResults.OtherCounts",
        "GpUnitId": unit,
        "Overvotes": t.overvotes,
        "Undervotes": t.undervotes,
    }
