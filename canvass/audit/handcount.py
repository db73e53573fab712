"""A hand count against the machine count, county by county: Georgia's 2020 presidential
audit, a full hand tally of 5,023,513 ballots, exported by Arlo as an audit report with one
row per batch.

:func:`read_arlo_report` reads Arlo's audit report (sections ``ELECTION INFO``,
``CONTESTS``, ``AUDIT SETTINGS``, ``ROUNDS``, ``BATCH RESULTS``); :func:`compare` sets the
hand count beside machine totals per county and statewide, with each candidate's
difference and the margin each count gives.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field

from canvass.errors import IngestError


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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise IngestError(f"{where}: not UTF-8 text ({e})") from None
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(text)):
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
