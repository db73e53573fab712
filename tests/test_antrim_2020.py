"""Antrim County, Michigan, November 2020, from OpenElections' precinct file of the
official results: the definition drafted from the file, the counts imported, certified,
published and verified. The county's corrected certified result is Trump 9,748, Biden
5,960 — the file's own sums, read straight from the CSV here."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import yaml
from typer.testing import CliRunner

from canvass.cli import app
from tests.conftest import shared_path

runner = CliRunner()


def run(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


def summed(path: Path) -> dict[tuple[str, str], dict[str, int]]:
    """Votes by (office, district) and candidate, summed over the file's precincts."""
    out: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with path.open() as f:
        for row in csv.DictReader(f):
            if row["candidate"] and row["office"] != "Straight Party":
                out[(row["office"], row["district"])][row["candidate"]] += int(row["votes"])
    return out


def test_antrim_2020_from_openelections_precinct_file(tmp_path: Path) -> None:
    file = shared_path("data", "mi-2020", "antrim_precinct_results.csv")
    path, draft = tmp_path / "antrim", tmp_path / "draft.yaml"
    run("init", path, "--origin", "canvass.test/antrim")
    drafted = run("definition", "draft", file, "--from", "openelections", "--state", "MI",
                  "--name", "Antrim County 2020", "--date", "2020-11-03", "--out", draft)  # fmt: skip
    assert (
        "  review: rows of offices that are not contests were passed over: Ballots Cast, "
        "Registered Voters, Straight Party\n"
    ) in drafted
    doc = yaml.safe_load(draft.read_text())
    assert [c["name"] for c in doc["contests"]] == [
        "President and Vice President",
        "U S Senate",
        "U S House, District 1",
        "State House, District 105",
    ]
    run("define", path, draft)
    expected = summed(file)
    done = run("import", path, file, "--format", "openelections")
    assert done.startswith(
        f"Imported {sum(sum(v.values()) for v in expected.values()):,} votes from 1 county"
    )
    president = expected[("President and Vice President", "")]
    assert (
        president["Donald J. Trump / Michael R. Pence"],
        president["Joseph R. Biden / Kamala D. Harris"],
    ) == (9_748, 5_960)

    # Counted from results alone: no ballots, overvotes or undervotes are claimed.
    table = run("results", path)
    assert (
        "President and Vice President (vote for 1; counted from results alone)\n"
        f"  Donald J. Trump / Michael R. Pence            9,748  "
        f"{100 * 9_748 / sum(president.values()):6.2f}%\n"
    ) in table
    assert "undervotes" not in table and "0 ballots" not in table
    names = {c["id"]: c["name"] for c in doc["candidates"]}
    counted = json.loads(run("results", path, "--format", "json"))["contests"]
    for (office, district), ours in zip(expected, counted, strict=True):
        votes = {
            ("Unresolved Write-In" if k == "write-in" else names[k]): v
            for k, v in ours["votes"].items()
        }
        assert votes == expected[(office, district)], office
    precincts = json.loads(run("results", path, "--format", "json", "--by", "precinct"))
    with file.open() as f:
        # Parts of precincts in other counties hold no contest's row (only zeros of
        # registered voters, ballots cast and straight party).
        named = {
            r["precinct"]
            for r in csv.DictReader(f)
            if r["candidate"] and r["office"] != "Straight Party"
        }
    assert {g.split("/", 1)[1] for g in precincts["groups"]} == named

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "county,precinct,office,district,candidate,party,votes\n"
        "Antrim,Banks Township,President and Vice President,,Kanye West,IND,3\n"
        "Antrim,Banks Township,Governor,,Someone,IND,3\n"
    )
    assert run("import", path, bad, "--format", "openelections", code=1).startswith(
        f"error: {bad} row 2, column candidate: expected a choice of 'president-and-vice-"
        "president'; found 'Kanye West'. Add it as an alias"
    )
    bad.write_text(
        "county,precinct,office,district,candidate,party,votes\n"
        "Antrim,Banks Township,Governor,,Someone,IND,3\n"
    )
    assert run("import", path, bad, "--format", "openelections", code=1) == (
        f"error: {bad} row 2: office 'Governor' is not a contest of the election definition; "
        "add it, or an alias\n"
    )

    run("keys", "new", "--name", "board", "--out", tmp_path / "board.key")
    run("keys", "register", path, tmp_path / "board.key.pub", "--role", "board-member")
    run("board", "constitute", path, "--board", "county:antrim", "--profile", "generic",
        "--member", "board:Board:")  # fmt: skip
    run("certify", "propose", path, "--county", "antrim")
    run("board", "move", path, "--board", "county:antrim", "--kind", "certify",
        "--key", tmp_path / "board.key")  # fmt: skip
    run("board", "vote", path, "--motion", "all", "--vote", "yes", "--key", tmp_path / "board.key")
    run("publish", path, tmp_path / "bundle")
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")


def test_a_statewide_openelections_file_is_drafted_county_by_county(tmp_path: Path) -> None:
    """Michigan's county file (43 counties): each county drafted from its own rows; the
    import stops, naming the row, at the count the file writes as '4 ,063'."""
    file = shared_path("data", "mi-2020", "county_results_partial.csv")
    with file.open() as f:
        rows = list(csv.DictReader(f))
    counties = sorted({r["county"] for r in rows})
    path, draft = tmp_path / "mi", tmp_path / "draft.yaml"
    run("init", path, "--origin", "canvass.test/mi")
    assert run("definition", "draft", f"Antrim={file}", "--from", "openelections", "--state",
               "MI", "--name", "MI", "--date", "2020-11-03", code=1) == (
        f"error: openelections export {file}: no row names the county 'Antrim'\n"
    )  # fmt: skip
    run("definition", "draft", *(f"{c}={file}" for c in counties), "--from", "openelections",
        "--state", "MI", "--name", "MI", "--date", "2020-11-03", "--out", draft)  # fmt: skip
    doc = yaml.safe_load(draft.read_text())
    assert sorted(j["name"] for j in doc["jurisdictions"] if j["kind"] == "county") == counties
    run("define", path, draft)
    bad = next(n for n, r in enumerate(rows, start=2) if not r["votes"].isdigit() and r["votes"])
    assert run("import", path, file, "--format", "openelections", code=1) == (
        f"error: {file} row {bad}, column votes: expected a whole number; found "
        f"{rows[bad - 2]['votes']!r}\n"
    )
