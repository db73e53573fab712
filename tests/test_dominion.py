"""The Dominion reader and plurality counting, against real exports and known answers."""

from __future__ import annotations

import itertools
import json
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from canvass import parallel
from canvass.errors import IngestError
from canvass.ingest.ballots import read_table, to_parquet
from canvass.ingest.dominion import DominionExport
from canvass.tabulate.plurality import tabulate
from tests.conftest import shared_path


def read(paths: list[Path]) -> tuple[pa.Table, DominionExport]:
    export = DominionExport(paths)
    return pa.Table.from_batches(list(export.read("Test County"))), export


# --- San Francisco, November 2024 ---------------------------------------------------------


def plain_count(folder: Path) -> dict[str, dict[str, Any]]:
    """Count the export straight from its JSON, the way a person would by hand."""
    contests = {
        c["Id"]: c
        for c in json.loads((folder / "manifests/ContestManifest.json").read_text())["List"]
    }
    names = {
        c["Id"]: c["Description"]
        for c in json.loads((folder / "manifests/CandidateManifest.json").read_text())["List"]
    }
    out: dict[str, dict[str, Any]] = {}
    for file in sorted(folder.glob("CvrExport_*.json")):
        for session in json.loads(file.read_text())["Sessions"]:
            version = (
                session["Original"] if session["Original"]["IsCurrent"] else session["Modified"]
            )
            for card in version["Cards"]:
                for contest in card["Contests"]:
                    info = contests[contest["Id"]]
                    if info["NumOfRanks"]:
                        continue  # ranked contests are counted by the RCV tabulation
                    tally = out.setdefault(
                        info["Description"], {"ballots": 0, "overvoted": 0, "votes": Counter()}
                    )
                    tally["ballots"] += 1
                    votes = [m for m in contest["Marks"] if m["IsVote"]]
                    if len(votes) > info["VoteFor"]:
                        tally["overvoted"] += 1
                    else:
                        for mark in votes:
                            tally["votes"][names[mark["CandidateId"]]] += 1
    return out


def test_san_francisco_2024_counts_equal_a_plain_count() -> None:
    folder = shared_path("data", "dominion-sf2024")
    table, export = read([folder])
    assert table.num_rows == 169
    assert set(table.column("record").to_pylist()) == {"X"}
    expected = plain_count(folder)
    results = {t.contest: t for t in tabulate(table, export.contests).contests}
    assert len(expected) > 30
    for contest, want in expected.items():
        got = results[contest]
        assert got.ballots == want["ballots"], contest
        assert got.overvoted_ballots == want["overvoted"], contest
        assert {k: v for k, v in got.votes.items() if v} == dict(want["votes"]), contest
        assert got.total_votes + got.undervotes + got.overvotes == got.votes_allowed * got.ballots


def test_san_francisco_from_a_zip_archive_is_the_same(tmp_path: Path) -> None:
    folder = shared_path("data", "dominion-sf2024")
    archive = tmp_path / "CVR_Export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(folder.rglob("*.json")):
            z.write(f, f.relative_to(folder))
    from_zip, _ = read([archive])
    from_folder, _ = read([folder])
    assert from_zip.equals(from_folder)


def test_ballot_table_survives_parquet() -> None:
    table, export = read([shared_path("data", "dominion-sf2024")])
    data, cards = to_parquet(table.to_batches(), export.contests)
    assert cards == table.num_rows
    again, contests = read_table(data)
    assert again.to_pylist() == table.to_pylist()
    assert [c.to_json() for c in contests] == [c.to_json() for c in export.contests]


# --- RCTab's Dominion cases: first choices equal round 1 of the expected report -----------

RCTAB_CASES = [
    "dominion_alaska",
    "dominion_wyoming",
    "dominion_multi_file",
    "dominion_no_precinct_data",
]
LEFT_OUT = {
    "2024_alaska_dominion": "RCTab's expected report leaves out the 73 ballots of tabulator "
    "92302 (CvrExport_1731, _1734, _1736) for a reason its configuration does not state",
    "dominion_kansas": "the case ships manifests without any CvrExport file",
}


@pytest.mark.parametrize("case", RCTAB_CASES)
def test_rctab_round_one(case: str) -> None:
    folder = shared_path("data", "rctab", case)
    config = json.loads(next(folder.glob("*_config.json")).read_text())
    source = config["cvrFileSources"][0]
    table, export = read([(folder / source["filePath"]).resolve()])
    report = json.loads(next(folder.glob("*_expected_detailed_report.json")).read_text())
    round_one = report["results"][0]
    # RCTab names candidates by alias = Dominion candidate id; the write-in id is its label.
    rctab_name = {alias: c["name"] for c in config["candidates"] for alias in c["aliases"]}
    rctab_name[source["undeclaredWriteInLabel"]] = "Undeclared Write-ins"
    manifest = {c["Id"]: c["Description"] for c in export.manifests["CandidateManifest"]}
    contest_id = int(source["contestId"])
    totals = tabulate(table, export.contests).contests[export.contest_index[contest_id]]
    ours = {
        rctab_name[str(cid)]: totals.votes[manifest[cid]]
        for cid, (c, _) in export.choice_index.items()
        if c == export.contest_index[contest_id]
    }
    assert ours == {name: int(v) for name, v in round_one["tally"].items()}
    assert totals.overvoted_ballots == int(round_one["inactiveBallots"]["overvotes"])


def test_rctab_cases_left_out_are_still_there() -> None:
    for case in LEFT_OUT:
        assert shared_path("data", "rctab", case).is_dir()


# --- Vendor quirks and errors, on a small export written here -----------------------------


def manifest(items: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "5.10.11.24", "List": items})


def write_export(folder: Path, sessions: list[dict[str, Any]], cards_layout: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ContestManifest.json").write_text(
        manifest(
            [
                {"Description": "MAYOR", "Id": 1, "VoteFor": 1, "NumOfRanks": 0},
                {"Description": "COUNCIL", "Id": 2, "VoteFor": 2, "NumOfRanks": 0},
            ]
        )
    )
    (folder / "CandidateManifest.json").write_text(
        manifest(
            [
                {"Description": "ADAMS", "Id": 10, "ContestId": 1, "Type": "Regular"},
                {"Description": "BAKER", "Id": 11, "ContestId": 1, "Type": "Regular"},
                {"Description": "Write-in", "Id": 12, "ContestId": 1, "Type": "WriteIn"},
                {"Description": "CHEN", "Id": 20, "ContestId": 2, "Type": "Regular"},
                {"Description": "DIAZ", "Id": 21, "ContestId": 2, "Type": "Regular"},
                {"Description": "EVANS", "Id": 22, "ContestId": 2, "Type": "QualifiedWriteIn"},
            ]
        )
    )
    (folder / "CountingGroupManifest.json").write_text(
        manifest(
            [
                {"Description": "Election Day", "Id": 1},
                {"Description": "Mail", "Id": 2},
            ]
        )
    )
    (folder / "PrecinctPortionManifest.json").write_text(
        manifest(
            [
                {"Description": "P1-A", "Id": 1, "PrecinctId": 1},
            ]
        )
    )
    (folder / "PrecinctManifest.json").write_text(manifest([{"Description": "P1", "Id": 1}]))
    (folder / "BallotTypeManifest.json").write_text(manifest([{"Description": "Style 1", "Id": 3}]))
    body = []
    for s in sessions:
        version = {"PrecinctPortionId": 1, "BallotTypeId": 3, "IsCurrent": True}
        contests = [
            {
                "Id": cid,
                "Marks": [
                    {"CandidateId": m[0], "Rank": 1, "IsVote": m[1], "IsAmbiguous": m[2]}
                    for m in marks
                ],
            }
            for cid, marks in s["contests"].items()
        ]
        if cards_layout:
            version["Cards"] = [{"Id": 1, "Contests": contests}]
        else:
            version["Contests"] = contests
        session = {
            "TabulatorId": 5,
            "BatchId": 7,
            "RecordId": s.get("record", 1),
            "CountingGroupId": s.get("group", 1),
            "Original": version,
        }
        if "modified" in s:
            session["Original"] = {**version, "IsCurrent": False, "Cards": [{"Contests": []}]}
            session["Modified"] = version
        body.append(session)
    (folder / "CvrExport.json").write_text(json.dumps({"Version": "5.10.11.24", "Sessions": body}))
    return folder


BALLOTS = [
    {"contests": {1: [(10, True, False)], 2: [(20, True, False), (21, True, False)]}},
    {"contests": {1: [(10, True, False), (11, True, False)], 2: [(22, True, False)]}, "group": 2},
    {"contests": {1: [(12, True, False)], 2: []}, "record": "X"},
    {
        "contests": {
            1: [(11, False, True)],
            2: [(20, True, False), (21, True, False), (22, True, False)],
        }
    },
    {"contests": {1: [], 2: []}, "modified": True},
]


def test_small_export_counts(tmp_path: Path) -> None:
    table, export = read([write_export(tmp_path / "e", BALLOTS)])
    mayor, council = tabulate(table, export.contests).contests
    assert (mayor.ballots, mayor.votes) == (5, {"ADAMS": 1, "BAKER": 0, "Write-in": 1})
    assert (mayor.overvotes, mayor.undervotes, mayor.write_ins) == (1, 2, 1)
    assert council.votes == {"CHEN": 1, "DIAZ": 1, "EVANS": 1}
    assert (council.overvotes, council.undervotes, council.declared_write_ins) == (2, 5, 1)
    results = tabulate(table, export.contests)
    assert (
        results.blank_ballots == 1
    )  # the adjudicated-blank card; card 4's only mark is ambiguous but it overvotes council
    assert table.column("record").to_pylist() == ["1", "1", "X", "1", "1"]
    assert table.column("vote_type").to_pylist()[:2] == ["election_day", "absentee"]
    assert table.column("precinct").to_pylist()[0] == "P1"
    by_group = tabulate(table, export.contests, by="counting_group")
    assert by_group.groups["Mail"][0].overvoted_ballots == 1


def test_both_layouts_read_alike(tmp_path: Path) -> None:
    with_cards, _ = read([write_export(tmp_path / "a", BALLOTS[:4])])
    without, _ = read([write_export(tmp_path / "b", BALLOTS[:4], cards_layout=False)])
    assert with_cards.equals(without)


def test_missing_manifest(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", BALLOTS)
    (folder / "CandidateManifest.json").unlink()
    with pytest.raises(IngestError) as e:
        DominionExport([folder])
    assert (
        str(e.value)
        == f"{folder}: no CandidateManifest.json among the files; a Dominion export is read with its manifests"
    )


def test_no_cvr_files(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", BALLOTS)
    (folder / "CvrExport.json").unlink()
    with pytest.raises(IngestError) as e:
        DominionExport([folder])
    assert str(e.value) == f"{folder}: no CvrExport.json or CvrExport_N.json among the files"


def test_malformed_cvr_json(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", BALLOTS)
    (folder / "CvrExport.json").write_text('{"Sessions": [}')
    with pytest.raises(IngestError) as e:
        list(DominionExport([folder]).read("c"))
    assert (
        str(e.value)
        == f"{folder / 'CvrExport.json'}: expected a CVR export in JSON; JSON is malformed: invalid character (byte 14)"
    )


def test_wrong_type_names_the_record(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", BALLOTS)
    doc = json.loads((folder / "CvrExport.json").read_text())
    doc["Sessions"][2]["TabulatorId"] = "five"
    (folder / "CvrExport.json").write_text(json.dumps(doc))
    with pytest.raises(IngestError) as e:
        list(DominionExport([folder]).read("c"))
    assert (
        str(e.value)
        == f"{folder / 'CvrExport.json'}: Sessions[2].TabulatorId: expected a whole number; found text"
    )


def test_unknown_contest(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", [{"contests": {9: []}}])
    with pytest.raises(IngestError) as e:
        list(DominionExport([folder]).read("c"))
    assert (
        str(e.value)
        == f"{folder / 'CvrExport.json'}: Sessions[0].Cards[0]: contest id 9 is not in ContestManifest.json"
    )


def test_candidate_of_another_contest(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", [{"contests": {1: [(20, True, False)]}}])
    with pytest.raises(IngestError) as e:
        list(DominionExport([folder]).read("c"))
    assert str(e.value) == (
        f"{folder / 'CvrExport.json'}: Sessions[0].Cards[0]: contest 1: candidate id 20 is not a "
        "candidate of that contest in CandidateManifest.json"
    )


def test_no_current_version(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", BALLOTS[:1])
    doc = json.loads((folder / "CvrExport.json").read_text())
    doc["Sessions"][0]["Original"]["IsCurrent"] = False
    (folder / "CvrExport.json").write_text(json.dumps(doc))
    with pytest.raises(IngestError) as e:
        list(DominionExport([folder]).read("c"))
    assert (
        str(e.value)
        == f"{folder / 'CvrExport.json'}: Sessions[0]: neither version is marked IsCurrent"
    )


def test_candidate_manifest_names_an_unknown_contest(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", BALLOTS)
    doc = json.loads((folder / "CandidateManifest.json").read_text())
    doc["List"][1]["ContestId"] = 99
    (folder / "CandidateManifest.json").write_text(json.dumps(doc))
    with pytest.raises(IngestError) as e:
        DominionExport([folder])
    assert str(e.value) == (
        f"{folder / 'CandidateManifest.json'}: List[1].ContestId: expected a contest of "
        "ContestManifest.json; found 99"
    )


@pytest.mark.parametrize(
    ("conditions", "flagged", "ambiguous"),
    [
        # This export numbers "Ambiguous" 7: a mark flagged 7 is ambiguous, though
        # IsAmbiguous says false.
        ([{"Description": "Writein", "Id": 0}, {"Description": "Ambiguous", "Id": 7}], [7], True),
        # Here 0 is "Writein", not "Ambiguous" as in San Francisco's export.
        ([{"Description": "Writein", "Id": 0}, {"Description": "Ambiguous", "Id": 7}], [0], False),
        ([{"Description": "Ambiguous", "Id": 0}], [0], True),
        ([], [0], False),  # an export without the manifest names no condition
    ],
)
def test_outstack_conditions_are_looked_up_by_name(
    tmp_path: Path, conditions: list[dict[str, Any]], flagged: list[int], ambiguous: bool
) -> None:
    """The scanner's reasons for setting a card aside are numbered per export; the one for
    an ambiguous mark is found by its name in OutstackConditionManifest.json. (A mark the
    scanner did not count, IsVote false, is then ambiguous rather than no mark at all.)"""
    from canvass.ingest.ballots import AMBIGUOUS, NOT_A_VOTE

    folder = write_export(tmp_path / "e", [{"contests": {1: [(10, False, False)], 2: []}}])
    if conditions:
        (folder / "OutstackConditionManifest.json").write_text(manifest(conditions))
    doc = json.loads((folder / "CvrExport.json").read_text())
    doc["Sessions"][0]["Original"]["Cards"][0]["Contests"][0]["Marks"][0][
        "OutstackConditionIds"
    ] = flagged
    (folder / "CvrExport.json").write_text(json.dumps(doc))
    table, export = read([folder])
    [mark] = table.column("marks")[0].as_py()
    assert mark["status"] == (AMBIGUOUS if ambiguous else NOT_A_VOTE)
    assert tabulate(table, export.contests).contests[0].votes["ADAMS"] == 0


def test_rank_beyond_the_table_is_refused(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "e", BALLOTS[:1])
    doc = json.loads((folder / "CvrExport.json").read_text())
    doc["Sessions"][0]["Original"]["Cards"][0]["Contests"][0]["Marks"][0]["Rank"] = 128
    (folder / "CvrExport.json").write_text(json.dumps(doc))
    with pytest.raises(IngestError) as e:
        list(DominionExport([folder]).read("c"))
    assert str(e.value) == (
        f"{folder / 'CvrExport.json'}: Sessions[0].Original.Cards[0].Contests[0].Marks[0].Rank: "
        "expected a whole number <= 127"
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_every_field_of_every_card_as_read_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """The reader works out names and mark fields a record batch at a time; here a seeded
    random export (several cards to a session, Modified versions, missing ids, ranked
    marks, ambiguous marks, records "X") is read card by card from its JSON, the plain
    way, and every column of every card must be the same, across batch boundaries and
    across its files, whether they are read one after another or side by side (the same
    batches to the byte of their Parquet)."""
    import random

    from canvass.ingest.ballots import AMBIGUOUS, NOT_A_VOTE, VOTE

    rng = random.Random(11)
    folder = write_export(tmp_path / "e", [])
    contests = {1: (10, 11, 12), 2: (20, 21, 22), 3: (30, 31)}
    doc = json.loads((folder / "ContestManifest.json").read_text())
    doc["List"].append({"Description": "RANKED", "Id": 3, "VoteFor": 1, "NumOfRanks": 3})
    (folder / "ContestManifest.json").write_text(json.dumps(doc))
    doc = json.loads((folder / "CandidateManifest.json").read_text())
    doc["List"] += [
        {"Description": "FOX", "Id": 30, "ContestId": 3, "Type": "Regular"},
        {"Description": "GRAY", "Id": 31, "ContestId": 3, "Type": "Regular"},
    ]
    (folder / "CandidateManifest.json").write_text(json.dumps(doc))
    (folder / "OutstackConditionManifest.json").write_text(
        manifest([{"Description": "Overvote", "Id": 1}, {"Description": "Ambiguous", "Id": 4}])
    )
    (folder / "BallotTypeManifest.json").write_text(
        manifest([{"Description": "Style 1", "Id": 3}, {"Description": "Style 2", "Id": 4}])
    )
    (folder / "PrecinctPortionManifest.json").write_text(
        manifest(
            [
                {"Description": "P1-A", "Id": 1, "PrecinctId": 1},
                {"Description": "P1-B", "Id": 2, "PrecinctId": 1},
                {"Description": "P2", "Id": 3, "PrecinctId": 2},
            ]
        )
    )
    (folder / "PrecinctManifest.json").write_text(
        manifest([{"Description": "P1", "Id": 1}, {"Description": "P2", "Id": 2}])
    )

    def card() -> dict[str, Any]:
        sheet = {"PaperIndex": rng.randint(0, 3)} if rng.random() < 0.5 else {}
        return {
            **sheet,
            "Contests": [
                {
                    "Id": contest,
                    "Marks": [
                        {
                            "CandidateId": candidate,
                            "Rank": rng.randint(1, 3) if contest == 3 else 1,
                            "IsVote": rng.random() < 0.8,
                            "IsAmbiguous": rng.random() < 0.1,
                            "OutstackConditionIds": rng.choice([[], [], [1], [4], [1, 4]]),
                        }
                        for candidate in rng.sample(candidates, rng.randint(0, len(candidates)))
                    ],
                }
                for contest, candidates in contests.items()
                if rng.random() < 0.8
            ],
        }

    sessions = []
    for n in range(300):
        version: dict[str, Any] = {
            "PrecinctPortionId": rng.choice([1, 2, 3, 99, None]),
            "BallotTypeId": rng.choice([3, 4, 7, None]),
            "IsCurrent": True,
            "Cards": [card() for _ in range(rng.randint(1, 3))],
        }
        session: dict[str, Any] = {
            "TabulatorId": rng.randint(1, 4),
            "BatchId": rng.randint(1, 9),
            "RecordId": "X" if rng.random() < 0.05 else n,
            "CountingGroupId": rng.choice([1, 2, 5, None]),
            "Original": version,
        }
        if rng.random() < 0.2:
            session["Original"] = {**version, "IsCurrent": False, "Cards": [card()]}
            session["Modified"] = version
        sessions.append(session)
    # Files of uneven sizes (one empty), numbered as Dominion numbers them.
    cuts = [0, 40, 41, 41, 130, 260, 300]
    for k, (start, end) in enumerate(itertools.pairwise(cuts)):
        (folder / f"CvrExport_{k}.json").write_text(json.dumps({"Sessions": sessions[start:end]}))

    names = {
        "PrecinctPortionId": {1: "P1-A", 2: "P1-B", 3: "P2"},
        "BallotTypeId": {3: "Style 1", 4: "Style 2"},
    }
    precincts = {1: "P1", 2: "P1", 3: "P2"}
    groups = {1: "Election Day", 2: "Mail"}
    vote_types = {"Election Day": "election_day", "Mail": "absentee", "": ""}
    choice = {10: 0, 11: 1, 12: 2, 20: 0, 21: 1, 22: 2, 30: 0, 31: 1}
    expected = []
    for number, s in enumerate(sessions):
        version = s["Modified"] if "Modified" in s else s["Original"]
        portion, style = version["PrecinctPortionId"], version["BallotTypeId"]
        group = groups.get(s["CountingGroupId"], "")
        for c in version["Cards"]:
            marks = []
            for contest in c["Contests"]:
                for m in contest["Marks"]:
                    ambiguous = m["IsAmbiguous"] or 4 in m["OutstackConditionIds"]
                    if contest["Id"] == 3:  # ranked: every mark not ambiguous is a ranking
                        status = AMBIGUOUS if ambiguous else VOTE
                    elif m["IsVote"]:
                        status = VOTE
                    else:
                        status = AMBIGUOUS if ambiguous else NOT_A_VOTE
                    marks.append(
                        {
                            "contest": contest["Id"] - 1,
                            "choice": choice[m["CandidateId"]],
                            "rank": m["Rank"],
                            "status": status,
                        }
                    )
            record = str(s["RecordId"])
            expected.append(
                {
                    "county": "Test County",
                    "tabulator": str(s["TabulatorId"]),
                    "batch": str(s["BatchId"]),
                    "record": record,
                    "imprinted_id": f"{s['TabulatorId']}-{s['BatchId']}-{record}",
                    "ballot_style": names["BallotTypeId"].get(style, str(style or "")),
                    "precinct": precincts.get(portion, ""),
                    "precinct_portion": names["PrecinctPortionId"].get(portion, str(portion or "")),
                    "counting_group": group,
                    "vote_type": vote_types[group],
                    "ballot": number,  # the session's number in the export
                    "sheet": c.get("PaperIndex", -1),
                    "contests": [contest["Id"] - 1 for contest in c["Contests"]],
                    "marks": marks,
                }
            )
    monkeypatch.setenv("CANVASS_WORKERS", workers)
    monkeypatch.setattr(parallel, "SIDE_BY_SIDE_BYTES", 0)  # however small the export
    export = DominionExport([folder])
    batches = list(export.read("Test County", batch_size=64))
    assert len(batches) > 5
    assert pa.Table.from_batches(batches).to_pylist() == expected
    monkeypatch.setenv("CANVASS_WORKERS", "1")
    one_by_one = list(export.read("Test County", batch_size=64))
    assert to_parquet(batches, export.contests) == to_parquet(one_by_one, export.contests)


@pytest.mark.parametrize("broken", [(1,), (4,), (7,), (2, 6)])
def test_the_first_broken_file_is_named_however_the_files_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: tuple[int, ...]
) -> None:
    # Eight CVR files read side by side (a worker and this process, each taking files as
    # they come) or one after another: the same one line, naming the first broken file.
    folder = write_export(tmp_path / "e", [{"contests": {1: [(10, True, False)]}}] * 40)
    whole = (folder / "CvrExport.json").read_bytes()
    (folder / "CvrExport.json").unlink()
    for n in range(8):
        (folder / f"CvrExport_{n}.json").write_bytes(
            whole[: len(whole) // 2] if n in broken else whole
        )
    monkeypatch.setattr(parallel, "SIDE_BY_SIDE_BYTES", 0)
    found = []
    for workers in ("1", "2"):
        monkeypatch.setenv("CANVASS_WORKERS", workers)
        with pytest.raises(IngestError) as e:
            list(DominionExport([folder]).read("Test County", batch_size=16))
        found.append(str(e.value))
    assert found[0] == found[1]
    assert found[0].startswith(f"{folder / f'CvrExport_{broken[0]}.json'}: expected a CVR export")
