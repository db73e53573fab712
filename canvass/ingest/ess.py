"""ES&S cast vote records exported as spreadsheets (.xlsx), as RCTab reads them.

One row per ballot, one column per ranking of one contest, from ``first_vote_column``
(1-based, as RCTab's ``firstVoteColumnIndex``) and ``first_vote_row`` on; optional columns
for the ballot id, precinct and batch. The ranking columns run while their header names a
choice or rank ("1st Choice", "2ND CHOICE MAYOR"), or for ``ranks`` columns when given.
A cell holds a candidate's name, or:

- the ``overvote_label`` (e.g. ``overvote``): that ranking is overvoted;
- the ``skipped_rank_label`` (e.g. ``undervote``) or nothing: that ranking was skipped
  (unless ``blank_is_write_in``, RCTab's ``treatBlankAsUndeclaredWriteIn``);
- the ``write_in_label`` (e.g. ``UWI``): an undeclared write-in;
- names joined by ``overvote_delimiter``: every name marked at that ranking.

Exports too big for one sheet are split over several files (ES&S writes 99,999 rows a
file); give them all. Cells are read with ``python-calamine`` (each distinct cell once, when
the sheet is written plainly: :func:`~canvass.guard.spreadsheet.read_first_sheet`), and then
a column at a time: each column's distinct texts are worked out once, and every card's marks
are built from them in NumPy, never a Python step per cell. Each sheet is reduced to those
columns as it is read, so a workbook's cells are not all held at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from canvass.errors import IngestError
from canvass.guard.spreadsheet import SheetGrid, read_first_sheet
from canvass.ingest.ballots import (
    CARD_FIELDS,
    MARK_TYPE,
    MAX_RANK,
    NO_BALLOT,
    OVERVOTE,
    SCHEMA,
    VOTE,
    ChoiceInfo,
    ContestInfo,
    check_contests,
)
from canvass.ingest.files import files_in

_RANK_HEADER = re.compile(r"choice|rank|^\s*\d+\s*(st|nd|rd|th)?\s*$", re.IGNORECASE)
_BATCH = 65_536
_WRITE_IN = ("Undeclared Write-ins", "write_in")
_EXACT = (pa.string(), pa.float64(), pa.int64(), pa.bool_(), pa.null())
"""Types whose values Arrow hands back exactly as Python read them."""


@dataclass(frozen=True)
class EssOptions:
    contest: str = "Contest"
    first_vote_column: int = 2
    first_vote_row: int = 2
    ranks: int | None = None
    """How many ranking columns; by default, as many as have headers naming a choice or rank
    ("1st Choice", "2ND CHOICE MAYOR", "3rd", "4")."""
    id_column: int | None = None
    precinct_column: int | None = None
    batch_column: int | None = None
    overvote_label: str = "overvote"
    skipped_rank_label: str = "undervote"
    write_in_label: str = "UWI"
    overvote_delimiter: str = ""
    blank_is_write_in: bool = False


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if value is not None else ""


@dataclass
class _Column:
    """One column of a sheet: each row's code into ``texts`` (the cells as read)."""

    codes: npt.NDArray[np.int32]
    texts: list[str]

    @classmethod
    def of(cls, cells: Sequence[Any]) -> _Column:
        try:  # text, numbers and empty cells: Arrow finds the distinct values
            encoded = pa.array(cells).dictionary_encode()
            if encoded.type.value_type not in _EXACT:
                raise pa.ArrowTypeError("read as Python reads it")
            distinct: list[Any] = encoded.dictionary.to_pylist()
            codes = encoded.indices.fill_null(len(distinct)).to_numpy()
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # dates, mixed kinds: cell by cell
            as_text = [_cell(c) for c in cells]
            index: dict[str, int] = {}
            codes = np.fromiter((index.setdefault(t, len(index)) for t in as_text), np.int32)
            distinct = list(index)
        return cls(np.asarray(codes, np.int32), [_cell(t) for t in distinct] + [""])

    def empty(self) -> npt.NDArray[np.bool_]:
        return np.array([not t for t in self.texts])[self.codes]

    def strings(self) -> pa.Array:
        return pa.array(self.texts, pa.string()).take(pa.array(self.codes))


@dataclass
class _Sheet:
    """A sheet's cards, column by column (rows that hold nothing left out)."""

    path: Path
    numbers: npt.NDArray[np.int64]
    """Each card's row in the sheet (1-based)."""
    ranks: list[_Column]
    id: pa.Array | None
    precinct: pa.Array | None
    batch: pa.Array | None


class EssWorkbooks:
    def __init__(self, paths: Sequence[Path], options: EssOptions | None = None) -> None:
        self.options = o = options or EssOptions()
        self.files = files_in(paths, (".xlsx",))
        self.contests = [ContestInfo(o.contest, 1, 0)]
        self._choices: dict[str, int] = {}
        self._sheets: list[_Sheet] = []
        self._marks: list[list[list[list[tuple[int, int]]]]] = []
        """For each sheet, each ranking column, each text: its marks (choice, status)."""
        for number, path in enumerate(self.files):
            sheet = read_first_sheet(path)
            if number == 0:
                self._ranks_from_header(path, sheet)
            columns, lengths = self._columns(sheet)
            del sheet
            self._sheets.append(self._sheet(path, columns, lengths))

    def _ranks_from_header(self, path: Path, sheet: SheetGrid | list[list[Any]]) -> None:
        o = self.options
        count = len(sheet.codes) if isinstance(sheet, SheetGrid) else len(sheet)
        if count < o.first_vote_row - 1:
            raise IngestError(f"{path}: expected a header row; the sheet is empty")
        header: list[str] = []
        if o.first_vote_row > 1:
            if isinstance(sheet, SheetGrid):
                values = sheet.values
                header = [_cell(values[c]) if c >= 0 else "" for c in sheet.codes[0].tolist()]
            else:
                header = [_cell(h) for h in sheet[0]]
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
                f"{path} row 1: expected at most {MAX_RANK} ranking columns; found {self.ranks}"
            )
        if self.ranks < 1:
            raise IngestError(
                f"{path} row 1, column {o.first_vote_column}: expected ranking columns "
                f"(headers naming a choice or rank); found {header[start : start + 1] or 'none'}"
            )
        self.contests[0].ranks = self.ranks

    def _columns(
        self, sheet: SheetGrid | list[list[Any]]
    ) -> tuple[list[_Column], npt.NDArray[np.int64]]:
        """The sheet's columns from ``first_vote_row`` on, and each row's length."""
        skip = self.options.first_vote_row - 1
        if isinstance(sheet, SheetGrid):  # the cells' texts are worked out once for all
            codes = sheet.codes[skip:]
            texts = [_cell(v) for v in sheet.values] + [""]
            empty = np.int32(len(sheet.values))
            columns = [_Column(np.where(c < 0, empty, c), texts) for c in codes.T]
            return columns, np.full(len(codes), codes.shape[1], np.int64)
        data = sheet[skip:]
        lengths = np.fromiter(map(len, data), np.int64, len(data))
        width = int(lengths.max()) if len(data) else 0
        if len(data) and int(lengths.min()) < width:
            data = [row + [None] * (width - len(row)) for row in data]
        return [_Column.of(cells) for cells in zip(*data, strict=True)], lengths

    def _sheet(self, path: Path, columns: list[_Column], lengths: npt.NDArray[np.int64]) -> _Sheet:
        o = self.options
        start = o.first_vote_column - 1
        kept = np.zeros(len(lengths), bool)  # a row of empty cells is passed over
        for column in columns:
            kept |= ~column.empty()
        numbers = np.flatnonzero(kept) + o.first_vote_row
        short = np.flatnonzero(lengths[kept] < start + self.ranks)
        cut = int(short[0]) if len(short) else len(numbers)
        ranks = [
            _Column(column.codes[kept][:cut], column.texts)
            for column in columns[start : start + self.ranks]
        ]
        # Choices are numbered in the order their names first appear, row by row, ranking
        # by ranking: as a reader going cell by cell would meet them.
        self._learn(ranks)
        if cut < len(numbers):
            raise IngestError(
                f"{path} row {numbers[cut]}: expected {start + self.ranks} columns; "
                f"found {lengths[kept][cut]}"
            )

        def cell(index: int | None) -> pa.Array | None:
            if not index or index > len(columns):
                return None
            return columns[index - 1].strings().filter(pa.array(kept))

        return _Sheet(
            path, numbers, ranks, cell(o.id_column), cell(o.precinct_column), cell(o.batch_column)
        )

    def _learn(self, ranks: list[_Column]) -> None:
        o = self.options
        first: dict[tuple[str, str], tuple[int, int, int]] = {}
        marks: list[list[list[tuple[str, str] | None]]] = []
        for j, column in enumerate(ranks):
            seen, at = np.unique(column.codes, return_index=True)
            meanings: list[list[tuple[str, str] | None]] = []
            present = set(seen.tolist())  # a sheet's texts may be shared by all its columns
            for code, text in enumerate(column.texts):
                if code not in present or (
                    text == o.skipped_rank_label or (not text and not o.blank_is_write_in)
                ):
                    meaning: list[tuple[str, str] | None] = []
                elif text == o.overvote_label:
                    meaning = [None]
                else:
                    names = text.split(o.overvote_delimiter) if o.overvote_delimiter else [text]
                    meaning = [
                        _WRITE_IN if not n or n == o.write_in_label else (n, "candidate")
                        for n in (n.strip() for n in names)
                    ]
                meanings.append(meaning)
            for code, row in zip(seen.tolist(), at.tolist(), strict=True):
                for position, name in enumerate(meanings[code]):
                    if name is not None:
                        key = (row, j, position)
                        if first.get(name, key) >= key:
                            first[name] = key
            marks.append(meanings)
        for name, kind in sorted(first, key=first.__getitem__):
            self._choice(name, kind)
        self._marks.append(
            [
                [
                    [(-1, OVERVOTE) if m is None else (self._choices[m[0]], VOTE) for m in meaning]
                    for meaning in column_meanings
                ]
                for column_meanings in marks
            ]
        )

    def _choice(self, name: str, kind: str = "candidate") -> int:
        if name not in self._choices:
            check_contests(self.contests, name, 0)
            self._choices[name] = len(self.contests[0].choices)
            self.contests[0].choices.append(ChoiceInfo(name, kind))
        return self._choices[name]

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        sheets = [
            self._cards(sheet, marks, county)
            for sheet, marks in zip(self._sheets, self._marks, strict=True)
        ]
        table = pa.Table.from_batches(sheets, schema=_PLAIN).combine_chunks()
        # Record batches as a reader going card by card would cut them, across sheets.
        for batch in table.to_batches(max_chunksize=_BATCH):
            yield pa.RecordBatch.from_arrays(
                [
                    column if SCHEMA.field(name).type == column.type else column.dictionary_encode()
                    for name, column in zip(_PLAIN.names, batch.columns, strict=True)
                ],
                schema=SCHEMA,
            )

    def _cards(
        self, sheet: _Sheet, marks: list[list[list[tuple[int, int]]]], county: str
    ) -> pa.RecordBatch:
        n, ranks = len(sheet.numbers), self.ranks
        # Every ranking column's texts in one table: a text's marks, padded to the widest.
        base = np.cumsum([0] + [len(m) for m in marks])
        widest = max([len(m) for meanings in marks for m in meanings] + [1])
        choice = np.zeros((int(base[-1]), widest), np.int16)
        status = np.zeros((int(base[-1]), widest), np.int8)
        count = np.zeros(int(base[-1]), np.int64)
        for j, meanings in enumerate(marks):
            for code, meaning in enumerate(meanings):
                row = int(base[j]) + code
                count[row] = len(meaning)
                for k, (c, kind) in enumerate(meaning):
                    choice[row, k], status[row, k] = c, kind
        grid = np.zeros((n, ranks), np.int64)
        for j, column in enumerate(sheet.ranks):
            grid[:, j] = column.codes + base[j]
        texts = grid.reshape(-1)
        per_cell = count[texts]
        cell = np.repeat(np.arange(n * ranks), per_cell)
        position = np.arange(len(cell)) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
        at = texts[cell]
        offsets = np.zeros(n + 1, np.int32)
        np.cumsum(per_cell.reshape(n, ranks).sum(axis=1), out=offsets[1:])
        mark_array = pa.StructArray.from_arrays(
            [
                pa.array(np.zeros(len(cell), np.int16)),
                pa.array(choice[at, position]),
                pa.array((cell % ranks + 1).astype(np.int8)),
                pa.array(status[at, position]),
            ],
            fields=list(MARK_TYPE),
        )
        # A card without an id is named by its file and row.
        numbered = pc.binary_join_element_wise(
            f"{sheet.path.name}:", pc.cast(pa.array(sheet.numbers), pa.string()), ""
        )
        ids = (
            numbered if sheet.id is None else pc.if_else(pc.equal(sheet.id, ""), numbered, sheet.id)
        )
        empty = pa.repeat("", n).cast(pa.string())
        precinct = empty if sheet.precinct is None else sheet.precinct
        given = {
            "county": pa.repeat(county, n).cast(pa.string()),
            "batch": empty if sheet.batch is None else sheet.batch,
            "record": ids,
            "imprinted_id": ids,
            "precinct": precinct,
            "precinct_portion": precinct,
        }
        no_ballot = pa.array(np.full(n, NO_BALLOT, np.int64))
        return pa.RecordBatch.from_arrays(
            [
                *(given.get(name, empty) for name in CARD_FIELDS),
                no_ballot,
                no_ballot.cast(pa.int8()),
                pa.ListArray.from_arrays(
                    pa.array(np.arange(n + 1, dtype=np.int32)), pa.array(np.zeros(n, np.int16))
                ),
                pa.ListArray.from_arrays(pa.array(offsets), mark_array),
            ],
            schema=_PLAIN,
        )


_PLAIN = pa.schema(
    [pa.field(name, pa.string()) for name in CARD_FIELDS]
    + [SCHEMA.field(name) for name in ("ballot", "sheet", "contests", "marks")]
)
"""The ballot table's schema with every card field as plain text (encoded per batch)."""
