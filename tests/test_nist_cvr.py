"""NIST SP 1500-103 CVRs against the NIST test method's own results files (SP 1500-100 ERR):
tabulating each synthetic election's CVRs reproduces its county-wide totals."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from canvass.errors import IngestError
from canvass.ingest.nist_cvr import NistCvrReport, schema_validator
from canvass.tabulate.plurality import tabulate
from tests.conftest import SHARED, shared_path

SYNTHETIC = SHARED / "data" / "nist-cdf" / "test_data" / "synthetic"
EXACT = ["gen-01", "gen-02", "gen-03", "prim-01", "prim-02", "prim-03"]
"""Votes, overvotes and undervotes all reproduce the ERR file (prim-01 and prim-02 are open
primaries, counted by the open-primary rule; prim-02 has ballots that cross over)."""


def county_totals(election: str) -> dict[tuple[str, str], int | tuple[int, int]]:
    """(contest, selection) -> votes, and (contest, "") -> (overvotes, undervotes), at the
    contest's electoral district, from the ERR file."""
    err = json.loads((SYNTHETIC / election / "err_v2" / f"err-{election}.json").read_text())
    out: dict[tuple[str, str], int | tuple[int, int]] = {}
    for contest in err["Election"][0]["Contest"]:
        top = contest.get("ElectionDistrictId")
        for selection in contest.get("ContestSelection", []):
            for count in selection.get("VoteCounts", []):
                if count["GpUnitId"] == top and count.get("Type") == "total":
                    out[(contest["@id"], selection["@id"])] = count["Count"]
        for other in contest.get("OtherCounts", []):
            if other["GpUnitId"] == top:
                out[(contest["@id"], "")] = (other.get("Overvotes", 0), other.get("Undervotes", 0))
    return out


def ours(election: str, ext: str = "json") -> dict[tuple[str, str], int | tuple[int, int]]:
    report = NistCvrReport([SYNTHETIC / election / "cvr_v1" / f"cvr-{election}.{ext}"])
    totals = tabulate(pa.Table.from_batches(list(report.read("county"))), report.contests).contests
    out: dict[tuple[str, str], int | tuple[int, int]] = {}
    for cid, c in report.contest_index.items():
        votes = list(totals[c].votes.values())
        for (contest, sid), k in report.selection_index.items():
            if contest == cid:
                out[(cid, sid)] = votes[k]
        out[(cid, "")] = (totals[c].overvotes, totals[c].undervotes)
    return out


@pytest.mark.parametrize("election", EXACT)
def test_cvrs_reproduce_the_results_file(election: str) -> None:
    shared_path("data", "nist-cdf", "test_data", "synthetic", election)
    want, got = county_totals(election), ours(election)
    assert len(want) > 20
    assert {k: got.get(k) for k in want} == want


def test_not_a_cvr_report(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"@type": "ElectionResults.ElectionReport"}')
    with pytest.raises(IngestError) as e:
        NistCvrReport([path])
    assert (
        str(e.value)
        == f'{path}: expected "@type": "CVR.CastVoteRecordReport"; found \'ElectionResults.ElectionReport\''
    )


def test_unknown_selection(tmp_path: Path) -> None:
    source = shared_path(
        "data", "nist-cdf", "test_data", "synthetic", "gen-03", "cvr_v1", "cvr-gen-03.json"
    )
    doc = json.loads(source.read_text())
    snapshot = doc["CVR"][2]["CVRSnapshot"][0]
    contest = snapshot["CVRContest"][0]
    contest["CVRContestSelection"][0]["ContestSelectionId"] = "cs-nobody"
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(IngestError) as e:
        list(NistCvrReport([path]).read("c"))
    assert str(e.value) == (
        f"{path}: CVR[2]: contest {contest['ContestId']!r}: ContestSelectionId 'cs-nobody' is not "
        "one of its selections"
    )


@pytest.mark.parametrize("election", EXACT)
def test_xml_reads_as_the_json_does(election: str) -> None:
    shared_path("data", "nist-cdf", "test_data", "synthetic", election)
    assert ours(election, "xml") == ours(election, "json")


def test_reports_are_checked_against_nists_schema(tmp_path: Path) -> None:
    schema = shared_path("data", "nist-cdf", "schemas", "NIST_V0_cast_vote_records.json")
    validator = schema_validator(schema)
    source = SYNTHETIC / "gen-03" / "cvr_v1" / "cvr-gen-03.json"
    NistCvrReport([source], validator)  # NIST's own files pass
    doc = json.loads(source.read_text())
    doc["CVR"][1]["CVRSnapshot"][0]["CVRContest"][0]["CVRContestSelection"][0]["SelectionPosition"][
        0
    ]["HasIndication"] = "maybe"
    path = tmp_path / "cvr.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(IngestError) as e:
        NistCvrReport([path], validator)
    assert str(e.value).startswith(
        f"{path}: CVR[1].CVRSnapshot[0].CVRContest[0].CVRContestSelection[0].SelectionPosition[0].HasIndication: "
        "not valid under NIST's SP 1500-103 schema: 'maybe' is not one of"
    )
