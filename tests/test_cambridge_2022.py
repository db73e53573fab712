"""Cambridge, Massachusetts, November 2022: a real certified NIST SP 1500-100 election
results report, canvassed from its own file — the definition drafted from it, the counts
imported, published and verified. The report holds one office voted in several districts
(Representative in Congress in the Fifth and the Seventh, six seats of the General Court):
each is a contest of its own, never one contest summing different districts' candidates.

The known answers are the report's own counts, summed straight from its JSON."""

from __future__ import annotations

import json
import re
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


def report_path() -> Path:
    folder = shared_path("data", "nist-cdf", "test_data", "real_world", "ma", "cambridge")
    return folder / "2022" / "general" / "err_v2" / "err-2022-11-08-Massachusetts-Cambridge.json"


def text(value: str | dict) -> str:
    return value if isinstance(value, str) else value["Text"][0]["Content"]


def counted_by_hand(report: dict) -> list[tuple[str, dict[str, int]]]:
    """Each contest of the report, in its order: (its name, votes by choice name summed
    over the report's precincts)."""
    units = {u["@id"]: u for u in report["GpUnit"]}
    election = report["Election"][0]
    names = {c["@id"]: text(c["BallotName"]) for c in election["Candidate"]}
    out = []
    for contest in election["Contest"]:
        votes: dict[str, int] = defaultdict(int)
        for s in contest["ContestSelection"]:
            if s.get("IsWriteIn"):
                label = "Write-in"
            elif s.get("CandidateIds"):
                label = " / ".join(names[c] for c in s["CandidateIds"])
            else:
                label = text(s["Selection"])
            for count in s["VoteCounts"]:
                if units[count["GpUnitId"]]["Type"] == "precinct":
                    votes[label] += count["Count"]
        out.append((text(contest["Name"]), dict(votes)))
    return out


def test_cambridge_2022_from_its_own_results_report(tmp_path: Path) -> None:
    path, draft = tmp_path / "cambridge", tmp_path / "draft.yaml"
    report = json.loads(report_path().read_text())
    run("init", path, "--origin", "canvass.test/cambridge")
    drafted = run(
        "definition", "draft", report_path(), "--from", "nist-err", "--state", "MA", "--out", draft
    )
    assert (
        "  review: Election[0].Contest[6] ('REPRESENTATIVE IN CONGRESS') is one of several "
        "contests of that name: drafted as 'REPRESENTATIVE IN CONGRESS, SEVENTH DISTRICT'\n"
    ) in drafted
    doc = yaml.safe_load(draft.read_text())
    # The report's scope is the city: Cambridge canvasses, Middlesex County is a district.
    assert [j["name"] for j in doc["jurisdictions"] if j["kind"] == "county"] == ["Cambridge"]
    run("define", path, draft)
    done = run("import", path, report_path(), "--format", "nist-err", "--county", "Cambridge")
    expected = counted_by_hand(report)
    assert done.startswith(
        f"Imported {sum(sum(v.values()) for _, v in expected):,} votes from 1 county"
    )

    candidates = {c["id"]: c["name"] for c in doc["candidates"]} | {"write-in": "Write-in"}
    counted = json.loads(run("results", path, "--format", "json"))["contests"]
    assert len(counted) == len(expected) == len(doc["contests"]) == 26
    for (name, votes), ours, c in zip(expected, counted, doc["contests"], strict=True):
        names = candidates | {ch["id"]: ch["name"] for ch in c.get("choices", [])}
        assert {names[k]: v for k, v in ours["votes"].items()} == votes, name
    congress = {
        c["contest"]: set(c["votes"])
        for c in counted
        if c["contest"].startswith("representative-in-congress")
    }
    assert congress == {
        "representative-in-congress-fifth-district": {
            "katherine-m-clark",
            "caroline-colarusso",
            "write-in",
        },
        "representative-in-congress-seventh-district": {
            "ayanna-s-pressley",
            "donnie-dionicio-palmer-jr",
            "write-in",
        },
    }

    # The city's certificate says what a results-only count cannot: no ballots or marks.
    run("keys", "new", "--name", "clerk", "--out", tmp_path / "clerk.key")
    run("keys", "register", path, tmp_path / "clerk.key.pub", "--role", "board-member")
    run("board", "constitute", path, "--board", "county:cambridge", "--profile", "generic",
        "--member", "clerk:City clerk")  # fmt: skip
    sha = run("certify", "propose", path, "--county", "cambridge").strip()
    shown = run("certify", "show", path, sha)
    healey = next(line for line in shown.splitlines() if "HEALEY AND DRISCOLL" in line)
    assert healey.split()[-1] == f"{expected[0][1]['HEALEY AND DRISCOLL']:,}"
    assert "    counted from results alone: no ballots, overvotes or undervotes\n" in shown
    assert "ballots with the contest 0" not in shown

    run("publish", path, tmp_path / "bundle")
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")


def test_cambridge_2022_primary_keeps_each_partys_contests_apart(tmp_path: Path) -> None:
    """The September primary: every office once per party, the Republican ballot's many
    contests with write-in lines alone (left out of the draft, so named to be left out of
    the import, and each report of the city says so)."""
    report_file = (
        report_path().parents[2] / "primary/err_v2/err-2022-09-06-Massachusetts-Cambridge.json"
    )
    report = json.loads(report_file.read_text())
    path, draft = tmp_path / "cambridge", tmp_path / "draft.yaml"
    run("init", path, "--origin", "canvass.test/cambridge-primary")
    drafted = run(
        "definition", "draft", report_file, "--from", "nist-err", "--state", "MA", "--out", draft
    )
    assert (
        "  review: Election[0].Contest[1] ('GOVERNOR') is one of several contests of that "
        "name: drafted as 'GOVERNOR, REPUBLICAN'\n"
    ) in drafted
    run("define", path, draft)
    import_ = ("import", path, report_file, "--format", "nist-err", "--county", "Cambridge")
    assert run(*import_, code=1) == (
        f"error: {report_file}: Election[0].Contest[9] ('TREASURER'): not a contest of the "
        "election definition; add an alias, or leave it out of the import with "
        "--skip-contest 'TREASURER, REPUBLICAN'\n"
    )
    assert run(*import_, "--skip-contest", "MAYOR", code=1) == (
        f"error: {report_file}: --skip-contest 'MAYOR': no contest of the report has that name\n"
    )
    assert run(*import_, "--skip-contest", "TREASURER, DEMOCRAT", code=1) == (
        f"error: {report_file}: --skip-contest 'TREASURER, DEMOCRAT': the election definition "
        "has that contest ('treasurer-democrat'); it is counted, not left out\n"
    )
    assert run(
        "import", path, report_file, "--format", "precinct-results", "--skip-contest", "X", code=1
    ) == (
        "error: --skip-contest: a precinct-results file is read by its columns; name the "
        "contests to read with --contest\n"
    )

    # A contest of write-in lines alone, as the report has it, is left out by name.
    expected = counted_by_hand(report)
    contests = report["Election"][0]["Contest"]
    write_ins_only = [
        n for n, c in enumerate(contests) if all(s.get("IsWriteIn") for s in c["ContestSelection"])
    ]
    named = sorted(set(re.findall(r"import with --skip-contest '([^']+)'", drafted)))
    assert len(named) == len(write_ins_only) == 13
    done = run(*import_, *(a for name in named for a in ("--skip-contest", name)))
    left_out = {n: sum(expected[n][1].values()) for n in write_ins_only}
    assert done.startswith(
        f"Imported {sum(sum(v.values()) for _, v in expected) - sum(left_out.values()):,} votes"
    )
    assert (
        f"  left out: TREASURER, REPUBLICAN ({left_out[9]:,} votes), as --skip-contest asked"
        in done
    )
    assert (
        f"Cambridge: TREASURER, REPUBLICAN is left out of its import ({left_out[9]:,} votes), "
        "as --skip-contest asked; not in the election definition"
    ) in run("results", path)

    doc = yaml.safe_load(draft.read_text())
    candidates = {c["id"]: c["name"] for c in doc["candidates"]} | {"write-in": "Write-in"}
    counted = json.loads(run("results", path, "--format", "json"))["contests"]
    kept = [e for n, e in enumerate(expected) if n not in write_ins_only]
    assert len(counted) == len(kept) == len(doc["contests"])
    for (name, votes), ours, c in zip(kept, counted, doc["contests"], strict=True):
        names = candidates | {ch["id"]: ch["name"] for ch in c.get("choices", [])}
        assert {names[k]: v for k, v in ours["votes"].items()} == votes, name
    governor = {
        c["contest"]: set(c["votes"]) for c in counted if c["contest"].startswith("governor")
    }
    assert "maura-healey" in governor["governor-democrat"]
    assert "geoff-diehl" in governor["governor-republican"]
    assert not governor["governor-democrat"] & governor["governor-republican"] - {"write-in"}

    # The city's certificate names what its import left out, and the verifier checks it.
    run("keys", "new", "--name", "clerk", "--out", tmp_path / "clerk.key")
    run("keys", "register", path, tmp_path / "clerk.key.pub", "--role", "board-member")
    run("board", "constitute", path, "--board", "county:cambridge", "--profile", "generic",
        "--member", "clerk:City clerk")  # fmt: skip
    sha = run("certify", "propose", path, "--county", "cambridge").strip()
    run("board", "move", path, "--board", "county:cambridge", "--kind", "certify",
        "--key", tmp_path / "clerk.key")  # fmt: skip
    run("board", "vote", path, "--motion", "all", "--vote", "yes", "--key", tmp_path / "clerk.key")
    shown = run("certify", "show", path, sha)
    assert (
        "Left out of its imports (contests the election definition does not have)\n"
        "  COUNCILLOR, SIXTH DISTRICT, REPUBLICAN: "
    ) in shown
    assert f"\n  TREASURER, REPUBLICAN: {left_out[9]:,} votes\n" in shown

    run("publish", path, tmp_path / "bundle")
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")
    published = json.loads((tmp_path / "bundle/results/results.json").read_text())
    assert len(published["imports"]["cambridge"]["notes"]) == 13
