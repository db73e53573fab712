"""Results-only import of a NIST SP 1500-100 v2 election results report (JSON).

A report gives ``VoteCounts`` per selection at several reporting units at once (a county
and its precincts), so taking every count would count votes twice. For each selection
the import takes the counts at precinct-level units (``precinct``, ``split-precinct``,
``combined-precinct``, ``polling-place``, ``vote-center``, ``ballot-batch``) when there
are any, and otherwise the count at the contest's own electoral district. When both are
given they must agree: precinct counts that do not add up to the district's total stop
the import. Counts by vote type (``election-day``, ``early``, ``absentee-mail``, …) are
taken in place of a unit's ``total`` when they are present, and must add up to it too.

Contests match the election definition by name, id or alias — first as the contest's name
and its district's (``REPRESENTATIVE IN CONGRESS, FIFTH DISTRICT``: one office voted in
several districts is a contest each), then by its name alone; selections by candidate
ballot name, measure selection text, or ``IsWriteIn``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import msgspec
import pyarrow as pa

from canvass.domain.model import ElectionDefinition
from canvass.errors import IngestError
from canvass.guard.documents import json_value, typed
from canvass.guard.text import read_file
from canvass.ingest.names import definition_contests, norm
from canvass.ingest.results_csv import MAX_VOTES, RESULTS_SCHEMA, ResultsImport

FINE_UNITS = {
    "precinct",
    "split-precinct",
    "combined-precinct",
    "polling-place",
    "vote-center",
    "ballot-batch",
}
VOTE_TYPES = {
    "election-day": "election_day",
    "early": "early",
    "absentee": "absentee",
    "absentee-mail": "absentee",
    "absentee-in-person": "early",
    "absentee-fwab": "uocava",
    "provisional": "provisional",
    "uocava": "uocava",
}

# The parts of SP 1500-100 v2 the import reads, typed: any other field is passed over, and
# a field of the wrong type is named by its path.


class _LanguageString(msgspec.Struct):
    Content: str = ""


class _Text(msgspec.Struct):
    """An ``InternationalizedText``: the first language's text is used."""

    Text: list[_LanguageString] = []


_Name = str | _Text | None


class _VoteCounts(msgspec.Struct):
    GpUnitId: str
    Count: Annotated[int, msgspec.Meta(ge=0, le=MAX_VOTES)]
    Type: str = "total"


class _Selection(msgspec.Struct):
    id: str = msgspec.field(name="@id", default="")
    IsWriteIn: bool = False
    CandidateIds: list[str] = []
    Selection: _Name = None
    VoteCounts: list[_VoteCounts] = []


class _Contest(msgspec.Struct):
    Name: _Name = None
    ElectionDistrictId: str | None = None
    PrimaryPartyIds: list[str] = []
    ContestSelection: list[_Selection] = []


class _Candidate(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    BallotName: _Name = None


class _Election(msgspec.Struct):
    Candidate: list[_Candidate] = []
    Contest: list[_Contest] = []


class _GpUnit(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    Name: _Name = None
    Type: str = ""


class _Party(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    Name: _Name = None


class _Report(msgspec.Struct):
    type: str = msgspec.field(name="@type", default="")
    GpUnit: list[_GpUnit] = []
    Party: list[_Party] = []
    Election: list[_Election] = []


def _text(value: _Name) -> str:
    if isinstance(value, _Text):
        return value.Text[0].Content if value.Text else ""
    return value or ""


def qualified_contest_name(name: str, district: str = "", party: str = "") -> str:
    """The name of one of several contests of one name, told apart by the district it is
    voted in and the party whose primary it is, where they differ
    (``REPRESENTATIVE IN CONGRESS, FIFTH DISTRICT``, ``GOVERNOR, DEMOCRAT``): a definition
    drafted from a report names them so, and the import matches such names first."""
    return ", ".join(part.strip() for part in (name, district, party) if part.strip())


def _contest_spellings(name: str, district: str, party: str) -> list[str]:
    """The names a report's contest may have in the definition, the most particular first."""
    return [
        norm(qualified_contest_name(name, d, p))
        for d, p in ((district, party), (district, ""), ("", party), ("", ""))
    ]


def _unique_name(parts: list[tuple[str, str, str]], n: int) -> str:
    """The plainest name that tells the report's contest ``n`` from every other."""
    name, district, party = parts[n]
    for d, p in (("", ""), ("", party), (district, ""), (district, party)):
        spelling = norm(qualified_contest_name(name, d, p))
        if not any(
            spelling in _contest_spellings(*other) for m, other in enumerate(parts) if m != n
        ):
            return qualified_contest_name(name, d, p)
    return qualified_contest_name(name, district, party)


def read_err(
    path: Path, definition: ElectionDefinition, county: str, skip: Sequence[str] = ()
) -> ResultsImport:
    """The report's counts (see the module's docstring). ``skip``: contests of the report
    the definition leaves out, named to be left out (by a name the report gives them, bare
    or with its district and party); the import's ``skipped`` says the votes each held."""
    data = read_file(path, IngestError)
    doc = json_value(data, str(path), unique=True)
    if not isinstance(doc, dict) or doc.get("@type") != "ElectionResults.ElectionReport":
        raise IngestError(f'{path}: expected "@type": "ElectionResults.ElectionReport"')
    report = typed(doc, _Report, str(path))
    units = {u.id: u for u in report.GpUnit}
    parties = {p.id: _text(p.Name) or p.id for p in report.Party}
    if not report.Election:
        raise IngestError(f"{path}: Election: expected an election; found none")
    election = report.Election[0]
    ballot_names = {c.id: _text(c.BallotName) for c in election.Candidate}
    pairs = definition_contests(definition)
    by_name: dict[str, int] = {}
    for index, c in enumerate(definition.contests):
        for spelling in (c.id, c.name, *c.aliases):
            by_name.setdefault(norm(spelling), index)
    rows: dict[str, list[object]] = {f.name: [] for f in RESULTS_SCHEMA}
    parts = [
        (
            _text(contest.Name),
            _text(units[contest.ElectionDistrictId].Name)
            if contest.ElectionDistrictId in units
            else "",
            parties.get(contest.PrimaryPartyIds[0], "") if contest.PrimaryPartyIds else "",
        )
        for contest in election.Contest
    ]
    spelled = [_contest_spellings(*p) for p in parts]
    skipped: dict[str, int] = {}
    for name in skip:
        if norm(name) in by_name:
            raise IngestError(
                f"{path}: --skip-contest {name!r}: the election definition has that contest "
                f"({definition.contests[by_name[norm(name)]].id!r}); it is counted, not left out"
            )
        if not any(norm(name) in spellings for spellings in spelled):
            raise IngestError(
                f"{path}: --skip-contest {name!r}: no contest of the report has that name"
            )
        skipped[name] = 0
    for n, contest in enumerate(election.Contest):
        where = f"{path}: Election[0].Contest[{n}] ({_text(contest.Name)!r})"
        found = next((by_name[n_] for n_ in spelled[n] if n_ in by_name), None)
        if found is None:
            left_out = next((name for name in skipped if norm(name) in spelled[n]), None)
            if left_out is not None:
                skipped[left_out] += sum(
                    votes
                    for selection in contest.ContestSelection
                    for _, _, votes in _counts(selection, units, contest.ElectionDistrictId, where)
                )
                continue
            raise IngestError(
                f"{where}: not a contest of the election definition; add an alias, or leave "
                f"it out of the import with --skip-contest {_unique_name(parts, n)!r}"
            )
        k = found
        _, choices = pairs[k]
        spellings: dict[str, int] = {}
        for position, ch in enumerate(choices):
            for spelling in (ch.id, ch.name, *ch.aliases):
                spellings.setdefault(norm(spelling), position)
        write_in = next((p for p, ch in enumerate(choices) if ch.write_in), None)
        district = contest.ElectionDistrictId
        for selection in contest.ContestSelection:
            j: int | None
            if selection.IsWriteIn:
                j = write_in
                label = "write-in"
            else:
                label = " / ".join(ballot_names.get(c, c) for c in selection.CandidateIds) or _text(
                    selection.Selection
                )
                j = spellings.get(norm(label))
            if j is None:
                raise IngestError(
                    f"{where}: selection {label!r} is not a choice of {pairs[k][0].name!r}; "
                    "add an alias"
                )
            for unit, vote_type, votes in _counts(selection, units, district, where):
                rows["county"].append(county)
                rows["precinct"].append(_text(units[unit].Name if unit in units else None) or unit)
                rows["vote_type"].append(vote_type)
                rows["contest"].append(k)
                rows["choice"].append(j)
                rows["votes"].append(votes)
    return ResultsImport(pa.table(rows, schema=RESULTS_SCHEMA), skipped=skipped)


def _counts(
    selection: _Selection, units: dict[str, _GpUnit], district: str | None, where: str
) -> list[tuple[str, str, int]]:
    """The non-overlapping counts of one selection: (unit, vote type, votes)."""
    by_unit: dict[str, dict[str, int]] = defaultdict(dict)
    for count in selection.VoteCounts:
        by_unit[count.GpUnitId][count.Type] = count.Count

    def split(unit: str) -> list[tuple[str, str, int]]:
        counts = by_unit[unit]
        typed = {t: v for t, v in counts.items() if t in VOTE_TYPES}
        if typed:
            if "total" in counts and sum(typed.values()) != counts["total"]:
                raise IngestError(
                    f"{where}: selection {selection.id!r} at {unit!r}: counts by vote "
                    f"type add up to {sum(typed.values())}, not the total {counts['total']}"
                )
            return [(unit, VOTE_TYPES[t], v) for t, v in typed.items()]
        return [(unit, "", counts.get("total", 0))]

    fine = [u for u in by_unit if u in units and units[u].Type in FINE_UNITS]
    if not fine:
        return split(district) if district in by_unit else []
    out = [c for u in fine for c in split(u)]
    if district in by_unit and "total" in by_unit[district]:
        total = sum(v for _, _, v in out)
        if total != by_unit[district]["total"]:
            raise IngestError(
                f"{where}: selection {selection.id!r}: precinct counts add up to "
                f"{total}, but {district!r} reports {by_unit[district]['total']}"
            )
    return out
