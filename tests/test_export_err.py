"""NIST SP 1500-100 v2 export: valid against NIST's schema, and saying what the count says."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from canvass.app.actor import Actor
from canvass.app.elections import define
from canvass.app.imports import import_ballots
from canvass.app.results import export_err, results
from canvass.cli import app
from canvass.errors import StoreError
from canvass.store.election import ElectionDirectory
from tests.conftest import shared_path
from tests.test_dominion import write_export
from tests.test_import import BALLOTS, DEFINITION


@pytest.fixture
def counted(tmp_path: Path) -> ElectionDirectory:
    store = ElectionDirectory.init(tmp_path / "e", "canvass.test/e", "clerk")
    define(store, Actor("clerk"), DEFINITION.encode(), "e.yaml")
    import_ballots(
        store, Actor("clerk"), "adams", "dominion", [write_export(tmp_path / "cvr", BALLOTS)]
    )
    return store


def test_report_is_valid_and_carries_the_counts(counted: ElectionDirectory) -> None:
    schema = json.loads(
        shared_path(
            "data", "nist-cdf", "schemas", "NIST_V2_election_results_reporting.json"
        ).read_text()
    )
    report = export_err(counted, "unofficial-complete", "Adams County Clerk")
    jsonschema.Draft4Validator(schema).validate(report)
    assert report["Status"] == "unofficial-complete"
    overall, _ = results(counted)
    contests = report["Election"][0]["Contest"]
    for contest, totals in zip(contests, overall.contests, strict=True):
        for selection in contest["ContestSelection"]:
            choice = selection["@id"].removeprefix(f"sel-{totals.contest}-")
            state = [
                c
                for c in selection["VoteCounts"]
                if c["GpUnitId"] == "ru-state" and c["Type"] == "total"
            ]
            county = [c for c in selection["VoteCounts"] if c["GpUnitId"] == "ru-adams"]
            assert state[0]["Count"] == totals.votes[choice] == county[0]["Count"]
        other = next(o for o in contest["OtherCounts"] if o["GpUnitId"] == "ru-state")
        assert (other["Overvotes"], other["Undervotes"]) == (totals.overvotes, totals.undervotes)
    mayor_adams = contests[0]["ContestSelection"][0]["VoteCounts"][0]
    assert mayor_adams == {
        "@type": "ElectionResults.VoteCounts",
        "GpUnitId": "ru-state",
        "Type": "total",
        "Count": 1,
    }


def test_every_nist_status_is_accepted_and_nothing_else(counted: ElectionDirectory) -> None:
    for status in (
        "unofficial-partial",
        "unofficial-complete",
        "certified",
        "recount",
        "correction",
    ):
        assert export_err(counted, status, "x")["Status"] == status
    with pytest.raises(StoreError, match="status 'final' is not a NIST result status"):
        export_err(counted, "final", "x")


def test_export_err_command(counted: ElectionDirectory, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    result = CliRunner().invoke(app, ["export-err", str(counted.path), str(out)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text())["@type"] == "ElectionResults.ElectionReport"


def test_a_report_imports_back_as_results_only(counted: ElectionDirectory, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(export_err(counted, "certified", "Adams County Clerk")))
    other = ElectionDirectory.init(tmp_path / "state", "canvass.test/state", "sos")
    define(other, Actor("sos"), DEFINITION.encode(), "e.yaml")
    assert import_ballots(other, Actor("sos"), "adams", "nist-err", [report]) is not None
    theirs, _ = results(other)
    ours, _ = results(counted)
    assert [t.votes for t in theirs.contests] == [t.votes for t in ours.contests]
    by_type, _ = results(other, "vote_type")
    assert set(by_type.groups) == {"election_day", "absentee"}


def test_counts_that_do_not_add_up_are_refused(counted: ElectionDirectory, tmp_path: Path) -> None:
    doc = export_err(counted, "certified", "x")
    selection = doc["Election"][0]["Contest"][0]["ContestSelection"][0]
    selection["VoteCounts"].append(
        {"@type": "ElectionResults.VoteCounts", "GpUnitId": "ru-state", "Type": "early", "Count": 5}
    )
    report = tmp_path / "report.json"
    report.write_text(json.dumps(doc))
    other = ElectionDirectory.init(tmp_path / "state", "canvass.test/state", "sos")
    define(other, Actor("sos"), DEFINITION.encode(), "e.yaml")
    with pytest.raises(Exception) as e:
        import_ballots(other, Actor("sos"), "adams", "nist-err", [report])
    assert str(e.value) == (
        f"{report}: Election[0].Contest[0] ('Mayor'): selection 'sel-mayor-adams-c' at 'ru-state': "
        "counts by vote type add up to 6, not the total 1"
    )
    assert other.size() == 2
