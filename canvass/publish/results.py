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
from canvass.tabulate.render import rounds_json


def totals_json(t: ContestTotals) -> dict[str, Any]:
    return {
        "votes": dict(t.votes),
        "ballots": t.ballots,
        "overvotes": t.overvotes,
        "undervotes": t.undervotes,
    }


def results_document(view: ElectionView) -> dict[str, Any]:
    """``results/results.json``."""
    counted, labels = view.by_county, view.labels
    return {
        "election": view.definition.election.id,
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
    for t in view.by_county.contests:
        yield f"results/{t.contest}.csv", contest_csv(t.contest, view.by_county, view.labels)
    status = "certified" if view.certified else "unofficial-complete"
    report = election_report(
        view.definition,
        view.by_county,
        view.by_county,
        view.by_vote_type,
        status,
        view.definition.election.name,
        view.as_of_datetime,
    )
    yield "results/nist-1500-100.json", json_bytes(report)
    yield "results/ranked-choice.json", json_bytes(ranked_document(view))
