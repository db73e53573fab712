"""Importing CVRs into an election directory: all or nothing, names standardized, never twice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from canvass.app.actor import Actor
from canvass.app.elections import define
from canvass.app.imports import import_ballots
from canvass.app.results import results
from canvass.errors import IngestError, StoreError
from canvass.store.election import ElectionDirectory
from tests.postgres import Database
from tests.test_dominion import write_export

DEFINITION = """
election: {id: e, name: Test Election, date: 2026-11-03, state: XX}
jurisdictions:
  - {id: state, name: State, kind: state}
  - {id: adams, name: Adams County, kind: county, parent: state}
candidates:
  - {id: adams-c, name: Ann Adams, aliases: [ADAMS]}
  - {id: baker, name: Bo Baker}
  - {id: chen, name: Chen}
  - {id: diaz, name: Diaz}
  - {id: evans, name: Evans, write_in: true}
contests:
  - {id: mayor, name: Mayor, type: candidate, jurisdiction: state, candidates: [adams-c, baker], write_ins: 1}
  - {id: council, name: City Council, type: candidate, jurisdiction: state, candidates: [chen, diaz, evans], votes_allowed: 2, aliases: [COUNCIL]}
"""

BALLOTS = [
    {"contests": {1: [(10, True, False)], 2: [(20, True, False), (21, True, False)]}},
    {"contests": {1: [(10, True, False), (11, True, False)], 2: [(22, True, False)]}, "group": 2},
    {"contests": {1: [(12, True, False)], 2: []}, "record": "X"},
]


@pytest.fixture
def county(tmp_path: Path, database: Database) -> ElectionDirectory:
    store = database.init(tmp_path / "e", "canvass.test/e", "clerk")
    define(store, Actor("clerk"), DEFINITION.encode(), "e.yaml")
    return store


def test_import_and_count(county: ElectionDirectory, tmp_path: Path) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    done = import_ballots(county, Actor("clerk"), "Adams County", "dominion", [folder])
    assert done is not None and done.entry == 2
    index = done.entry
    counted, labels = results(county)
    mayor, council = counted.contests
    assert mayor.votes == {"adams-c": 1, "baker": 0, "write-in": 1}
    assert (mayor.overvoted_ballots, mayor.undervotes) == (1, 0)
    assert council.votes == {"chen": 1, "diaz": 1, "evans": 1}
    assert labels["mayor/adams-c"] == "Ann Adams"
    entry = dict(county.entries(index, index + 1))[index]
    assert entry.type == "ballots.imported"
    assert entry.data["cards"] == 3 and entry.data["county"] == "adams"
    assert {a.name for a in entry.artifacts} >= {
        "CvrExport.json",
        "ContestManifest.json",
        "ballots-adams.parquet",
    }
    assert county.verify() == []
    county.rebuild()
    assert county.verify() == []


def test_same_bytes_twice_is_a_no_op(county: ElectionDirectory, tmp_path: Path) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    import_ballots(county, Actor("clerk"), "adams", "dominion", [folder])
    size = county.size()
    assert import_ballots(county, Actor("clerk"), "adams", "dominion", [folder]) is None
    assert county.size() == size


def failing(county: ElectionDirectory, folder: Path, county_name: str = "adams") -> str:
    size, artifacts = county.size(), set(county.artifacts)
    with pytest.raises(IngestError) as e:
        import_ballots(county, Actor("clerk"), county_name, "dominion", [folder])
    assert county.size() == size and set(county.artifacts) == artifacts
    return str(e.value)


def test_unknown_candidate_lists_the_nearest_and_changes_nothing(
    county: ElectionDirectory, tmp_path: Path
) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    doc = json.loads((folder / "CandidateManifest.json").read_text())
    doc["List"][1]["Description"] = "BO BAKKER"
    (folder / "CandidateManifest.json").write_text(json.dumps(doc))
    assert failing(county, folder) == (
        f"{folder}: contest 'MAYOR': choice 'BO BAKKER' is not a choice of 'mayor' in the election "
        "definition (1 marks); nearest: 'baker'. Add the spelling to the candidate's aliases"
    )


def test_unknown_contest_changes_nothing(county: ElectionDirectory, tmp_path: Path) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    doc = json.loads((folder / "ContestManifest.json").read_text())
    doc["List"][1]["Description"] = "CITY COUNCIL AT LARGE"
    (folder / "ContestManifest.json").write_text(json.dumps(doc))
    assert failing(county, folder) == (
        f"{folder}: contest 'CITY COUNCIL AT LARGE' is not in the election definition "
        "(1 such contests on 3 cards read); nearest: 'City Council'. Define it, add the spelling "
        "to its contest's aliases, or leave it out of the import with --skip-contest "
        "'CITY COUNCIL AT LARGE'"
    )


def test_votes_allowed_must_agree(county: ElectionDirectory, tmp_path: Path) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    doc = json.loads((folder / "ContestManifest.json").read_text())
    doc["List"][1]["VoteFor"] = 3
    (folder / "ContestManifest.json").write_text(json.dumps(doc))
    assert failing(county, folder) == (
        f"{folder}: contest 'COUNCIL': the definition's 'council' allows 2 votes; the export says 3"
    )


def test_unknown_county(county: ElectionDirectory, tmp_path: Path) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    assert failing(county, folder, "Adam County") == (
        "county 'Adam County' is not a county of the election; nearest: 'Adams County'"
    )


def test_a_broken_file_changes_nothing(county: ElectionDirectory, tmp_path: Path) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    good = tmp_path / "good"
    shutil.copytree(folder, good)
    (folder / "CvrExport.json").write_text('{"Sessions": [{"TabulatorId": 1}]}')
    assert failing(county, folder) == (
        f"{folder / 'CvrExport.json'}: Sessions[0].BatchId: expected a value; found none"
    )
    done = import_ballots(county, Actor("clerk"), "adams", "dominion", [good])
    assert done is not None and done.entry == 2


def test_ballots_from_an_earlier_definition_are_not_counted_silently(
    county: ElectionDirectory, tmp_path: Path
) -> None:
    import_ballots(
        county, Actor("clerk"), "adams", "dominion", [write_export(tmp_path / "cvr", BALLOTS)]
    )
    define(
        county,
        Actor("clerk"),
        DEFINITION.replace("candidates: [adams-c, baker]", "candidates: [baker, adams-c]").encode(),
        "e.yaml",
    )
    with pytest.raises(StoreError) as e:
        results(county)
    assert str(e.value) == (
        "the ballots of log entry 2 (adams) were imported under an earlier election definition, "
        "whose contests and choices may differ; import them again"
    )
    assert (
        import_ballots(county, Actor("clerk"), "adams", "dominion", [tmp_path / "cvr"]) is not None
    )
    counted, _ = results(county)  # the import under the new definition replaces the old one
    assert counted.cards == 3
    assert counted.contests[0].votes == {"baker": 0, "adams-c": 1, "write-in": 1}


OPEN_PRIMARY = """
election: {id: p, name: Open Primary, date: 2026-08-04, state: MI}
jurisdictions:
  - {id: state, name: State, kind: state}
  - {id: adams, name: Adams County, kind: county, parent: state}
parties: [{id: dem, name: Democratic}, {id: rep, name: Republican}]
candidates:
  - {id: adams-c, name: Ann Adams, aliases: [ADAMS]}
  - {id: baker, name: Bo Baker}
  - {id: chen, name: Chen}
  - {id: diaz, name: Diaz}
  - {id: evans, name: Evans, write_in: true}
contests:
  - {id: mayor, name: Mayor, type: candidate, jurisdiction: state, candidates: [adams-c, baker], write_ins: 1, primary_party: dem}
  - {id: council, name: City Council, type: candidate, jurisdiction: state, candidates: [chen, diaz, evans], votes_allowed: 2, aliases: [COUNCIL], primary_party: rep}
"""


def test_open_primary_counts_only_the_party_voted(tmp_path: Path) -> None:
    store = ElectionDirectory.init(tmp_path / "p", "canvass.test/p", "clerk")
    define(store, Actor("clerk"), OPEN_PRIMARY.encode(), "p.yaml")
    ballots = [
        {"contests": {1: [(10, True, False)], 2: []}},  # a Democrat: council not on this card
        {"contests": {1: [], 2: [(20, True, False)]}},  # a Republican who left a vote unused
        {"contests": {1: [(11, True, False)], 2: [(21, True, False)]}},  # crossed over
        {"contests": {1: [], 2: []}},  # voted in neither party
    ]
    import_ballots(
        store, Actor("clerk"), "adams", "dominion", [write_export(tmp_path / "cvr", ballots)]
    )
    mayor, council = results(store)[0].contests
    assert (mayor.ballots, mayor.votes["adams-c"], mayor.votes["baker"]) == (2, 1, 0)
    assert (mayor.overvoted_ballots, mayor.undervotes) == (1, 0)
    assert (council.ballots, council.votes["chen"], council.votes["diaz"]) == (2, 1, 0)
    assert (council.overvoted_ballots, council.overvotes, council.undervotes) == (1, 2, 1)


def test_primary_party_must_be_a_party(county: ElectionDirectory) -> None:
    bad = OPEN_PRIMARY.replace("primary_party: rep", "primary_party: gop")
    with pytest.raises(Exception) as e:
        define(county, Actor("clerk"), bad.encode(), "p.yaml")
    assert str(e.value) == (
        "p.yaml: contests[1].primary_party: expected the id of a party; found 'gop', which is not one"
    )
