"""RCTab's generic CSV cast vote records: one row per ballot, one column per candidate, the
cell holding the rank the voter gave that candidate.

::

    Response ID,precinct_id,batch_id,Lettuce,Broccoli,Cucumber,Cauliflower,Write-In
    R_3QEQ85E7gV2DuyG,p1,b1,,2,1,,

The candidate columns start at ``first_vote_column`` (1-based, RCTab's
``firstVoteColumnIndex``) and run to the end of the row; their header names the candidate
(a header equal to ``write_in_label`` is the undeclared write-in line). Data rows start at
``first_vote_row``. Optional 1-based columns give the ballot's id, precinct and batch. Two
candidates given the same rank on one ballot are an overvote at that rank.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from canvass.errors import IngestError
from canvass.guard.text import csv_rows, whole_number
from canvass.ingest.ballots import (
    MAX_RANK,
    VOTE,
    Card,
    ChoiceInfo,
    ContestInfo,
    Mark,
    batches,
    check_contests,
)
from canvass.ingest.files import data_rows, files_in
from canvass.ingest.rctab_columns import read_columns


@dataclass(frozen=True)
class RctabCsvOptions:
    contest: str = "Contest"
    first_vote_column: int = 2
    first_vote_row: int = 2
    id_column: int | None = None
    precinct_column: int | None = None
    batch_column: int | None = None
    write_in_label: str = ""


class RctabCsv:
    def __init__(self, paths: Sequence[Path], options: RctabCsvOptions | None = None) -> None:
        self.options = o = options or RctabCsvOptions()
        self.files = files_in(paths, (".csv",))
        self.headers: list[tuple[Path, list[str]]] = []
        names: list[str] = []
        for path in self.files:
            rows = self._rows(path)
            header = next(rows, None)
            if header is None or len(header) < o.first_vote_column:
                raise IngestError(
                    f"{path} row 1: expected a header with candidates from column "
                    f"{o.first_vote_column}; found {len(header or [])} columns"
                )
            for i, name in enumerate(header[o.first_vote_column - 1 :], start=o.first_vote_column):
                if not name.strip():
                    raise IngestError(f"{path} row 1, column {i}: expected a candidate's name")
            self.headers.append((path, header))
            names += [
                h.strip() for h in header[o.first_vote_column - 1 :] if h.strip() not in names
            ]
        choices = [
            ChoiceInfo(n, "write_in" if o.write_in_label and n == o.write_in_label else "candidate")
            for n in names
        ]
        self.contests = [ContestInfo(o.contest, 1, min(len(names), MAX_RANK), choices[:1])]
        for choice in choices[1:]:
            check_contests(self.contests, f"{self.files[0]} row 1", 0)
            self.contests[0].choices.append(choice)

    @staticmethod
    def _rows(path: Path) -> Iterator[list[str]]:
        return csv_rows(path)

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        if self.options.first_vote_row != 2:
            return batches(self._cards(county))
        return self._plain_first(county)

    def _plain_first(self, county: str) -> Iterator[pa.RecordBatch]:
        """Each file read as columns, in C++ and NumPy, a block at a time, for as long as it
        is plain; the rest of it, if any, row by row."""
        o = self.options
        choices = {c.name: k for k, c in enumerate(self.contests[0].choices)}
        cells = {"id": o.id_column, "precinct": o.precinct_column, "batch": o.batch_column}
        for path, header in self.headers:
            done = 0
            for block in read_columns(path, o.first_vote_column, choices, MAX_RANK, cells, county):
                if block is None:
                    yield from batches(self._file_cards(county, path, header, done))
                    break
                done += block.num_rows
                yield block

    def _cards(self, county: str) -> Iterator[Card]:
        for path, header in self.headers:
            yield from self._file_cards(county, path, header)

    def _file_cards(
        self, county: str, path: Path, header: list[str], skip: int = 0
    ) -> Iterator[Card]:
        """A file's cards row by row, after its first ``skip`` data rows."""
        o = self.options
        index = {c.name: k for k, c in enumerate(self.contests[0].choices)}
        columns = [
            (i, index[h.strip()]) for i, h in enumerate(header) if i >= o.first_vote_column - 1
        ]
        rows = self._rows(path)
        for _ in range(o.first_vote_row - 1 + skip):
            next(rows, None)
        for number, row in data_rows(rows, path, len(header), o.first_vote_row + skip):

            def cell(column: int | None, row: list[str] = row) -> str:
                return row[column - 1].strip() if column and column <= len(row) else ""

            marks: list[Mark] = []
            for i, choice in columns:
                value = row[i].strip()
                if not value:
                    continue
                rank = whole_number(value, MAX_RANK)
                if not rank:
                    raise IngestError(
                        f"{path} row {number}, column {i + 1} ({header[i].strip()}): "
                        f"expected a rank (1, 2, ... {MAX_RANK}) or nothing; found {value!r}"
                    )
                marks.append((0, choice, rank, VOTE))
            record = cell(o.id_column) or str(number)
            fields = (
                county,
                "",
                cell(o.batch_column),
                record,
                cell(o.id_column),
                "",
                cell(o.precinct_column),
                "",
                "",
                "",
            )
            yield fields, [0], marks
