"""Results-only import of a NIST SP 1500-100 v2 election results report (JSON).

A report gives ``VoteCounts`` per selection at several reporting units at once (a county
and its precincts), so taking every count would count votes twice. For each selection
the import takes the counts at precinct-level units (``precinct``, ``split-precinct``,
``combined-precinct``, ``polling-place``, ``vote-center``, ``ballot-batch``) when there
are any, and otherwise the count at the contest's own electoral district. When both are
given they must agree: precinct counts that do not add up to the district's total stop
the import. Counts by vote type (``election-day``, ``early``, ``absentee-mail``, …) are
taken in place of a unit's ``total`` when they are present, and must add up to it too.

Contests match the election definition by name, id or alias; selections by candidate
ballot name, measure selection text, or ``IsWriteIn``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Annotated

import msgspec
import pyarrow as pa

from canvass.domain.model import ElectionDefinition
from canvass.errors import IngestError
from canvass.guard.documents import json_value, typed
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


class _Report(msgspec.Struct):
    type: str = msgspec.field(name="@type", default="")
    GpUnit: list[_GpUnit] = []
    Election: list[_Election] = []


def _text(value: _Name) -> str:
    if isinstance(value, _Text):
        return value.Text[0].Content if value.Text else ""
    return value or ""


def read_err(path: Path, definition: ElectionDefinition, county: str) -> ResultsImport:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(f"{path}: cannot read ({e.strerror})") from None
    doc = json_value(data, str(path))
    if not isinstance(doc, dict) or doc.get("@type") != "ElectionResults.ElectionReport":
        raise IngestError(f'{path}: expected "@type": "ElectionResults.ElectionReport"')
    report = typed(doc, _Report, str(path))
    units = {u.id: u for u in report.GpUnit}
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
    for n, contest in enumerate(election.Contest):
        where = f"{path}: Election[0].Contest[{n}] ({_text(contest.Name)!r})"
        found = by_name.get(norm(_text(contest.Name)))
        if found is None:
            raise IngestError(f"{where}: not a contest of the election definition; add an alias")
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
    return ResultsImport(pa.table(rows, schema=RESULTS_SCHEMA))


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
