"""Round-by-round reports in the Universal RCV Tabulator (URCVT) formats RCTab writes: the
detailed report as JSON (``jsonFormatVersion`` 1) and as CSV, for the whole contest and for
each precinct or batch.

The JSON is laid out as RCTab lays it out (keys in alphabetical order, Jackson's default
pretty printer, numbers as decimal strings keeping their scale) and lists candidates in
RCTab's order, so the two tools' reports can be compared line by line.
"""

from __future__ import annotations

import csv
import decimal
import io
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from canvass.tabulate.javaorder import hash_map_order
from canvass.tabulate.rcv import (
    INACTIVE_REPORTED,
    UNDECLARED_WRITE_INS,
    ZERO,
    Round,
    Status,
    Tabulation,
)

GENERATED_BY = "Canvass"
SLICE_TITLES = {"precinct": "Precinct", "batch": "Batch"}


@dataclass(frozen=True)
class ReportHeader:
    """What a report says of its contest, from its configuration."""

    contest: str
    jurisdiction: str = ""
    office: str = ""
    date: str = ""


@dataclass(frozen=True)
class Report:
    """One detailed report: the whole contest (``slice`` empty) or one precinct or batch."""

    slice: str
    slice_id: str
    rounds: list[Round]


def reports(tabulation: Tabulation) -> list[Report]:
    """The contest's report, then one per precinct and per batch counted."""
    found = [Report("", "", tabulation.rounds)]
    for kind, per_slice in tabulation.slices.items():
        found += [Report(kind, s, rounds) for s, rounds in per_slice.items()]
    return found


def report_json(info: ReportHeader, tabulation: Tabulation, report: Report) -> str:
    rules = tabulation.rules
    rounds = report.rounds
    config: dict[str, Any] = {
        "contest": info.contest,
        "date": info.date,
        "generatedBy": GENERATED_BY,
        "jurisdiction": info.jurisdiction,
        "office": info.office,
    }
    if report.slice:
        config[report.slice] = report.slice_id
    results = []
    for rnd in rounds:
        inactive = {s.value: rnd.inactive[s] for s in INACTIVE_REPORTED}
        if rules.uses_surpluses and rnd is rounds[-1]:
            inactive[Status.FINAL_ROUND_SURPLUS.value] = rnd.inactive[Status.FINAL_ROUND_SURPLUS]
        actions = [
            {kind: c, "transfers": rnd.transfers.get(c, {})}
            for kind, names in (("elected", rnd.elected), ("eliminated", rnd.eliminated))
            for c in names
        ]
        results.append(
            {
                "inactiveBallots": inactive,
                "round": rnd.number,
                "tally": rnd.tally,
                "tallyResults": actions,
                "threshold": rnd.threshold,
            }
        )
    first = rounds[0]
    doc = {
        "config": config,
        "jsonFormatVersion": "1",
        "results": results,
        "summary": {
            "finalThreshold": rounds[-1].threshold,
            "numCandidates": len(rules.candidates),
            "numWinners": rules.number_of_winners,
            "totalNumBallots": first.active + sum(first.inactive.values(), ZERO),
            "undervotes": int(first.inactive[Status.UNDERVOTE]),
        },
    }
    return _jackson(doc, 0)


def _jackson(value: Any, level: int) -> str:
    """JSON as Jackson's ``DefaultPrettyPrinter`` writes it, map keys sorted."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        inner = "  " * (level + 1)
        items = ",\n".join(
            f"{inner}{_quoted(str(k))} : {_jackson(v, level + 1)}"
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        )
        return "{\n" + items + "\n" + "  " * level + "}"
    if isinstance(value, list):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(_jackson(v, level) for v in value) + " ]"
    if isinstance(value, Decimal):
        return _quoted(str(value))
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    return _quoted(value)


_quoted = json.encoder.encode_basestring
"""A JSON string as ``json.dumps(text, ensure_ascii=False)`` writes it, without the call's
set-up (reports of many precincts quote hundreds of thousands of strings)."""


def candidate_order(tabulation: Tabulation) -> list[str]:
    """Round 1's candidates, most votes first, undeclared write-ins last; ties in RCTab's
    (hash map) order."""
    first = tabulation.rounds[0].tally
    return sorted(
        hash_map_order(first),
        key=lambda c: (c == UNDECLARED_WRITE_INS, -first[c] if c != UNDECLARED_WRITE_INS else 0),
    )


def _percent(votes: Decimal, of: Decimal) -> str:
    if of == 0:
        return ""
    share = decimal.Context(prec=7, rounding=decimal.ROUND_HALF_EVEN).divide(votes, of)
    return f"{int(share.scaleb(4)) / 100.0!r}%"


def report_csv(info: ReportHeader, tabulation: Tabulation, report: Report) -> str:
    rules = tabulation.rules
    rounds = report.rounds
    is_slice = bool(report.slice)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    winners = [c for rnd in tabulation.rounds for c in rnd.elected]
    first = rounds[0]
    no_rankings = first.inactive[Status.UNDERVOTE]
    w.writerows(
        [
            ["Contest Information"],
            ["Generated By", GENERATED_BY],
            ["CSV Format Version", "1"],
            [
                "Type of Election",
                "Single-Winner" if rules.winner_mode == "singleWinnerMajority" else "Multi-Winner",
            ],
            ["Contest", info.contest],
            ["Jurisdiction", info.jurisdiction],
            ["Office", info.office],
            ["Date", info.date],
            ["Winner(s)", ", ".join(winners)],
            [SLICE_TITLES[report.slice], report.slice_id]
            if is_slice
            else ["Final Threshold", str(rounds[-1].threshold)],
            [],
            ["Contest Summary"],
            ["Number to be Elected", _to_elect(tabulation)],
            ["Number of Candidates", str(rules.in_count)],
            ["Total Number of Ballots", str(first.active + sum(first.inactive.values(), ZERO))],
            ["Number of Undervotes (No Rankings)", str(no_rankings)],
            [],
        ]
    )
    header = ["Rounds"]
    for rnd in rounds:
        header += [f"Round {rnd.number} Votes", "% of vote", "transfer"]
    w.writerow(header)
    dagger = "\u2020" if is_slice else ""
    for label, attr in (("Eliminated", "eliminated"), ("Elected", "elected")):
        row = [label + dagger]
        for rnd in tabulation.rounds[: len(rounds)]:
            names = [
                c + ("*" if c in tabulation.decided_by_tie else "") for c in getattr(rnd, attr)
            ]
            row += ["; ".join(names), "", ""]
        w.writerow(row)
    # Shares are of each round's votes while the threshold follows the count, else of
    # round 1's.
    per_round = not rules.first_round_determines_threshold and (
        rules.winner_mode == "singleWinnerMajority" or rules.bottoms_up_threshold
    )
    shares_of = [_active(rnd if per_round else first) for rnd in rounds]
    for c in candidate_order(tabulation):
        row = [c]
        for i, rnd in enumerate(rounds):
            votes = rnd.tally.get(c, ZERO)
            of = shares_of[i]
            after = rounds[i + 1].tally.get(c, ZERO) if i + 1 < len(rounds) else None
            row += [
                str(votes),
                _percent(votes, of),
                str(after - votes) if after is not None else "0",
            ]
        w.writerow(row)
    w.writerow(_per_round("Active Ballots", rounds, _active, False))
    if not is_slice:
        w.writerow(_per_round("Current Round Threshold", rounds, lambda r: r.threshold, False))
    for status, title in (
        (Status.OVERVOTE, "Overvotes"),
        (Status.SKIPPED, "Skipped Rankings"),
        (Status.EXHAUSTED, "Exhausted Choices"),
        (Status.REPEATED, "Repeated Rankings"),
    ):
        w.writerow(
            _per_round(
                f"Inactive Ballots by {title}", rounds, lambda r, s=status: r.inactive[s], True
            )
        )
    w.writerow(
        _per_round(
            "Inactive Ballots Total",
            rounds,
            lambda r: (
                sum((v for s, v in r.inactive.items() if s is not Status.FINAL_ROUND_SURPLUS), ZERO)
                - no_rankings
            ),
            True,
        )
    )
    if not is_slice and rounds[-1].residual_surplus > 0:
        w.writerow(_per_round("Residual surplus", rounds, lambda r: r.residual_surplus, False))
    if rules.uses_surpluses:
        row = ["Final Round Surplus"]
        for rnd in rounds:
            surplus = rnd.inactive[Status.FINAL_ROUND_SURPLUS]
            row += ["" if str(surplus) == "0" else str(surplus), "", ""]
        w.writerow(row)
    if is_slice:
        w.writerow([])
        w.writerow(
            [
                "\u2020Elect/Eliminate decisions are from the full contest. All other results on "
                f"this report are at the {report.slice} level."
            ]
        )
    if tabulation.decided_by_tie:
        w.writerow([])
        w.writerow(["*Tie resolved in accordance with election law"])
    return out.getvalue()


def _active(rnd: Round) -> Decimal:
    """Ballots counting for a candidate, held by one elected earlier, or left over as the
    last round's surplus."""
    return rnd.continuing_and_elected() + rnd.inactive[Status.FINAL_ROUND_SURPLUS]


def _to_elect(tabulation: Tabulation) -> str:
    share = tabulation.rules.bottoms_up_percentage
    if share is None:
        return str(tabulation.rules.number_of_winners)
    return f"All candidates over the {(share * 100).normalize():f}% threshold"


def _per_round(title: str, rounds: list[Round], value: Any, transfer: bool) -> list[str]:
    row = [title]
    for i, rnd in enumerate(rounds):
        v = value(rnd)
        change = ""
        if transfer:
            change = str(value(rounds[i + 1]) - v) if i + 1 < len(rounds) else "0"
        row += [str(v), "", change]
    return row


def sanitize(name: str) -> str:
    """A name made safe for a file name, as RCTab makes it."""
    return re.sub(r"[^a-zA-Z0-9_\-.]", "_", name)


def write_reports(
    stem: str, info: ReportHeader, passes: list[Tabulation], folder: Path
) -> list[Path]:
    """Write every report of every pass into ``folder``: ``<stem>_detailed_report.json``
    and ``.csv`` (``<stem>_<n>_detailed_report...`` for each pass of a multi-pass contest),
    and ``<stem>_<id>_<precinct|batch>_detailed_report...`` for each slice. Each file is
    written whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    texts: list[tuple[Path, str]] = []
    for n, tabulation in enumerate(passes, start=1):
        base = f"{stem}_{n}" if len(passes) > 1 else stem
        for report in reports(tabulation):
            name = base
            if report.slice:
                name += f"_{sanitize(report.slice_id)}_{report.slice}"
            for suffix, text in (
                (".json", report_json(info, tabulation, report)),
                (".csv", report_csv(info, tabulation, report)),
            ):
                texts.append((folder / f"{name}_detailed_report{suffix}", text))
    # Written by several threads: each file is still synced before it is renamed into
    # place, but the syncs of a contest's hundreds of precinct reports overlap.
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: _write_whole(*item), texts))
    return [path for path, _ in texts]


def _write_whole(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
