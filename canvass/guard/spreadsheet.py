"""The first sheet of an .xlsx workbook, read so that no workbook can exhaust memory or
abort the process.

The spreadsheet library (``python-calamine``, in Rust) allocates a sheet's whole used range
at once, sizes its shared-string table from the count the workbook declares, and answers
an impossible allocation by aborting the process or raising a Rust panic (a
``BaseException``). So before the library sees a workbook:

- it is opened as a zip archive within the archive limits (:mod:`canvass.guard.archive`);
- every worksheet's used range (its ``<dimension>`` and the largest row and column any
  cell names) and the shared strings' declared counts are read from the XML and held to
  :data:`~canvass.guard.limits.SHEET_CELLS` and :data:`~canvass.guard.limits.SHARED_STRINGS`;
- the library is handed exactly the members that were checked (stored again, without
  compression), so it cannot read anything else.

Only the Office Open XML format (.xlsx) is read: the older binary .xls cannot be checked
this way.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyarrow as pa
from python_calamine import CalamineWorkbook

from canvass.errors import IngestError
from canvass.guard import limits
from canvass.guard.archive import Archive, is_zip

# A cell with content (not self-closing): the library places only these, and allocates the
# rectangle from the first to the last of them. Its attributes are walked by XML's own
# grammar (a value cannot hold its quote), so no ">" or "r=" inside a value can hide or
# stand in for its reference. The group is its first ``r`` attribute, if it has one.
_ATTR = rb"""\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*')"""
_NOT_R_ATTR = rb"""\s+(?!r\s*=)[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*')"""
_VALUED_CELL = re.compile(
    rb"<(?:[\w.-]++:)?+c(?>"
    + _NOT_R_ATTR
    + rb""")*+(\s+r\s*=\s*(?:"[^"]*"|'[^']*'))?+(?>"""
    + _ATTR
    + rb")*+\s*+>"
)
# Those attributes joined by newlines, when each is a reference from A1 to ZZZ9999999. Each
# step takes a newline or a whole attribute; an attribute's value holds no quote of its own
# kind, so no line can pass for part of one, and each attribute is one cell's.
_WELL_FORMED = re.compile(rb"""(?:(?>\s+r\s*=\s*(["'])[A-Z]{1,3}[0-9]{1,7}\1)|\n)*+""")
_REF_VALUE = re.compile(rb"""r\s*=\s*["'](.*)["']$""", re.DOTALL)
_A1 = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
_MAX_COLUMNS, _MAX_ROWS = 16_384, 1_048_576  # the format's own largest sheet
_COUNTS = re.compile(rb"\b(count|uniqueCount)=\"(\d+)\"")


def _column_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + ord(ch) - 64
    return n


def _check_sheet(data: bytes, where: str) -> _Layout | None:
    """Check a worksheet's XML; its layout if it is written plainly."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:256]:
        raise IngestError(f"{where}: expected XML in UTF-8; found another encoding")
    layout = _plain_layout(data)
    rows, columns = _used_range(data, where, layout)
    limits.check(limits.SHEET_CELLS, rows * columns, where, "the sheet's used range holds")
    return layout


def used_range(data: bytes, where: str) -> tuple[int, int]:
    """The rows and columns of the rectangle the library allocates for a worksheet's XML:
    to the largest row and column any valued cell names, and one column more for each
    valued cell that names none (placed after the one before it)."""
    return _used_range(data, where, _plain_layout(data))


def _used_range(data: bytes, where: str, layout: _Layout | None) -> tuple[int, int]:
    if layout is None:
        return _matched_range(data, where)
    columns, rows, lowest = layout.references()
    if columns > _MAX_COLUMNS or rows > _MAX_ROWS or lowest < 1:
        _refuse_reference(data, where)
    return max(rows, 1), max(columns, 1)


def _matched_range(data: bytes, where: str) -> tuple[int, int]:
    """:func:`used_range` for any XML, by :data:`_VALUED_CELL`'s matches."""
    found = _VALUED_CELL.findall(data)
    unplaced, placed = found.count(b""), len(found)
    # All references at once (a Python step per cell costs more than reading the sheet).
    joined = b"\n".join(found)
    del found  # found again to name a bad reference: a sheet's cells are many small objects
    rows = columns = 0
    if _WELL_FORMED.fullmatch(joined) is None:
        _refuse_reference(data, where)
    if placed > unplaced:
        columns, rows, lowest = _references(joined)
        if columns > _MAX_COLUMNS or rows > _MAX_ROWS or lowest < 1:
            _refuse_reference(data, where)
    return max(rows, 1), max(columns, 1) + unplaced


_CELL_TAIL = re.compile(rb"(?:" + _ATTR + rb")*+\s*+")
_SPACE = np.zeros(256, bool)
_SPACE[list(b" \t\n\r\f\v")] = True
_LONGEST_TAIL = 64


@dataclass(frozen=True)
class _Layout:
    """A plainly written sheet's valued cells (:func:`_plain_layout`)."""

    padded: np.ndarray[Any, Any]
    """The XML's bytes, then some zeros."""
    windows: np.ndarray[Any, Any]
    """Those bytes from each offset on, a few dozen at a time."""
    opening: np.ndarray[Any, Any]
    """The offset of every "<"."""
    at: np.ndarray[Any, Any]
    """Where each valued cell's "<c" is in ``opening``."""
    end: np.ndarray[Any, Any]
    """Each valued cell's reference's closing quote."""
    close: np.ndarray[Any, Any]
    """Each valued cell's ">"."""
    row: np.ndarray[Any, Any]
    column: np.ndarray[Any, Any]

    def references(self) -> tuple[int, int, int]:
        """The largest column, the largest row and the smallest row."""
        return int(self.column.max()), int(self.row.max()), int(self.row.min())


def _plain_layout(data: bytes) -> _Layout | None:
    """Where :data:`_VALUED_CELL` matches and what :func:`_references` finds, worked out in
    NumPy for a sheet written plainly (as Excel and the vendors write them): every cell
    opens ``<c r="A1"``, its reference first and in double quotes, its tag ends just
    before the next tag begins, and no ``:c`` follows a namespace prefix. None for any
    other sheet (then only the regular expression can say). Where this answers, the
    expression matches exactly these openings: from each ``<c`` to the ``>`` just before
    the next ``<`` (but for self-closing cells, which it passes over), all between the
    reference and that ``>`` or ``/>`` well-formed attributes (checked once for each
    distinct text)."""
    padded = np.frombuffer(data + bytes(_LONGEST_TAIL + 16), np.uint8)
    text = padded[: len(data)]
    windows = np.lib.stride_tricks.sliding_window_view(padded, _LONGEST_TAIL)
    colon = np.flatnonzero(text == ord(":"))
    after = padded[colon + 2]
    if np.any((padded[colon + 1] == ord("c")) & (_SPACE[after] | (after == ord(">")))):
        return None  # a prefixed cell (or text that looks like one): only the expression
    opening = np.flatnonzero(text == ord("<"))
    after = padded[opening + 2]
    is_cell = (padded[opening + 1] == ord("c")) & (_SPACE[after] | (after == ord(">")))
    (at,) = np.nonzero(is_cell)
    if not len(at):
        return None
    cells = opening[at]
    window = windows[cells + 2, :15]  # ' r="', up to 10 bytes of reference, '"'
    if np.any(window[:, :4] != np.frombuffer(b' r="', np.uint8)):
        return None
    quoted = window[:, 4:] == ord('"')
    length = np.argmax(quoted, axis=1)
    if length.min() < 2 or not quoted[np.arange(len(cells)), length].all():
        return None
    # Each cell's tag ends at the byte before the next "<": no tag hides in its attributes.
    if at[-1] + 1 >= len(opening):
        return None  # the XML ends inside a cell
    close = opening[at + 1] - 1
    empty = padded[close - 1] == ord("/")  # self-closing: no value, not matched
    end = cells + 6 + length  # the reference's closing quote
    tail = close - end - 1 - empty
    if (
        np.any(padded[close] != ord(">"))
        or tail.min() < 0
        or tail.max() > _LONGEST_TAIL
        or empty.all()
        or not _plain_tails(windows, end + 1, tail)
    ):
        return None
    (valued,) = np.nonzero(~empty)
    found = _plain_cells(window[valued, 4 : 4 + int(length.max())], length[valued])
    if found is None:
        return None
    return _Layout(padded, windows, opening, at[valued], end[valued], close[valued], *found)


def _plain_tails(windows: np.ndarray[Any, Any], start: Any, length: Any) -> bool:
    """Whether every cell's text between its reference and its ``>`` is attributes (each
    distinct text is matched once)."""
    width = max(int(length.max()), 1)
    tails = windows[start, :width]
    tails[np.arange(width) >= length[:, None]] = ord(">")  # no tail holds one
    for _ in range(64):
        first = tails[0]
        if _CELL_TAIL.fullmatch(first.tobytes().rstrip(b">")) is None:
            return False
        tails = tails[np.any(tails != first, axis=1)]
        if not len(tails):
            return True
    return False  # many kinds of cell: the expression reads them


def _plain_cells(window: Any, length: Any) -> tuple[Any, Any] | None:
    """The row and column of each reference (one a row of ``window``, ``length`` bytes
    long), when each is 1 to 3 capitals then 1 to 7 digits."""
    chars = np.ascontiguousarray(window.T)  # a row per position: each step reads one run
    inside = np.arange(len(chars))[:, None] < length
    capital = ((chars - np.uint8(ord("A"))) < 26) & inside
    letters = capital.sum(axis=0)
    is_letter = np.arange(len(chars))[:, None] < letters
    is_digit = ((chars - np.uint8(ord("0"))) < 10) & inside
    if (
        letters.min() < 1
        or letters.max() > 3
        or (length - letters).min() < 1
        or (length - letters).max() > 7
        or np.any(capital != is_letter)
        or np.any(is_digit != (inside & ~is_letter))
    ):
        return None
    column = np.zeros(chars.shape[1], np.int32)
    row = np.zeros(chars.shape[1], np.int32)
    for k, byte in enumerate(chars.astype(np.int32)):
        if k < 3:
            column = np.where(is_letter[k], column * 26 + byte - 64, column)
        row = np.where(is_digit[k], row * 10 + byte - 48, row)
    return row, column


def _references(joined: bytes) -> tuple[int, int, int]:
    """The largest column, the largest row and the smallest row named by the references
    :data:`_WELL_FORMED` matched: in that text the only capital letters and digits are the
    references' own (1 to 3 letters, then 1 to 7 digits), so each run of capitals is a
    column and each run of digits a row, read all at once in NumPy."""
    text = np.frombuffer(joined, np.uint8)
    columns = _runs(text, ord("A") - 1, 26)
    rows = _runs(text, ord("0"), 10)
    return int(columns.max()), int(rows.max()), int(rows.min())


def _runs(text: np.ndarray[Any, Any], zero: int, base: int) -> Any:
    """The number each run of digits spells in ``base``, a byte being the digit of its value
    less ``zero`` when that is from 1 (0 for base 10) to ``base`` (``base - 1``)."""
    low = 1 if base == 26 else 0
    inside = (text - np.uint8(zero + low)) < base  # wraps around below the first digit
    starts = np.flatnonzero(inside[1:] > inside[:-1]) + 1
    ends = np.flatnonzero(inside[:-1] > inside[1:]) + 1
    if inside[0]:
        starts = np.concatenate([[0], starts])
    if inside[-1]:
        ends = np.concatenate([ends, [len(inside)]])
    del inside
    values = np.zeros(len(starts), np.int64)
    for k in range(int((ends - starts).max())):
        more = starts + k < ends
        values[more] = values[more] * base + (text[starts[more] + k].astype(np.int64) - zero)
    return values


def _refuse_reference(data: bytes, where: str) -> NoReturn:
    """Name the first cell reference outside A1:XFD1048576 (or not a reference at all)."""
    for attribute in _VALUED_CELL.findall(data):
        value = _REF_VALUE.search(attribute.strip())
        if value is None:
            continue
        text = value.group(1)
        a1 = _A1.fullmatch(text)
        column = _column_number(a1.group(1)) if a1 else 0
        row = int(a1.group(2)) if a1 else 0
        if not (1 <= column <= _MAX_COLUMNS and 1 <= row <= _MAX_ROWS):
            found_text = text.decode("utf-8", "replace")[:40]
            raise IngestError(
                f"{where}: expected a cell reference from A1 to XFD1048576; found {found_text!r}"
            )
    raise IngestError(f"{where}: expected a cell reference from A1 to XFD1048576")


def _check_counts(data: bytes, where: str) -> None:
    head = data[:4096]  # the counts are attributes of the root element
    for attribute, number in _COUNTS.findall(head):
        count = int(number)
        limits.check(
            limits.SHARED_STRINGS, count, where, f"the workbook's {attribute.decode()} declares"
        )
        if attribute == b"uniqueCount" and count > len(data) // 4:
            raise IngestError(
                f"{where}: expected at most one shared string for each 4 bytes of the file; "
                f"found uniqueCount {count:,} in {len(data):,} bytes"
            )


@dataclass(frozen=True)
class SheetGrid:
    """A sheet's used range, each cell as the library reads it: ``codes[r, c]`` is the index
    into ``values`` of the cell at row ``r``, column ``c`` of the range, or -1 (empty)."""

    codes: np.ndarray[Any, Any]
    values: list[Any]


def first_sheet(path: Path, name: str | None = None) -> list[list[Any]]:
    """The cells of the workbook's first sheet, row by row, as Python values."""
    name = name or str(path)
    members, _ = _checked(path, name)
    return _rows(members, name)


def read_first_sheet(path: Path, name: str | None = None) -> SheetGrid | list[list[Any]]:
    """The cells of the workbook's first sheet: as a :class:`SheetGrid` when the workbook has
    one worksheet, written plainly (its cells' values as Excel and the vendors write them:
    ``<v>`` alone), else row by row as :func:`first_sheet` reads them. The grid holds the
    same values in the same places: the library reads each distinct cell once (a sheet of
    those cells in one column) and NumPy places them, as the guard found them."""
    name = name or str(path)
    members, layouts = _checked(path, name)
    if len(layouts) == 1:
        [(member, layout)] = layouts.items()
        if layout is not None:
            grid = _plain_grid(members, member, layout, name)
            if grid is not None:
                return grid
    return _rows(members, name)


def _checked(path: Path, name: str) -> tuple[dict[str, bytes], dict[str, _Layout | None]]:
    """The workbook's members, checked, and each worksheet's layout if written plainly."""
    if not is_zip(path):
        raise IngestError(
            f"{name}: expected an .xlsx workbook (a zip archive); found another kind of file "
            "(save it as .xlsx)"
        )
    members: dict[str, bytes] = {}
    layouts: dict[str, _Layout | None] = {}
    with Archive(path, name) as archive:
        for member in archive.names():
            data = archive.read(member)
            where = f"{name}:{member}"
            lowered = member.lower()
            if lowered.startswith("xl/worksheets/") and lowered.endswith(".xml"):
                layouts[member] = _check_sheet(data, where)
            elif lowered.endswith("sharedstrings.xml"):
                _check_counts(data, where)
            members[member] = data
    if any(m.lower().startswith(_OTHER_SHEETS) for m in members):
        layouts[""] = None  # the first sheet may not be the worksheet
    return members, layouts


_OTHER_SHEETS = ("xl/chartsheets/", "xl/dialogsheets/", "xl/macrosheets/")


def _workbook(members: dict[str, bytes], name: str) -> CalamineWorkbook:
    """The library's workbook of exactly these members (stored again, uncompressed)."""
    checked = io.BytesIO()
    with zipfile.ZipFile(checked, "w") as out:
        for member, data in members.items():
            out.writestr(member, data)
    checked.seek(0)
    return CalamineWorkbook.from_filelike(checked)


def _rows(members: dict[str, bytes], name: str) -> list[list[Any]]:
    try:
        workbook = _workbook(members, name)
        rows: list[list[Any]] = workbook.get_sheet_by_index(0).to_python()
    except Exception as e:  # calamine's own error types for a damaged workbook
        raise IngestError(f"{name}: cannot read it as a spreadsheet ({_first_line(e)})") from None
    except BaseException as e:
        # A Rust panic inside the library arrives as pyo3's PanicException, which derives
        # from BaseException; anything else (KeyboardInterrupt, SystemExit) goes on.
        if type(e).__name__ != "PanicException":
            raise
        raise IngestError(f"{name}: cannot read it as a spreadsheet ({_first_line(e)})") from None
    return rows


_PLAIN_VALUE = re.compile(rb"(?:" + _NOT_R_ATTR + rb")*+\s*+><v>[^<]*</v>")
"""A plain cell's text after its reference: attributes (no second reference), its value."""
_SENTINEL = b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'


def _plain_grid(
    members: dict[str, bytes], member: str, layout: _Layout, name: str
) -> SheetGrid | None:
    """The grid of a plainly written worksheet, or None if any of its cells is not plain
    (then the library reads the whole sheet). Each cell is what follows its reference up to
    its ``</c>``: its other attributes and its ``<v>``; the distinct ones are handed to the
    library, as the sheet's only cells, one a row in column A after a first known cell, in a
    copy of the workbook; every value must come back, none of them empty."""
    data, p = members[member], layout.padded
    # A plain cell's "<v>", "</v>" and "</c>" are the next three tags (each cell's text is
    # checked below to hold no other "<").
    if layout.at.max() + 3 >= len(layout.opening):
        return None
    stop = layout.opening[layout.at + 3]
    length = stop - layout.end - 1
    if (
        np.any(p[stop + 1] != ord("/"))
        or np.any(p[stop + 2] != ord("c"))
        or np.any(p[stop + 3] != ord(">"))
        or length.max() >= _LONGEST_TAIL
    ):
        return None
    width = int(length.max())
    keys = np.zeros((len(length), width + 1), np.uint8)
    keys[:, :width] = layout.windows[layout.end + 1, :width]
    keys[:, :width][np.arange(width) >= length[:, None]] = 0
    keys[:, width] = length
    encoded = pa.Array.from_buffers(
        pa.binary(width + 1), len(keys), [None, pa.py_buffer(keys)]
    ).dictionary_encode()
    cells = [key[: key[-1]] for key in encoded.dictionary.to_pylist()]
    if not all(_PLAIN_VALUE.fullmatch(cell) for cell in cells):
        return None
    first, last = data.find(b"<sheetData>"), data.rfind(b"</sheetData>")
    if first < 0 or last < first or data.find(b"<sheetData", first + 1) >= 0:
        return None
    rows = b"".join(
        b'<row r="%d"><c r="A%d"%s</c></row>' % (k, k, cell) for k, cell in enumerate(cells, 2)
    )
    sheet = data[: first + len(b"<sheetData>")] + _SENTINEL + rows + data[last:]
    try:
        workbook = _workbook({**members, member: sheet}, name)
        if len(workbook.sheet_names) != 1:
            return None
        read = workbook.get_sheet_by_index(0).to_python()
    except BaseException as e:  # the whole sheet, read by the library, says what is wrong
        if isinstance(e, Exception) or type(e).__name__ == "PanicException":
            return None
        raise
    if len(read) != len(cells) + 1 or read[0] != ["x"] or any(len(r) != 1 for r in read):
        return None
    values = [r[0] for r in read[1:]]
    if any(v is None or v == "" for v in values):
        return None  # an empty value: the library might leave it out of the range
    top, left = int(layout.row.min()), int(layout.column.min())
    span = int(layout.column.max()) - left + 1
    place = (layout.row - top) * span + (layout.column - left)
    if np.any(np.diff(place) <= 0) and len(np.unique(place)) < len(place):
        return None  # a cell named twice: the library decides which one stands
    codes = np.full((int(layout.row.max()) - top + 1, span), -1, np.int32)
    codes.reshape(-1)[place] = encoded.indices.to_numpy()
    return SheetGrid(codes, values)


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0] if lines else type(e).__name__
