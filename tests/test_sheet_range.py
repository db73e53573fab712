"""The used range of a worksheet, as the spreadsheet guard works it out before the library
allocates it: checked against the cells a test writes, in every way XML allows them to be
written (attribute order, quotes, spacing, namespace prefixes, self-closing cells)."""

from __future__ import annotations

import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.errors import IngestError
from canvass.guard import spreadsheet
from canvass.guard.spreadsheet import used_range
from tests.conftest import shared_path


def letters(column: int) -> str:
    out = ""
    while column:
        column, rest = divmod(column - 1, 26)
        out = chr(65 + rest) + out
    return out


SPACE = st.sampled_from([" ", "  ", "\n", "\t", " \r\n "])
QUOTE = st.sampled_from(['"', "'"])


@st.composite
def cell(draw: st.DrawFn) -> tuple[str, tuple[int, int] | None, bool]:
    """A cell's XML, the (row, column) it names (None: none), whether it holds a value."""
    row = draw(st.integers(1, 1_048_576))
    column = draw(st.integers(1, 16_384))
    placed = draw(st.booleans())
    valued = draw(st.booleans())
    others = draw(
        st.lists(
            st.sampled_from(
                [
                    't="s"',
                    "s='3'",
                    'x14ac:dyDescent="0.3"',
                    't="str" ',
                    'rr="Z9"',
                    "s=' r=\"XFD1048576\" '",
                    'cm="1>2"',
                ]
            ),
            max_size=3,
        )
    )
    q = draw(QUOTE)
    attributes = [a.strip() for a in others]
    if placed:
        ref = f"r{draw(st.sampled_from(['=', ' = ', '=']))}{q}{letters(column)}{row}{q}"
        attributes.insert(draw(st.integers(0, len(attributes))), ref)
    prefix = draw(st.sampled_from(["", "x:"]))
    opening = (
        f"<{prefix}c"
        + "".join(draw(SPACE) + a for a in attributes)
        + draw(st.sampled_from(["", " ", "\n"]))
    )
    xml = f"{opening}><v>1</v></{prefix}c>" if valued else f"{opening}/>"
    return xml, ((row, column) if placed else None), valued


@settings(max_examples=300, deadline=None)
@given(st.lists(cell(), max_size=12))
def test_the_used_range_is_that_of_the_valued_cells(cells: list) -> None:  # type: ignore[type-arg]
    xml = '<worksheet><dimension ref="A1"/><sheetData><row r="1">'
    xml += "".join(c[0] for c in cells) + "</row></sheetData><cols><col min='1'/></cols>"
    xml += "</worksheet>"
    valued = [where for _, where, v in cells if v]
    placed = [where for where in valued if where is not None]
    rows = max((r for r, _ in placed), default=1)
    columns = max((c for _, c in placed), default=1) + sum(w is None for w in valued)
    assert used_range(xml.encode(), "sheet1.xml") == (rows, columns)


@pytest.mark.parametrize(
    ("cell", "found"),
    [
        ('<c r="A1048577"><v>1</v></c>', "A1048577"),
        ('<c r="XFE1"><v>1</v></c>', "XFE1"),
        ('<c r="A0"><v>1</v></c>', "A0"),
        ('<c r="a1"><v>1</v></c>', "a1"),
        ("<c r=' A1'><v>1</v></c>", " A1"),
        ('<c r="A1\nB2"><v>1</v></c>', "A1\nB2"),
        ('<c t="s" r="B7" r="C1"><v>1</v></c><c r="1"><v>1</v></c>', "1"),
    ],
)
def test_a_reference_outside_the_format_is_named(cell: str, found: str) -> None:
    xml = f'<worksheet><sheetData><row r="1"><c r="B2"><v>1</v></c>{cell}</row></sheetData>'
    with pytest.raises(IngestError) as e:
        used_range(xml.encode(), "sheet1.xml")
    assert str(e.value) == (
        f"sheet1.xml: expected a cell reference from A1 to XFD1048576; found {found!r}"
    )


def plain_references(data: bytes) -> tuple[int, int, int] | None:
    """The largest column, largest row and smallest row, if measured without the expression."""
    layout = spreadsheet._plain_layout(data)
    return None if layout is None else layout.references()


def plain_sheet(cells: list[tuple[str, str]]) -> bytes:
    """A sheet as Excel writes one: each cell's reference first, in double quotes."""
    xml = '<worksheet xmlns:x14ac="x"><sheetData><row r="1" x14ac:dyDescent="0.3">'
    xml += "".join(f'<c r="{ref}"{tail}><v>1</v></c>' for ref, tail in cells)
    return (xml + "</row></sheetData></worksheet>").encode()


@settings(max_examples=300, deadline=None)
@given(st.lists(cell(), max_size=12))
def test_plainly_written_sheets_are_measured_as_the_expression_measures_them(
    cells: list,  # type: ignore[type-arg]
) -> None:
    xml = '<worksheet><sheetData><row r="1">' + "".join(c[0] for c in cells)
    data = (xml + "</row></sheetData></worksheet>").encode()
    plain = plain_references(data)
    if plain is not None:
        found = spreadsheet._VALUED_CELL.findall(data)
        assert found and b"" not in found
        assert plain == spreadsheet._references(b"\n".join(found))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 1_048_576),
            st.integers(1, 16_384),
            st.sampled_from(["", ' t="s"', ' s="3" t="n"', " t='s' ", ' cm="1>2"', ' s="2"/']),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_a_plainly_written_sheet_is_measured_without_the_expression(
    cells: list[tuple[int, int, str]],
) -> None:
    data = plain_sheet([(f"{letters(c)}{r}", tail) for r, c, tail in cells])
    valued = [(r, c) for r, c, tail in cells if not tail.endswith("/")]
    if not valued:  # only self-closing cells: nothing to measure
        assert plain_references(data) is None
        return
    rows = max(r for r, _ in valued)
    columns = max(c for _, c in valued)
    assert plain_references(data) == (columns, rows, min(r for r, _ in valued))
    assert used_range(data, "sheet1.xml") == (rows, columns)


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="B2" / >',
        "<c r='B2'>",
        '<c  r="B2">',
        '<c t="s" r="B2">',
        '<x:c r="B2">',
        '<c r="B2" t="s"  <v>',
        '<c r="B2" t=s>',
        '<c r="b2">',
        '<c r="B2 ">',
        '<c r="AAAA2">',
        '<c r="B12345678">',
        '<c r="B">',
        '<c r="2">',
        '<c r="B2" a="<c r=\\"C3\\">">',
    ],
)
def test_a_sheet_written_otherwise_is_left_to_the_expression(cell: str) -> None:
    data = plain_sheet([("A1", "")]).replace(b"</row>", cell.encode() + b"</c></row>")
    assert plain_references(data) is None


@pytest.mark.parametrize(
    ("ref", "found"), [("XFE1", "XFE1"), ("A1048577", "A1048577"), ("A0", "A0")]
)
def test_a_plainly_written_reference_outside_the_format_is_named(ref: str, found: str) -> None:
    with pytest.raises(IngestError) as e:
        used_range(plain_sheet([("B2", ""), (ref, ' t="s"')]), "sheet1.xml")
    assert str(e.value) == (
        f"sheet1.xml: expected a cell reference from A1 to XFD1048576; found {found!r}"
    )


@pytest.mark.parametrize(
    "case", ["2013_minneapolis_mayor", "batch_example", "precinct_example", "_shared"]
)
def test_vendor_spreadsheets_are_measured_without_the_expression(case: str) -> None:
    found = sorted(shared_path("data", "rctab", case).glob("*.xlsx"))
    assert found
    for path in found:
        data = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
        plain = plain_references(data)
        assert plain is not None
        matched = spreadsheet._VALUED_CELL.findall(data)
        assert plain == spreadsheet._references(b"\n".join(matched))
