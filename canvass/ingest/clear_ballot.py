"""Clear Ballot ClearVote CVR exports (CSV).

Card columns come first (``RowNumber``, ``BoxID``, ``BoxPosition``, ``BallotID``,
``PrecinctID``, ``BallotStyleID``, ``PrecinctStyleName``, ``ScanComputerName``, ``Status``,
``Remade``), then one column per choice and ranking, named::

    Choice_<id>_<n>:<contest>:<rank>:<Vote For N | Number of Winners N>:<candidate>:<party>

with ``1`` where the voter marked it. The contest name may itself hold commas (the CSV
quotes it). A contest whose columns have ranks above 1 is ranked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from canvass.errors import IngestError
from canvass.guard.text import csv_rows, whole_number
from canvass.ingest.ballots import (
    MAX_CHOICES,
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

_CHOICE = re.compile(r"^Choice_\d+_\d+$")
_LIMIT = re.compile(r"^(Vote For|Number of Winners) (\d+)$")
CARD_COLUMNS = ("BoxID", "BallotID", "PrecinctID", "BallotStyleID", "ScanComputerName")


class ClearBallotCsv:
    def __init__(self, paths: Sequence[Path]) -> None:
        self.files = files_in(paths, (".csv",))
        self.contests: list[ContestInfo] = []
        self._contest_index: dict[str, int] = {}
        self._columns: dict[Path, tuple[list[str], list[tuple[int, int, int, int]]]] = {}
        for path in self.files:
            self._columns[path] = self._header(path)

    def _header(self, path: Path) -> tuple[list[str], list[tuple[int, int, int, int]]]:
        header = next(csv_rows(path), None)
        if not header:
            raise IngestError(f"{path}: the file is empty; expected a header row")
        for name in CARD_COLUMNS:
            if name not in header:
                raise IngestError(f"{path} row 1: expected a column {name!r}")
        columns: list[tuple[int, int, int, int]] = []  # (column, contest, choice, rank)
        choices: dict[tuple[int, str], int] = {}
        for i, name in enumerate(header):
            head, _, rest = name.partition(":")
            if not _CHOICE.match(head):
                continue
            parts = rest.rsplit(":", 4)
            limit = _LIMIT.match(parts[2]) if len(parts) == 5 else None
            rank = whole_number(parts[1], MAX_RANK) if len(parts) == 5 else None
            votes = whole_number(limit.group(2), MAX_CHOICES) if limit else None
            if limit is None or not rank or not votes:
                raise IngestError(
                    f"{path} row 1, column {i + 1}: expected "
                    "'Choice_<id>_<n>:<contest>:<rank>:Vote For <n>:<candidate>:<party>' "
                    f"(rank 1 to {MAX_RANK}, votes 1 to {MAX_CHOICES:,}); found {name!r}"
                )
            contest_name, candidate = parts[0], parts[3]
            c = self._contest_index.get(contest_name)
            if c is None:
                c = self._contest_index[contest_name] = len(self.contests)
                ranked = limit.group(1) == "Number of Winners"
                self.contests.append(ContestInfo(contest_name, 1 if ranked else votes))
                check_contests(self.contests, f"{path} row 1, column {i + 1}")
            contest = self.contests[c]
            contest.ranks = max(contest.ranks, rank if rank > 1 else contest.ranks)
            if (c, candidate) not in choices:
                check_contests(self.contests, f"{path} row 1, column {i + 1}", c)
                kind = "write_in" if candidate.lower().startswith("write-in") else "candidate"
                choices[(c, candidate)] = len(contest.choices)
                contest.choices.append(ChoiceInfo(candidate, kind))
            columns.append((i, c, choices[(c, candidate)], rank))
        if not columns:
            raise IngestError(f"{path} row 1: no Choice_ columns")
        return header, columns

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[Card]:
        for path in self.files:
            header, columns = self._columns[path]
            at = {name: header.index(name) for name in CARD_COLUMNS}
            on = sorted({c for _, c, _, _ in columns})
            rows = csv_rows(path)
            if next(rows, None) != header:
                raise IngestError(f"{path}: the file changed while it was read")
            for number, row in data_rows(rows, path, len(header), 2):
                ballot = row[at["BallotID"]]
                fields = (
                    county,
                    row[at["ScanComputerName"]],
                    row[at["BoxID"]],
                    ballot,
                    ballot,
                    row[at["BallotStyleID"]],
                    row[at["PrecinctID"]],
                    row[at["PrecinctID"]],
                    "",
                    "",
                )
                marks: list[Mark] = []
                for i, c, choice, rank in columns:
                    cell = row[i].strip()
                    if cell == "1":
                        marks.append((c, choice, rank, VOTE))
                    elif cell not in ("0", ""):
                        raise IngestError(
                            f"{path} row {number}, column {i + 1}: expected 1 or 0; found {cell!r}"
                        )
                yield fields, on, marks
