"""A contest's page (votes and shares, winners marked, a bar chart, by county with a map,
by vote type) and, for a ranked-choice contest, its rounds with the flow of transfers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from canvass.domain.model import Contest, ContestType
from canvass.publish.site.base import (
    BREAKDOWNS,
    CERTIFICATES,
    NOT_REPORTED,
    RANKED,
    RESULTS,
    VOTE_TYPES,
    File,
    Site,
)
from canvass.publish.site.charts import Bar, bar_chart
from canvass.publish.site.flow import flow_chart
from canvass.publish.site.maps import Area, county_map
from canvass.publish.site.model import Line, choice_name, lines
from canvass.publish.site.svg import INACTIVE, colour, count, percent

KINDS = {
    ContestType.CANDIDATE: "Candidate contest",
    ContestType.RANKED_CHOICE: "Ranked-choice contest",
    ContestType.MEASURE: "Ballot measure",
    ContestType.RETENTION: "Retention",
}


def _leader(shown: list[Line]) -> tuple[str, str]:
    """(choice id, name) of the choice with the most votes, or ("", "tied") or ("", "–")."""
    if not shown or not shown[0].votes:
        return "", "–"
    if len(shown) > 1 and shown[0].votes == shown[1].votes:
        return "", "tied"
    return shown[0].id, shown[0].name


def _map(site: Site, c: Contest, rows: list[dict[str, Any]], order: list[str]) -> tuple[Any, Any]:
    if site.projected is None or not rows:
        return None, []
    colours = {o: colour(i) for i, o in enumerate(order)}
    areas = {
        row["id"]: Area(
            row["name"],
            colours.get(row["lead"], INACTIVE),
            f"{row['leader']} leads" if row["lead"] else "no one leads",
        )
        for row in rows
    }
    for county in site.counties:
        areas.setdefault(county, Area(site.names[county], NOT_REPORTED, "not yet reported"))
    shown = county_map(
        f"map-{c.id}",
        f"{c.name}: who leads in each county",
        site.projected,
        areas,
        "Each county coloured by the choice with the most votes there.",
    )
    legend = [(colours[o], choice_name(site.data, c.id, o)) for o in order]
    return shown, [*legend, (NOT_REPORTED, "Not yet reported")]


def contest_page(site: Site, c: Contest) -> Iterator[File]:
    totals = site.data.results["contests"][c.id]
    shown = lines(site.data, c, totals)
    order = [line.id for line in shown]
    chart = bar_chart(
        f"bars-{c.id}",
        f"{c.name}: votes by choice",
        [Bar(line.name, line.votes, line.marked) for line in shown],
        sum(line.votes for line in shown),
    )
    rows = []
    for county in site.counties:
        here = site.reported.get(county, {}).get(c.id)
        if here is not None:
            lead, leader = _leader(lines(site.data, c, here, marks=False))
            votes = here.get("votes", {})
            rows.append(
                {
                    "id": county,
                    "name": site.names.get(county, county),
                    "votes": [votes.get(o, 0) for o in order],
                    "leader": leader,
                    "lead": lead,
                }
            )
    shown_map, legend = _map(site, c, rows, order)
    vote_types = []
    for vote_type, contests in sorted(site.data.by_vote_type.items()):
        votes = contests.get(c.id, {}).get("votes", {})
        vote_types.append(
            {
                "name": VOTE_TYPES.get(vote_type, vote_type),
                "votes": [votes.get(o, 0) for o in order],
            }
        )
    doc = {
        "contest": c.id,
        "name": c.name,
        "type": c.type.value,
        "status": site.status.key,
        "choices": [line.to_json() for line in shown],
        "ballots": totals["ballots"],
        "overvotes": totals["overvotes"],
        "undervotes": totals["undervotes"],
        "counties": {row["id"]: dict(zip(order, row["votes"], strict=True)) for row in rows},
    }
    header = ["county", *order, "leader"]
    table = [[row["id"], *row["votes"], row["lead"]] for row in rows]
    yield from site.page(
        f"contests/{c.id}.html",
        c.name,
        "contest.html.j2",
        doc,
        (header, table),
        [
            RESULTS,
            f"results/{c.id}.csv",
            BREAKDOWNS,
            *([RANKED] if c.id in site.data.ranked else []),
            CERTIFICATES,
        ],
        contest=c,
        kind=KINDS.get(c.type, c.type.value),
        leaders=[line for line in shown if line.marked],
        lines=shown,
        totals=totals,
        chart=chart,
        map=shown_map,
        legend=legend,
        counties=rows,
        vote_types=vote_types,
        ranked=c.id in site.data.ranked,
    )
    if c.id in site.data.ranked:
        yield from rounds_page(site, c)


def _events(site: Site, c: Contest, r: Mapping[str, Any], candidates: list[str]) -> list[str]:
    said = []
    for e in r["elected"]:
        said.append(f"Round {r['round']}: {choice_name(site.data, c.id, e)} elected.")
    for e in r["eliminated"]:
        moved = r["transfers"].get(e, {})
        where = "; ".join(
            f"{count(v)} to {choice_name(site.data, c.id, t) if t in candidates else t}"
            for t, v in moved.items()
        )
        went = f"; their ballots went {where}." if where else "."
        said.append(f"Round {r['round']}: {choice_name(site.data, c.id, e)} eliminated{went}")
    return said


def _round_pass(site: Site, c: Contest, n: int, p: Mapping[str, Any]) -> dict[str, Any]:
    candidates: list[str] = []
    for r in p["rounds"]:
        candidates += [x for x in r["tally"] if x not in candidates]
    rows = []
    for cand in candidates:
        cells = []
        for r in p["rounds"]:
            v = r["tally"].get(cand)
            counted = sum((Decimal(x) for x in r["tally"].values()), Decimal(0))
            cells.append(f"{count(v)} ({percent(v, counted)})" if v is not None else "–")
        rows.append({"name": choice_name(site.data, c.id, cand), "cells": cells})
    out = [
        count(sum((Decimal(x) for x in r["inactive"].values()), Decimal(0))) for r in p["rounds"]
    ]
    rows.append({"name": "No longer counting", "cells": out})
    labels = {x: choice_name(site.data, c.id, x) for x in candidates}
    chart: Markup = flow_chart(
        f"flow-{c.id}-{n}", f"{c.name}: where the votes went, round by round", p, labels
    )
    events = [e for r in p["rounds"] for e in _events(site, c, r, candidates)]
    return {"rounds": p["rounds"], "rows": rows, "events": events, "chart": chart}


def rounds_page(site: Site, c: Contest) -> Iterator[File]:
    count_passes = site.data.ranked[c.id]
    passes = [_round_pass(site, c, n, p) for n, p in enumerate(count_passes, start=1)]
    table = [
        [n, r["round"], cand, v]
        for n, p in enumerate(count_passes, start=1)
        for r in p["rounds"]
        for cand, v in r["tally"].items()
    ]
    winners = [choice_name(site.data, c.id, w) for w in (count_passes[-1].get("winners") or [])]
    yield from site.page(
        f"contests/{c.id}-rounds.html",
        f"{c.name}: round by round",
        "rounds.html.j2",
        {"contest": c.id, "name": c.name, "passes": list(count_passes)},
        (["pass", "round", "candidate", "votes"], table),
        [RANKED, CERTIFICATES],
        contest=c,
        passes=passes,
        rounds=passes[-1]["rounds"] if passes else [],
        winners=winners,
        word="elected" if site.state_certified else "leads",
    )
