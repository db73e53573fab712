"""RCTab generic CSV files read straight into the ballot table's columns, when they are
plain (:mod:`canvass.ingest.plain_csv`): each candidate's column of ranks is checked and
turned into marks in NumPy, never a Python object per ballot. Cell for cell the same table
as :class:`~canvass.ingest.rctab_csv.RctabCsv` reads row by row, which reads any file that
is not plain, or whose values are not all as expected, and says what is wrong."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from canvass.ingest.ballots import CARD_FIELDS, MARK_TYPE, NO_BALLOT, SCHEMA, VOTE
from canvass.ingest.plain_csv import padded, plain_blocks


def read_columns(
    path: Path,
    first_vote_column: int,
    choice_of: dict[str, int],
    max_rank: int,
    cells: dict[str, int | None],
    county: str,
) -> Iterator[pa.RecordBatch | None]:
    """A file's cards as record batches, a block of the file at a time, for as long as the
    file is plain and holds only values the row-by-row reader accepts; then None, if the
    rest must be read row by row (the rows given so far are the file's first rows, in
    order, as the row-by-row reader reads them). ``choice_of``: a candidate's header
    (stripped) → its choice; ``cells``: the 1-based columns of ``"id"``, ``"precinct"``
    and ``"batch"`` (None: absent)."""
    read = plain_blocks(path)
    if read is None:
        yield None
        return
    header, blocks = read
    done = 0
    for block in blocks:
        if block is None:
            yield None
            return
        cards = _cards(header, block, done, first_vote_column, choice_of, max_rank, cells, county)
        if cards is None:
            yield None
            return
        done += block.num_rows
        yield cards


def _cards(
    header: list[str],
    table: pa.RecordBatch,
    done: int,
    first_vote_column: int,
    choice_of: dict[str, int],
    max_rank: int,
    cells: dict[str, int | None],
    county: str,
) -> pa.RecordBatch | None:
    """The cards of a block of ``rows`` (the file's data rows after the first ``done``), or
    None if a value is one the row-by-row reader would refuse or read otherwise."""
    rows = table.num_rows
    candidates = list(range(first_vote_column - 1, len(header)))
    ranks = np.zeros((rows, len(candidates)), np.int8)  # at most 127, checked below
    for j, i in enumerate(candidates):
        column = table.column(i)
        given = pc.not_equal(column, "")
        # A rank is written in the digits 0-9 alone (no sign, no space, no "²").
        if not pc.all(pc.or_(pc.invert(given), pc.ascii_is_decimal(column))).as_py():
            return None
        try:
            values = pc.cast(pc.if_else(given, column, "0"), pa.int64()).to_numpy()
        except pa.ArrowInvalid:  # more digits than 64 bits hold
            return None
        ranked = values[given.to_numpy(zero_copy_only=False)]
        if (ranked < 1).any() or (ranked > max_rank).any():
            return None
        ranks[:, j] = values
        del values, ranked
    choices = np.array([choice_of[header[i].strip()] for i in candidates], np.int16)
    # Marks in the order the row-by-row reader makes them: by row, then by column.
    at = np.flatnonzero(ranks)
    offsets = np.zeros(rows + 1, np.int32)
    np.cumsum(np.count_nonzero(ranks, axis=1), out=offsets[1:])
    marks = pa.StructArray.from_arrays(
        [
            pa.array(np.zeros(len(at), np.int16)),
            pa.array(choices[at % len(candidates)]),
            pa.array(ranks.reshape(-1)[at]),
            pa.array(np.full(len(at), VOTE, np.int8)),
        ],
        fields=list(MARK_TYPE),
    )
    del at, ranks

    def cell(name: str) -> pa.Array:
        at = cells.get(name)
        if not at or at > table.num_columns:
            return _same("", rows)
        return table.column(at - 1)

    if any(padded(cell(name)) for name in cells if cells[name]):
        return None  # the row-by-row reader strips them
    ids = cell("id")
    if cells.get("id") and not pc.any(pc.equal(ids, "")).as_py():
        record = ids
    else:  # the record is the line's number where the ballot has no id
        numbers = pc.cast(pa.array(np.arange(done + 2, done + rows + 2)), pa.string())
        record = numbers if not cells.get("id") else pc.if_else(pc.equal(ids, ""), numbers, ids)
    given = {
        "county": _same(county, rows),
        "batch": cell("batch"),
        "record": record,
        "imprinted_id": ids,
        "precinct": cell("precinct"),
    }
    arrays: list[Any] = []
    for name in CARD_FIELDS:
        values = given.get(name, _same("", rows))
        if SCHEMA.field(name).type == pa.string():
            arrays.append(values.cast(pa.string()))
        else:
            arrays.append(
                values if isinstance(values, pa.DictionaryArray) else values.dictionary_encode()
            )
    no_ballot = pa.array(np.full(rows, NO_BALLOT))  # one ballot a row: RCTab's CSV says no more
    arrays += [no_ballot, no_ballot.cast(pa.int8())]
    arrays.append(
        pa.ListArray.from_arrays(
            pa.array(np.arange(rows + 1, dtype=np.int32)), pa.array(np.zeros(rows, np.int16))
        )
    )
    arrays.append(pa.ListArray.from_arrays(pa.array(offsets), marks))
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _same(value: str, rows: int) -> pa.DictionaryArray:
    """A column holding one value on every row."""
    return pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(rows, np.int32)), pa.array([value], pa.string())
    )
