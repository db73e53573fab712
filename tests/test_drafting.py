"""Definitions drafted from vendors' own files, then used: Arlo's Dominion CSV fixture
election (five counties, drafted together; precincts and batches keyed by county), NIST's
synthetic election results report, and what a draft refuses."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from canvass.cli import app
from canvass.errors import IngestError
from canvass.ingest.draft import DraftChoice, DraftContest, Elements, draft
from tests.conftest import shared_path

runner = CliRunner()
COUNTIES = ("Kendall Park", "Waurika", "Siletz", "Worthington Hills", "Mount Olive")


def run(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


@pytest.fixture(scope="module")
def arlo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = shared_path("data", "arlo", "small-election")
    path = tmp_path_factory.mktemp("arlo") / "small"
    run("init", path, "--origin", "canvass.test/arlo")
    draft_file = path.parent / "draft.yaml"
    exports = [f"{c}={folder / f'{c} - cvrs.csv'}" for c in COUNTIES]
    text = run(
        "definition",
        "draft",
        *exports,
        "--from",
        "dominion-csv",
        "--state",
        "XX",
        "--name",
        "Small Election",
        "--date",
        "2020-11-03",
        "--out",
        draft_file,
    )
    assert text.startswith(f"Wrote the drafted definition to {draft_file}")
    assert "  review: no Precinct column: each card's precinct is its PrecinctPortion" in text
    run("define", path, draft_file)
    for county in COUNTIES:
        done = run(
            "import",
            path,
            folder / f"{county} - cvrs.csv",
            "--county",
            county,
            "--format",
            "dominion-csv",
        )
        assert "  note: no Precinct column: each card's precinct is its PrecinctPortion" in done
    return path, folder


def test_the_draft_holds_every_county_and_contest(arlo: tuple[Path, Path]) -> None:
    path, folder = arlo
    doc = yaml.safe_load((path.parent / "draft.yaml").read_text())
    spec = json.loads((folder / "small-election.spec.json").read_text())
    assert [c["name"] for c in doc["contests"]] == [c["name"] for c in spec["contests"]]
    counties = [j["name"] for j in doc["jurisdictions"] if j["kind"] == "county"]
    assert counties == list(COUNTIES)
    with (folder / "Small Election - standardized contests.csv").open() as f:
        voted = {r["Contest Name"]: r["Jurisdictions"] for r in csv.DictReader(f)}
    place = {j["id"]: j["name"] for j in doc["jurisdictions"]}
    for c in doc["contests"]:  # a contest of several counties is the state's, else its county's
        where = voted[c["name"]]
        assert place[c["jurisdiction"]] == ("XX" if "," in where or where == "all" else where)


def test_the_totals_are_arlos(arlo: tuple[Path, Path]) -> None:
    path, folder = arlo
    doc = json.loads(run("results", path, "--format", "json"))
    spec = json.loads((folder / "small-election.spec.json").read_text())
    draft_doc = yaml.safe_load((path.parent / "draft.yaml").read_text())
    names = {c["id"]: c["name"] for c in draft_doc["candidates"]} | {"write-in": "Write-In"}
    counted = {t["contest"]: t for t in doc["contests"]}
    for contest, c in zip(spec["contests"], draft_doc["contests"], strict=True):
        votes = {names[k]: v for k, v in counted[c["id"]]["votes"].items()}
        assert votes == contest["tally"], contest["name"]


def test_batches_and_precincts_are_keyed_by_county(arlo: tuple[Path, Path]) -> None:
    path, folder = arlo
    by_batch = json.loads(
        run(
            "results", path, "--format", "json", "--by", "batch", "--contest", "minister-of-farming"
        )
    )
    assert by_batch["by"] == "county,batch"
    for county in COUNTIES:
        totals = folder / f"{county} - Minister of Farming - candidate totals by batch.csv"
        with totals.open() as f:
            expected = {
                r.pop("Batch Name"): {k: int(v) for k, v in r.items()} for r in csv.DictReader(f)
            }
        prefix = county.lower().replace(" ", "-") + "/"
        ours: dict[str, dict[str, int]] = {}
        for group, contests in by_batch["groups"].items():
            if group.startswith(prefix):
                batch = group.removeprefix(prefix).split("/", 1)[1]
                ours[batch] = {
                    {
                        "erin-george": "Erin George",
                        "alex-hall": "Alex Hall",
                        "write-in": "Write-In",
                    }[k]: v
                    for k, v in contests[0]["votes"].items()
                }
        assert {b: v for b, v in ours.items() if b in expected or any(v.values())} == expected
    assert (
        json.loads(run("results", path, "--format", "json", "--by", "county,batch"))[
            "groups"
        ].keys()
        == by_batch["groups"].keys()
    )
    by_precinct = json.loads(run("results", path, "--format", "json", "--by", "precinct"))
    assert sorted(by_precinct["groups"]) == sorted(
        f"{c.lower().replace(' ', '-')}/precinct-portion-1" for c in COUNTIES
    )
    both = json.loads(run("results", path, "--format", "json", "--by", "precinct,vote-type"))
    assert sorted(both["groups"]) == sorted(
        f"{c.lower().replace(' ', '-')}/precinct-portion-1/election_day" for c in COUNTIES
    )
    assert run("results", path, "--by", "county,shoe-size", code=1) == (
        "error: cannot break results down by 'shoe_size'; choose one of county, precinct, "
        "precinct_portion, batch, tabulator, vote_type, counting_group, ballot_style, or "
        "several separated by commas\n"
    )


def test_nist_election_results_report_drafts_and_imports(tmp_path: Path) -> None:
    report = shared_path(
        "data", "nist-cdf", "test_data", "synthetic", "gen-02", "err_v2", "err-gen-02.json"
    )
    path = tmp_path / "gen"
    run("init", path, "--origin", "canvass.test/gen")
    run("define", path, report, "--from", "nist-err", "--state", "XX")  # the county: its scope
    doc = json.loads(report.read_text())
    scope = doc["Election"][0]["ElectionScopeId"]
    county = next(u for u in doc["GpUnit"] if u["@id"] == scope)
    county_name = county["Name"]["Text"][0]["Content"]
    done = run("import", path, report, "--county", county_name, "--format", "nist-err")
    assert done.startswith("Imported ")
    counted = json.loads(run("results", path, "--format", "json"))
    # Every selection's total at the county, as the report gives it, summed per contest.
    for n, contest in enumerate(
        c for c in doc["Election"][0]["Contest"] if c["@type"] != "ElectionResults.PartyContest"
    ):
        expected = sum(
            vc["Count"]
            for s in contest["ContestSelection"]
            for vc in s.get("VoteCounts", [])
            if vc["GpUnitId"] == county["@id"] and vc.get("Type", "total") == "total"
        )
        got = counted["contests"][n]
        assert sum(got["votes"].values()) == expected, got["contest"]


def test_a_draft_says_what_it_cannot_know() -> None:
    county = Elements("Adams", "generic-csv export adams.csv")
    county.contests = [DraftContest("Mayor", choices=[DraftChoice("Ann"), DraftChoice("Bo")])]
    with pytest.raises(IngestError) as e:
        draft([county], "CO")
    assert str(e.value) == (
        "generic-csv export adams.csv: the export does not name the election; give --name"
    )
    with pytest.raises(IngestError) as e:
        draft([county], "CO", name="Adams 2026")
    assert str(e.value) == (
        "generic-csv export adams.csv: the export does not give the election's date; "
        "give --date YYYY-MM-DD"
    )
    other = Elements("Baker", "generic-csv export baker.csv")
    other.contests = [DraftContest("MAYOR", 2, choices=[DraftChoice("ANN")])]
    with pytest.raises(IngestError) as e:
        draft([county, other], "CO", name="2026", date="2026-11-03")
    assert str(e.value) == (
        "generic-csv export baker.csv: contest 'MAYOR' allows 2 votes and 0 rankings in Baker, "
        "but 1 and 0 in Adams; draft them apart"
    )


def test_spellings_of_several_counties_become_aliases() -> None:
    adams = Elements("Adams", "a", "2026 General", "2026-11-03")
    adams.contests = [DraftContest("President/Vice-President", choices=[DraftChoice("Ann Adams")])]
    adams.counting_groups = ["Absentee", "Walk-in"]
    baker = Elements("Baker", "b")
    baker.contests = [
        DraftContest(
            "PRESIDENT / VICE PRESIDENT",
            choices=[DraftChoice("ANN ADAMS"), DraftChoice("Write-in", "write_in")],
        )
    ]
    doc, review = draft([adams, baker], "CO")
    [contest] = doc["contests"]
    assert contest["name"] == "President/Vice-President"
    assert contest["aliases"] == ["PRESIDENT / VICE PRESIDENT"]
    assert contest["jurisdiction"] == "co" and contest["write_ins"] == 1
    assert doc["candidates"] == [{"id": "ann-adams", "name": "Ann Adams"}]  # case alone: no alias
    assert review == [
        "counting group 'Walk-in' of Adams: its name does not say how its ballots were cast; "
        "election_day is written"
    ]


def test_drafting_needs_a_format_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    assert run("definition", "draft", tmp_path, code=1) == (
        "error: give the export's format with --from (e.g. --from dominion)\n"
    )
    assert run("definition", "draft", tmp_path, "--from", "sequoia", code=1) == (
        "error: a definition cannot be drafted from 'sequoia'; choose one of dominion, "
        "nist-err, openelections, dominion-csv, nist-cvr, ess, hart, clear-ballot, generic-csv\n"
    )
    assert run("definition", "draft", tmp_path, "--from", "dominion", code=1) == (
        f"error: {tmp_path}: no ContestManifest.json among the files; a Dominion definition "
        "is drafted from the export's manifests\n"
    )


@pytest.mark.parametrize(
    ("case", "fmt"),
    [("clear_ballot_kansas_primary", "clear-ballot"), ("hart_cedar_park_school_board", "hart")],
)
def test_a_draft_from_any_cvr_export_counts_as_rctab_does(
    case: str, fmt: str, tmp_path: Path
) -> None:
    """Drafted from the CVRs' own contests and cards, recorded, imported: the first choices
    are round 1 of RCTab's expected report for the case."""
    folder = shared_path("data", "rctab", case)
    config = json.loads((folder / f"{case}_config.json").read_text())
    source = config["cvrFileSources"][0]
    export = (folder / source["filePath"]).resolve()
    path = tmp_path / "e"
    run("init", path, "--origin", "canvass.test/rctab")
    draft_file = tmp_path / "draft.yaml"
    said = run(
        "define", path, export, "--from", fmt, "--county", "Test County", "--state", "XX",
        "--name", case, "--date", "2026-11-03", "--out", draft_file,
    )  # fmt: skip
    # Contests of write-in lines alone are left out of a draft, which says to skip them.
    skip = re.findall(r"\(import with --skip-contest '([^']*)'\)", said)
    skipping = [a for name in skip for a in ("--skip-contest", name)]
    run("import", path, export, "--county", "Test County", "--format", fmt, *skipping)
    doc = yaml.safe_load(draft_file.read_text())
    names = {c["id"]: c["name"] for c in doc["candidates"]}
    counted = json.loads(run("results", path, "--format", "json"))["contests"]
    report = json.loads((folder / f"{case}_expected_detailed_report.json").read_text())
    expected = {k: int(float(v)) for k, v in report["results"][0]["tally"].items() if float(v)}
    # RCTab names candidates by its configuration's names, the export by its own: the
    # configuration's aliases join them.
    alias = {a: c["name"] for c in config["candidates"] for a in [c["name"], *c.get("aliases", [])]}
    alias[source.get("undeclaredWriteInLabel", "")] = "Undeclared Write-ins"
    for contest in counted:
        votes = {
            alias.get(names.get(k, k), names.get(k, k)): v for k, v in contest["votes"].items() if v
        }
        if votes and set(votes) <= set(alias.values()) | set(expected):
            assert votes == {
                k: v for k, v in expected.items() if k != "Undeclared Write-ins" or k in votes
            }
            return
    pytest.fail(f"no contest of the drafted definition counts as {case}'s does")
