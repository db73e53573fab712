"""Generated Dominion Democracy Suite CVR exports for the demo election (deterministic).

For each county: the manifests and one ``CvrExport.json`` in Dominion's 5.10 layout
(sessions with ``Original`` → ``Cards`` → ``Contests`` → ``Marks``), names in capitals as
Dominion prints them, so importing them exercises name standardization. Voters lean by
county; a few leave contests blank, overvote, or write in a name; ranked ballots rank two
to five candidates. The same seed always gives the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import msgspec

VERSION = "5.10.50.85"


def _manifest(items: list[dict[str, Any]]) -> bytes:
    return msgspec.json.encode({"Version": VERSION, "List": items})


def county_exports(
    definition: dict[str, Any], ballots_per_precinct: int = 60, seed: int = 2026
) -> Iterator[tuple[str, dict[str, bytes]]]:
    """``(county id, {file name: bytes})`` for every county of the demo definition."""
    contests = definition["contests"]
    candidates = {c["id"]: c for c in definition["candidates"]}
    contest_ids = {c["id"]: n + 1 for n, c in enumerate(contests)}
    candidate_ids: dict[tuple[str, str], int] = {}
    candidate_items: list[dict[str, Any]] = []
    for contest in contests:
        options = contest.get("candidates") or ["yes", "no"]
        names = [candidates[o]["name"].upper() if o in candidates else o.title() for o in options]
        if contest.get("write_ins"):
            options, names = [*options, "write-in"], [*names, "Write-in"]
        for option, name in zip(options, names, strict=True):
            cid = len(candidate_items) + 1
            candidate_ids[(contest["id"], option)] = cid
            candidate_items.append(
                {
                    "Description": name,
                    "Id": cid,
                    "ExternalId": "",
                    "ContestId": contest_ids[contest["id"]],
                    "Type": "WriteIn" if option == "write-in" else "Regular",
                }
            )
    contest_items = [
        {
            "Description": c["name"].upper(),
            "Id": contest_ids[c["id"]],
            "ExternalId": "",
            "VoteFor": c.get("votes_allowed", 1),
            "NumOfRanks": c.get("ranks", 0) or 0,
        }
        for c in contests
    ]
    styles = definition["ballot_styles"]
    style_of = {p: n + 1 for n, s in enumerate(styles) for p in s["precincts"]}
    style_contests = [[c for c in contests if c["id"] in s["contests"]] for s in styles]
    groups = [{"Description": "Election Day", "Id": 1}, {"Description": "Vote by Mail", "Id": 2}]
    rng = random.Random(seed)
    precincts_by_county: dict[str, list[dict[str, Any]]] = {}
    for j in definition["jurisdictions"]:
        if j["kind"] == "precinct":
            precincts_by_county.setdefault(j["parent"], []).append(j)
    tabulators_by_county: dict[str, list[dict[str, Any]]] = {}
    for t in definition["tabulators"]:
        tabulators_by_county.setdefault(t["county"], []).append(t)

    for county, precincts in precincts_by_county.items():
        lean = rng.gauss(0, 0.12)
        portions: list[tuple[int, int, str]] = []  # (portion id, ballots, portion name)
        portion_items: list[dict[str, Any]] = []
        precinct_items: list[dict[str, Any]] = []
        for p_n, precinct in enumerate(precincts, start=1):
            precinct_items.append(
                {"Description": precinct["name"], "Id": p_n, "ExternalId": precinct["id"]}
            )
            parts = precinct.get("portions") or [{"id": precinct["id"], "name": precinct["name"]}]
            for part in parts:
                pid = len(portion_items) + 1
                portion_items.append(
                    {
                        "Description": part["id"],
                        "Id": pid,
                        "ExternalId": part["id"],
                        "PrecinctId": p_n,
                    }
                )
                portions.append((pid, max(1, ballots_per_precinct // len(parts)), part["id"]))
        tabs = tabulators_by_county[county]
        tab_numbers = {t["id"]: n + 1 for n, t in enumerate(tabs)}
        central = [t for t in tabs if t.get("counting_group") == "absentee"]
        scanners = [t for t in tabs if t.get("counting_group") != "absentee"] or tabs
        sessions: list[dict[str, Any]] = []
        batch_sizes: dict[int, tuple[int, int]] = {}
        for pid, share, part_id in portions:
            style = style_of[part_id]
            for _ in range(share):
                mail = rng.random() < 0.45
                tab = rng.choice(central if mail and central else scanners)
                number = tab_numbers[tab["id"]]
                batch, record = batch_sizes.get(number, (1, 0))
                record += 1
                if record > 250:
                    batch, record = batch + 1, 1
                batch_sizes[number] = (batch, record)
                marks = [
                    {"Id": contest_ids[c["id"]], "Marks": _marks(rng, c, candidate_ids, lean)}
                    for c in style_contests[style - 1]
                ]
                sessions.append(
                    {
                        "TabulatorId": number,
                        "BatchId": batch,
                        "RecordId": record,
                        "CountingGroupId": 2 if mail else 1,
                        "SessionType": "ScannedVote",
                        "Original": {
                            "PrecinctPortionId": pid,
                            "BallotTypeId": style,
                            "IsCurrent": True,
                            "Cards": [
                                {"Id": len(sessions) + 1, "PaperIndex": 0, "Contests": marks}
                            ],
                        },
                    }
                )
        files = {
            "ContestManifest.json": _manifest(contest_items),
            "CandidateManifest.json": _manifest(candidate_items),
            "PrecinctManifest.json": _manifest(precinct_items),
            "PrecinctPortionManifest.json": _manifest(portion_items),
            "BallotTypeManifest.json": _manifest(
                [{"Description": s["id"], "Id": n + 1} for n, s in enumerate(styles)]
            ),
            "CountingGroupManifest.json": _manifest(groups),
            "TabulatorManifest.json": _manifest(
                [{"Description": t["name"], "Id": tab_numbers[t["id"]]} for t in tabs]
            ),
            "CvrExport.json": msgspec.json.encode(
                {
                    "Version": VERSION,
                    "ElectionId": definition["election"]["name"],
                    "Sessions": sessions,
                }
            ),
        }
        yield county, files


def _mark(candidate: int, rank: int = 1) -> dict[str, Any]:
    return {
        "CandidateId": candidate,
        "Rank": rank,
        "MarkDensity": 95,
        "IsAmbiguous": False,
        "IsVote": True,
    }


def _marks(
    rng: random.Random, contest: dict[str, Any], ids: dict[tuple[str, str], int], lean: float
) -> list[dict[str, Any]]:
    options = contest.get("candidates") or ["yes", "no"]
    if contest.get("ranks"):  # a wider field, so the count runs several rounds
        shares = [0.3 + lean / 2, 0.3 - lean / 2, *(0.2 / (i + 1) for i in range(len(options)))]
    else:
        shares = [0.5 + lean, 0.5 - lean, *([0.08] * len(options))]
    weights = [max(0.02, shares[i] * rng.uniform(0.9, 1.1)) for i in range(len(options))]
    roll = rng.random()
    if roll < 0.02:
        return []  # left blank
    if contest.get("ranks"):
        ranked = _weighted_order(rng, options, weights)
        keep = rng.randint(2, min(len(options), contest["ranks"]))
        return [_mark(ids[(contest["id"], o)], r + 1) for r, o in enumerate(ranked[:keep])]
    allowed = contest.get("votes_allowed", 1)
    if roll < 0.03:
        return [
            _mark(ids[(contest["id"], o)]) for o in rng.sample(options, allowed + 1)
        ]  # overvote
    if roll < 0.04 and contest.get("write_ins"):
        return [_mark(ids[(contest["id"], "write-in")])]
    chosen = _weighted_order(rng, options, weights)[:allowed]
    return [_mark(ids[(contest["id"], o)]) for o in chosen]


def _weighted_order(rng: random.Random, options: list[str], weights: list[float]) -> list[str]:
    """A random order favouring heavier options (Efraimidis & Spirakis 2006, key u^(1/w))."""
    keys = {o: rng.random() ** (1 / w) for o, w in zip(options, weights, strict=True)}
    return sorted(options, key=lambda o: -keys[o])
