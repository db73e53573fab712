"""A plainly written sheet read as a grid (each distinct cell read once by the library,
placed by NumPy) holds the values the library reads from the whole sheet, in the same
places; any other sheet is read whole."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.guard.spreadsheet import SheetGrid, first_sheet, read_first_sheet
from tests.conftest import shared_path
from tests.test_sheet_range import letters

BASE = shared_path("data", "rctab", "precinct_example", "precinct_example_cvr.xlsx")


def rows_of(sheet: SheetGrid | list[list[Any]]) -> list[list[Any]]:
    if isinstance(sheet, SheetGrid):
        return [[sheet.values[c] if c >= 0 else "" for c in row] for row in sheet.codes.tolist()]
    return sheet


def typed(rows: list[list[Any]]) -> list[list[tuple[type, Any]]]:
    return [[(type(v), v) for v in row] for row in rows]


def workbook(tmp_path: Path, sheet_data: str) -> Path:
    """The base workbook with its first sheet's cells replaced."""
    out = tmp_path / "cvr.xlsx"
    with zipfile.ZipFile(BASE) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.namelist():
            data = src.read(member)
            if member == "xl/worksheets/sheet1.xml":
                head = data[: data.index(b"<sheetData>")]
                tail = data[data.index(b"</sheetData>") :]
                data = head + b"<sheetData>" + sheet_data.encode() + tail
            dst.writestr(member, data)
    return out


@pytest.mark.parametrize("path", sorted(shared_path("data", "rctab").glob("*/*.xlsx")), ids=str)
def test_rctab_spreadsheets_read_as_grids_hold_what_the_library_reads(path: Path) -> None:
    sheet = read_first_sheet(path)
    assert isinstance(sheet, SheetGrid)
    assert typed(rows_of(sheet)) == typed(first_sheet(path))


VALUES = [
    ' t="s"><v>0</v>',
    ' t="s"><v>5</v>',
    ' t="s"><v>1</v>',
    "><v>1</v>",
    "><v>2.5</v>",
    ' s="0"><v>-7</v>',
    ' t="n"><v>1E3</v>',
    ' t="b"><v>1</v>',
    ' t="str"><v>text &amp; more</v>',
    ' t="e"><v>#N/A</v>',
]


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.integers(1, 40), st.integers(1, 8)), st.sampled_from(VALUES), min_size=1
    ),
    st.booleans(),
)
def test_random_plain_sheets_read_as_the_library_reads_them(
    tmp_path_factory: pytest.TempPathFactory, cells: dict[tuple[int, int], str], empties: bool
) -> None:
    xml = ""
    for r in sorted({r for r, _ in cells}):
        row = "".join(
            f'<c r="{letters(c)}{r}"{cells[(r, c)]}</c>'
            + (f'<c r="{letters(c + 8)}{r}" s="1"/>' if empties else "")
            for c in sorted(c for rr, c in cells if rr == r)
        )
        xml += f'<row r="{r}">{row}</row>'
    path = workbook(tmp_path_factory.mktemp("grid"), xml)
    sheet = read_first_sheet(path)
    # An error cell reads as empty: the library might leave it out of the range, so such a
    # sheet is read whole.
    assert isinstance(sheet, SheetGrid) == all("#N/A" not in v for v in cells.values())
    assert typed(rows_of(sheet)) == typed(first_sheet(path))


@pytest.mark.parametrize(
    "sheet_data",
    [
        '<row r="1"><c r="A1" t="str"><v></v></c><c r="B1"><v>1</v></c></row>',  # empty value
        '<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>',  # a formula
        '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>',  # inline text
        '<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>',  # named twice
        '<row r="1"><c r="A1"><v>1</v></c><c t="s"><v>0</v></c></row>',  # no reference
        '<row r="1"><c r="A1" r="B2"><v>1</v></c></row>',  # two references
    ],
)
def test_other_sheets_are_read_whole(tmp_path: Path, sheet_data: str) -> None:
    path = workbook(tmp_path, sheet_data)
    sheet = read_first_sheet(path)
    assert isinstance(sheet, list)
    assert sheet == first_sheet(path)
