"""Georgia's 2020 presidential contest replayed through the command line alone, from the
public files, in one election directory and one published bundle: the original
certification (Biden − Trump = 12,670), the full hand count recorded as an audit of it
(12,284), the recount certified from the final county results (11,779), superseding the
original, which stays in the log; and the bundle verifies.

Every known answer comes from outside the project: the Secretary of State's precinct
file as originally certified, Arlo's hand-count report, and the final county results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canvass.cli import app
from tests.conftest import EXAMPLES, shared_path

runner = CliRunner()
DEFINITION = EXAMPLES / "georgia-2020.yaml"


def run(*args: str | Path, code: int = 0) -> str:
    result = runner.invoke(app, [str(a) for a in args], env={"CANVASS_ACTOR": "sos"})
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


def totals_of(
    path: Path, key: str, columns: dict[str, str], where: dict[str, str]
) -> dict[str, int]:
    """Each candidate's votes summed straight from a public CSV file."""
    out = dict.fromkeys(columns, 0)
    with path.open() as f:
        for row in csv.DictReader(f):
            if all(row[k] == v for k, v in where.items()) and row[key] != "NA":
                for name, column in columns.items():
                    out[name] += int(row[column]) if row[column] != "NA" else 0
    return out


def hand_counted(path: Path) -> dict[str, int]:
    """Arlo's own summary of its last round: the votes audited, by candidate."""
    with path.open() as f:
        rows = list(csv.reader(f))
    at = next(i for i, r in enumerate(rows) if r[:1] == ["Round Number"])
    audited = rows[at + 1][rows[at].index("Audited Votes")]
    return {name.strip(): int(n) for name, _, n in (p.rpartition(":") for p in audited.split(";"))}


def state_certificate(path: Path) -> tuple[str, dict[str, int]]:
    status = run("board", "status", path)
    sha = next(
        line.split()[2] for line in status.splitlines() if line.startswith("State certificate:")
    )
    shown = run("certify", "show", path, sha)
    votes = {}
    for name in ("Joseph R. Biden", "Donald J. Trump"):
        line = next(line for line in shown.splitlines() if line.strip().startswith(name))
        votes[name] = int(line.split()[-1].replace(",", ""))
    return sha, votes


@pytest.mark.slow
def test_georgia_2020_through_the_command_line(tmp_path: Path) -> None:
    original = shared_path("data", "ga-2020", "precinct_results_original_certification.csv")
    report = shared_path("data", "ga-2020", "rla_hand_count_audit_report_by_batch.csv")
    final = shared_path("data", "us-2020", "county_presidential_results_final.csv")
    path, keys = tmp_path / "ga", tmp_path / "keys"
    keys.mkdir()
    run("init", path, "--origin", "canvass.test/ga-2020")
    run("define", path, DEFINITION)

    # The file as published: its seven rows with no county and no count are named, and
    # only the presidential contest is read (both Senate races are in the file too).
    done = run(
        "import",
        path,
        original,
        "--format",
        "precinct-results",
        "--county-column",
        "CTYNAME",
        "--precinct-column",
        "PRECINCT_N",
        "--contest",
        "president",
    )
    assert done.splitlines()[0].startswith("Imported ")
    assert "7 rows hold no county and no count, counted nowhere: row 1346, " in done

    # The counties certify (one body seated on every county's board: each certificate,
    # motion and vote its own signed entry), then the Secretary of State.
    run("keys", "new", "--name", "superintendents", "--out", keys / "counties.key")
    run("keys", "new", "--name", "raffensperger", "--out", keys / "sos.key")
    run("keys", "register", path, keys / "counties.key.pub", "--role", "board-member")
    run("keys", "register", path, keys / "sos.key.pub", "--role", "state-official")
    seated = run(
        "board",
        "constitute",
        path,
        "--board",
        "county:all",
        "--profile",
        "georgia",
        "--member",
        "superintendents:County superintendents:",
    )
    assert len(seated.splitlines()) == 159
    run(
        "board",
        "constitute",
        path,
        "--board",
        "state",
        "--profile",
        "georgia",
        "--member",
        "raffensperger:Brad Raffensperger:",
    )

    def certify(reason: str) -> None:
        proposed = run("certify", "propose", path, "--county", "all", "--reason", reason)
        assert len(proposed.splitlines()) == 159
        moved = run(
            "board",
            "move",
            path,
            "--board",
            "county:all",
            "--kind",
            "certify",
            "--key",
            keys / "counties.key",
        )
        assert len(moved.splitlines()) == 159
        run(
            "board",
            "vote",
            path,
            "--motion",
            "all",
            "--vote",
            "yes",
            "--key",
            keys / "counties.key",
        )
        run("certify", "propose", path, "--reason", reason)
        # As the documentation has it: the motion takes the certificate just proposed.
        motion = run(
            "board",
            "move",
            path,
            "--board",
            "state",
            "--kind",
            "certify",
            "--key",
            keys / "sos.key",
        ).split()[1]
        voted = run(
            "board", "vote", path, "--motion", motion, "--vote", "yes", "--key", keys / "sos.key"
        )
        assert "passed" in voted.splitlines()[0]

    certify("")
    first, certified = state_certificate(path)
    as_published = totals_of(
        original, "CTYNAME", {"Joseph R. Biden": "biden_all", "Donald J. Trump": "trump_all"}, {}
    )
    assert certified == as_published == {"Joseph R. Biden": 2_474_507, "Donald J. Trump": 2_461_837}
    assert certified["Joseph R. Biden"] - certified["Donald J. Trump"] == 12_670

    # The full hand count, recorded as an audit beside the certificate in force.
    text = run(
        "audit",
        "hand-count",
        path,
        report,
        "--name",
        "ga-2020-hand-count",
        "--contest",
        "president",
    )
    by_hand = hand_counted(report)
    assert by_hand["Joseph R. Biden"] - by_hand["Donald J. Trump"] == 12_284
    assert (
        f"  Joseph R. Biden over Donald J. Trump: by 12,670 as certified, by "
        f"{by_hand['Joseph R. Biden'] - by_hand['Donald J. Trump']:,} by hand (a change of -386)"
    ) in text
    assert f"beside the certificate {first[:12]}" in text.splitlines()[1]

    # The recount: the final county results replace the original ones, county by county.
    run(
        "state",
        "recount",
        path,
        "--contest",
        "president",
        "--reason",
        "requested by the runner-up (O.C.G.A. 21-2-495(c))",
    )
    done = run(
        "import",
        path,
        final,
        "--format",
        "precinct-results",
        "--county-column",
        "county_name",
        "--county-totals",
        "--where",
        "state_name=Georgia",
        "--choice-column",
        "trump=votes_gop",
        "--choice-column",
        "biden=votes_dem",
        "--replace",
    )
    assert "  replaces the imports of log entries 2, no longer counted" in done
    certify("recount")
    second, recounted = state_certificate(path)
    final_totals = totals_of(
        final,
        "county_name",
        {"Joseph R. Biden": "votes_dem", "Donald J. Trump": "votes_gop"},
        {"state_name": "Georgia"},
    )
    assert recounted == final_totals == {"Joseph R. Biden": 2_473_633, "Donald J. Trump": 2_461_854}
    assert recounted["Joseph R. Biden"] - recounted["Donald J. Trump"] == 11_779
    shown = run("certify", "show", path, second)
    assert f"Status: recount, superseding {first[:12]}" in shown
    assert "Standing: superseded" in run("certify", "show", path, first)

    # One bundle, and it verifies.
    run("publish", path, tmp_path / "bundle")
    assert run("verify", tmp_path / "bundle", "--no-trust-store").endswith("Everything holds.\n")
    audits = json.loads((tmp_path / "bundle/audits/index.json").read_text())
    [counted] = audits["hand_counts"]
    assert counted["certificate"].startswith(first)
    assert counted["margin"] == {
        "winner": "biden",
        "runner_up": "trump",
        "certified": 12_670,
        "hand": 12_284,
    }
    page = (tmp_path / "bundle/audits.html").read_text()
    assert "Donald J. Trump by 12,670 votes as certified, by 12,284 by hand." in page
