"""San Francisco's November 2024 Dominion export, canvassed from its own files: the
definition drafted from its manifests (no definition written by hand), ballots told from
cards, the reconciliation against a poll book of one voter per ballot, and the mayoral
contest's tie left to the officials."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from canvass.cli import app
from tests.conftest import shared_path
from tests.test_dominion import plain_count

runner = CliRunner()


def run(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


def sessions(folder: Path) -> list[dict[str, Any]]:
    out = []
    for file in sorted(folder.glob("CvrExport_*.json")):
        out += json.loads(file.read_text())["Sessions"]
    return out


def ballots_by_hand(folder: Path) -> dict[tuple[str, str], int]:
    """Ballots per (precinct, counting group), worked out the way a person would from the
    JSON: San Francisco's central scanners record each sheet as a session of its own, and a
    voter's sheets go through one after another, so within a batch, in scanning order (the
    record number in ``ImageMask``), a ballot is a run of consecutive records of one
    precinct portion and ballot type in which no sheet (``PaperIndex``) comes twice."""
    portions = {
        p["Id"]: p["Description"]
        for p in json.loads((folder / "manifests/PrecinctPortionManifest.json").read_text())["List"]
    }
    groups = {
        g["Id"]: g["Description"]
        for g in json.loads((folder / "manifests/CountingGroupManifest.json").read_text())["List"]
    }
    batches: dict[tuple[int, int], list[tuple[int, int, int, int, int]]] = defaultdict(list)
    for s in sessions(folder):
        version = s["Original"] if s["Original"]["IsCurrent"] else s["Modified"]
        record = int(re.search(r"_(\d+)\*", s["ImageMask"]).group(1))  # type: ignore[union-attr]
        for card in version["Cards"]:
            batches[(s["TabulatorId"], s["BatchId"])].append(
                (
                    record,
                    card["PaperIndex"],
                    version["PrecinctPortionId"],
                    version["BallotTypeId"],
                    s["CountingGroupId"],
                )
            )
    found: Counter[tuple[str, str]] = Counter()
    for cards in batches.values():
        cards.sort()
        last: tuple[int, int, int, int, int] | None = None
        sheets: set[int] = set()
        for card in cards:
            record, sheet, portion, style, group = card
            new = (
                last is None
                or record != last[0] + 1
                or (portion, style) != (last[2], last[3])
                or sheet in sheets
            )
            if new:
                found[(portions[portion], groups[group])] += 1
                sheets = set()
            sheets.add(sheet)
            last = card
    return dict(found)


@pytest.fixture(scope="module")
def sf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """San Francisco's election, defined from its export's manifests and imported."""
    folder = shared_path("data", "dominion-sf2024")
    path = tmp_path_factory.mktemp("sf") / "sf"
    run("init", path, "--origin", "canvass.test/sf", "--actor", "clerk")
    drafted = path.parent / "draft.yaml"
    text = run("define", path, folder, "--from", "dominion", "--state", "CA", "--out", drafted)
    assert "definition-drafted.yaml: recorded as log entry 1" in text
    done = run("import", path, folder, "--county", "San Francisco", "--actor", "clerk")
    assert done.splitlines()[0] == (
        "Imported 169 cards (44 ballots) for san-francisco as log entry 2"
    )
    return path, drafted


def test_the_definition_is_drafted_from_the_manifests(sf: tuple[Path, Path]) -> None:
    _, drafted = sf
    text = drafted.read_text()
    assert text.startswith("# Election definition drafted by Canvass from dominion export ")
    doc = yaml.safe_load(text)
    assert doc["election"] == {
        "id": "sf-november-2024-consolidated-general-election",
        "name": "SF November 2024 Consolidated General Election",
        "date": "2024-11-05",
        "state": "CA",
    }
    folder = shared_path("data", "dominion-sf2024")
    manifest = json.loads((folder / "manifests/ContestManifest.json").read_text())["List"]
    assert [c["name"] for c in doc["contests"]] == [c["Description"] for c in manifest]
    kinds = Counter(c["type"] for c in doc["contests"])
    assert kinds == {"candidate": 17, "ranked_choice": 11, "measure": 25}
    mayor = next(c for c in doc["contests"] if c["id"] == "mayor")
    assert (mayor["ranks"], mayor["seats"], mayor["write_ins"]) == (10, 1, 1)
    precincts = [j for j in doc["jurisdictions"] if j["kind"] == "precinct"]
    assert len(precincts) == 514
    measures = {c["Id"] for c in manifest if c["Description"].startswith(("PROP", "MEASURE"))}
    candidates = json.loads((folder / "manifests/CandidateManifest.json").read_text())["List"]
    named = [c for c in candidates if c["ContestId"] not in measures and c["Type"] != "WriteIn"]
    assert [c["name"] for c in doc["candidates"]] == [c["Description"] for c in named]
    assert len(doc["ballot_styles"]) == 98
    assert {g["name"]: g["vote_type"] for g in doc["counting_groups"]} == {
        "Election Day": "election_day",
        "Vote by Mail": "absentee",
    }


def test_totals_equal_a_plain_count_of_the_json(sf: tuple[Path, Path]) -> None:
    path, drafted = sf
    doc = json.loads(run("results", path, "--format", "json"))
    ids = {c["name"]: c["id"] for c in yaml.safe_load(drafted.read_text())["contests"]}
    names = yaml.safe_load(drafted.read_text())
    label = {c["id"]: c["name"] for c in names["candidates"]}
    label |= {f"{ch['id']}": ch["name"] for c in names["contests"] for ch in c.get("choices", [])}
    counted = {t["contest"]: t for t in doc["contests"]}
    expected = plain_count(shared_path("data", "dominion-sf2024"))
    assert len(expected) > 30
    for contest, want in expected.items():
        got = counted[ids[contest]]
        assert got["ballots"] == want["ballots"], contest
        assert got["overvoted_ballots"] == want["overvoted"], contest
        votes = {label.get(k, k): v for k, v in got["votes"].items() if v}
        assert votes == dict(want["votes"]), contest
    assert (doc["ballots"], doc["cards"]) == (44, 169)


def test_ballots_are_told_from_cards(sf: tuple[Path, Path]) -> None:
    path, _ = sf
    doc = json.loads(run("results", path, "--format", "json", "--by", "precinct"))
    by_hand = ballots_by_hand(shared_path("data", "dominion-sf2024"))
    assert sum(by_hand.values()) == 44
    groups = doc["group_ballots"]
    assert groups["san-francisco/PCT 1119"] == {"ballots": 2, "cards": 8}
    assert {g.removeprefix("san-francisco/"): n["ballots"] for g, n in groups.items()} == {
        precinct: n for (precinct, _), n in by_hand.items()
    }
    blank = sum(
        1
        for s in sessions(shared_path("data", "dominion-sf2024"))
        for card in (s["Original"] if s["Original"]["IsCurrent"] else s["Modified"])["Cards"]
        if not any(mark["IsVote"] for c in card["Contests"] for mark in c["Marks"])
    )
    table = run("results", path, "--contest", "president-and-vice-president")
    assert table.splitlines()[0] == f"44 ballots on 169 cards, {blank} cards blank"


def test_reconciliation_with_one_voter_per_ballot_balances(
    sf: tuple[Path, Path], tmp_path: Path
) -> None:
    path, _ = sf
    book = tmp_path / "pollbook.csv"
    vote_types = {"Vote by Mail": "absentee", "Election Day": "election_day"}
    with book.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "county",
                "precinct",
                "vote_type",
                "checkins",
                "absentee_received",
                "absentee_accepted",
                "absentee_rejected",
                "provisional_issued",
                "provisional_accepted",
                "ballots_issued",
                "ballots_spoiled",
                "ballots_unused",
            ]
        )
        for (precinct, group), n in sorted(
            ballots_by_hand(shared_path("data", "dominion-sf2024")).items()
        ):
            vote_type = vote_types[group]
            absentee = n if vote_type == "absentee" else 0
            checkins = n if vote_type != "absentee" else 0
            w.writerow(
                [
                    "San Francisco",
                    precinct,
                    vote_type,
                    checkins,
                    absentee,
                    absentee,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                ]
            )
    assert "Recorded the poll book" in run("reconcile", "import", path, book)
    report = run("reconcile", "report", path)
    units = len(ballots_by_hand(shared_path("data", "dominion-sf2024")))
    assert report.splitlines()[0] == (
        f"San Francisco: {units} units, 0 out of balance (0.0%), 0 ballots in question, "
        "0 unexplained"
    )
    assert "MCL" not in report  # California: no Michigan law cited


def test_a_contest_left_out_of_the_definition_must_be_named(tmp_path: Path) -> None:
    folder = shared_path("data", "dominion-sf2024")
    draft = tmp_path / "draft.yaml"
    run("definition", "draft", folder, "--from", "dominion", "--state", "CA", "--out", draft)
    doc = yaml.safe_load(draft.read_text())
    doc["contests"] = [c for c in doc["contests"] if not c["name"].startswith("MEASURE")]
    kept = {i for c in doc["contests"] for i in c.get("candidates", [])}
    doc["candidates"] = [c for c in doc["candidates"] if c["id"] in kept]
    doc["ballot_styles"] = []
    subset = tmp_path / "subset.yaml"
    subset.write_text(yaml.safe_dump(doc, sort_keys=False))
    # Not "sf": on PostgreSQL, the module's election holds the schema named so.
    path = tmp_path / "sf-subset"
    run("init", path, "--origin", "canvass.test/sf")
    run("define", path, subset)

    def cards_with(contests: range) -> int:
        return sum(
            1
            for s in sessions(folder)
            for card in (s["Original"] if s["Original"]["IsCurrent"] else s["Modified"])["Cards"]
            if any(c["Id"] in contests for c in card["Contests"])
        )

    carrying = cards_with(range(39, 54))  # MEASURE A is contest 39, ..., O is 53
    assert run("import", path, folder, "--county", "San Francisco", code=1) == (
        f"error: {folder}: contest 'MEASURE A' is not in the election definition (15 such "
        f"contests on {carrying} cards read); nearest: 'TREASURER', 'MAYOR'. Define it, add the "
        "spelling to "
        "its contest's aliases, or leave it out of the import with --skip-contest 'MEASURE A'\n"
    )
    assert run(
        "import", path, folder, "--county", "San Francisco", "--skip-contest", "MEASURE Z", code=1
    ) == (
        f"error: {folder}: --skip-contest 'MEASURE Z': no contest of the export has that name; "
        "nearest: 'MEASURE O', 'MEASURE N', 'MEASURE M'\n"
    )
    assert run(
        "import", path, folder, "--county", "San Francisco", "--skip-contest", "MAYOR", code=1
    ) == (
        f"error: {folder}: --skip-contest 'MAYOR': the election definition has that contest "
        "('mayor'); it is counted, not left out\n"
    )
    measures = [f"MEASURE {letter}" for letter in "ABCDEFGHIJKLMNO"]
    args = [a for m in measures for a in ("--skip-contest", m)]
    done = run("import", path, folder, "--county", "San Francisco", *args)
    a, o = cards_with(range(39, 40)), cards_with(range(53, 54))
    assert f"  left out: MEASURE A ({a} cards), as --skip-contest asked" in done
    results = run("results", path)
    assert f"San Francisco: MEASURE A is left out of its import ({a} cards), not in the " in results
    doc_json = json.loads(run("results", path, "--format", "json"))
    assert doc_json["imports"]["san-francisco"]["skipped_contests"]["MEASURE O"] == o


@pytest.mark.sqlite_only(
    "copies the election directory, which holds the whole election only on SQLite "
    "(on PostgreSQL the copy would share the module's schema)"
)
def test_a_tie_stops_only_its_contest_until_the_officials_decide(
    sf: tuple[Path, Path], tmp_path: Path
) -> None:
    import shutil

    path = tmp_path / "sf"
    shutil.copytree(sf[0], path)
    mayor = run("results", path, "--contest", "mayor")
    # The candidates as the export's CandidateManifest.json names them, with their ids.
    tied = (
        "AHSHA SAFAÍ ('ahsha-safai'), DYLAN HIRSCH-SHELL ('dylan-hirsch-shell'), ELLEN LEE "
        "ZHOU ('ellen-lee-zhou'), HENRY FLYNN ('henry-flynn'), MARC ROTH ('marc-roth'), "
        "MICHAEL LIN ('michael-lin'), NELSON MEI ('nelson-mei'), PAUL YBARRA ROBERTSON "
        "('paul-ybarra-robertson'), SHAHRAM SHARIATI ('shahram-shariati'), undeclared "
        "write-ins ('Undeclared Write-ins')"
    )
    tie = (
        f"contest MAYOR ('mayor'), round 1: {tied} are tied to be eliminated, and its rules "
        "(tiebreak_mode stopCountingAndAsk) leave the choice to the officials. Record their "
        "decision with 'canvass rcv resolve-tie DIR --contest mayor --round 1 --chosen ID' "
        "(the id of the candidate eliminated), or give the contest another tiebreak_mode in "
        "the definition (random, with a random_seed drawn in public)"
    )
    assert f"MAYOR: the count stops at a tie. {tie}" in mayor
    # Every other contest counts, and the election publishes and verifies with the tie shown.
    doc = json.loads(run("results", path, "--format", "json"))
    assert doc["ranked_choice_ties"]["mayor"]["message"] == tie
    assert "city-attorney" in doc["ranked_choice"]
    run("publish", path, tmp_path / "bundle")
    published = json.loads((tmp_path / "bundle/results/results.json").read_text())
    assert published["ranked_choice_ties"]["mayor"]["tied"][:2] == [
        "Undeclared Write-ins",
        "ahsha-safai",
    ]
    assert "mayor" not in json.loads((tmp_path / "bundle/results/ranked-choice.json").read_text())
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")
    # What the officials may record, and what they may not.
    assert run(
        "rcv",
        "resolve-tie",
        path,
        "--contest",
        "mayor",
        "--round",
        "2",
        "--chosen",
        "marc-roth",
        code=1,
    ) == ("error: contest 'mayor': its count stops at a tie in round 1, not round 2\n")
    assert run(
        "rcv",
        "resolve-tie",
        path,
        "--contest",
        "mayor",
        "--round",
        "1",
        "--chosen",
        "daniel-lurie",
        code=1,
    ) == (
        "error: contest 'mayor', round 1: 'daniel-lurie' is not the id of one of the tied "
        f"candidates ({tied})\n"
    )
    assert run(
        "rcv", "resolve-tie", path, "--contest", "sheriff", "--round", "1", "--chosen", "x", code=1
    ) == ("error: contest 'sheriff': its count stops at no tie left to the officials\n")
    # The officials decide each tie in turn (here: the first named, as a drawing of lots
    # would); the count goes on to the end.
    decided = 0
    while True:
        ties = json.loads(run("results", path, "--format", "json")).get("ranked_choice_ties", {})
        if not ties:
            break
        contest, found = sorted(ties.items())[0]
        text = run(
            "rcv",
            "resolve-tie",
            path,
            "--contest",
            contest,
            "--round",
            str(found["round"]),
            "--chosen",
            found["tied"][0],
            "--reason",
            "drawn by lot in public",
        )
        assert text.startswith(f"Recorded the decision of the tie in {contest}, round ")
        decided += 1
    assert decided >= 9  # ten tied at none in the mayoral contest's first round
    counted = json.loads(run("results", path, "--format", "json", "--contest", "mayor"))
    assert counted["ranked_choice"]["mayor"][0]["winners"] == ["daniel-lurie"]
    run("publish", path, tmp_path / "bundle", "--replace")
    rounds = json.loads((tmp_path / "bundle/results/ranked-choice.json").read_text())
    assert rounds["mayor"][0]["winners"] == ["daniel-lurie"]
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")


def test_a_county_certificate_says_what_its_imports_left_out(tmp_path: Path) -> None:
    folder = shared_path("data", "dominion-sf2024")
    test_a_contest_left_out_of_the_definition_must_be_named(tmp_path)
    path = tmp_path / "sf-subset"
    run("keys", "new", "--name", "board", "--out", tmp_path / "board.key")
    run("keys", "register", path, tmp_path / "board.key.pub", "--role", "board-member")
    run(
        "board",
        "constitute",
        path,
        "--board",
        "county:san-francisco",
        "--profile",
        "generic",
        "--member",
        "board:Board:",
    )
    sha = run("certify", "propose", path, "--county", "san-francisco").strip()
    motion = run(
        "board",
        "move",
        path,
        "--board",
        "county:san-francisco",
        "--kind",
        "certify",
        "--key",
        tmp_path / "board.key",
        "--certificate",
        sha,
    ).split()[1]
    run("board", "vote", path, "--motion", motion, "--vote", "yes", "--key", tmp_path / "board.key")
    shown = run("certify", "show", path, sha)
    carried = sum(
        1
        for s in sessions(folder)
        for card in (s["Original"] if s["Original"]["IsCurrent"] else s["Modified"])["Cards"]
        if any(c["Id"] == 39 for c in card["Contests"])  # MEASURE A
    )
    assert (
        "Left out of its imports (contests the election definition does not have)\n"
        f"  MEASURE A: {carried} cards\n"
    ) in shown
    run("publish", path, tmp_path / "bundle")
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")
