"""Results-only imports: precinct × vote-type vote counts, for counties without CVRs.

The precinct results CSV has one row per precinct and these columns:

- a county column (``county`` by default) naming the county by id or name ("Muscogee"
  matches "Muscogee County"), and a precinct column (``precinct`` by default);
- vote columns named ``<choice>_<vote type>``: ``<choice>`` is a choice's id, name or
  alias in the election definition, unique across contests; ``<vote type>`` is one of
  ``eday``/``election_day``, ``adv``/``early``, ``abs``/``absentee``,
  ``prov``/``provisional``, ``uocava``. Each cell is a whole number of votes, or empty or
  ``NA`` where the precinct reported no count; the import lists those precincts.

Every other column (``reg_voters``, totals such as ``trump_all``, percentages) is not a
count of this format; the import records which columns it passed over. Georgia's 2020
precinct file is read with ``--county-column CTYNAME --precinct-column PRECINCT_N``.

The result is a *results table*: county, precinct, vote type, contest, choice, votes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from canvass.domain.model import ElectionDefinition, JurisdictionKind
from canvass.errors import IngestError
from canvass.guard.text import csv_rows, whole_number
from canvass.ingest.files import data_rows
from canvass.ingest.names import definition_contests, norm

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
) -> ResultsImport:
    pairs = definition_contests(definition)
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
    for name in (county_column, precinct_column):
        if name not in header:
            raise IngestError(f"{path} row 1: expected a column {name!r}; found none")
    county_at, precinct_at = header.index(county_column), header.index(precinct_column)
    columns: list[tuple[int, str, int, int]] = []  # (column, vote type, contest, choice)
    ignored = []
    for i, name in enumerate(header):
        m = _COLUMN.match(name)
        vote_type = VOTE_TYPES.get(m.group("vote_type").lower()) if m else None
        if m is None or vote_type is None or i in (county_at, precinct_at):
            ignored.append(name)
            continue
        found = spellings.get(norm(m.group("choice")), [])
        if not found:
            known = sorted(spellings)
            from difflib import get_close_matches

            near = ", ".join(repr(n) for n in get_close_matches(norm(m.group("choice")), known, 3))
            raise IngestError(
                f"{path} row 1, column {i + 1} ({name!r}): expected a choice of the "
                f"election definition before '_{m.group('vote_type')}'; found "
                f"{m.group('choice')!r} (nearest: {near or 'none close'}). Add it as an alias"
            )
        if len(found) > 1:
            names = ", ".join(repr(pairs[c][0].name) for c, _ in found)
            raise IngestError(
                f"{path} row 1, column {i + 1} ({name!r}): {m.group('choice')!r} names a "
                f"choice in several contests ({names}); give each an alias of its own"
            )
        columns.append((i, vote_type, *found[0]))
    if not columns:
        raise IngestError(f"{path} row 1: no column is a <choice>_<vote type> count")
    rows: dict[str, list[object]] = {f.name: [] for f in RESULTS_SCHEMA}
    not_reported: list[str] = []
    for number, row in data_rows(reader, path, len(header), 2):
        county = counties.get(norm(row[county_at]))
        if county is None:
            raise IngestError(
                f"{path} row {number}, column {county_column!r}: expected a county of the "
                f"election; found {row[county_at]!r}"
            )
        for i, vote_type, contest, choice in columns:
            cell = row[i].strip()
            if cell in ("", "NA"):
                where = f"row {number}: {county}/{row[precinct_at]}"
                if not not_reported or not_reported[-1] != where:
                    not_reported.append(where)
                continue
            votes = whole_number(cell)
            if votes is None:
                raise IngestError(
                    f"{path} row {number}, column {header[i]!r}: expected a whole number of "
                    f"votes up to {MAX_VOTES:,}; found {cell!r}"
                )
            rows["county"].append(county)
            rows["precinct"].append(row[precinct_at])
            rows["vote_type"].append(vote_type)
            rows["contest"].append(contest)
            rows["choice"].append(choice)
            rows["votes"].append(votes)
    return ResultsImport(pa.table(rows, schema=RESULTS_SCHEMA), ignored, not_reported)
