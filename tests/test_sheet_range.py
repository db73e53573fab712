"""The used range of a worksheet, as the spreadsheet guard works it out before the library
allocates it: checked against the cells a test writes, in every way XML allows them to be
written (attribute order, quotes, spacing, namespace prefixes, self-closing cells)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.errors import IngestError
from canvass.guard.spreadsheet import used_range


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
