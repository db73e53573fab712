"""The generic CSV layout: one row per card, one column per contest, written by hand."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from canvass.errors import IngestError
from canvass.ingest.generic_csv import GenericCsv
from canvass.tabulate.plurality import tabulate

EXAMPLE = """card,batch,precinct,vote_type,Mayor,Council (Vote For=2),Judge (Ranks=3)
1,B1,P1,election_day,Ann Adams,Chen|Diaz,Lee>Kim
2,B1,P1,absentee,,Chen,-
3,B2,P2,absentee,Ann Adams|Bo Baker,Chen|Diaz|Evans,>Kim>Lee
4,B2,P2,early,Bo Baker,-,Kim|Lee
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cvrs.csv"
    path.write_text(text)
    return path


def test_the_documented_example_counts_as_a_person_would(tmp_path: Path) -> None:
    reader = GenericCsv([write(tmp_path, EXAMPLE)])
    table = pa.Table.from_batches(list(reader.read("c")))
    mayor, council, judge = tabulate(table, reader.contests).contests
    # Mayor: card 3 overvotes; card 2 leaves it blank.
    assert (mayor.ballots, mayor.votes, mayor.overvotes, mayor.undervotes) == (
        4,
        {"Ann Adams": 1, "Bo Baker": 1},
        1,
        1,
    )
    # Council, vote for 2: card 3 marks three (overvote, 2 lost); card 2 marks one (1 under); card 4 lacks it.
    assert (council.ballots, council.votes, council.overvotes, council.undervotes) == (
        3,
        {"Chen": 2, "Diaz": 1, "Evans": 0},
        2,
        1,
    )
    # Judge, ranked: card 3 skipped rank 1 so Kim is its first choice; card 4 overvotes rank 1.
    assert (judge.ballots, judge.votes, judge.overvoted_ballots) == (3, {"Lee": 1, "Kim": 1}, 1)
    assert table.column("vote_type").to_pylist() == [
        "election_day",
        "absentee",
        "absentee",
        "early",
    ]
    assert table.column("record").to_pylist() == ["1", "2", "3", "4"]


def test_missing_card_column(tmp_path: Path) -> None:
    path = write(tmp_path, "id,Mayor\n1,Adams\n")
    with pytest.raises(IngestError) as e:
        GenericCsv([path])
    assert str(e.value) == f"{path} row 1: expected a column 'card'; found id, Mayor"


def test_duplicate_card(tmp_path: Path) -> None:
    path = write(tmp_path, "card,Mayor\n1,Adams\n1,Baker\n")
    with pytest.raises(IngestError) as e:
        GenericCsv([path])
    assert str(e.value) == f"{path} row 3: card '1' is already on row 2"


def test_short_row(tmp_path: Path) -> None:
    path = write(tmp_path, "card,Mayor,Council\n1,Adams\n")
    with pytest.raises(IngestError) as e:
        GenericCsv([path])
    assert str(e.value) == f"{path} row 2: expected 3 columns; found 2"
