"""Ballot manifests: Arlo's fixture manifests agree with their CVRs batch by batch, and a
manifest that does not is reported batch by batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canvass.app.actor import Actor
from canvass.app.elections import define
from canvass.app.imports import import_ballots
from canvass.app.results import manifest_check
from canvass.cli import app
from canvass.errors import IngestError
from canvass.ingest.manifest import read_ballot_manifest
from canvass.store.election import ElectionDirectory
from tests.conftest import shared_path


def small_election(tmp_path: Path) -> ElectionDirectory:
    doc = {
        "election": {"id": "small", "name": "Small Election", "date": "2026-11-03", "state": "XX"},
        "jurisdictions": [
            {"id": "state", "name": "State", "kind": "state"},
            {"id": "siletz", "name": "Siletz", "kind": "county", "parent": "state"},
        ],
        "candidates": [
            {"id": "george", "name": "Erin George"},
            {"id": "hall", "name": "Alex Hall"},
        ],
        "contests": [
            {
                "id": "farming",
                "name": "Minister of Farming",
                "type": "candidate",
                "jurisdiction": "state",
                "candidates": ["george", "hall"],
                "write_ins": 1,
            }
        ],
    }
    store = ElectionDirectory.init(tmp_path / "small", "canvass.test/small", "clerk")
    define(store, Actor("clerk"), json.dumps(doc).encode(), "small.json")
    return store


def test_arlo_manifest_agrees_with_its_cvrs(tmp_path: Path) -> None:
    folder = shared_path("data", "arlo", "small-election")
    store = small_election(tmp_path)
    import_ballots(store, Actor("clerk"), "Siletz", "dominion-csv", [folder / "Siletz - cvrs.csv"])
    import_ballots(
        store,
        Actor("clerk"),
        "Siletz",
        "ballot-manifest",
        [folder / "Siletz - ballot manifest.csv"],
    )
    assert manifest_check(store, "siletz") == (3, [])
    assert store.verify() == []
    size = store.size()
    assert (
        import_ballots(
            store,
            Actor("clerk"),
            "Siletz",
            "ballot-manifest",
            [folder / "Siletz - ballot manifest.csv"],
        )
        is None
    )
    assert store.size() == size


def test_a_manifest_that_disagrees_is_reported(tmp_path: Path) -> None:
    folder = shared_path("data", "arlo", "small-election")
    store = small_election(tmp_path)
    import_ballots(store, Actor("clerk"), "Siletz", "dominion-csv", [folder / "Siletz - cvrs.csv"])
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "Tabulator,Batch Name,Number of Ballots\nTabulator A,Batch 1,27\nTabulator B,Batch 2,22\n"
    )
    import_ballots(store, Actor("clerk"), "Siletz", "ballot-manifest", [manifest])
    _, problems = manifest_check(store, "siletz")
    assert problems == [
        "batch 'Batch 1' of 'Tabulator A': the manifest lists 27 cards, the CVRs hold 26",
        "batch 'Batch 3' of 'Tabulator C': 9 cards in the CVRs, but not in the manifest",
    ]
    result = CliRunner().invoke(app, ["batches", str(store.path), "--county", "Siletz"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"DIFFERS {problems[0]}"


def test_manifest_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("Tabulator,Batch,Number of Ballots\nA,1,2\n")
    with pytest.raises(IngestError) as e:
        read_ballot_manifest(path)
    assert (
        str(e.value)
        == f"{path} row 1: expected a column 'Batch Name'; found Tabulator, Batch, Number of Ballots"
    )
    path.write_text("Tabulator,Batch Name,Number of Ballots\nA,1,two\n")
    with pytest.raises(IngestError) as e:
        read_ballot_manifest(path)
    assert (
        str(e.value)
        == f"{path} row 2, column 'Number of Ballots': expected a whole number; found 'two'"
    )
    path.write_text("Tabulator,Batch Name,Number of Ballots\nA,1,2\nA,1,3\n")
    with pytest.raises(IngestError) as e:
        read_ballot_manifest(path)
    assert str(e.value) == f"{path} row 3: batch '1' of 'A' is already on row 2"
