"""The published results: every contest statewide and by county as JSON, each contest by
county as CSV, the NIST SP 1500-100 v2 election report, and every ranked-choice contest
round by round."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from canvass.publish.err import election_report
from canvass.publish.files import json_bytes
from canvass.publish.view import ElectionView
from canvass.tabulate.plurality import ContestTotals, Results
from canvass.tabulate.render import rounds_json, tie_json


def totals_json(t: ContestTotals) -> dict[str, Any]:
    return {
        "votes": dict(t.votes),
        "ballots": t.ballots,
        "overvotes": t.overvotes,
        "undervotes": t.undervotes,
    }


def county_imports(view: ElectionView) -> dict[str, dict[str, Any]]:
    """What each county's imports in force say beyond their cards: contests left out of
    them (``--skip-contest``) with the cards that carried each, and what the export lacked."""
    out: dict[str, dict[str, Any]] = {}
    for i in [*view.state.imports.current("ballots"), *view.state.imports.current("results")]:
        if not i.skipped_contests and not i.notes:
            continue
        said = out.setdefault(i.county, {})
        for name, cards in i.skipped_contests.items():
            skipped = said.setdefault("skipped_contests", {})
            skipped[name] = skipped.get(name, 0) + cards
        for note in i.notes:
            if note not in said.setdefault("notes", []):
                said["notes"].append(note)
    return {
        county: {"name": view.names.get(county, county), **said}
        for county, said in sorted(out.items())
        if said
    }


def results_document(view: ElectionView) -> dict[str, Any]:
    """``results/results.json``: every contest statewide and by county; the ballots and
    cards counted, in all and by county; what each county's imports left out; and the
    ranked-choice contests whose count stops at a tie the officials have not decided."""
    counted, labels = view.by_county, view.labels
    return {
        "election": view.definition.election.id,
        "ballots": counted.ballots,
        "cards": counted.cards,
        "county_ballots": {
            county: {"ballots": ballots, "cards": cards}
            for county, (ballots, cards) in sorted(counted.group_ballots.items())
        },
        "imports": county_imports(view),
        "ranked_choice_ties": {c: tie_json(t) for c, t in sorted(view.ties.items())},
        "contests": {
            t.contest: totals_json(t) | {"name": labels.get(t.contest, t.contest)}
            for t in counted.contests
        },
        "counties": {
            county: {t.contest: totals_json(t) for t in totals}
            for county, totals in sorted(counted.groups.items())
        },
        "choices": {k: v for k, v in labels.items() if "/" in k},
    }


BREAKDOWNS = ("precinct", "vote_type", "county,vote_type", "batch")
"""The breakdowns published beside the county results (a county's units keyed by county:
``county/precinct``, ``county/tabulator/batch``; each county's vote types as
``county/vote_type``)."""


def breakdowns_document(view: ElectionView) -> dict[str, Any]:
    """``results/breakdowns.json``: every contest by precinct, by vote type, by vote type
    in each county and by batch (made once for every renderer that shows it)."""
    if "breakdowns" in view.documents:
        return dict(view.documents["breakdowns"])
    out: dict[str, Any] = {}
    for by in BREAKDOWNS:
        counted = view.breakdown(by)
        out[by] = {
            group: {
                "ballots": counted.group_ballots.get(group, (0, 0))[0],
                "cards": counted.group_ballots.get(group, (0, 0))[1],
                "contests": {
                    t.contest: totals_json(t) for t in totals if t.ballots or t.total_votes
                },
            }
            for group, totals in sorted(counted.groups.items())
        }
    view.documents["breakdowns"] = out
    return out


def ranked_document(view: ElectionView) -> dict[str, Any]:
    """``results/ranked-choice.json``."""
    return {c: [rounds_json(p) for p in passes] for c, passes in view.ranked.items()}


def contest_csv(contest: str, by_county: Results, labels: dict[str, str]) -> bytes:
    """``results/<contest>.csv``: one contest by county."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    choices: list[str] = []
    for totals in by_county.groups.values():
        for t in totals:
            if t.contest == contest:
                choices += [c for c in t.votes if c not in choices]
    writer.writerow(
        ["county", *(labels.get(f"{contest}/{c}", c) for c in choices), "overvotes", "undervotes"]
    )
    for county, totals in sorted(by_county.groups.items()):
        for t in totals:
            if t.contest == contest:
                writer.writerow(
                    [county, *(t.votes.get(c, 0) for c in choices), t.overvotes, t.undervotes]
                )
    return out.getvalue().encode()


def render_results(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    yield "results/results.json", json_bytes(results_document(view))
    yield "results/breakdowns.json", json_bytes(breakdowns_document(view))
    for t in view.by_county.contests:
        yield f"results/{t.contest}.csv", contest_csv(t.contest, view.by_county, view.labels)
    report = election_report(
        view.definition,
        view.by_county,
        view.by_county,
        view.by_vote_type,
        view.result_status,
        view.definition.election.name,
        view.as_of_datetime,
    )
    yield "results/nist-1500-100.json", json_bytes(report)
    yield "results/ranked-choice.json", json_bytes(ranked_document(view))
