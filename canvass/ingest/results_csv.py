"""Results-only imports: precinct × vote-type vote counts, for counties without CVRs.

The precinct results CSV has one row per precinct and these columns:

- a county column (``county`` by default) naming the county by id or name ("Muscogee"
  matches "Muscogee County"), and a precinct column (``precinct`` by default) — or none,
  with ``county_totals``: then each row is a county's total (its precinct is empty);
- vote columns named ``<choice>_<vote type>``: ``<choice>`` is a choice's id, name or
  alias in the election definition, unique across contests; ``<vote type>`` is one of
  ``eday``/``election_day``, ``adv``/``early``, ``abs``/``absentee``,
  ``prov``/``provisional``, ``uocava``, or ``total`` — votes not broken down by how they
  were cast, kept under the vote type ``total`` (a choice has a total column or columns
  by vote type, never both). A column of another name is read as a choice's total when
  the import names it (``choice_columns``: ``biden`` → ``votes_dem``). Each cell is a
  whole number of votes, or empty or ``NA`` where the precinct reported no count; the
  import lists those precincts.

Every other column (``reg_voters``, totals such as ``trump_all``, percentages) is not a
count of this format; the import records which columns it passed over. So are the vote
columns of contests the import leaves out, when it names the contests it reads
(``contests``): Georgia's precinct file carries both Senate races beside the
presidential one. A row whose county and every count are empty or ``NA`` holds nothing
(Georgia's file has seven): it is named in the import and counted nowhere. With
``where`` (``state_name=Georgia``), only the rows whose column has that value are read;
the others are passed over and counted. Georgia's 2020 precinct file is read with
``--county-column CTYNAME --precinct-column PRECINCT_N``.

The result is a *results table*: county, precinct, vote type, contest, choice, votes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

import pyarrow as pa

from canvass.domain.model import ElectionDefinition, JurisdictionKind
from canvass.errors import IngestError
from canvass.guard.text import csv_rows, whole_number
from canvass.ingest.files import data_rows
from canvass.ingest.names import definition_contests, norm

TOTAL = "total"
"""The vote type of a count not broken down by how ballots were cast (NIST SP 1500-100's
``total`` count item type)."""
VOTE_TYPES = {
    "eday": "election_day",
    "election_day": "election_day",
    "adv": "early",
    "early": "early",
    "abs": "absentee",
    "absentee": "absentee",
    "prov": "provisional",
    "provisional": "provisional",
    "uocava": "uocava",
    "total": TOTAL,
}
RESULTS_SCHEMA = pa.schema(
    [
        ("county", pa.string()),
        ("precinct", pa.string()),
        ("vote_type", pa.string()),
        ("contest", pa.int16()),
        ("choice", pa.int16()),
        ("votes", pa.int64()),
    ]
)
MEDIA_TYPE = "application/vnd.canvass.results+parquet"
MAX_VOTES = 10**12
"""The largest count a results import takes: far above any real count, far enough below
2**63 that no sum of counts can overflow."""
_COLUMN = re.compile(r"^(?P<choice>.+)_(?P<vote_type>[a-z_]+?)$", re.IGNORECASE)


@dataclass
class ResultsImport:
    table: pa.Table
    ignored_columns: list[str] = field(default_factory=list)
    not_reported: list[str] = field(default_factory=list)
    """``row N: county/precinct`` of each row with cells that reported no count."""
    empty_rows: list[str] = field(default_factory=list)
    """``row N`` of each row whose county and every count are empty or ``NA``."""
    rows_passed_over: int = 0
    """Rows left out by ``where``."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Contests of the file left out by name (``--skip-contest``) → the votes they held."""


def county_ids(definition: ElectionDefinition) -> dict[str, str]:
    out: dict[str, str] = {}
    for j in definition.jurisdictions:
        if j.kind == JurisdictionKind.COUNTY:
            for spelling in (j.id, j.name, re.sub(r"\s+county$", "", j.name, flags=re.I)):
                out.setdefault(norm(spelling), j.id)
    return out


def read_precinct_results(
    path: Path,
    definition: ElectionDefinition,
    county_column: str = "county",
    precinct_column: str = "precinct",
    contests: Sequence[str] = (),
    choice_columns: Mapping[str, str] | None = None,
    county_totals: bool = False,
    where: tuple[str, str] | None = None,
) -> ResultsImport:
    """Read a results CSV (see the module's docstring): ``contests`` the ids of the only
    contests to read, ``choice_columns`` choice (id, name or alias) → a column holding its
    total, ``county_totals`` rows without precincts, ``where`` (column, value) the rows to
    read."""
    pairs = definition_contests(definition)
    wanted = _wanted_contests(definition, contests, path)
    spellings: dict[str, list[tuple[int, int]]] = {}
    for c, (_, choices) in enumerate(pairs):
        for k, ch in enumerate(choices):
            for spelling in {norm(ch.id), norm(ch.name), *(norm(a) for a in ch.aliases)}:
                spellings.setdefault(spelling, []).append((c, k))
    counties = county_ids(definition)
    reader = csv_rows(path)
    header = next(reader, None)
    if header is None:
        raise IngestError(f"{path}: the file is empty; expected a header row")
    keys = [county_column] + ([] if county_totals else [precinct_column])
    keys += [where[0]] if where else []
    for name in keys:
        if name not in header:
            raise IngestError(f"{path} row 1: expected a column {name!r}; found none")
    county_at = header.index(county_column)
    precinct_at = None if county_totals else header.index(precinct_column)
    where_at = header.index(where[0]) if where else None
    named = {column: choice for choice, column in (choice_columns or {}).items()}
    for column in named:
        if column not in header:
            raise IngestError(f"{path} row 1: expected a column {column!r}; found none")

    def choice_of(i: int, name: str, choice: str) -> tuple[int, int]:
        found = spellings.get(norm(choice), [])
        if not found:
            near = ", ".join(repr(n) for n in get_close_matches(norm(choice), sorted(spellings), 3))
            raise IngestError(
                f"{path} row 1, column {i + 1} ({name!r}): expected a choice of the "
                f"election definition; found {choice!r} (nearest: {near or 'none close'}). "
                "Add it as an alias"
                + ("" if contests else ", or name the contests to read with --contest")
            )
        if len(found) > 1:
            names = ", ".join(repr(pairs[c][0].name) for c, _ in found)
            raise IngestError(
                f"{path} row 1, column {i + 1} ({name!r}): {choice!r} names a "
                f"choice in several contests ({names}); give each an alias of its own"
            )
        return found[0]

    columns: list[tuple[int, str, int, int]] = []  # (column, vote type, contest, choice)
    ignored = []
    for i, name in enumerate(header):
        m = _COLUMN.match(name)
        vote_type = VOTE_TYPES.get(m.group("vote_type").lower()) if m else None
        if i in (county_at, precinct_at, where_at):
            continue
        if name in named:
            choice = named[name]
            vote_type = TOTAL
        elif m is None or vote_type is None:
            ignored.append(name)
            continue
        else:
            choice = m.group("choice")
        if wanted is not None and not any(c in wanted for c, _ in spellings.get(norm(choice), [])):
            ignored.append(name)
            continue
        columns.append((i, vote_type, *choice_of(i, name, choice)))
    if not columns:
        raise IngestError(f"{path} row 1: no column is a <choice>_<vote type> count")
    by_choice: dict[tuple[int, int], set[str]] = {}
    for i, vote_type, c, k in columns:
        kinds = by_choice.setdefault((c, k), set())
        if TOTAL in kinds | {vote_type} and len(kinds | {vote_type}) > 1:
            raise IngestError(
                f"{path} row 1, column {i + 1} ({header[i]!r}): choice "
                f"{pairs[c][1][k].id!r} has both a total column and columns by vote type; "
                "the total would count its votes twice"
            )
        kinds.add(vote_type)
    rows: dict[str, list[object]] = {f.name: [] for f in RESULTS_SCHEMA}
    found = ResultsImport(pa.table(rows, schema=RESULTS_SCHEMA), ignored)
    for number, row in data_rows(reader, path, len(header), 2):
        if where is not None and where_at is not None and row[where_at].strip() != where[1]:
            found.rows_passed_over += 1
            continue
        cells = [row[i].strip() for i, *_ in columns]
        if row[county_at].strip() in ("", "NA") and all(c in ("", "NA") for c in cells):
            found.empty_rows.append(f"row {number}")
            continue
        county = counties.get(norm(row[county_at]))
        if county is None:
            raise IngestError(
                f"{path} row {number}, column {county_column!r}: expected a county of the "
                f"election; found {row[county_at]!r}"
            )
        precinct = "" if precinct_at is None else row[precinct_at]
        for (i, vote_type, contest, choice_at), cell in zip(columns, cells, strict=True):
            if cell in ("", "NA"):
                at = f"row {number}: {county}/{precinct}" if precinct else f"row {number}: {county}"
                if not found.not_reported or found.not_reported[-1] != at:
                    found.not_reported.append(at)
                continue
            votes = whole_number(cell, MAX_VOTES)
            if votes is None:
                raise IngestError(
                    f"{path} row {number}, column {header[i]!r}: expected a whole number of "
                    f"votes up to {MAX_VOTES:,}; found {cell!r}"
                )
            rows["county"].append(county)
            rows["precinct"].append(precinct)
            rows["vote_type"].append(vote_type)
            rows["contest"].append(contest)
            rows["choice"].append(choice_at)
            rows["votes"].append(votes)
    found.table = pa.table(rows, schema=RESULTS_SCHEMA)
    return found


def _wanted_contests(
    definition: ElectionDefinition, contests: Sequence[str], path: Path
) -> set[int] | None:
    """The indices of the contests to read (``None``: every contest)."""
    if not contests:
        return None
    ids = [c.id for c in definition.contests]
    wanted = set()
    for contest in contests:
        if contest not in ids:
            raise IngestError(
                f"{path}: --contest {contest!r} is not a contest of the election definition; "
                f"its contests are {', '.join(ids)}"
            )
        wanted.add(ids.index(contest))
    return wanted
