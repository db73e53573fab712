"""Results-only imports: Georgia's November 2020 precinct results, as originally certified."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from canvass.app.actor import Actor
from canvass.app.elections import define
from canvass.app.imports import import_ballots
from canvass.app.reconcile import contest_identities, results_only_counted
from canvass.app.results import results
from canvass.errors import IngestError, StoreError
from canvass.store.election import ElectionDirectory
from tests.conftest import shared_path

SENATE_SPECIAL = [
    "bartell",
    "buckley",
    "collins",
    "fortuin",
    "grayson",
    "todd.greene",
    "davis.jackson",
    "deborah.jackson",
    "james",
    "wayne.johnson",
    "johnson.shealey",
    "lieberman",
    "loeffler",
    "slade",
    "slowinski",
    "stovall",
    "tarver",
    "taylor",
    "warnock",
    "winfield",
]


def georgia_definition(counties: list[str]) -> bytes:
    """Georgia's counties and the three statewide contests; candidates named by the
    column prefixes the file uses."""

    def candidates(ids: list[str]) -> list[dict[str, str]]:
        return [{"id": i, "name": i.replace(".", " ").title()} for i in ids]

    doc = {
        "election": {
            "id": "ga-2020-general",
            "name": "Georgia General 2020",
            "date": "2020-11-03",
            "state": "GA",
        },
        "jurisdictions": [{"id": "ga", "name": "Georgia", "kind": "state"}]
        + [
            {"id": f"c{n:03d}", "name": f"{c.title()} County", "kind": "county", "parent": "ga"}
            for n, c in enumerate(counties)
        ],
        "candidates": candidates(
            ["trump", "biden", "jorgensen", "perdue", "ossoff", "hazel", *SENATE_SPECIAL]
        ),
        "contests": [
            {
                "id": "president",
                "name": "President",
                "type": "candidate",
                "jurisdiction": "ga",
                "candidates": ["trump", "biden", "jorgensen"],
            },
            {
                "id": "us-senate",
                "name": "US Senate (Perdue)",
                "type": "candidate",
                "jurisdiction": "ga",
                "candidates": ["perdue", "ossoff", "hazel"],
            },
            {
                "id": "us-senate-special",
                "name": "US Senate (Loeffler)",
                "type": "candidate",
                "jurisdiction": "ga",
                "candidates": SENATE_SPECIAL,
            },
        ],
    }
    return json.dumps(doc).encode()


@pytest.fixture
def georgia(tmp_path: Path) -> tuple[ElectionDirectory, Path]:
    path = shared_path("data", "ga-2020", "precinct_results_original_certification.csv")
    with path.open() as f:
        counties = sorted({row["CTYNAME"] for row in csv.DictReader(f)})
    store = ElectionDirectory.init(tmp_path / "ga", "canvass.test/ga", "sos")
    define(store, Actor("sos"), georgia_definition(counties), "ga.json")
    return store, path


def test_georgia_2020_original_certification(georgia: tuple[ElectionDirectory, Path]) -> None:
    store, path = georgia
    done = import_ballots(
        store, Actor("sos"), None, "precinct-results", [path], "CTYNAME", "PRECINCT_N"
    )
    assert done is not None
    index = done.entry
    entry = dict(store.entries(index, index + 1))[index]
    assert entry.data["counties"] == 159
    assert "trump_all" in entry.data["ignored_columns"]
    with path.open() as f:
        rows = list(csv.DictReader(f))
    empty = [f"row {n}" for n, row in enumerate(rows, start=2) if row["CTYNAME"] == "NA"]
    assert len(empty) == 7
    assert entry.data["empty_rows"] == empty  # no county and no count: counted nowhere
    na = [row for row in rows if row["CTYNAME"] != "NA" and row["trump_eday"] == "NA"]
    assert len(entry.data["not_reported"]) == len(na) == 20  # precincts whose cells are "NA"
    counted, _ = results(store)
    president = counted.contests[0]
    assert president.votes["biden"] == 2_474_507
    assert president.votes["trump"] == 2_461_837
    by_type, _ = results(store, "vote_type")
    assert sum(g[0].votes["biden"] for g in by_type.groups.values()) == 2_474_507
    assert set(by_type.groups) == {"election_day", "early", "absentee", "provisional"}
    by_county, _ = results(store, "county")
    assert len(by_county.groups) == 159
    # Counts without ballots hold no votes + undervotes + overvotes = ballots identity to
    # check: reconciliation does not call 2,600 precincts out of balance for want of them.
    assert contest_identities(store) == [] and results_only_counted(store)
    assert store.verify() == []
    assert (
        import_ballots(
            store, Actor("sos"), None, "precinct-results", [path], "CTYNAME", "PRECINCT_N"
        )
        is None
    )


def test_unknown_choice_column(georgia: tuple[ElectionDirectory, Path], tmp_path: Path) -> None:
    store, _ = georgia
    bad = tmp_path / "bad.csv"
    bad.write_text("CTYNAME,PRECINCT_N,trump_eday,bidden_eday\nAPPLING,P1,1,2\n")
    with pytest.raises(IngestError) as e:
        import_ballots(
            store, Actor("sos"), None, "precinct-results", [bad], "CTYNAME", "PRECINCT_N"
        )
    assert str(e.value) == (
        f"{bad} row 1, column 4 ('bidden_eday'): expected a choice of the election definition; "
        "found 'bidden' (nearest: 'biden'). Add it as an alias, or name the contests to read "
        "with --contest"
    )


def test_bad_count_and_unknown_county(
    georgia: tuple[ElectionDirectory, Path], tmp_path: Path
) -> None:
    store, _ = georgia
    bad = tmp_path / "bad.csv"
    bad.write_text("CTYNAME,PRECINCT_N,trump_eday\nAPPLING,P1,12a\n")
    with pytest.raises(IngestError) as e:
        import_ballots(
            store, Actor("sos"), None, "precinct-results", [bad], "CTYNAME", "PRECINCT_N"
        )
    assert (
        str(e.value)
        == f"{bad} row 2, column 'trump_eday': expected a whole number of votes up to 1,000,000,000,000; found '12a'"
    )
    bad.write_text("CTYNAME,PRECINCT_N,trump_eday\nATLANTIS,P1,12\n")
    with pytest.raises(IngestError) as e:
        import_ballots(
            store, Actor("sos"), None, "precinct-results", [bad], "CTYNAME", "PRECINCT_N"
        )
    assert (
        str(e.value)
        == f"{bad} row 2, column 'CTYNAME': expected a county of the election; found 'ATLANTIS'"
    )
    assert store.size() == 2


def test_cvr_import_needs_a_county(georgia: tuple[ElectionDirectory, Path]) -> None:
    store, path = georgia
    with pytest.raises(IngestError) as e:
        import_ballots(store, Actor("sos"), None, "dominion", [path])
    assert str(e.value) == "a dominion import needs --county: its files name no county"


def test_results_options_name_what_is_wrong(
    georgia: tuple[ElectionDirectory, Path], tmp_path: Path
) -> None:
    from canvass.ingest.results_csv import read_precinct_results

    store, _ = georgia
    from canvass.app.results import definition

    election = definition(store)
    bad = tmp_path / "bad.csv"
    bad.write_text("CTYNAME,PRECINCT_N,trump_eday,trump_total\nAPPLING,P1,1,2\n")
    with pytest.raises(IngestError) as e:
        read_precinct_results(bad, election, "CTYNAME", "PRECINCT_N")
    assert str(e.value) == (
        f"{bad} row 1, column 4 ('trump_total'): choice 'trump' has both a total column and "
        "columns by vote type; the total would count its votes twice"
    )
    with pytest.raises(IngestError) as e:
        read_precinct_results(bad, election, "CTYNAME", "PRECINCT_N", where=("state", "GA"))
    assert str(e.value) == f"{bad} row 1: expected a column 'state'; found none"
    with pytest.raises(IngestError) as e:
        read_precinct_results(
            bad, election, "CTYNAME", "", choice_columns={"biden": "dem"}, county_totals=True
        )
    assert str(e.value) == f"{bad} row 1: expected a column 'dem'; found none"
    with pytest.raises(IngestError) as e:
        read_precinct_results(bad, election, "CTYNAME", "PRECINCT_N", contests=["governor"])
    assert str(e.value) == (
        f"{bad}: --contest 'governor' is not a contest of the election definition; its "
        "contests are president, us-senate, us-senate-special"
    )
    bad.write_text("CTYNAME,PRECINCT_N,trump_eday,perdue_eday\nAPPLING,P1,1,2\n")
    read = read_precinct_results(bad, election, "CTYNAME", "PRECINCT_N", contests=["us-senate"])
    assert read.ignored_columns == ["trump_eday"]
    assert read.table.column("votes").to_pylist() == [2]


def test_a_replacement_must_hold_every_county_it_replaces(
    georgia: tuple[ElectionDirectory, Path], tmp_path: Path
) -> None:
    store, path = georgia
    import_ballots(store, Actor("sos"), None, "precinct-results", [path], "CTYNAME", "PRECINCT_N")
    one = tmp_path / "appling.csv"
    one.write_text("county,trump_total,biden_total\nAppling,6570,1784\n")
    size = store.size()
    with pytest.raises(StoreError) as e:
        import_ballots(
            store,
            Actor("sos"),
            None,
            "precinct-results",
            [one],
            "county",
            "",
            replace=True,
            county_totals=True,
        )
    assert str(e.value) == (
        f"--replace: log entry {size - 1} holds the results of 159 counties, 158 of which this "
        "import does not hold (c001, c002, c003, c004, c005 …); import every county of that "
        "entry again in one file"
    )
    assert store.size() == size
