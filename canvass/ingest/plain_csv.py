"""CSV files plain enough to be read as columns by Arrow's parser, cell for cell what the
``csv`` module would read.

A reader that goes row by row in Python spends a few microseconds a row; a million-row
export takes seconds before anything is counted. Most exports are plain: UTF-8, no quoted
cells, one row a line, every row as wide as the header, no blank line. Such a file is read
here in C++ straight into string columns, and the reader checks its values a column at a
time. One thread parses it: as fast as several on two cores, and 30-40 MB less at its peak
for a million rows.

Anything else — a quote, a stray carriage return, a short row, a blank line, a row of
empty cells, bytes that are not UTF-8, a cell longer than the ``csv`` module allows — is
not guessed at:
:func:`plain_columns` returns None and the reader reads the file row by row, with its
exact messages about what is wrong and where.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

BLOCK_BYTES = 1 << 20
"""How much of a file Arrow parses at a time when reading it block by block."""


def plain_columns(path: Path) -> tuple[list[str], pa.Table] | None:
    """The header and the data rows of ``path`` as string columns (one per header cell, in
    order, named ``0``, ``1``, ...; row ``k`` is the file's line ``k + 2``), or None if the
    file is not plain (see the module's description)."""
    read = plain_blocks(path)
    if read is None:
        return None
    header, blocks = read
    tables = []
    for block in blocks:
        if block is None:
            return None
        tables.append(block)
    names = [str(k) for k in range(len(header))]
    schema = pa.schema([(name, pa.string()) for name in names])
    return header, pa.Table.from_batches(tables, schema) if tables else schema.empty_table()


def plain_blocks(
    path: Path, block_size: int | None = None
) -> tuple[list[str], Iterator[pa.RecordBatch | None]] | None:
    """The header of ``path``, and its data rows as string columns a block at a time (about
    ``block_size`` bytes each; columns named ``0``, ``1``, ...; the rows in order, each
    line of the file one row) — or None if the file as a whole is not plain. A block that
    is not plain is given as None, and nothing after it: the rows before it were plain, and
    the rest of the file is left to the row-by-row reader. The file is checked a chunk at a
    time, then parsed a block at a time: it is never held whole."""
    try:
        with path.open("rb") as handle:
            found = _plain_file(handle)
    except OSError:
        return None
    if found is None:
        return None
    first, start, length = found
    try:
        line = first.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    header = next(csv.reader([line]))
    return header, _blocks(path, start, length, len(header), block_size or BLOCK_BYTES)


def _plain_file(handle: BinaryIO, chunk: int = 1 << 20) -> tuple[bytes, int, int] | None:
    """A file's first line, where its second begins (-1: none) and its length; or None if
    the file is not plain: empty, or holding a quote, a NUL, a carriage return not before
    a line feed, or a blank line."""
    data = handle.read(chunk)
    skipped = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    data = data[skipped:]
    if not data or data.startswith((b"\n", b"\r\n")):
        return None
    first = bytearray()
    start = -1
    size = returns = pairs = 0
    before = b""  # the last two bytes of the chunk before, for what spans two chunks
    while data:
        if b'"' in data or b"\x00" in data or b"\n\n" in data or b"\n\r\n" in data:
            return None
        seam = before + data[:2]
        if b"\n\n" in seam or b"\n\r\n" in seam:
            return None
        returns += data.count(b"\r")
        pairs += data.count(b"\r\n") + (before[-1:] == b"\r" and data[:1] == b"\n")
        if start < 0:
            end = data.find(b"\n")
            first += data if end < 0 else data[:end]
            if end >= 0:
                start = skipped + size + end + 1
        size += len(data)
        before = (before + data)[-2:]
        data = handle.read(chunk)
    if returns != pairs:
        return None
    return bytes(first), start, skipped + size


def _blocks(
    path: Path, start: int, length: int, width: int, block_size: int
) -> Iterator[pa.RecordBatch | None]:
    if start < 0 or start >= length:
        return  # a header alone
    try:
        source = pa.OSFile(str(path))
    except OSError:
        yield None
        return
    with source:
        source.seek(start)
        yield from _parsed(source, length, width, block_size)


def _parsed(
    source: pa.NativeFile, length: int, width: int, block_size: int
) -> Iterator[pa.RecordBatch | None]:
    names = [str(k) for k in range(width)]
    try:  # Arrow checks that every cell is UTF-8 and every row as wide as the header
        reader = pa_csv.open_csv(
            source,
            read_options=pa_csv.ReadOptions(
                column_names=names, use_threads=False, block_size=block_size
            ),
            parse_options=pa_csv.ParseOptions(quote_char=False, newlines_in_values=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        yield None
        return
    limit = csv.field_size_limit()
    while True:
        try:
            block = reader.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            yield None
            return
        blank = None
        for column in block.columns:
            if length > limit and pc.max(pc.utf8_length(column)).as_py() > limit:
                yield None
                return
            empty = pc.equal(column, "")
            blank = empty if blank is None else pc.and_(blank, empty)
        if blank is not None and pc.any(blank).as_py():
            yield None  # a row of empty cells: the row-by-row reader passes over it
            return
        yield block


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
