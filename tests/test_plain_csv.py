"""RCTab generic CSV read as columns gives, for any file, the table the row-by-row reader
gives, or the same error: plain files are read in Arrow and NumPy, the others row by row."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canvass.errors import CanvassError
from canvass.ingest import plain_csv
from canvass.ingest.ballots import batches
from canvass.ingest.plain_csv import plain_columns
from canvass.ingest.rctab_csv import RctabCsv, RctabCsvOptions

RANKS = st.sampled_from(["", "", "1", "2", "3", "4", "10", "127", "128", "0", "007", " 2", "x"])
TEXT = st.sampled_from(["", "p1", "p 2", "b1", " p3", "é", "R_3QEQ85E7gV2DuyG"])
ODD = st.sampled_from(['"', "\r", "\n", ",", "\t", "\x00"])


@st.composite
def files(draw: st.DrawFn) -> bytes:
    rows = draw(
        st.lists(st.tuples(TEXT, TEXT, st.lists(RANKS, min_size=4, max_size=4)), max_size=30)
    )
    lines = ["id,precinct,Ann,Bo,Cy,Write-In"]
    lines += [",".join([i, p, *r]) for i, p, r in rows]
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"]))
    if draw(st.booleans()):  # something the plain reader must leave to the row reader
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(ODD) + text[at:]
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text.encode() if draw(st.integers(0, 9)) else b"\xef\xbb\xbf" + text.encode()


def _read(reader: RctabCsv, rows_only: bool) -> object:
    try:
        if rows_only:
            return [r for b in batches(reader._cards("c")) for r in b.to_pylist()]
        return [r for b in reader.read("c") for r in b.to_pylist()]
    except CanvassError as e:
        return str(e)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=files(), with_ids=st.booleans(), block=st.sampled_from([None, 16, 40]))
def test_columns_are_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes, with_ids: bool, block: int | None
) -> None:
    """Also when the file is parsed a few bytes at a time (each row its own block, or a
    few rows), so that a file whose first rows are plain and whose later rows are not is
    read partly as columns and the rest row by row."""
    monkeypatch.setattr(plain_csv, "BLOCK_BYTES", block or plain_csv.BLOCK_BYTES)
    path = tmp_path / "cvr.csv"
    path.write_bytes(data)
    options = RctabCsvOptions(
        first_vote_column=3, id_column=1 if with_ids else None, precinct_column=2
    )
    try:
        reader = RctabCsv([path], options)
    except CanvassError:
        return  # the header itself is refused, before any row is read
    assert _read(reader, rows_only=False) == _read(reader, rows_only=True)


def test_a_plain_file_is_read_as_columns(tmp_path: Path) -> None:
    path = tmp_path / "cvr.csv"
    path.write_bytes(b"id,Ann,Bo\nr1,1,2\nr2,,1\n")
    header, table = plain_columns(path)  # type: ignore[misc]
    assert header == ["id", "Ann", "Bo"]
    assert table.to_pylist() == [
        {"0": "r1", "1": "1", "2": "2"},
        {"0": "r2", "1": "", "2": "1"},
    ]


@pytest.mark.parametrize(
    "data",
    [
        b'id,Ann\n"r1",1\n',  # quoted
        b"id,Ann\nr1,1\n\nr2,2\n",  # a blank line
        b"id,Ann\nr1,1,2\n",  # a row wider than the header
        b"id,Ann\nr1,1\rr2,2\n",  # a carriage return alone ends a row for the csv module
        b"id,Ann\n,\n",  # a row of empty cells
        b"id,Ann\nr\xff,1\n",  # not UTF-8
    ],
)
def test_a_file_that_is_not_plain_is_left_to_the_row_reader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "cvr.csv"
    path.write_bytes(data)
    assert plain_columns(path) is None
