"""Georgia's 2020 presidential hand count (Arlo's report, 41,881 batches) against the
machine count, county by county."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from canvass.audit.handcount import compare, georgia_machine_counts, read_arlo_report
from canvass.errors import IngestError
from tests.conftest import shared_path

CANDIDATES = {"Donald J. Trump": "trump", "Joseph R. Biden": "biden", "Jo Jorgensen": "jorgensen"}


def test_georgia_2020_hand_count_against_the_machine_count() -> None:
    report_path = shared_path("data", "ga-2020", "rla_hand_count_audit_report_by_batch.csv")
    machine_path = shared_path("data", "ga-2020", "precinct_results_original_certification.csv")
    report = read_arlo_report(report_path.read_bytes())
    assert report.batches == 41_881
    assert report.setting("Random Seed") == "12345123451234512345"
    # Arlo's own round summary is the known answer for the sum of its batches.
    audited = report.round_votes()
    for name in CANDIDATES:
        assert sum(c[name] for c in report.hand_count.values()) == audited[name]
    assert audited["Donald J. Trump"] == 2_462_857 and audited["Joseph R. Biden"] == 2_475_141
    machine = georgia_machine_counts(machine_path.read_bytes(), CANDIDATES)
    result = compare(machine, report.hand_count, list(CANDIDATES))
    # As originally certified: Biden 2,474,507, Trump 2,461,837.
    assert result.state["Joseph R. Biden"] == (2_474_507, 2_475_141)
    assert result.state["Donald J. Trump"] == (2_461_837, 2_462_857)
    assert result.margin("Joseph R. Biden", "Donald J. Trump") == (12_670, 12_284)
    # Independently: the county with the largest difference, read straight from the files.
    rows = list(csv.reader(io.StringIO(report_path.read_text())))
    start = rows.index(next(r for r in rows if r and r[0] == "Jurisdiction Name"))
    floyd_hand = sum(int(r[3]) for r in rows[start + 1 :] if r and r[0] == "FLOYD")
    floyd_machine = sum(
        int(r["trump_all"])
        for r in csv.DictReader(io.StringIO(machine_path.read_text()))
        if r["CTYNAME"] == "FLOYD" and r["trump_all"].isdigit()
    )
    assert result.counties["FLOYD"]["Donald J. Trump"] == (floyd_machine, floyd_hand)
    text = result.text("Joseph R. Biden", "Donald J. Trump")
    assert "by 12,670 in the machine count and by 12,284 in the hand count" in text


def test_a_report_without_batches(tmp_path: object) -> None:
    with pytest.raises(IngestError, match="expected a '######## BATCH RESULTS ########' section"):
        read_arlo_report(b"######## ELECTION INFO ########\nA,B\n")
    bad = (
        b"######## BATCH RESULTS ########\n"
        b"Jurisdiction Name,Batch Name,Batch Type,A\nX,1,Mail,many\n"
    )
    with pytest.raises(IngestError, match="row 2, column 'A': expected a count; found 'many'"):
        read_arlo_report(bad)


# --- a hand count recorded in the election, as an audit of its certified result -----------

SMALL = """\
election: {id: small, name: Small, date: "2026-11-03", state: GA}
jurisdictions:
  - {id: ga, name: Georgia, kind: state}
  - {id: adams, name: Adams County, kind: county, parent: ga}
  - {id: baker, name: Baker County, kind: county, parent: ga}
candidates:
  - {id: ann, name: Ann Alder}
  - {id: bo, name: Bo Birch}
contests:
  - {id: mayor, name: Mayor, type: candidate, jurisdiction: ga, candidates: [ann, bo]}
"""
REPORT = """\
######## ELECTION INFO ########
Organization,Election Name,State
Small,Small,GA

######## BATCH RESULTS ########
Jurisdiction Name,Batch Name,Batch Type,Ann Alder,Bo Birch,Blank/Undervote
ADAMS,1,Election Day,60,38,2
ADAMS,2,Absentee By Mail,41,20,0
BAKER,1,Election Day,15,31,1
"""


def _small(tmp_path: object) -> tuple[Path, Callable[..., str]]:
    from typer.testing import CliRunner

    from canvass.cli import app

    base = Path(str(tmp_path))
    runner = CliRunner()

    def run(*args: object, code: int = 0) -> str:
        result = runner.invoke(app, [str(a) for a in args], env={"CANVASS_ACTOR": "sos"})
        assert result.exit_code == code, (result.stdout, result.stderr)
        return result.stdout if code == 0 else result.stderr

    (base / "small.yaml").write_text(SMALL)
    (base / "counts.csv").write_text("county,ann_total,bo_total\nAdams,100,59\nBaker,15,30\n")
    (base / "report.csv").write_text(REPORT)
    path = base / "e"
    run("init", path, "--origin", "canvass.test/small")
    run("define", path, base / "small.yaml")
    run("import", path, base / "counts.csv", "--format", "precinct-results", "--county-totals")
    return path, run


def test_a_hand_count_is_set_beside_the_certificate_it_audits(tmp_path: object) -> None:
    path, run = _small(tmp_path)
    base = Path(str(tmp_path))
    assert run(
        "audit",
        "hand-count",
        path,
        base / "report.csv",
        "--name",
        "hc",
        "--contest",
        "mayor",
        code=1,
    ) == (
        "error: a hand count is set beside the certified result it audits, and no state "
        "certificate is in force; record it once the state has certified\n"
    )
    assert run("audit", "hand-count", path, base / "report.csv", code=1) == (
        "error: to record a hand count, give DIR REPORT --name NAME --contest CONTEST (or "
        "compare one with --machine FILE)\n"
    )
    run("keys", "new", "--name", "boards", "--out", base / "b.key")
    run("keys", "register", path, base / "b.key.pub", "--role", "board-member")
    run(
        "board",
        "constitute",
        path,
        "--board",
        "county:all",
        "--profile",
        "georgia",
        "--member",
        "boards:Boards:",
    )
    run(
        "board",
        "constitute",
        path,
        "--board",
        "state",
        "--profile",
        "georgia",
        "--member",
        "boards:Boards:",
    )
    assert run(
        "board",
        "move",
        path,
        "--board",
        "county:all",
        "--kind",
        "recess",
        "--key",
        base / "b.key",
        code=1,
    ) == ("error: --board county:all moves to certify; give --kind certify\n")
    assert run(
        "board",
        "vote",
        path,
        "--motion",
        "first",
        "--vote",
        "yes",
        "--key",
        base / "b.key",
        code=1,
    ) == ("error: --motion: expected a motion's log entry or all; found 'first'\n")
    run("certify", "propose", path, "--county", "all")
    run(
        "board", "move", path, "--board", "county:all", "--kind", "certify", "--key", base / "b.key"
    )
    run("board", "vote", path, "--motion", "all", "--vote", "yes", "--key", base / "b.key")
    sha = run("certify", "propose", path).strip()
    motion = run(
        "board",
        "move",
        path,
        "--board",
        "state",
        "--kind",
        "certify",
        "--key",
        base / "b.key",
        "--certificate",
        sha,
    ).split()[1]
    run("board", "vote", path, "--motion", motion, "--vote", "yes", "--key", base / "b.key")
    text = run(
        "audit",
        "hand-count",
        path,
        base / "report.csv",
        "--name",
        "hc",
        "--contest",
        "mayor",
    )
    entry = text.splitlines()[0].removeprefix("Recorded the hand count hc as log entry ")
    assert text.splitlines()[1:6] == [
        f"Hand count hc of Mayor: 3 batches counted by hand, recorded at log entry {entry} "
        f"beside the certificate {sha[:12]}",
        "  Ann Alder: certified 115, by hand 116 (+1)",
        "  Bo Birch: certified 89, by hand 89 (+0)",
        "  Ann Alder over Bo Birch: by 26 as certified, by 27 by hand (a change of +1)",
        "  Blank/Undervote: 3 by hand",
    ]
    assert (
        run(
            "audit",
            "hand-count",
            path,
            base / "report.csv",
            "--name",
            "hc",
            "--contest",
            "mayor",
            code=1,
        )
        == "error: an audit 'hc' was already recorded\n"
    )
    (base / "other.csv").write_text(REPORT.replace("BAKER,1", "CARROLL,1"))
    assert run(
        "audit",
        "hand-count",
        path,
        base / "other.csv",
        "--name",
        "hc2",
        "--contest",
        "mayor",
        code=1,
    ) == (
        f"error: {base / 'other.csv'}: BATCH RESULTS: jurisdiction 'CARROLL' is not a county of "
        "the election\n"
    )
    # The verifier sums the hand count again from the report the log keeps.
    run("publish", path, base / "bundle")
    checked = run("verify", base / "bundle", "--no-trust-store")
    assert re.search(
        r"^ok +audits +1 checked: .*, hand counts summed again from their reports$", checked, re.M
    ), checked


def test_a_hand_count_whose_sums_are_not_its_reports_is_refused(tmp_path: object) -> None:
    """A log whose hand-count entry claims sums its report does not give cannot be
    published, and so no verifier would render it the same."""
    from canvass.app.elections import open_election
    from canvass.audit.workflow import HandCount
    from canvass.certify.fold import ElectionState
    from canvass.certify.materials import Materials
    from canvass.errors import CanvassError
    from canvass.publish.audits import hand_count
    from canvass.publish.view import ElectionView

    test_a_hand_count_is_set_beside_the_certificate_it_audits(tmp_path)
    store = open_election(Path(str(tmp_path)) / "e")
    state = ElectionState.replay(store.entries())
    found = state.audits.hand_counts["hc"]
    forged = HandCount(
        found.name,
        found.contest,
        found.entry,
        found.audits,
        found.report,
        {**found.data, "totals": {"ann": 116, "bo": 80}},
    )
    view = ElectionView(state, Materials(store.artifacts.get), b"")
    assert hand_count(view, found)["margin"]["hand"] == 27
    with pytest.raises(CanvassError) as e:
        hand_count(view, forged)
    assert str(e.value) == (
        f"hand count hc (log entry {found.entry}): its sums are not those of its report "
        f"{found.report[:12]}, counted again"
    )


def test_a_report_that_is_not_utf8_is_named_at_its_byte() -> None:
    with pytest.raises(IngestError) as e:
        read_arlo_report(b"######## BATCH RESULTS ########\nJurisdiction Name,\xff\n", "r.csv")
    assert (
        str(e.value) == "r.csv line 2: expected UTF-8 text; found byte 0xFF (byte 51 of the file)"
    )
