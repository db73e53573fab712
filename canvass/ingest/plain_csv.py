"""CSV files plain enough to be read as columns by Arrow's parser, cell for cell what the
``csv`` module would read.

A reader that goes row by row in Python spends a few microseconds a row; a million-row
export takes seconds before anything is counted. Most exports are plain: UTF-8, no quoted
cells, one row a line, every row as wide as the header, no blank line. Such a file is read
here in C++ (on every core) straight into string columns, and the reader checks its values
a column at a time.

Anything else — a quote, a stray carriage return, a short row, a blank line, a row of
empty cells, bytes that are not UTF-8, a cell longer than the ``csv`` module allows — is
not guessed at:
:func:`plain_columns` returns None and the reader reads the file row by row, with its
exact messages about what is wrong and where.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv


def plain_columns(path: Path) -> tuple[list[str], pa.Table] | None:
    """The header and the data rows of ``path`` as string columns (one per header cell, in
    order, named ``0``, ``1``, ...; row ``k`` is the file's line ``k + 2``), or None if the
    file is not plain (see the module's description)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if (
        not data
        or b'"' in data
        or b"\x00" in data
        or data.count(b"\r") != data.count(b"\r\n")
        or data.startswith((b"\n", b"\r\n"))
        or b"\n\n" in data
        or b"\n\r\n" in data
    ):
        return None
    end = data.find(b"\n")
    try:
        first = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    header = next(csv.reader([first]))
    names = [str(k) for k in range(len(header))]
    try:  # Arrow checks that every cell is UTF-8 and every row as wide as the header
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pa_csv.ParseOptions(quote_char=False, newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    limit = csv.field_size_limit()
    blank = None
    for column in table.columns:
        if len(data) > limit and pc.max(pc.utf8_length(column)).as_py() > limit:
            return None
        empty = pc.equal(column, "")
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is not None and pc.any(blank).as_py():
        return None  # a row of empty cells: the row-by-row reader passes over it
    return header, table


def padded(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether a cell has whitespace at either end (as ``str.strip()`` counts it): a
    column a reader strips is read row by row if so."""
    if pa.types.is_dictionary(column.type):  # a column of one value repeated: its values
        column = (
            column.dictionary
            if isinstance(column, pa.DictionaryArray)
            else column.cast(column.type.value_type)
        )
    return bool(pc.any(pc.match_substring_regex(column, _PADDED)).as_py())


_PADDED = r"^[\s\x1c-\x1f\x85\xa0]|[\s\x1c-\x1f\x85\xa0]$"
