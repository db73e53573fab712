"""Results-only import of OpenElections' CSV layout: one row per precinct, office and
candidate (``county,precinct,office,district,candidate,party,votes``), as the project
publishes each state's official results (Antrim County, Michigan, 2020).

- ``county`` names the county by id or name; ``precinct`` the precinct (a county-level
  file has no ``precinct`` column: each row is then the county's total);
- ``office`` and ``district`` name the contest: the definition's contest named
  ``OFFICE, District DISTRICT`` (as a draft names an office voted in a district) or else
  ``OFFICE``; ``candidate`` is one of its choices by id, name or alias, an ``Unresolved
  Write-In`` (or any name beginning ``Write-In``/``Unresolved``) its write-in line;
- ``votes`` is a whole number (empty: no count); counts not broken down by how ballots
  were cast, kept under the vote type ``total``.

Rows of an office that is not a contest — ``Registered Voters``, ``Ballots Cast``,
``Straight Party`` — are passed over, and the import lists those offices. Any other
column (``party``, ``election_day``, ``absentee``) is not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from canvass.domain.model import ElectionDefinition
from canvass.errors import IngestError
from canvass.guard.text import csv_rows, whole_number
from canvass.ingest.draft import DraftChoice, DraftContest, Elements
from canvass.ingest.files import data_rows
from canvass.ingest.names import definition_contests, norm
from canvass.ingest.results_csv import MAX_VOTES, RESULTS_SCHEMA, TOTAL, ResultsImport, county_ids

REQUIRED = ("county", "office", "candidate", "votes")
NOT_CONTESTS = {"registered voters", "ballots cast", "straight party"}
"""Offices of the layout that are not contests of candidates (a party's straight ticket is
not a contest of the definition)."""


def contest_name(office: str, district: str) -> str:
    """The definition's name for an office voted in a district (``U S House, District 1``)."""
    office, district = office.strip(), district.strip()
    return f"{office}, District {district}" if district else office


def _write_in(candidate: str) -> bool:
    text = norm(candidate)
    return text.startswith(("write-in", "write in", "unresolved"))


def _header(path: Path) -> tuple[list[str], dict[str, int], object]:
    reader = csv_rows(path)
    header = next(reader, None)
    if header is None:
        raise IngestError(f"{path}: the file is empty; expected a header row")
    at = {name.strip().lower(): i for i, name in enumerate(header)}
    for name in REQUIRED:
        if name not in at:
            raise IngestError(f"{path} row 1: expected a column {name!r}; found none")
    return header, at, reader


def read_openelections(path: Path, definition: ElectionDefinition) -> ResultsImport:
    """The file's counts as a results table (see the module's docstring)."""
    header, at, reader = _header(path)
    pairs = definition_contests(definition)
    by_name: dict[str, int] = {}
    for n, c in enumerate(definition.contests):
        for spelling in (c.id, c.name, *c.aliases):
            by_name.setdefault(norm(spelling), n)
    counties = county_ids(definition)
    rows: dict[str, list[object]] = {f.name: [] for f in RESULTS_SCHEMA}
    passed_over: set[str] = set()
    found = ResultsImport(pa.table(rows, schema=RESULTS_SCHEMA))
    precinct_at = at.get("precinct")
    for number, row in data_rows(reader, path, len(header), 2):  # type: ignore[arg-type]
        where = f"{path} row {number}"
        office = row[at["office"]].strip()
        district = row[at["district"]].strip() if "district" in at else ""
        k = by_name.get(norm(contest_name(office, district)))
        if k is None:
            k = by_name.get(norm(office))
        if k is None:
            if norm(office) in NOT_CONTESTS or not row[at["candidate"]].strip():
                passed_over.add(office)
                continue
            raise IngestError(
                f"{where}: office {contest_name(office, district)!r} is not a contest of the "
                "election definition; add it, or an alias"
            )
        county = counties.get(norm(row[at["county"]]))
        if county is None:
            raise IngestError(
                f"{where}, column county: expected a county of the election definition; "
                f"found {row[at['county']]!r}"
            )
        candidate = row[at["candidate"]].strip()
        _, choices = pairs[k]
        j = next(
            (
                j
                for j, ch in enumerate(choices)
                if norm(candidate) in {norm(ch.id), norm(ch.name), *(norm(a) for a in ch.aliases)}
            ),
            None,
        )
        if j is None and _write_in(candidate):
            j = next((j for j, ch in enumerate(choices) if ch.write_in), None)
        if j is None:
            raise IngestError(
                f"{where}, column candidate: expected a choice of {pairs[k][0].name!r}; found "
                f"{candidate!r}. Add it as an alias"
            )
        cell = row[at["votes"]].strip()
        votes = whole_number(cell, MAX_VOTES)
        if votes is None:
            if cell in ("", "NA"):
                found.not_reported.append(f"row {number}: {row[at['county']]}/{office}")
                continue
            raise IngestError(f"{where}, column votes: expected a whole number; found {cell!r}")
        rows["county"].append(county)
        rows["precinct"].append(row[precinct_at].strip() if precinct_at is not None else "")
        rows["vote_type"].append(TOTAL)
        rows["contest"].append(k)
        rows["choice"].append(j)
        rows["votes"].append(votes)
    found.table = pa.table(rows, schema=RESULTS_SCHEMA)
    found.ignored_columns = [f"office {name!r}" for name in sorted(passed_over)]
    return found


def openelections_elements(paths: Sequence[Path], county: str, source: str) -> Elements:
    """What an OpenElections file says of the election: its county, precincts, contests
    (an office in each district) and candidates with their parties."""
    if len(paths) != 1 or not paths[0].is_file():
        raise IngestError("an openelections definition is drafted from one CSV file")
    path = paths[0]
    header, at, reader = _header(path)
    counties: set[str] = set()
    contests: dict[str, DraftContest] = {}
    precincts: dict[str, list[str]] = {}
    parties: list[str] = []
    passed_over: set[str] = set()
    for _, row in data_rows(reader, path, len(header), 2):  # type: ignore[arg-type]
        if county and norm(row[at["county"]]) != norm(county):
            continue  # a file of several counties, drafted a county at a time
        counties.add(row[at["county"]].strip())
        if "precinct" in at and row[at["precinct"]].strip():
            precincts.setdefault(row[at["precinct"]].strip(), [])
        office, candidate = row[at["office"]].strip(), row[at["candidate"]].strip()
        if norm(office) in NOT_CONTESTS or not candidate:
            passed_over.add(office)
            continue
        district = row[at["district"]].strip() if "district" in at else ""
        name = contest_name(office, district)
        contest = contests.setdefault(name, DraftContest(name))
        if _write_in(candidate):
            if not any(ch.kind == "write_in" for ch in contest.choices):
                contest.choices.append(DraftChoice(candidate, "write_in"))
            continue
        party = row[at["party"]].strip() if "party" in at else ""
        if party and party not in parties:
            parties.append(party)
        if all(ch.name != candidate for ch in contest.choices):
            contest.choices.append(DraftChoice(candidate, party=party))
    if county and not counties:
        raise IngestError(f"{source}: no row names the county {county!r}")
    named = county or (next(iter(counties)) if len(counties) == 1 else "")
    if not named:
        raise IngestError(
            f"{source}: the file holds {len(counties)} counties; draft each as COUNTY=PATH "
            "(the county as the file names it)"
        )
    found = Elements(named, source)
    found.contests = list(contests.values())
    found.precincts = precincts
    found.parties = parties
    if passed_over:
        found.review.append(
            "rows of offices that are not contests were passed over: "
            + ", ".join(sorted(passed_over))
        )
    found.review.append("the file gives no vote-for: each contest is drafted as vote for 1")
    return found
