"""A generated, deterministic demo election: the State of Lakeland.

The same seed always gives the same document. By default: 104 counties and about 2,500
precincts (some split into portions by congressional district), four congressional
districts, counting groups for every vote type, central and precinct tabulators, and
these contests:

- President and Vice President (statewide, vote for 1, one write-in line);
- State Board of Education (statewide, vote for 2);
- Representative in Congress, District 2 (ranked choice, 5 ranks);
- Proposal 1 (statewide ballot measure);
- Retention of a Supreme Court justice (statewide).
"""

from __future__ import annotations

import math
import random
from typing import Any

_SYLLABLES = [
    "al",
    "ber",
    "car",
    "dan",
    "el",
    "fair",
    "glen",
    "har",
    "iron",
    "jas",
    "kel",
    "lin",
    "mar",
    "nor",
    "oak",
    "pen",
    "quin",
    "ros",
    "sil",
    "tam",
    "up",
    "ver",
    "wal",
    "yar",
    "ash",
    "brook",
    "cedar",
    "dale",
    "elm",
    "fox",
    "gray",
    "hill",
    "lake",
    "mill",
    "pine",
    "red",
    "stone",
    "wood",
]
_ENDINGS = ["", "ton", "ville", "field", "ford", "land", "wood", "burg", "mont", "dale"]
_GIVEN = [
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Frank",
    "Grace",
    "Hiro",
    "Iris",
    "Jon",
    "Kara",
    "Luis",
    "Maya",
    "Noah",
    "Omar",
    "Priya",
]
_FAMILY = [
    "Adams",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Ford",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Novak",
]


def _names(rng: random.Random, count: int) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        name = (rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES) + rng.choice(_ENDINGS)).title()
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _people(rng: random.Random, count: int) -> list[str]:
    pairs = [(g, f) for g in _GIVEN for f in _FAMILY]
    return [f"{g} {f}" for g, f in rng.sample(pairs, count)]


def _county_outlines(counties: int, seed: int) -> list[dict[str, Any]]:
    """A made-up map of Lakeland: counties in rows, in the order they are numbered (so
    districts are bands across the state), each a quadrilateral with wavy sides. Corners
    and the midpoints of sides are shared by neighbours, so borders match exactly. Drawn
    with a generator of its own, so the rest of the demo stays as it was."""
    rng = random.Random(f"{seed}-map")
    cols = max(1, round((counties * 1.3) ** 0.5))
    rows = -(-counties // cols)
    west, north, dx, dy = -88.0, 46.5, 0.42, 0.3

    def wobble(scale: float) -> float:
        return rng.uniform(-scale, scale)

    corner = {
        (i, j): (west + j * dx + wobble(dx / 4), north - i * dy + wobble(dy / 4))
        for i in range(rows + 1)
        for j in range(cols + 1)
    }

    def midpoint(a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float]:
        (x0, y0), (x1, y1) = corner[a], corner[b]
        return ((x0 + x1) / 2 + wobble(dx / 6), (y0 + y1) / 2 + wobble(dy / 6))

    mids = {}
    for i in range(rows + 1):
        for j in range(cols + 1):
            if j < cols:
                mids[(i, j), (i, j + 1)] = midpoint((i, j), (i, j + 1))
            if i < rows:
                mids[(i, j), (i + 1, j)] = midpoint((i, j), (i + 1, j))
    outlines = []
    for c in range(counties):
        i, j = divmod(c, cols)
        # Counter-clockwise, as RFC 7946 §3.1.6 asks of outer rings.
        corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
        ring = []
        for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
            ring += [corner[a], mids.get((a, b)) or mids[(b, a)]]
        ring.append(ring[0])
        outlines.append(
            {"type": "Polygon", "coordinates": [[[round(x, 4), round(y, 4)] for x, y in ring]]}
        )
    return outlines


def with_registered_voters(
    definition: dict[str, Any], ballots_per_precinct: int, seed: int = 2026
) -> dict[str, Any]:
    """The definition with each county's registered voters: as many that the demo's
    ballots are a turnout of 55 to 80 per cent (drawn from a generator of its own, so
    the rest of the demo is drawn as before)."""
    rng = random.Random(f"registered voters {seed}")
    precincts: dict[str, int] = {}
    for j in definition["jurisdictions"]:
        if j["kind"] == "precinct":
            precincts[j["parent"]] = precincts.get(j["parent"], 0) + 1
    jurisdictions = []
    for j in definition["jurisdictions"]:
        if j["kind"] == "county":
            # A precinct's portions each get at least one ballot: two at most per precinct.
            ballots = precincts.get(j["id"], 0) * max(ballots_per_precinct, 2)
            j = {**j, "registered_voters": math.ceil(ballots / rng.uniform(0.55, 0.8))}
        jurisdictions.append(j)
    return {**definition, "jurisdictions": jurisdictions}


def demo_definition(counties: int = 104, precincts: int = 2500, seed: int = 2026) -> dict[str, Any]:
    """The demo election definition as a plain document (see ``docs/election-definition.md``)."""
    if counties < 1 or precincts < counties:
        raise ValueError("the demo needs at least one county and one precinct per county")
    rng = random.Random(seed)
    county_names = _names(rng, counties)
    # County sizes follow a long tail, as real states' do: a few big, many small.
    weights = [rng.lognormvariate(0, 1.1) for _ in range(counties)]
    extra = precincts - counties
    shares = [1 + int(extra * w / sum(weights)) for w in weights]
    shares[0] += precincts - sum(shares)

    outlines = _county_outlines(counties, seed)
    jurisdictions: list[dict[str, Any]] = [
        {"id": "lakeland", "name": "State of Lakeland", "kind": "state"}
    ]
    districts = [f"cd-{n}" for n in range(1, 5)]
    jurisdictions += [
        {
            "id": d,
            "name": f"Congressional District {d[3:]}",
            "kind": "district",
            "parent": "lakeland",
        }
        for d in districts
    ]
    tabulators: list[dict[str, Any]] = []
    counting_groups = [
        {"id": vt, "name": name, "vote_type": vt}
        for vt, name in [
            ("election_day", "Election Day"),
            ("early", "Early Voting"),
            ("absentee", "Absentee by Mail"),
            ("provisional", "Provisional"),
            ("uocava", "UOCAVA"),
        ]
    ]
    styles: dict[tuple[str, ...], list[str]] = {}
    for c, (cname, n) in enumerate(zip(county_names, shares, strict=True)):
        cid = f"c{c + 1:03d}"
        jurisdictions.append(
            {
                "id": cid,
                "name": f"{cname} County",
                "kind": "county",
                "parent": "lakeland",
                "geometry": outlines[c],
            }
        )
        # Counties are laid out across the districts in order; border counties split.
        district = districts[c * len(districts) // counties]
        neighbour = districts[min((c + 1) * len(districts) // counties, len(districts) - 1)]
        for p in range(n):
            pid = f"{cid}-p{p + 1:03d}"
            precinct: dict[str, Any] = {
                "id": pid,
                "name": f"{cname} Precinct {p + 1}",
                "kind": "precinct",
                "parent": cid,
            }
            if neighbour != district and p % 3 == 0:
                precinct["portions"] = [
                    {"id": f"{pid}-a", "name": f"{pid} ({district.upper()})"},
                    {"id": f"{pid}-b", "name": f"{pid} ({neighbour.upper()})"},
                ]
                styles.setdefault((district,), []).append(f"{pid}-a")
                styles.setdefault((neighbour,), []).append(f"{pid}-b")
            else:
                styles.setdefault((district,), []).append(pid)
            jurisdictions.append(precinct)
        tabulators.append(
            {
                "id": f"{cid}-icc-1",
                "name": "Central count 1",
                "county": cid,
                "counting_group": "absentee",
            }
        )
        tabulators += [
            {
                "id": f"{cid}-ps-{t + 1:02d}",
                "name": f"Precinct scanner {t + 1}",
                "county": cid,
                "counting_group": "election_day",
            }
            for t in range(max(1, n // 4))
        ]

    parties = [
        {"id": "fed", "name": "Federalist Party", "abbreviation": "FED"},
        {"id": "rep", "name": "Republican Party", "abbreviation": "REP"},
        {"id": "grn", "name": "Green Party", "abbreviation": "GRN"},
        {"id": "lib", "name": "Libertarian Party", "abbreviation": "LIB"},
    ]
    people = _people(rng, 14)
    candidates: list[dict[str, Any]] = []

    def add(prefix: str, names: list[str], party_ids: list[str | None]) -> list[str]:
        ids = []
        for name, party in zip(names, party_ids, strict=True):
            cand: dict[str, Any] = {
                "id": f"{prefix}-{name.lower().replace(' ', '-')}",
                "name": name,
            }
            if party:
                cand["party"] = party
            candidates.append(cand)
            ids.append(cand["id"])
        return ids

    president = add("pres", people[0:4], ["fed", "rep", "grn", "lib"])
    board = add("sboe", people[4:8], ["fed", "fed", "rep", "rep"])
    congress = add("cd2", people[8:13], ["fed", "rep", "grn", "lib", None])
    justice = add("justice", people[13:14], [None])
    contests: list[dict[str, Any]] = [
        {
            "id": "president",
            "name": "President and Vice President",
            "type": "candidate",
            "jurisdiction": "lakeland",
            "candidates": president,
            "votes_allowed": 1,
            "write_ins": 1,
        },
        {
            "id": "board-of-education",
            "name": "Member of the State Board of Education",
            "type": "candidate",
            "jurisdiction": "lakeland",
            "candidates": board,
            "votes_allowed": 2,
        },
        {
            "id": "congress-2",
            "name": "Representative in Congress, District 2",
            "type": "ranked_choice",
            "jurisdiction": "cd-2",
            "candidates": congress,
            "ranks": 5,
            "seats": 1,
            "rules": {
                "overvote_rule": "exhaustImmediately",
                "max_skipped_ranks_allowed": 1,
                "tiebreak_mode": "random",
                "random_seed": 20261103,
            },
        },
        {
            "id": "proposal-1",
            "name": "Proposal 1: Independent Redistricting Commission",
            "type": "measure",
            "jurisdiction": "lakeland",
            "text": "Shall the constitution be amended to create an independent commission "
            "to draw legislative and congressional district lines?",
        },
        {
            "id": "retain-justice",
            "name": f"Retention of Justice {people[13]}",
            "type": "retention",
            "jurisdiction": "lakeland",
            "candidate": justice[0],
            "text": f"Shall Justice {people[13]} of the Supreme Court be retained in office?",
        },
    ]
    statewide = ["president", "board-of-education", "proposal-1", "retain-justice"]
    ballot_styles = []
    for (district,), members in sorted(styles.items()):
        on_ballot = statewide[:1] + (["congress-2"] if district == "cd-2" else []) + statewide[1:]
        ballot_styles.append(
            {
                "id": f"style-{district}",
                "name": f"Ballot for {district.upper()}",
                "precincts": members,
                "contests": on_ballot,
            }
        )
    return {
        "election": {
            "id": "lakeland-2026-general",
            "name": "Lakeland General Election",
            "date": "2026-11-03",
            "state": "LK",
        },
        "jurisdictions": jurisdictions,
        "parties": parties,
        "candidates": candidates,
        "contests": contests,
        "ballot_styles": ballot_styles,
        "counting_groups": counting_groups,
        "tabulators": tabulators,
    }
