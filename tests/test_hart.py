"""Hart Verity XML CVRs against RCTab's Hart cases."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from canvass.errors import IngestError
from canvass.ingest.hart import HartExport
from canvass.tabulate.plurality import tabulate
from tests.conftest import shared_path


def test_cedar_park_first_choices_equal_rctab_round_one() -> None:
    case = "hart_cedar_park_school_board"
    folder = shared_path("data", "rctab", case)
    config = json.loads((folder / f"{case}_config.json").read_text())
    source = config["cvrFileSources"][0]
    export = HartExport([(folder / source["filePath"]).resolve()])
    c = export.contest_index[source["contestId"]]
    assert export.contests[c].ranks == 6
    totals = tabulate(pa.Table.from_batches(list(export.read("c"))), export.contests).contests[c]
    name = {alias: x["name"] for x in config["candidates"] for alias in x["aliases"]}
    name[source["undeclaredWriteInLabel"]] = "Undeclared Write-ins"
    ours = {
        name[oid]: totals.votes[export.contests[c].choices[k].name]
        for k, oid in enumerate(export.choice_ids[c])
    }
    report = json.loads((folder / f"{case}_expected_detailed_report.json").read_text())
    expected = {k: int(float(v)) for k, v in report["results"][0]["tally"].items()}
    assert {k: v for k, v in ours.items() if v} == {k: v for k, v in expected.items() if v}


def test_travis_county_officers_is_vote_for_three() -> None:
    """RCTab's hart_travis_county_officers case reads this contest as ranked; the cards say
    it is vote-for-3 (blank cards carry 3 undervotes, voted cards mark 3), so as plurality it
    is counted with three votes allowed and no overvotes."""
    folder = shared_path("data", "rctab", "_shared", "hart_cvr_archive")
    export = HartExport([folder])
    c = export.contest_index["e9ca8235-893e-43df-93eb-3cc61eeb133c"]
    totals = tabulate(pa.Table.from_batches(list(export.read("c"))), export.contests).contests[c]
    assert (totals.votes_allowed, totals.overvotes) == (3, 0)
    assert totals.total_votes + totals.undervotes == 3 * totals.ballots


def test_zip_archive_reads_like_the_folder(tmp_path: Path) -> None:
    folder = shared_path("data", "rctab", "_shared", "hart_cvr_archive")
    archive = tmp_path / "hart.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.glob("*.xml")):
            z.write(f, f.name)
    assert pa.Table.from_batches(list(HartExport([archive]).read("c"))).equals(
        pa.Table.from_batches(list(HartExport([folder]).read("c")))
    )


def test_bad_value(tmp_path: Path) -> None:
    path = tmp_path / "card.xml"
    path.write_text(
        '<Cvr xmlns="http://tempuri.org/CVRDesign.xsd"><Contests><Contest><Name>M</Name><Id>m</Id>'
        "<Options><Option><Name>A</Name><Id>a</Id><Value>yes</Value></Option></Options>"
        "</Contest></Contests></Cvr>"
    )
    with pytest.raises(IngestError) as e:
        HartExport([path])
    assert (
        str(e.value)
        == f"{path}: contest 'm', option 'a': expected a Value of 0s and 1s (at most 127); found 'yes'"
    )
