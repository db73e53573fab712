"""Clear Ballot CSV CVRs against RCTab's two Clear Ballot cases: first choices equal round 1."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from canvass.errors import IngestError
from canvass.ingest.clear_ballot import ClearBallotCsv
from canvass.tabulate.plurality import tabulate
from tests.conftest import shared_path


@pytest.mark.parametrize("case", ["clear_ballot_kansas_primary", "clear_ballot_with_inline_comma"])
def test_first_choices_equal_rctab_round_one(case: str) -> None:
    folder = shared_path("data", "rctab", case)
    config = json.loads((folder / f"{case}_config.json").read_text())
    source = config["cvrFileSources"][0]
    reader = ClearBallotCsv([folder / source["filePath"]])
    index = [c.name for c in reader.contests].index(source["contestId"])
    assert reader.contests[index].ranks > 1
    totals = tabulate(pa.Table.from_batches(list(reader.read("c"))), reader.contests).contests[
        index
    ]
    report = json.loads((folder / f"{case}_expected_detailed_report.json").read_text())
    expected = {k: int(float(v)) for k, v in report["results"][0]["tally"].items() if float(v)}
    assert {k: v for k, v in totals.votes.items() if v} == expected


def test_bad_choice_header(tmp_path: Path) -> None:
    path = tmp_path / "cvr.csv"
    path.write_text(
        "RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,ScanComputerName,Choice_1_1:Mayor:one:Vote For 1:Ann:NON\n"
    )
    with pytest.raises(IngestError) as e:
        ClearBallotCsv([path])
    assert str(e.value) == (
        f"{path} row 1, column 8: expected 'Choice_<id>_<n>:<contest>:<rank>:Vote For <n>:<candidate>:<party>' "
        "(rank 1 to 127, votes 1 to 32,767); found 'Choice_1_1:Mayor:one:Vote For 1:Ann:NON'"
    )
