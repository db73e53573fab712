"""Reconciliation reports on published results: ballots cast against the votes in each
contest, and the parts of each count against its total, where a results file gives them.

- **Michigan county results** (OpenElections layout: ``county, office, district,
  candidate, party, election_day, absentee, votes``, with ``Registered Voters`` and
  ``Ballots Cast`` rows): for each county that reports ballots cast, every vote-for-one
  contest's votes against them (votes may not exceed ballots; the rest are undervotes
  and overvotes), and every row whose election-day and absentee votes do not add up to
  its total.
- **Georgia precinct results** (``reg_voters``, ``<candidate>_<eday|adv|abs|prov|all>``
  and the contest totals ``pres_all``, ``sen_normal_all``, ``sen_special_all``): for each
  precinct, each candidate's vote methods against their total, the candidates against the
  contest total, and every contest's votes against the registered voters.

A finding names the unit, the contest, what should hold and the numbers that do not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from canvass.errors import IngestError
from canvass.guard.text import decode_text, parse_csv

VOTE_FOR_ONE = ("President", "U.S. Senate", "U.S. House", "State House", "Straight Party")
"""Michigan offices where a ballot has at most one vote (Straight Party: one party)."""


@dataclass(frozen=True)
class Finding:
    unit: str
    contest: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.unit} / {self.contest}: {self.rule}: {self.detail}"


@dataclass
class PublishedReport:
    units: int = 0
    balanced_units: int = 0
    findings: list[Finding] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    """Per unit and contest: ballots cast (when known), votes and the residual."""

    def text(self) -> str:
        head = [
            f"{self.units} units; {self.balanced_units} with ballots cast to balance against; "
            f"{len(self.findings)} imbalances"
        ]
        return "\n".join([*head, *self.lines, "", *(str(f) for f in self.findings)]) + "\n"


def _rows(data: bytes, where: str) -> tuple[list[str], list[list[str]]]:
    reader = parse_csv(decode_text(data, where), where)
    header = [h.strip() for h in next(reader, [])]
    # A short row reads as empty cells at its end, a long one is cut to the header.
    width = len(header)
    return header, [(r + [""] * width)[:width] for r in reader if any(c.strip() for c in r)]


def _int(cell: str, where: str) -> int | None:
    cell = cell.strip()
    if not cell:
        return None
    if not re.fullmatch(r"-?[0-9]{1,18}", cell):
        raise IngestError(f"{where}: expected a whole number; found {cell!r}")
    return int(cell)


def michigan_counties(data: bytes, where: str = "county results") -> PublishedReport:
    header, rows = _rows(data, where)
    need = ("county", "office", "district", "candidate", "election_day", "absentee", "votes")
    missing = [c for c in need if c not in header]
    if missing:
        raise IngestError(f"{where} row 1: expected columns {', '.join(missing)}; not found")
    at = {c: header.index(c) for c in need}
    report = PublishedReport()
    ballots: dict[str, int] = {}
    contests: dict[tuple[str, str], int] = {}
    for n, row in enumerate(rows, start=2):
        county, office = row[at["county"]].strip(), row[at["office"]].strip()
        if not county or not office:
            continue
        counts: dict[str, int | None] = {}
        for column in ("votes", "election_day", "absentee"):
            try:
                counts[column] = _int(row[at[column]], f"row {n}, column {column!r}")
            except IngestError as e:  # a published file's typo is a finding, not a stop
                counts[column] = None
                report.findings.append(Finding(county, office, "counts are whole numbers", str(e)))
        votes, day, absentee = counts["votes"], counts["election_day"], counts["absentee"]
        if office == "Ballots Cast" and votes is not None:
            ballots[county] = votes
        if (
            day is not None
            and absentee is not None
            and votes is not None
            and day + absentee != votes
        ):
            contest = " ".join(
                x for x in (office, row[at["district"]].strip(), row[at["candidate"]].strip()) if x
            )
            report.findings.append(
                Finding(
                    county,
                    contest,
                    "election day + absentee = total",
                    f"{day:,} + {absentee:,} = {day + absentee:,}, "
                    f"but the total is {votes:,} (row {n})",
                )
            )
        if office in VOTE_FOR_ONE and votes is not None:
            key = (county, f"{office} {row[at['district']].strip()}".strip())
            contests[key] = contests.get(key, 0) + votes
    counties = sorted({c for c, _ in contests} | set(ballots))
    report.units = len(counties)
    report.balanced_units = sum(1 for c in counties if c in ballots)
    for (county, contest), votes in sorted(contests.items()):
        cast = ballots.get(county)
        if cast is None:
            continue
        residual = cast - votes
        report.lines.append(
            f"{county} / {contest}: {cast:,} ballots cast, {votes:,} votes, "
            f"{residual:,} undervotes and overvotes ({100 * residual / cast:.2f}%)"
        )
        if votes > cast:
            report.findings.append(
                Finding(
                    county,
                    contest,
                    "votes ≤ ballots cast",
                    f"{votes:,} votes, {cast:,} ballots cast",
                )
            )
    without = [c for c in counties if c not in ballots]
    if without:
        report.lines.append(
            f"{len(without)} counties report no ballots cast to balance against: "
            + ", ".join(without)
        )
    return report


GEORGIA_CONTESTS = {
    "pres": "President",
    "sen_normal": "U.S. Senate (Perdue)",
    "sen_special": "U.S. Senate (Loeffler, special)",
}
GEORGIA_CANDIDATES = {
    "pres": ("trump", "biden", "jorgensen"),
    "sen_normal": ("perdue", "ossoff", "hazel"),
}
METHODS = ("eday", "adv", "abs", "prov")


def georgia_precincts(data: bytes, where: str = "precinct results") -> PublishedReport:
    header, rows = _rows(data, where)
    for column in ("CTYNAME", "PRECINCT_N", "reg_voters", *(f"{c}_all" for c in GEORGIA_CONTESTS)):
        if column not in header:
            raise IngestError(f"{where} row 1: expected a column {column!r}; not found")
    at = {h: i for i, h in enumerate(header)}
    candidates = sorted(
        {h.rsplit("_", 1)[0] for h in header if h.endswith("_all")} - set(GEORGIA_CONTESTS)
    )
    special = tuple(
        c for c in candidates if c not in {x for v in GEORGIA_CANDIDATES.values() for x in v}
    )
    members = {**GEORGIA_CANDIDATES, "sen_special": special}
    report = PublishedReport()
    for n, row in enumerate(rows, start=2):
        unit = f"{row[at['CTYNAME']].strip()} / {row[at['PRECINCT_N']].strip()}"
        report.units += 1

        unreadable: list[str] = []

        def number(
            column: str, n: int = n, row: list[str] = row, unreadable: list[str] = unreadable
        ) -> int | None:
            try:
                return _int(row[at[column]], f"row {n}, column {column!r}") or 0
            except IngestError as e:  # 'NA' and the like: reported, not counted
                unreadable.append(str(e))
                return None

        registered = number("reg_voters")
        for candidate in candidates:
            parts = [number(f"{candidate}_{m}") for m in METHODS if f"{candidate}_{m}" in at]
            total = number(f"{candidate}_all")
            if None in parts or total is None:
                continue
            known = [p for p in parts if p is not None]
            if sum(known) != total:
                report.findings.append(
                    Finding(
                        unit,
                        candidate,
                        "election day + advance + absentee + provisional = all",
                        f"{' + '.join(map(str, known))} = {sum(known)}, but all is {total}",
                    )
                )
        for contest, name in GEORGIA_CONTESTS.items():
            total = number(f"{contest}_all")
            votes = [number(f"{c}_all") for c in members[contest]]
            if total is None or None in votes:
                continue
            summed = sum(v for v in votes if v is not None)
            if summed != total:
                report.findings.append(
                    Finding(
                        unit,
                        name,
                        "candidates add up to the contest total",
                        f"{summed} votes for its candidates, {total} in the total",
                    )
                )
            if registered and total > registered:
                report.findings.append(
                    Finding(
                        unit,
                        name,
                        "votes ≤ registered voters",
                        f"{total} votes, {registered} registered",
                    )
                )
        if unreadable:
            report.findings.append(
                Finding(
                    unit,
                    "-",
                    "counts are whole numbers",
                    f"{len(unreadable)} cells: {unreadable[0]}",
                )
            )
    return report
