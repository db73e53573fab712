"""Dominion CSV CVRs against Arlo's fixture elections: every jurisdiction's CVRs reproduce its
"candidate totals by batch" files, which Arlo's authors wrote independently."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest

from canvass.errors import IngestError
from canvass.ingest.dominion_csv import DominionCsv, DominionCsvSet
from canvass.tabulate.plurality import tabulate
from tests.conftest import SHARED, shared_params, shared_path

ARLO = SHARED / "data" / "arlo"
TOTALS = sorted(ARLO.glob("*/* - candidate totals by batch.csv")) if ARLO.exists() else []


def test_arlo_fixtures_are_present() -> None:
    shared_path("data", "arlo")
    assert len(TOTALS) >= 14


@pytest.mark.parametrize("totals", shared_params(TOTALS, ARLO), ids=lambda p: p.name if p else "")
def test_cvrs_reproduce_candidate_totals_by_batch(totals: Path) -> None:
    jurisdiction, contest = totals.name.split(" - ")[:2]
    reader = DominionCsv(totals.parent / f"{jurisdiction} - cvrs.csv")
    table = pa.Table.from_batches(list(reader.read(jurisdiction)))
    index = [c.name for c in reader.contests].index(contest)
    by_batch: dict[str, dict[str, int]] = {}
    for group, contests in tabulate(table, reader.contests, by="batch").groups.items():
        batch = group.split("/", 1)[1]  # tabulator/batch; Arlo's files name the batch alone
        row = by_batch.setdefault(batch, {})
        for choice, votes in contests[index].votes.items():
            row[choice] = row.get(choice, 0) + votes
    with totals.open() as f:
        expected = {
            r.pop("Batch Name"): {k: int(v) for k, v in r.items()} for r in csv.DictReader(f)
        }
    assert {b: v for b, v in by_batch.items() if b in expected or any(v.values())} == expected


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "cvrs.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


HEADER = [
    "Test,5.2.16.1,,,,",
    ",,,,Mayor (Vote For=1),Mayor (Vote For=1)",
    ",,,,Ann Adams,Write-in",
    "CvrNumber,TabulatorNum,BatchId,RecordId,,",
]


def test_bad_cell(tmp_path: Path) -> None:
    path = write(tmp_path, [*HEADER, "1,T1,B1,1,1,0", "2,T1,B1,2,x,0"])
    with pytest.raises(IngestError) as e:
        list(DominionCsv(path).read("c"))
    assert (
        str(e.value)
        == f"{path} row 6, column 5 (Mayor / Ann Adams): expected 1, 0 or empty; found 'x'"
    )


def test_short_row(tmp_path: Path) -> None:
    path = write(tmp_path, [*HEADER, "1,T1,B1,1,1"])
    with pytest.raises(IngestError) as e:
        list(DominionCsv(path).read("c"))
    assert str(e.value) == f"{path} row 5: expected 6 columns; found 5"


def test_bad_contest_header(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER[0], ",,,,Mayor,Mayor (Vote For=1)", *HEADER[2:]])
    with pytest.raises(IngestError) as e:
        DominionCsv(path)
    assert (
        str(e.value)
        == f"{path} row 2, column 5: expected a contest header like 'Mayor (Vote For=1)'; found 'Mayor'"
    )


def test_missing_required_column(tmp_path: Path) -> None:
    path = write(tmp_path, [*HEADER[:3], "CvrNumber,Tabulator,BatchId,RecordId,,"])
    with pytest.raises(IngestError) as e:
        DominionCsv(path)
    assert (
        str(e.value)
        == f"{path} row 4: expected a column 'TabulatorNum' among CvrNumber, Tabulator, BatchId, RecordId"
    )


def test_files_with_different_columns(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write(tmp_path / "a", [*HEADER, "1,T1,B1,1,1,0"])
    b = write(
        tmp_path / "b",
        [HEADER[0], ",,,,Sheriff (Vote For=1),Sheriff (Vote For=1)", *HEADER[2:], "1,T1,B1,1,1,0"],
    )
    with pytest.raises(IngestError) as e:
        DominionCsvSet([a, b])
    assert (
        str(e.value)
        == f"{b}: its contest columns differ from {a}'s; import files with different columns separately"
    )


def test_empty_cells_mean_the_contest_was_not_on_the_card(tmp_path: Path) -> None:
    path = write(tmp_path, [*HEADER, "1,T1,B1,1,1,0", "2,T1,B1,2,,", "3,T1,B1,3,1,1"])
    reader = DominionCsv(path)
    (mayor,) = tabulate(pa.Table.from_batches(list(reader.read("c"))), reader.contests).contests
    assert (mayor.ballots, mayor.votes, mayor.overvoted_ballots) == (
        2,
        {"Ann Adams": 1, "Write-in": 0},
        1,
    )
    assert mayor.votes_allowed == 1
