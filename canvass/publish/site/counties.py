"""The list of counties and each county's page: every contest, its ballots against the
poll book precinct by precinct, its certificate."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from canvass.domain.model import JurisdictionKind
from canvass.publish.site.base import VOTE_TYPES, File, Site
from canvass.publish.site.model import in_force, lines


def counties_page(site: Site) -> Iterator[File]:
    rows = [
        {
            "id": c,
            "name": site.names[c],
            "results": "reported" if c in site.reported else "not yet",
            "certified": "yes" if c in site.certified else "no",
        }
        for c in site.counties
    ]
    yield from site.page(
        "counties.html",
        "Counties",
        "counties.html.j2",
        {"counties": rows},
        (["county", "name", "results", "certified"], [list(r.values()) for r in rows]),
        rows=rows,
        reported=sum(1 for c in site.counties if c in site.reported),
        certified=len(site.certified),
    )


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


def county_page(site: Site, county: str) -> Iterator[File]:
    here = site.reported.get(county, {})
    contests = []
    table = []
    for c in site.contests:
        if c.id in here:
            shown = lines(site.data, c, here[c.id], marks=False)
            contests.append({"id": c.id, "name": c.name, "lines": shown, "totals": here[c.id]})
            table += [[c.id, x.id, x.name, x.votes, x.share] for x in shown]
    units = [u for u in site.data.units if u["county"] == county]
    cert = in_force(site.data.certificates, county)
    certificate = None
    if cert:
        certificate = {**cert, "signers": [s["member"] for s in cert.get("signatures", [])]}
    precincts = sum(
        1
        for j in site.definition.jurisdictions
        if j.parent == county and j.kind == JurisdictionKind.PRECINCT
    )
    doc = {
        "county": county,
        "name": site.names[county],
        "reported": bool(here),
        "contests": {
            c["id"]: {"choices": [x.to_json() for x in c["lines"]]}
            | {k: c["totals"][k] for k in ("ballots", "overvotes", "undervotes")}
            for c in contests
        },
        "reconciliation": [dict(u) for u in units],
        "certificate": cert["sha256"] if cert else None,
    }
    yield from site.page(
        f"counties/{county}.html",
        site.names[county],
        "county.html.j2",
        doc,
        (["contest", "choice", "name", "votes", "share"], table),
        county={"id": county, "name": site.names[county]},
        reported=bool(here),
        contests=contests,
        units=[_unit(site, u) for u in units],
        balanced=sum(1 for u in units if u["balanced"]),
        unexplained=sum(1 for u in units if not u["balanced"] and not u["explanations"]),
        certificate=certificate,
        precincts=precincts,
    )
