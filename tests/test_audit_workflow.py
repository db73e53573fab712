"""A ballot-comparison audit in an election directory: commitment before the seed, a
draw anyone can repeat, the audit boards' readings, the risk measured, the next round."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from canvass.app.actor import Actor
from canvass.app.audits import (
    commit,
    committed_tables,
    cvr_votes,
    draw,
    drawn,
    load_audits,
    measure,
    open_audit,
    record_seed,
    seat_board,
)
from canvass.app.elections import register_key
from canvass.app.results import results
from canvass.audit.rounds import frame
from canvass.audit.sampler import first_fraction, sampler, trim
from canvass.audit.stats import km_nmin
from canvass.audit.workflow import AuditRefused
from canvass.demo.build import build_demo
from canvass.domain.model import KeyRole
from canvass.keys import new_signer
from canvass.log.note import Signer
from canvass.publish.audits import audit_report
from canvass.signing import interpret, tally
from canvass.store.election import ElectionDirectory

SEED = "31415926535897932384"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ElectionDirectory]:
    made = build_demo(tmp_path / "e", False, 3, 12, 2026, 200, canvass=False).store
    yield made
    made.close()


@pytest.fixture
def team(store: ElectionDirectory) -> list[Signer]:
    """An audit board's two members, their keys registered as audit-board."""
    members = [new_signer(f"auditor-{side}") for side in "ab"]
    for m in members:
        register_key(store, Actor("clerk"), m.verifier(), KeyRole.AUDIT_BOARD)
    return members


def _open(
    store: ElectionDirectory, name: str, method: str, contest: str, team: list[Signer]
) -> None:
    """Open an audit with ``team`` seated as its audit board ``board-1``."""
    open_audit(store, Actor("director"), name, method, 10, [contest])
    seat_board(store, Actor("director"), name, "board-1", [m.name for m in team])


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


def test_a_comparison_audit_runs_to_its_risk_limit(
    store: ElectionDirectory, team: list[Signer]
) -> None:
    margin, _, _ = _margin(store)
    _open(store, "pres", "comparison", "president", team)
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
        team,
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


def test_a_discrepancy_asks_for_more(store: ElectionDirectory, team: list[Signer]) -> None:
    margin, winner, loser = _margin(store)
    _open(store, "pres", "comparison", "president", team)
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
    interpret(store, team, "pres", readings, "board-1")
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
            team,
            "pres",
            [{"ballot": "nowhere/1/1/1", "contest": "president", "votes": []}],
            "board-1",
        )


def test_the_audit_workflow_from_the_command_line(store: ElectionDirectory, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from canvass.cli import app
    from canvass.keys import write_key

    runner = CliRunner()
    path = str(store.path)

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, result.output
        return result.output

    key_files = []
    for side in "ab":
        pub = write_key(new_signer(f"auditor-{side}"), tmp_path / f"auditor-{side}.key")
        key_files += ["--key", str(tmp_path / f"auditor-{side}.key")]
        run("keys", "register", path, str(pub), "--role", "audit-board")
    run("audit", "open", path, "--name", "p1", "--contest", "proposal-1", "--method", "polling")
    seated = run(
        "audit", "board", path, "--name", "p1", "--board", "b1",
        "--member", "auditor-a", "--member", "auditor-b",
    )  # fmt: skip
    assert seated.startswith("Audit board b1 (auditor-a, auditor-b) seated as log entry ")
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
    unsigned = run("audit", "interpret", path, "--name", "p1", "--board", "b1", str(sheet), code=2)
    assert "Missing option '--key'" in unsigned
    assert (
        run("audit", "interpret", path, "--name", "p1", "--board", "b1", *key_files, str(sheet))
        == f"Recorded {len(ballots)} readings by b1, signed by auditor-a, auditor-b\n"
    )
    again = run(
        "audit", "interpret", path, "--name", "p1", "--board", "b1", *key_files, str(sheet),
        code=1,
    )  # fmt: skip
    assert again == (
        f"error: audit p1: ballot {ballots[0]}, proposal-1 was read at log entry "
        f"{store.size() - len(ballots)}; to read it again, give the reason: the earlier "
        "reading stays in the log\n"
    )
    one = tmp_path / "one.csv"
    one.write_text("\n".join(sheet.read_text().splitlines()[:2]) + "\n")
    assert run(
        "audit", "interpret", path, "--name", "p1", "--board", "b1", *key_files,
        "--reason", "the board misread the oval", str(one),
    ) == (
        "Recorded 1 readings by b1, signed by auditor-a, auditor-b; 1 read again: the board "
        "misread the oval\n"
    )  # fmt: skip
    text = run("audit", "measure", path, "--name", "p1")
    assert "proposal-1 after round 1 (40 draws): risk " in text
    assert f"  {ballots[0]} (proposal-1) read again at log entry " in text
    assert "reason: the board misread the oval" in text
    assert "1 reading read again not counted" in text

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
    run(
        "audit", "board", path, "--name", "b1", "--board", "b",
        "--member", "auditor-a", "--member", "auditor-b",
    )  # fmt: skip
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
        "audit", "tally", path, "--name", "b1", "--board", "b", *key_files, str(bad), code=1
    )
    assert "Recorded the hand counts of" in run(
        "audit", "tally", path, "--name", "b1", "--board", "b", *key_files, str(counts)
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


def test_a_batch_comparison_audit(
    store: ElectionDirectory, team: list[Signer], tmp_path: Path
) -> None:
    from canvass.app.publishing import publish
    from canvass.errors import StoreError
    from canvass.verify import open_source, verify_bundle

    _open(store, "batches", "batch-comparison", "president", team)
    commit(store, Actor("director"), "batches")
    record_seed(store, Actor("director"), "batches", SEED)
    _, listing = draw(store, Actor("director"), "batches", 12)
    rows = list(csv.DictReader(io.StringIO(listing)))
    assert [int(r["ticket_number"]) for r in rows] == list(range(1, 13))
    assert {r["county"] for r in rows} <= {"c001", "c002", "c003"}
    with pytest.raises(StoreError, match="batch c009/x/y was not drawn"):
        tally(
            store,
            team,
            "batches",
            [{"batch": "c009/x/y", "contest": "president", "votes": {}}],
            "board-1",
        )
    first = f"{rows[0]['county']}/{rows[0]['tabulator']}/{rows[0]['batch']}"
    with pytest.raises(StoreError, match="nobody not a choice of president; choices: "):
        tally(
            store,
            team,
            "batches",
            [{"batch": first, "contest": "president", "votes": {"nobody": 1}}],
            "board-1",
        )
    tally(store, team, "batches", _tallies(store, listing), "board-1")
    [honest] = measure(store, Actor("director"), "batches")
    assert honest["discrepancies"] == {"batches_with_errors": 0}
    assert honest["draws"] == 12 and honest["p_value"] < 1

    # The same draws, where the paper of one batch moved 30 votes to the runner-up.
    _open(store, "batches-2", "batch-comparison", "president", team)
    commit(store, Actor("director"), "batches-2")
    record_seed(store, Actor("director"), "batches-2", SEED)
    _, listing2 = draw(store, Actor("director"), "batches-2", 12)
    assert listing2 == listing
    tally(store, team, "batches-2", _tallies(store, listing, shift=30), "board-1")
    [shifted] = measure(store, Actor("director"), "batches-2")
    assert shifted["discrepancies"] == {"batches_with_errors": 1}
    assert shifted["p_value"] > honest["p_value"]

    # The verifier draws the batches again and recomputes both risks from the hand counts.
    publish(store, Actor("clerk"), tmp_path / "bundle")
    report = verify_bundle(open_source(str(tmp_path / "bundle")), reingest=False)
    audits = next(c for c in report.checks if c.name == "audits")
    assert audits.ok, report.text()
    assert audits.checked == 2 * (1 + 1 + 1)

    # A risk recorded lower than the hand counts give is named.
    from canvass.log.entry import new_entry

    false = {**shifted, "p_value": 0.01, "met": True, "next_size": 0}
    with store.writing() as w:
        w.append(new_entry("audit.measured", "director", false))
    publish(store, Actor("clerk"), tmp_path / "bundle", replace=True)
    report = verify_bundle(open_source(str(tmp_path / "bundle")), reingest=False)
    [problem, *_] = next(c for c in report.checks if c.name == "audits").problems
    assert "audit batches-2 president round 1: met: recorded True, recomputed False" in problem


def test_a_vote_for_two_contest_is_audited_pair_by_pair(
    store: ElectionDirectory, team: list[Signer]
) -> None:
    """In the vote-for-2 contest both winners must beat every loser: the margin that
    counts is the second winner's over the first loser."""
    from canvass.audit.stats import km_p_value

    _open(store, "board", "comparison", "board-of-education", team)
    commit(store, Actor("director"), "board")
    record_seed(store, Actor("director"), "board", SEED)
    draw(store, Actor("director"), "board", 40)
    audit = load_audits(store).audit("board")
    sampled = drawn(store, audit)
    said = cvr_votes(store, audit, sorted(sampled))
    interpret(
        store,
        team,
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


def test_a_ballot_read_again_is_a_new_signed_reading_that_never_erases_the_first(
    store: ElectionDirectory, team: list[Signer], tmp_path: Path
) -> None:
    """A round finds a two-vote overstatement; reading that ballot again to remove it needs
    a reason and every member's signature, leaves the first reading in the log, and the
    risk is measured from the readings in force — in the directory, the report, the bundle
    and the verifier alike."""
    import json

    from canvass.app.publishing import publish
    from canvass.verify import open_source, verify_bundle

    margin, winner, loser = _margin(store)
    _open(store, "pres", "comparison", "president", team)
    commit(store, Actor("director"), "pres")
    record_seed(store, Actor("director"), "pres", SEED)
    _, listing = draw(store, Actor("director"), "pres", km_nmin(0.1, margin) + 2)
    drawn_ballots = [
        "/".join((r["county"], r["tabulator"], r["batch"], r["record"]))
        for r in csv.DictReader(io.StringIO(listing))
    ]
    ballots = sorted(set(drawn_ballots))
    said = cvr_votes(store, load_audits(store).audit("pres"), ballots)
    flipped = next(b for b in ballots if said[b].get("president") == [winner])
    readings = [
        {"ballot": b, "contest": "president",
         "votes": [loser] if b == flipped else said[b].get("president", [])}
        for b in ballots
    ]  # fmt: skip
    interpret(store, team, "pres", readings, "board-1")
    first = next(
        i
        for i, e in store.entries()
        if e.type == "audit.interpreted" and e.data["ballot"] == flipped
    )
    [before] = measure(store, Actor("director"), "pres")
    assert not before["met"] and before["discrepancies"]["o2"] == drawn_ballots.count(flipped)

    honest = [{"ballot": flipped, "contest": "president", "votes": [winner]}]
    size = store.size()
    with pytest.raises(AuditRefused) as refused:
        interpret(store, team, "pres", honest, "board-1")
    assert str(refused.value) == (
        f"audit pres: ballot {flipped}, president was read at log entry {first}; to read it "
        "again, give the reason: the earlier reading stays in the log"
    )
    with pytest.raises(AuditRefused, match="every member of audit board board-1 signs"):
        interpret(store, team[:1], "pres", honest, "board-1", "misread")
    with pytest.raises(AuditRefused, match="'board-9' is not a seated audit board"):
        interpret(store, team, "pres", honest, "board-9", "misread")
    assert store.size() == size  # nothing written

    [again] = interpret(store, team, "pres", honest, "board-1", "the oval was misread")
    entries = dict(store.entries())
    assert entries[first].data["votes"] == [loser]  # still in the log
    assert entries[again].data["supersedes"] == first
    assert entries[again].data["reason"] == "the oval was misread"
    assert [s["member"] for s in entries[again].data["signatures"]] == ["auditor-a", "auditor-b"]
    [after] = measure(store, Actor("director"), "pres")
    assert after["superseded"] == [first]
    assert after["discrepancies"]["o2"] == 0 and after["p_value"] < before["p_value"]
    text = audit_report(load_audits(store).audit("pres"))
    assert f"  {flipped} (president) read again at log entry {again} by board-1: votes " in text
    assert f"was votes {loser} (log entry {first}, by board-1); reason: the oval was misread" in (
        text
    )

    publish(store, Actor("clerk"), tmp_path / "bundle")
    published = json.loads((tmp_path / "bundle" / "audits" / "index.json").read_text())
    [read_again] = published["audits"][0]["read_again"]
    assert read_again["entry"] == first and read_again["superseded_by"] == again
    result = verify_bundle(open_source(str(tmp_path / "bundle")), reingest=False)
    checks = {c.name: c for c in result.checks}
    assert checks["audits"].ok and checks["signatures"].ok, result.text()
    notes = checks["audits"].notes
    assert any(f"its reading of log entry {first} no longer counts" in n for n in notes)
