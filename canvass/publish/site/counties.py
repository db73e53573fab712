"""The list of counties and each county's page: every contest, its ballots against the
poll book precinct by precinct, its certificate."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canvass.domain.model import JurisdictionKind
from canvass.publish.site.base import (
    BREAKDOWNS,
    CERTIFICATES,
    RESULTS,
    UNITS,
    VOTE_TYPES,
    File,
    Site,
)
from canvass.publish.site.model import in_force, lines


def counties_page(site: Site) -> Iterator[File]:
    rows = []
    for c in site.counties:
        turnout = site.turnout(c) or {}
        counted = turnout if c in site.reported else {}
        rows.append(
            {
                "id": c,
                "name": site.names[c],
                "results": "reported" if c in site.reported else "not yet",
                "certified": _certified(site, c),
                "ballots": counted.get("ballots", ""),
                "registered_voters": turnout.get("registered_voters", ""),
                "turnout": counted.get("turnout", ""),
            }
        )
    header = ["county", "name", "results", "certified", "ballots", "registered_voters", "turnout"]
    yield from site.page(
        "counties.html",
        "Counties",
        "counties.html.j2",
        {"counties": rows},
        (header, [list(r.values()) for r in rows]),
        [RESULTS, CERTIFICATES],
        rows=rows,
        turnout=any(r["registered_voters"] != "" for r in rows),
        reported=sum(1 for c in site.counties if c in site.reported),
        certified=len(site.certified),
    )


def _certified(site: Site, county: str) -> str:
    reopened = next((r for r in site.data.reopened if r["scope"] == county), None)
    if reopened:
        return f"reopened: {reopened['kind']} under way"
    return "yes" if county in site.certified else "no"


def _unit(site: Site, u: Mapping[str, Any]) -> dict[str, Any]:
    difference = u["tabulated"] - u["voters"]
    explained = "; ".join(f"{reason}: {text}" for reason, text in u["explanations"])
    return {
        "precinct": site.names.get(u["precinct"], u["precinct"]),
        "vote_type": VOTE_TYPES.get(u["vote_type"], u["vote_type"]),
        "voters": u["voters"],
        "tabulated": u["tabulated"],
        "difference": f"{difference:+,}" if difference else "0",
        "explanations": explained or ("–" if u["balanced"] else "unexplained"),
    }


def _units(
    site: Site, by: str, county: str, known: list[str], contest: str, order: list[str]
) -> list[dict[str, Any]]:
    """A contest in a county's units of ``breakdowns.json``'s ``by`` (precincts or vote
    types; those in ``known`` first, in its order, then the rest by name): each unit's
    name, votes in ``order``, ballots."""
    here = site.county_units(by).get(county, {})
    rank = {u: n for n, u in enumerate(known)}
    rows = []
    for unit in sorted(here, key=lambda u: (rank.get(u, len(rank)), u)):
        totals = here[unit].get("contests", {}).get(contest)
        if totals is None:
            continue  # no card of this unit carried the contest
        votes = totals["votes"]
        name = VOTE_TYPES.get(unit, unit) if by == BY_VOTE_TYPE else site.names.get(unit, unit)
        rows.append(
            {
                "id": unit,
                "name": name,
                "votes": [votes.get(o, 0) for o in order],
                "ballots": totals["ballots"],
            }
        )
    return rows


BY_PRECINCT = "precinct"
BY_VOTE_TYPE = "county,vote_type"


def county_page(site: Site, county: str) -> Iterator[File]:
    here = site.reported.get(county, {})
    contests = []
    table = []
    precinct_ids = [
        j.id
        for j in site.definition.jurisdictions
        if j.parent == county and j.kind == JurisdictionKind.PRECINCT
    ]
    # A card names its precinct as its export did: by the definition's id or its name.
    known = [p for i in precinct_ids for p in (i, site.names[i])]
    for c in site.contests:
        if c.id in here:
            shown = lines(site.data, c, here[c.id], marks=False)
            order = [x.id for x in shown]
            by_precinct = _units(site, BY_PRECINCT, county, known, c.id, order)
            by_type = _units(site, BY_VOTE_TYPE, county, list(VOTE_TYPES), c.id, order)
            contests.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "lines": shown,
                    "totals": here[c.id],
                    "precincts": by_precinct,
                    "vote_types": by_type,
                }
            )
            table += [[c.id, x.id, x.name, x.votes, x.share, "", ""] for x in shown]
            for by, rows in (("precinct", by_precinct), ("vote_type", by_type)):
                for row in rows:
                    unit = ["", row["id"]] if by == "vote_type" else [row["id"], ""]
                    table += [
                        [c.id, x.id, x.name, v, "", *unit]
                        for x, v in zip(shown, row["votes"], strict=True)
                    ]
    units = [u for u in site.data.units if u["county"] == county]
    cert = in_force(site.data.certificates, county)
    certificate = None
    if cert:
        certificate = {**cert, "signers": [s["member"] for s in cert.get("signatures", [])]}
    reopened = next((r for r in site.data.reopened if r["scope"] == county), None)
    precincts = len(precinct_ids)
    doc = {
        "county": county,
        "name": site.names[county],
        "reported": bool(here),
        "contests": {
            c["id"]: {"choices": [x.to_json() for x in c["lines"]]}
            | {k: c["totals"][k] for k in ("ballots", "overvotes", "undervotes")}
            | {
                key: {
                    r["id"]: {
                        "votes": dict(zip([x.id for x in c["lines"]], r["votes"], strict=True)),
                        "ballots": r["ballots"],
                    }
                    for r in c[key]
                }
                for key in ("precincts", "vote_types")
            }
            for c in contests
        },
        "reconciliation": [dict(u) for u in units],
        "certificate": cert["sha256"] if cert else None,
        "reopened": dict(reopened) if reopened else None,
        "turnout": site.turnout(county),
    }
    yield from site.page(
        f"counties/{county}.html",
        site.names[county],
        "county.html.j2",
        doc,
        (["contest", "choice", "name", "votes", "share", "precinct", "vote_type"], table),
        [
            RESULTS,
            BREAKDOWNS,
            UNITS,
            CERTIFICATES,
            *([f"certificates/{cert['sha256']}.txt"] if cert else []),
        ],
        county={"id": county, "name": site.names[county]},
        reported=bool(here),
        contests=contests,
        units=[_unit(site, u) for u in units],
        balanced=sum(1 for u in units if u["balanced"]),
        unexplained=sum(1 for u in units if not u["balanced"] and not u["explanations"]),
        certificate=certificate,
        reopened=reopened,
        turnout=site.turnout(county) if here else None,
        precincts=precincts,
    )
