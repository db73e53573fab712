"""A hand count against the machine count, county by county: Georgia's 2020 presidential
audit, a full hand tally of 5,023,513 ballots, exported by Arlo as an audit report with one
row per batch.

:func:`read_arlo_report` reads Arlo's audit report (sections ``ELECTION INFO``,
``CONTESTS``, ``AUDIT SETTINGS``, ``ROUNDS``, ``BATCH RESULTS``); :func:`compare` sets the
hand count beside machine totals per county and statewide, with each candidate's
difference and the margin each count gives. :func:`hand_count_totals` sums the report per
county by the election's own county and choice ids, for recording the hand count in the
election as an audit of the certified result (``audit.hand_counted``), and :func:`beside`
sets it beside that result for people.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from canvass.errors import IngestError
from canvass.guard.text import decode_text, parse_csv


@dataclass
class ArloReport:
    sections: dict[str, list[list[str]]]
    choices: list[str]
    hand_count: dict[str, dict[str, int]]
    """County → choice → votes counted by hand, summed over its batches."""
    batches: int

    def setting(self, name: str) -> str:
        header, *rows = self.sections["AUDIT SETTINGS"]
        return rows[0][header.index(name)] if rows and name in header else ""

    def round_votes(self) -> dict[str, int]:
        """The audited votes Arlo reports for the last round, by choice."""
        header, *rows = self.sections["ROUNDS"]
        text = rows[-1][header.index("Audited Votes")]
        return _votes(text)


def _votes(text: str) -> dict[str, int]:
    out = {}
    for part in text.split(";"):
        name, _, count = part.strip().rpartition(":")
        out[name.strip()] = int(count)
    return out


def read_arlo_report(data: bytes, where: str = "audit report") -> ArloReport:
    # Read through the guarded decoding every reader shares: UTF-8 only, with the line and
    # byte of anything else, and CSV errors named by line.
    text = decode_text(data, where)
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in parse_csv(text, where):
        if row and row[0].startswith("########"):
            current = sections.setdefault(row[0].strip("# ").strip(), [])
        elif row and current is not None:
            current.append(row)
    if "BATCH RESULTS" not in sections or not sections["BATCH RESULTS"]:
        raise IngestError(f"{where}: expected a '######## BATCH RESULTS ########' section")
    header, *rows = sections["BATCH RESULTS"]
    fixed = ("Jurisdiction Name", "Batch Name", "Batch Type")
    if list(header[:3]) != list(fixed):
        raise IngestError(f"{where}: BATCH RESULTS: expected columns {', '.join(fixed)} first")
    choices = header[3:]
    hand: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(choices, 0))
    for n, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise IngestError(f"{where}: BATCH RESULTS row {n}: expected {len(header)} columns")
        counts = hand[row[0]]
        for choice, cell in zip(choices, row[3:], strict=True):
            if not cell.strip().isdigit():
                raise IngestError(
                    f"{where}: BATCH RESULTS row {n}, column {choice!r}: expected a count; "
                    f"found {cell!r}"
                )
            counts[choice] += int(cell)
    return ArloReport(sections, choices, dict(hand), len(rows))


@dataclass
class Comparison:
    counties: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    """County → candidate → (machine, hand)."""
    state: dict[str, tuple[int, int]] = field(default_factory=dict)

    def margin(self, winner: str, loser: str) -> tuple[int, int]:
        """(machine, hand) margin of ``winner`` over ``loser`` statewide."""
        (mw, hw), (ml, hl) = self.state[winner], self.state[loser]
        return mw - ml, hw - hl

    def text(self, winner: str, loser: str) -> str:
        machine, hand = self.margin(winner, loser)
        lines = [
            f"Statewide: {winner} over {loser} by {machine:,} in the machine count and by "
            f"{hand:,} in the hand count (a change of {hand - machine:+,})"
        ]
        for candidate, (m, h) in self.state.items():
            lines.append(f"  {candidate}: machine {m:,}, hand {h:,} ({h - m:+,})")
        moved = sorted(
            self.counties.items(),
            key=lambda kv: -sum(abs(h - m) for m, h in kv[1].values()),
        )
        lines.append("Counties where the counts differ most:")
        for county, counts in moved[:10]:
            parts = ", ".join(f"{c} {h - m:+,}" for c, (m, h) in counts.items() if h != m)
            lines.append(f"  {county}: {parts or 'no difference'}")
        same = sum(
            1 for counts in self.counties.values() if all(m == h for m, h in counts.values())
        )
        lines.append(
            f"{same} of {len(self.counties)} counties: the hand count equals the machine count"
        )
        return "\n".join(lines) + "\n"


def compare(
    machine: dict[str, dict[str, int]], hand: dict[str, dict[str, int]], candidates: list[str]
) -> Comparison:
    """Machine and hand counts side by side, per county (names matched ignoring case) and in
    all; a county missing from either side counts 0 there."""
    result = Comparison()
    m_by = {k.upper(): v for k, v in machine.items()}
    h_by = {k.upper(): v for k, v in hand.items()}
    for county in sorted(set(m_by) | set(h_by)):
        result.counties[county] = {
            c: (m_by.get(county, {}).get(c, 0), h_by.get(county, {}).get(c, 0)) for c in candidates
        }
    for c in candidates:
        result.state[c] = (
            sum(v[c][0] for v in result.counties.values()),
            sum(v[c][1] for v in result.counties.values()),
        )
    return result


def georgia_machine_counts(data: bytes, candidates: dict[str, str]) -> dict[str, dict[str, int]]:
    """County totals from Georgia's 2020 precinct results file: ``candidates`` maps each
    hand-count name to the file's column prefix (``Donald J. Trump`` → ``trump``)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(candidates, 0))
    for row in reader:
        for name, prefix in candidates.items():
            cell = row.get(f"{prefix}_all", "").strip()
            if cell.isdigit():
                out[row["CTYNAME"]][name] += int(cell)
    return dict(out)


@dataclass
class HandCountTotals:
    """A full hand count of one contest, as recorded in the election: the votes counted by
    hand per county and in all, by the definition's choice ids."""

    counties: dict[str, dict[str, int]]
    """County id → choice id → votes counted by hand."""
    totals: dict[str, int]
    """Choice id → votes counted by hand, in all."""
    other: dict[str, int]
    """The report's other columns (blank, overvote, write-ins not of a choice), in all."""
    batches: int

    def to_json(self) -> dict[str, Any]:
        return {
            "counties": self.counties,
            "totals": self.totals,
            "other": self.other,
            "batches": self.batches,
        }


def hand_count_totals(
    report: ArloReport, choices: Mapping[str, str], counties: Mapping[str, str], where: str
) -> HandCountTotals:
    """The report's batches summed per county and in all. ``choices`` maps a normalized
    name of each of the contest's choices to its id (a column naming none is kept under
    its own name in ``other``); ``counties`` a normalized county name to its id, and a
    jurisdiction that is no county of the election is refused."""
    ids = {column: choices.get(_norm(column)) for column in report.choices}
    found = HandCountTotals({}, {c: 0 for c in dict.fromkeys(choices.values())}, {}, report.batches)
    for name, counted in sorted(report.hand_count.items()):
        county = counties.get(_norm(name))
        if county is None:
            raise IngestError(
                f"{where}: BATCH RESULTS: jurisdiction {name!r} is not a county of the election"
            )
        into = found.counties.setdefault(county, {c: 0 for c in found.totals})
        for column, votes in counted.items():
            choice = ids[column]
            if choice is None:
                found.other[column] = found.other.get(column, 0) + votes
            else:
                into[choice] += votes
                found.totals[choice] += votes
    return found


def _norm(name: str) -> str:
    return " ".join(name.split()).casefold()


def beside(
    hand: Mapping[str, int], certified: Mapping[str, int], names: Mapping[str, str]
) -> list[str]:
    """The hand count set beside the certified votes, choice by choice, and the margin of
    the certified winner over the runner-up in each (for people)."""
    lines = []
    for choice in sorted(certified, key=lambda c: -certified[c]):
        m, h = certified[choice], hand.get(choice, 0)
        lines.append(f"  {names.get(choice, choice)}: certified {m:,}, hand {h:,} ({h - m:+,})")
    ranked = sorted(certified, key=lambda c: -certified[c])
    if len(ranked) >= 2:
        first, second = ranked[:2]
        machine = certified[first] - certified[second]
        by_hand = hand.get(first, 0) - hand.get(second, 0)
        lines.append(
            f"  {names.get(first, first)} over {names.get(second, second)}: by {machine:,} as "
            f"certified, by {by_hand:,} by hand (a change of {by_hand - machine:+,})"
        )
    return lines


def hand_count_document(
    name: str,
    contest: str,
    entry: int,
    recorded: Mapping[str, Any],
    certificate: str,
    certified: Mapping[str, Any],
    certified_counties: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """A hand count set beside the certificate it audits, as published: statewide and per
    county, each choice's certified and hand-counted votes, and the certified winner's
    margin over the runner-up in each count. ``recorded`` is the ``audit.hand_counted``
    entry's data; ``certified`` the certificate's results for the contest (``votes``);
    ``certified_counties`` each county certificate's."""
    votes = dict(certified.get("votes") or {})
    ranked = sorted(votes, key=lambda c: (-votes[c], c))
    hand = recorded["totals"]
    doc: dict[str, Any] = {
        "name": name,
        "contest": contest,
        "entry": entry,
        "batches": recorded["batches"],
        "certificate": certificate,
        "state": {c: {"certified": votes.get(c, 0), "hand": hand.get(c, 0)} for c in ranked},
        "other": recorded.get("other", {}),
        "counties": {
            county: {
                c: {
                    "certified": (certified_counties.get(county) or {}).get("votes", {}).get(c, 0),
                    "hand": counted.get(c, 0),
                }
                for c in ranked
            }
            for county, counted in sorted(recorded["counties"].items())
        },
    }
    if len(ranked) >= 2:
        first, second = ranked[:2]
        doc["margin"] = {
            "winner": first,
            "runner_up": second,
            "certified": votes[first] - votes[second],
            "hand": hand.get(first, 0) - hand.get(second, 0),
        }
    return doc


def hand_count_text(doc: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """The published hand count for people."""
    lines = [
        f"Hand count {doc['name']} of {names.get(doc['contest'], doc['contest'])}: "
        f"{doc['batches']:,} batches counted by hand, recorded at log entry {doc['entry']} "
        f"beside the certificate {doc['certificate'][:12]}"
    ]
    for choice, counted in doc["state"].items():
        m, h = counted["certified"], counted["hand"]
        label = names.get(f"{doc['contest']}/{choice}", choice)
        lines.append(f"  {label}: certified {m:,}, by hand {h:,} ({h - m:+,})")
    margin = doc.get("margin")
    if margin:
        win = names.get(f"{doc['contest']}/{margin['winner']}", margin["winner"])
        run = names.get(f"{doc['contest']}/{margin['runner_up']}", margin["runner_up"])
        lines.append(
            f"  {win} over {run}: by {margin['certified']:,} as certified, by "
            f"{margin['hand']:,} by hand (a change of {margin['hand'] - margin['certified']:+,})"
        )
    for column, votes in doc["other"].items():
        lines.append(f"  {column}: {votes:,} by hand")
    moved = sorted(
        doc["counties"].items(),
        key=lambda kv: (-sum(abs(v["hand"] - v["certified"]) for v in kv[1].values()), kv[0]),
    )
    lines.append("Counties where the counts differ most:")
    contest = doc["contest"]
    for county, counts in moved[:10]:
        parts = ", ".join(
            f"{names.get(contest + '/' + c, c)} {v['hand'] - v['certified']:+,}"
            for c, v in counts.items()
            if v["hand"] != v["certified"]
        )
        lines.append(f"  {names.get(county, county)}: {parts or 'no difference'}")
    return "\n".join(lines) + "\n"
