"""Balancing each precinct and vote type: the poll book against the ballots tabulated,
and the ballot stock against what became of it.

For a unit (county, precinct, vote type):

- **voters − ballots**: the poll book's voters (check-ins in person; accepted absentee
  ballots by mail; provisionals apart) against the ballots tabulated. The signed
  difference is ``tabulated − voters``: positive, more ballots than voters.
- **ballot stock**: ballots issued = ballots voted + spoiled + unused, when the unit
  accounts for stock (issued > 0).

A unit out of balance on either is **explained** when the clerk recorded a reason for it;
an unexplained imbalance makes the precinct **not recountable** where the state's law says
so (Michigan, MCL 168.871). The summary is the one Michigan's post-election reports give:
units, units out of balance and their share, and the ballots in question.

A county whose ballots do not all name their precinct (a format without a precinct
column) is balanced at the level its data supports: by county and vote type, its poll-book
rows summed over its precincts, as the unit of precinct ``all``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from canvass.reconcile.pollbook import PollbookRow

REASONS = {
    "left-without-voting": "a voter checked in and left without casting a ballot",
    "ballot-not-tabulated": "a ballot was set aside (damaged, to be duplicated), not tabulated",
    "provisional-as-regular": "a provisional ballot was tabulated as a regular one",
    "spoiled-not-recorded": "a spoiled ballot was not recorded as spoiled",
    "poll-book-error": "the poll book recorded a voter wrongly (twice, or not at all)",
    "rescanned": "a batch was scanned twice and one scan removed",
    "other": "another reason, given in the text",
}
"""Reason codes for an explanation."""

Key = tuple[str, str, str]


@dataclass
class UnitBalance:
    county: str
    precinct: str
    vote_type: str
    voters: int
    tabulated: int
    provisional: int = 0
    issued: int = 0
    spoiled: int = 0
    unused: int = 0
    in_pollbook: bool = True
    explanations: list[tuple[str, str]] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.county, self.precinct, self.vote_type)

    @property
    def difference(self) -> int:
        """Ballots tabulated minus voters in the poll book."""
        return self.tabulated - self.voters

    @property
    def stock_difference(self) -> int:
        """Ballots issued minus those voted, spoiled and unused (0 when stock is not kept)."""
        if self.issued == 0:
            return 0
        return self.issued - (self.tabulated + self.spoiled + self.unused)

    @property
    def balanced(self) -> bool:
        return self.in_pollbook and self.difference == 0 and self.stock_difference == 0

    @property
    def explained(self) -> bool:
        return bool(self.explanations)

    @property
    def recountable(self) -> bool:
        return self.balanced or self.explained


ALL_PRECINCTS = "all"
"""The precinct of a unit that covers a whole county (see the module's docstring)."""


def whole_counties(tabulated: Mapping[Key, int]) -> set[str]:
    """The counties some of whose ballots name no precinct: balanced as a whole."""
    return {county for county, precinct, _ in tabulated if precinct == ALL_PRECINCTS}


def balance(
    pollbook: Iterable[PollbookRow],
    tabulated: Mapping[Key, int],
    explanations: Mapping[Key, list[tuple[str, str]]] | None = None,
) -> list[UnitBalance]:
    """Every unit of the poll book and every unit with tabulated ballots, balanced.
    Keys are (county id, precinct id, vote type); a county in :func:`whole_counties` is one
    unit per vote type."""
    explanations = explanations or {}
    whole = whole_counties(tabulated)
    if whole:
        summed: dict[Key, int] = {}
        for (county, precinct, vote_type), n in tabulated.items():
            key = (county, ALL_PRECINCTS if county in whole else precinct, vote_type)
            summed[key] = summed.get(key, 0) + n
        tabulated = summed
    units: dict[Key, UnitBalance] = {}
    for row in pollbook:
        key = (row.county, ALL_PRECINCTS if row.county in whole else row.precinct, row.vote_type)
        unit = units.get(key)
        if unit is None:
            unit = units[key] = UnitBalance(*key, voters=0, tabulated=tabulated.get(key, 0))
        unit.voters += row.voters
        unit.provisional += row.provisional_accepted
        unit.issued += row.ballots_issued
        unit.spoiled += row.ballots_spoiled
        unit.unused += row.ballots_unused
    for key, count in tabulated.items():
        if key not in units:
            units[key] = UnitBalance(*key, voters=0, tabulated=count, in_pollbook=False)
    for key, reasons in explanations.items():
        if key in units:
            units[key].explanations = list(reasons)
    return [units[k] for k in sorted(units)]


@dataclass(frozen=True)
class Summary:
    units: int
    out_of_balance: int
    ballots_in_question: int
    unexplained: int

    @property
    def share_out_of_balance(self) -> float:
        return 100 * self.out_of_balance / self.units if self.units else 0.0


def summarize(units: Iterable[UnitBalance]) -> Summary:
    units = list(units)
    out = [u for u in units if not u.balanced]
    return Summary(
        units=len(units),
        out_of_balance=len(out),
        ballots_in_question=sum(abs(u.difference) + abs(u.stock_difference) for u in out),
        unexplained=sum(1 for u in out if not u.explained),
    )


def summary_report(
    units: list[UnitBalance],
    county_names: Mapping[str, str],
    not_recountable: str | None = None,
) -> str:
    """The out-of-balance summary, per county and in all, with the units out of balance
    listed. ``not_recountable``: the law under which an unexplained imbalance bars a
    recount of the precinct (Michigan: MCL 168.871), named beside each such unit; ``None``
    where the state's law has no such rule."""
    lines = []
    by_county: dict[str, list[UnitBalance]] = {}
    for u in units:
        by_county.setdefault(u.county, []).append(u)
    for county, county_units in [*sorted(by_county.items()), ("", units)]:
        s = summarize(county_units)
        name = county_names.get(county, county) if county else "All counties"
        whole = county and all(u.precinct == ALL_PRECINCTS for u in county_units)
        lines.append(
            f"{name}: {s.units} units, {s.out_of_balance} out of balance "
            f"({s.share_out_of_balance:.1f}%), {s.ballots_in_question} ballots in question, "
            f"{s.unexplained} unexplained"
            + (
                "; reconciled by county and vote type (its ballots do not all name a precinct)"
                if whole
                else ""
            )
        )
    for u in units:
        if u.balanced:
            continue
        why = "; ".join(f"{code}: {text}" for code, text in u.explanations) or "UNEXPLAINED"
        lines.append(
            f"  {county_names.get(u.county, u.county)} / {u.precinct} / {u.vote_type}: "
            f"{u.voters} in poll book, {u.tabulated} tabulated ({u.difference:+d})"
            + (f", stock {u.stock_difference:+d}" if u.stock_difference else "")
            + ("" if u.in_pollbook else ", no poll book")
            + f" — {why}"
            + (
                ""
                if u.recountable or not not_recountable
                else f" — NOT RECOUNTABLE ({not_recountable})"
            )
        )
    return "\n".join(lines) + "\n"


def michigan_report(units: list[UnitBalance], county_names: Mapping[str, str]) -> str:
    """The summary as Michigan's canvass reports give it: an unexplained imbalance makes
    the precinct not recountable (MCL 168.871)."""
    return summary_report(units, county_names, "MCL 168.871")


def georgia_report(units: list[UnitBalance], county_names: Mapping[str, str]) -> str:
    """The reconciliation O.C.G.A. 21-2-421 asks of each precinct: voters in the poll book,
    ballots cast, provisional ballots, the difference and its explanation, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "county",
            "precinct",
            "vote_type",
            "voters_in_poll_book",
            "ballots_cast",
            "provisional_accepted",
            "difference",
            "ballots_issued",
            "ballots_spoiled",
            "ballots_unused",
            "explanation",
        ]
    )
    for u in units:
        why = "; ".join(f"{code}: {text}" for code, text in u.explanations)
        writer.writerow(
            [
                county_names.get(u.county, u.county),
                u.precinct,
                u.vote_type,
                str(u.voters),
                str(u.tabulated),
                str(u.provisional),
                str(u.difference),
                str(u.issued),
                str(u.spoiled),
                str(u.unused),
                why,
            ]
        )
    return out.getvalue()


REPORTS = ("summary", "georgia")
"""The reconciliation reports a state profile may choose."""


def report(
    layout: str,
    units: list[UnitBalance],
    county_names: Mapping[str, str],
    not_recountable: str | None = None,
) -> str:
    """The reconciliation report a state profile chooses (``summary`` or ``georgia``)."""
    if layout == "georgia":
        return georgia_report(units, county_names)
    if layout == "summary":
        return summary_report(units, county_names, not_recountable)
    raise ValueError(f"no reconciliation report {layout!r}; the reports are {', '.join(REPORTS)}")
