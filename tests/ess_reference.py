"""ES&S spreadsheets read row by row, cell by cell: the reader as first written, kept as the
reference the columnar reader (:mod:`canvass.ingest.ess`) must equal, table and choices."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from canvass.errors import IngestError
from canvass.guard.spreadsheet import first_sheet
from canvass.ingest.ballots import (
    MAX_RANK,
    OVERVOTE,
    VOTE,
    Card,
    ChoiceInfo,
    ContestInfo,
    Mark,
    batches,
    check_contests,
)
from canvass.ingest.ess import _RANK_HEADER, EssOptions
from canvass.ingest.files import files_in


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if value is not None else ""


def _column(cells: list[str], index: int | None) -> str:
    """The cell in 1-based column ``index``, or nothing."""
    return cells[index - 1] if index and index <= len(cells) else ""


class RowByRowEss:
    def __init__(self, paths: Sequence[Path], options: EssOptions | None = None) -> None:
        self.options = o = options or EssOptions()
        self.files = files_in(paths, (".xlsx",))
        self.contests = [ContestInfo(o.contest, 1, 0)]
        self._choices: dict[str, int] = {}
        self._sheets: list[tuple[Path, list[list[Any]]]] = []
        for path in self.files:
            self._sheets.append((path, first_sheet(path)))
        first_path, first_rows = self._sheets[0]
        if len(first_rows) < o.first_vote_row - 1:
            raise IngestError(f"{first_path}: expected a header row; the sheet is empty")
        header = [_cell(h) for h in first_rows[0]] if o.first_vote_row > 1 else []
        start = o.first_vote_column - 1
        if o.ranks is not None:
            self.ranks = o.ranks
        else:
            names = header[start:]
            self.ranks = next(
                (i for i, h in enumerate(names) if not _RANK_HEADER.search(h)), len(names)
            )
        if self.ranks > MAX_RANK:
            raise IngestError(
                f"{first_path} row 1: expected at most {MAX_RANK} ranking columns; "
                f"found {self.ranks}"
            )
        if self.ranks < 1:
            raise IngestError(
                f"{first_path} row 1, column {o.first_vote_column}: expected ranking columns "
                f"(headers naming a choice or rank); found {header[start : start + 1] or 'none'}"
            )
        self.contests[0].ranks = self.ranks
        # Learn every name first, so the contest's choice list is whole before any card.
        for _ in self._cards(""):
            pass

    def _choice(self, name: str, kind: str = "candidate") -> int:
        if name not in self._choices:
            check_contests(self.contests, name, 0)
            self._choices[name] = len(self.contests[0].choices)
            self.contests[0].choices.append(ChoiceInfo(name, kind))
        return self._choices[name]

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[Card]:
        o = self.options
        start = o.first_vote_column - 1
        for path, rows in self._sheets:
            for number, row in enumerate(rows[o.first_vote_row - 1 :], start=o.first_vote_row):
                cells = [_cell(c) for c in row]
                if not any(cells):
                    continue
                if len(cells) < start + self.ranks:
                    raise IngestError(
                        f"{path} row {number}: expected {start + self.ranks} columns; "
                        f"found {len(cells)}"
                    )

                ballot_id = _column(cells, o.id_column) or f"{path.name}:{number}"
                precinct = _column(cells, o.precinct_column)
                batch = _column(cells, o.batch_column)
                fields = (county, "", batch, ballot_id, ballot_id, "", precinct, precinct, "", "")
                marks: list[Mark] = []
                for rank, cell in enumerate(cells[start : start + self.ranks], start=1):
                    if cell == o.skipped_rank_label or (not cell and not o.blank_is_write_in):
                        continue
                    if cell == o.overvote_label:
                        marks.append((0, -1, rank, OVERVOTE))
                        continue
                    names = cell.split(o.overvote_delimiter) if o.overvote_delimiter else [cell]
                    for name in (n.strip() for n in names):
                        if not name or name == o.write_in_label:
                            marks.append(
                                (
                                    0,
                                    self._choice("Undeclared Write-ins", "write_in"),
                                    rank,
                                    VOTE,
                                )
                            )
                        else:
                            marks.append((0, self._choice(name), rank, VOTE))
                yield fields, [0], marks
