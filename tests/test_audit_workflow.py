"""A ballot-comparison audit in an election directory: commitment before the seed, a
draw anyone can repeat, the audit boards' readings, the risk measured, the next round."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from canvass.app.actor import Actor
from canvass.app.audits import (
    commit,
    committed_tables,
    cvr_votes,
    draw,
    drawn,
    interpret,
    load_audits,
    measure,
    open_audit,
    record_seed,
)
from canvass.app.results import results
from canvass.audit.rounds import frame
from canvass.audit.sampler import first_fraction, sampler, trim
from canvass.audit.stats import km_nmin
from canvass.audit.workflow import AuditRefused
from canvass.demo.build import build_demo
from canvass.publish.reports import audit_report
from canvass.store.election import ElectionDirectory

SEED = "31415926535897932384"


@pytest.fixture
def store(tmp_path: Path) -> ElectionDirectory:
    return build_demo(tmp_path / "e", False, 3, 12, 2026, 200, canvass=False).store


def _margin(store: ElectionDirectory) -> tuple[float, str, str]:
    president = next(t for t in results(store)[0].contests if t.contest == "president")
    (w, wv), (lo, lv) = sorted(president.votes.items(), key=lambda kv: -kv[1])[:2]
    return (wv - lv) / results(store)[0].cards, w, lo


def test_the_seed_comes_after_the_commitment(store: ElectionDirectory) -> None:
    open_audit(store, Actor("director"), "pres", "comparison", 10, ["president"])
    size = store.size()
    with pytest.raises(
        AuditRefused, match="a seed before the ballot manifests and CVRs are committed is refused"
    ):
        record_seed(store, Actor("director"), "pres", SEED)
    assert store.size() == size  # nothing written
    index, checkpoint = commit(store, Actor("director"), "pres")
    assert checkpoint.splitlines()[1] == str(index + 1)  # the signed checkpoint covers it
    with pytest.raises(AuditRefused, match="at least 20 digits"):
        record_seed(store, Actor("director"), "pres", "12345")
    seeded = record_seed(store, Actor("director"), "pres", SEED)
    assert seeded > index
    with pytest.raises(AuditRefused, match="the seed is known"):
        commit(store, Actor("director"), "pres")
    types = [e.type for _, e in store.entries(index - 1)]
    assert types == ["audit.opened", "audit.committed", "audit.seeded"]


def test_a_comparison_audit_runs_to_its_risk_limit(store: ElectionDirectory) -> None:
    margin, _, _ = _margin(store)
    open_audit(store, Actor("director"), "pres", "comparison", 10, ["president"])
    commit(store, Actor("director"), "pres")
    record_seed(store, Actor("director"), "pres", SEED)
    size = km_nmin(0.1, margin) + 2
    _, listing = draw(store, Actor("director"), "pres", size)
    rows = list(csv.DictReader(io.StringIO(listing)))
    assert len(rows) == size
    numbers = [r["ticket_number"] for r in rows]
    assert numbers == sorted(numbers)
    first = rows[0]
    key = "/".join((first["county"], first["tabulator"], first["batch"], first["record"]))
    assert first["ticket_number"] == trim(first_fraction(key, SEED), 18)
    # Anyone holding the committed frame draws the same sample.
    audit = load_audits(store).audit("pres")
    ids, _ = frame(committed_tables(store, audit))
    again = list(sampler(ids, SEED, with_replacement=True, take=size, digits=18))
    assert [t.number for t in again] == numbers

    ballots = sorted(
        {"/".join((r["county"], r["tabulator"], r["batch"], r["record"])) for r in rows}
    )
    said = cvr_votes(store, audit, ballots)
    interpret(
        store,
        Actor("board-1"),
        "pres",
        [
            {"ballot": b, "contest": "president", "votes": said[b].get("president", [])}
            for b in ballots
        ],
        "board-1",
    )
    [measured] = measure(store, Actor("director"), "pres")
    assert measured["met"] and measured["p_value"] <= 0.1
    assert measured["discrepancies"] == {"o1": 0, "o2": 0, "u1": 0, "u2": 0}
    assert "risk limit met" in audit_report(load_audits(store).audit("pres"))


def test_a_discrepancy_asks_for_more(store: ElectionDirectory) -> None:
    margin, winner, loser = _margin(store)
    open_audit(store, Actor("director"), "pres", "comparison", 10, ["president"])
    commit(store, Actor("director"), "pres")
    record_seed(store, Actor("director"), "pres", SEED)
    size = km_nmin(0.1, margin) + 2
    _, listing = draw(store, Actor("director"), "pres", size)
    rows = list(csv.DictReader(io.StringIO(listing)))
    ballots = sorted(
        {"/".join((r["county"], r["tabulator"], r["batch"], r["record"])) for r in rows}
    )
    audit = load_audits(store).audit("pres")
    said = cvr_votes(store, audit, ballots)
    flipped = next(b for b in ballots if said[b].get("president") == [winner])
    readings = [
        {"ballot": b, "contest": "president",
         "votes": [loser] if b == flipped else said[b].get("president", [])}
        for b in ballots
    ]  # fmt: skip
    missing = next(b for b in ballots if b != flipped)
    readings = [r if r["ballot"] != missing else {**r, "finding": "not_found"} for r in readings]
    interpret(store, Actor("board-1"), "pres", readings, "board-1")
    [measured] = measure(store, Actor("director"), "pres")
    assert not measured["met"]
    times = {
        b: sum(
            1 for r in rows if "/".join((r["county"], r["tabulator"], r["batch"], r["record"])) == b
        )
        for b in (flipped, missing)
    }
    assert measured["discrepancies"]["o2"] == times[flipped] + times[missing]
    assert measured["next_size"] > size
    with pytest.raises(Exception, match="was not drawn"):
        interpret(
            store,
            Actor("b"),
            "pres",
            [{"ballot": "nowhere/1/1/1", "contest": "president", "votes": []}],
            "b",
        )


def test_the_audit_workflow_from_the_command_line(store: ElectionDirectory, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()
    path = str(store.path)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    run("audit", "open", path, "--name", "p1", "--contest", "proposal-1", "--method", "polling")
    refused = run("audit", "seed", path, "--name", "p1", "--seed", SEED, code=1)
    assert "a seed before the ballot manifests and CVRs are committed is refused" in refused
    assert "publish this checkpoint now" in run("audit", "commit", path, "--name", "p1")
    run("audit", "seed", path, "--name", "p1", "--seed", SEED)
    lists = tmp_path / "lists"
    listing = run("audit", "round", path, "--name", "p1", "--size", "40", "--out-dir", str(lists))
    listing = listing[: listing.index("Wrote the retrieval lists")]
    rows = list(csv.DictReader(io.StringIO(listing)))
    per_county = {f.stem: list(csv.DictReader(f.open())) for f in sorted(lists.iterdir())}
    assert sum(len(r) for r in per_county.values()) == len(rows) == 40
    assert all(r["county"] == county for county, rs in per_county.items() for r in rs)
    ballots = sorted(
        {"/".join((r["county"], r["tabulator"], r["batch"], r["record"])) for r in rows}
    )
    said = cvr_votes(store, load_audits(store).audit("p1"), ballots)
    sheet = tmp_path / "readings.csv"
    sheet.write_text(
        "ballot,contest,votes,finding\n"
        + "".join(f"{b},proposal-1,{'|'.join(said[b].get('proposal-1', []))},\n" for b in ballots)
    )
    assert f"Recorded {len(ballots)} readings" in run(
        "audit", "interpret", path, "--name", "p1", "--board", "b1", str(sheet)
    )
    text = run("audit", "measure", path, "--name", "p1")
    assert "proposal-1 after round 1 (40 draws): risk " in text

    # A batch comparison: the hand counts come as county, tabulator, batch, contest, choice,
    # votes.
    run(
        "audit",
        "open",
        path,
        "--name",
        "b1",
        "--contest",
        "president",
        "--method",
        "batch-comparison",
    )
    run("audit", "commit", path, "--name", "b1")
    run("audit", "seed", path, "--name", "b1", "--seed", SEED)
    batches = run("audit", "round", path, "--name", "b1", "--size", "4")
    counts = tmp_path / "tallies.csv"
    lines = ["county,tabulator,batch,contest,choice,votes"]
    for t in _tallies(store, batches):
        county, tabulator, batch = str(t["batch"]).split("/")
        votes = t["votes"]
        assert isinstance(votes, dict)
        lines += [f"{county},{tabulator},{batch},president,{c},{n}" for c, n in votes.items()]
    counts.write_text("\n".join(lines) + "\n")
    bad = tmp_path / "bad.csv"
    bad.write_text(lines[0] + "\n" + lines[1].rsplit(",", 1)[0] + ",many\n")
    assert f"{bad} row 2, votes: expected a whole number of votes; found 'many'" in run(
        "audit", "tally", path, "--name", "b1", "--board", "b", str(bad), code=1
    )
    assert "Recorded the hand counts of" in run(
        "audit", "tally", path, "--name", "b1", "--board", "b", str(counts)
    )
    assert "president after round 1 (4 draws): risk " in run(
        "audit", "measure", path, "--name", "b1"
    )


# --- batch comparison ------------------------------------------------------------------------


def _paper(store: ElectionDirectory, batch: str) -> dict[str, dict[str, int]]:
    """What a hand count of a batch finds, counted plainly from its CVRs (the paper agrees
    with them here): one vote per mark, nothing for a contest overvoted on a card."""
    from canvass.app.results import definition
    from canvass.ingest.ballots import VOTE, read_table
    from canvass.ingest.names import definition_contests

    county, tabulator, number = batch.split("/")
    infos = [info for info, _ in definition_contests(definition(store))]
    audit = next(iter(load_audits(store).audits.values()))
    table, _ = read_table(store.artifacts.get(audit.tables[county]))
    found: dict[str, dict[str, int]] = {}
    for row in table.to_pylist():
        if (row["tabulator"], row["batch"]) != (tabulator, number):
            continue
        by_contest: dict[int, list[int]] = {}
        for m in row["marks"] or []:
            if m["status"] == VOTE:
                by_contest.setdefault(m["contest"], []).append(m["choice"])
        for c, choices in by_contest.items():
            info = infos[c]
            votes = found.setdefault(info.name, {ch.name: 0 for ch in info.choices})
            if len(choices) <= info.votes_allowed:
                for ch in choices:
                    votes[info.choices[ch].name] += 1
    return found


def _tallies(store: ElectionDirectory, listing: str, shift: int = 0) -> list[dict[str, object]]:
    batches = sorted(
        {
            "/".join((r["county"], r["tabulator"], r["batch"]))
            for r in csv.DictReader(io.StringIO(listing))
        }
    )
    _, winner, runner_up = _margin(store)
    out: list[dict[str, object]] = []
    for n, batch in enumerate(batches):
        votes = _paper(store, batch)["president"]
        if shift and n == 0:  # the paper shows the winner's votes went to the runner-up
            votes[winner] -= shift
            votes[runner_up] += shift
        out.append({"batch": batch, "contest": "president", "votes": votes})
    return out


def test_a_batch_comparison_audit(store: ElectionDirectory, tmp_path: Path) -> None:
    from canvass.app.audits import tally
    from canvass.errors import StoreError
    from canvass.publish.bundle import publish
    from canvass.verify import open_source, verify_bundle

    open_audit(store, Actor("director"), "batches", "batch-comparison", 10, ["president"])
    commit(store, Actor("director"), "batches")
    record_seed(store, Actor("director"), "batches", SEED)
    _, listing = draw(store, Actor("director"), "batches", 12)
    rows = list(csv.DictReader(io.StringIO(listing)))
    assert [int(r["ticket_number"]) for r in rows] == list(range(1, 13))
    assert {r["county"] for r in rows} <= {"c001", "c002", "c003"}
    with pytest.raises(StoreError, match="batch c009/x/y was not drawn"):
        tally(
            store,
            Actor("ab"),
            "batches",
            [{"batch": "c009/x/y", "contest": "president", "votes": {}}],
            "b1",
        )
    first = f"{rows[0]['county']}/{rows[0]['tabulator']}/{rows[0]['batch']}"
    with pytest.raises(StoreError, match="nobody not a choice of president; choices: "):
        tally(
            store,
            Actor("ab"),
            "batches",
            [{"batch": first, "contest": "president", "votes": {"nobody": 1}}],
            "b1",
        )
    tally(store, Actor("audit-board"), "batches", _tallies(store, listing), "board-1")
    [honest] = measure(store, Actor("director"), "batches")
    assert honest["discrepancies"] == {"batches_with_errors": 0}
    assert honest["draws"] == 12 and honest["p_value"] < 1

    # The same draws, where the paper of one batch moved 30 votes to the runner-up.
    open_audit(store, Actor("director"), "batches-2", "batch-comparison", 10, ["president"])
    commit(store, Actor("director"), "batches-2")
    record_seed(store, Actor("director"), "batches-2", SEED)
    _, listing2 = draw(store, Actor("director"), "batches-2", 12)
    assert listing2 == listing
    tally(store, Actor("audit-board"), "batches-2", _tallies(store, listing, shift=30), "board-1")
    [shifted] = measure(store, Actor("director"), "batches-2")
    assert shifted["discrepancies"] == {"batches_with_errors": 1}
    assert shifted["p_value"] > honest["p_value"]

    # The verifier draws the batches again and recomputes both risks from the hand counts.
    publish(store, tmp_path / "bundle")
    report = verify_bundle(open_source(str(tmp_path / "bundle")), reingest=False)
    audits = next(c for c in report.checks if c.name == "audits")
    assert audits.ok, report.text()
    assert audits.checked == 2 * (1 + 1 + 1)

    # A risk recorded lower than the hand counts give is named.
    from canvass.log.entry import new_entry

    false = {**shifted, "p_value": 0.01, "met": True, "next_size": 0}
    with store.writing() as w:
        w.append(new_entry("audit.measured", "director", false))
    publish(store, tmp_path / "bundle", replace=True)
    report = verify_bundle(open_source(str(tmp_path / "bundle")), reingest=False)
    [problem, *_] = next(c for c in report.checks if c.name == "audits").problems
    assert "audit batches-2 president round 1: met: recorded True, recomputed False" in problem


def test_a_vote_for_two_contest_is_audited_pair_by_pair(store: ElectionDirectory) -> None:
    """In the vote-for-2 contest both winners must beat every loser: the margin that
    counts is the second winner's over the first loser."""
    from canvass.audit.stats import km_p_value

    open_audit(store, Actor("director"), "board", "comparison", 10, ["board-of-education"])
    commit(store, Actor("director"), "board")
    record_seed(store, Actor("director"), "board", SEED)
    draw(store, Actor("director"), "board", 40)
    audit = load_audits(store).audit("board")
    sampled = drawn(store, audit)
    said = cvr_votes(store, audit, sorted(sampled))
    interpret(
        store,
        Actor("audit-board"),
        "board",
        [
            {
                "ballot": b,
                "contest": "board-of-education",
                "votes": said[b].get("board-of-education", []),
            }
            for b in sorted(sampled)
        ],
        "board-1",
    )
    [m] = measure(store, Actor("director"), "board")
    counted = results(store)[0]
    votes = sorted(
        next(t for t in counted.contests if t.contest == "board-of-education").votes.values(),
        reverse=True,
    )
    margin = (votes[1] - votes[2]) / counted.cards
    assert m["p_value"] == pytest.approx(km_p_value(40, margin))
    assert m["discrepancies"] == {"o1": 0, "o2": 0, "u1": 0, "u2": 0}


def test_the_retrieval_list_says_which_container_holds_each_ballot(
    store: ElectionDirectory, tmp_path: Path
) -> None:
    """A county's ballot manifest, committed with its CVRs, names the box each batch is
    in; the retrieval list carries it."""
    from collections import Counter

    from canvass.app.imports import import_ballots
    from canvass.app.results import imports_in_force
    from canvass.ingest.ballots import read_table

    [row] = [r for r in imports_in_force(store, "ballots") if r["county"] == "c001"]
    table, _ = read_table(store.artifacts.get(str(row["table_sha256"])))
    cards = Counter(
        zip(table.column("tabulator").to_pylist(), table.column("batch").to_pylist(), strict=True)
    )
    boxes = {key: f"Box {n % 3 + 1}" for n, key in enumerate(sorted(cards))}
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "Container,Tabulator,Batch Name,Number of Ballots\n"
        + "".join(f"{boxes[(t, b)]},{t},{b},{n}\n" for (t, b), n in sorted(cards.items()))
    )
    import_ballots(store, Actor("clerk"), "c001", "ballot-manifest", [manifest])
    open_audit(store, Actor("director"), "boxes", "comparison", 10, ["president"])
    commit(store, Actor("director"), "boxes")
    record_seed(store, Actor("director"), "boxes", SEED)
    _, listing = draw(store, Actor("director"), "boxes", 60)
    rows = list(csv.DictReader(io.StringIO(listing)))
    assert {r["county"] for r in rows} > {"c001"}
    for r in rows:
        expected = boxes[(r["tabulator"], r["batch"])] if r["county"] == "c001" else ""
        assert r["container"] == expected


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "", "two words"])
def test_an_audit_name_that_is_not_a_plain_name_is_refused(
    store: ElectionDirectory, name: str
) -> None:
    """An audit's name names files of the published bundle: it cannot climb out of it."""
    size = store.size()
    with pytest.raises(AuditRefused, match="an audit's name is letters, digits"):
        open_audit(store, Actor("director"), name, "comparison", 10, ["president"])
    assert store.size() == size
