"""Building the demo election directory: the generated definition, a witness, and a
generated Dominion export for every county, imported and counted; then the canvass: a
poll book with a few imbalances and the clerks' explanations, a board of canvassers in
every county (one deadlocks before it certifies), the state certificate and the
certificate of ascertainment. The board members' private keys are written to
``demo-keys/`` so the commands can be tried by hand; in a real election they never leave
their owners."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canvass import keys
from canvass.app.actor import Actor
from canvass.app.audits import (
    commit,
    cvr_votes,
    draw,
    drawn,
    load_audits,
    measure,
    open_audit,
    record_seed,
    seat_board,
)
from canvass.app.boards import constitute, propose_county
from canvass.app.elections import define, init, register_key
from canvass.app.imports import import_ballots
from canvass.app.publishing import record_publication
from canvass.app.reconcile import explain, import_pollbook, reconcile, tabulated
from canvass.app.results import results
from canvass.app.state import prepare_ascertainment, propose_state
from canvass.audit.stats import arlo_supersimple_sample_size, bravo_asn
from canvass.certify.canvass import STATE, Member, county_board
from canvass.demo.cvrs import county_exports
from canvass.demo.definition import demo_definition, with_registered_voters
from canvass.domain.model import KeyRole
from canvass.errors import StoreError
from canvass.log.note import Signer
from canvass.reconcile.balance import summarize
from canvass.signing import ascertain, interpret, move, vote, witness
from canvass.store.election import DATABASE_CONFIG, DB_FILE, ElectionDirectory
from canvass.tabulate.plurality import Results

CLERK = Actor("clerk")
DIRECTOR = Actor("director")
WITNESS = "lakeland-gazette"


@dataclass
class DemoRun:
    store: ElectionDirectory
    definition: dict[str, Any]
    cosigned: str
    """The latest checkpoint with the witness's cosignature."""
    results: Results | None = None
    by_county: Results | None = None
    labels: dict[str, str] | None = None
    canvass: list[str] | None = None
    """What the canvass did, a line each."""


def build_demo(
    directory: Path,
    replace: bool = False,
    counties: int = 104,
    precincts: int = 2500,
    seed: int = 2026,
    ballots_per_precinct: int = 60,
    canvass: bool = True,
    progress: Callable[[int], None] | None = None,
    database: str | None = None,
    schema: str | None = None,
) -> DemoRun:
    """Build the demo; with ``canvass``, also reconcile and certify it (see above).
    ``progress`` is told each county's export written and imported. Its log is in
    ``directory`` (SQLite), or in the PostgreSQL ``database`` under ``schema``."""
    if ballots_per_precinct < 0:
        raise StoreError(
            "--ballots-per-precinct: expected 0 (define only) or more; "
            f"found {ballots_per_precinct}"
        )
    if directory.exists():
        if not replace:
            raise StoreError(f"{directory}: already exists; pass --replace to rebuild the demo")
        if not any((directory / name).is_file() for name in (DB_FILE, DATABASE_CONFIG)):
            raise StoreError(
                f"{directory}: exists and is not an election directory; not deleting it"
            )
        ElectionDirectory.remove(directory)
    try:
        definition = with_registered_voters(
            demo_definition(counties, precincts, seed), ballots_per_precinct, seed
        )
    except ValueError as e:
        raise StoreError(str(e)) from None
    store = init(directory, CLERK, "canvass.invalid/lakeland-2026-general", database, schema)
    define(store, CLERK, json.dumps(definition, indent=1).encode(), "lakeland-2026-general.json")
    witness_file = directory / "demo-keys" / f"{WITNESS}.key"
    witness_file.parent.mkdir(mode=0o700)
    witness_key = keys.new_signer(WITNESS)
    keys.write_key(witness_key, witness_file)
    register_key(store, CLERK, witness_key.verifier(), KeyRole.WITNESS)
    run = DemoRun(store, definition, "")
    if ballots_per_precinct > 0:
        for county, files in county_exports(definition, ballots_per_precinct, seed):
            folder = directory / "demo-cvrs" / county
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)
            import_ballots(store, CLERK, county, "dominion", [folder])
            if progress is not None:
                progress(1)
        run.results, run.labels = results(store)
        run.by_county, _ = results(store, "county")
        if canvass:
            run.canvass = canvass_demo(store, definition, directory, seed)
        # The publication is an entry of the log: the witness cosigns the checkpoint that
        # holds it, so the bundle published from here carries that cosignature.
        record_publication(store, CLERK)
    run.cosigned = witness(store, witness_key, int(time.time()))
    return run


def _member(store: ElectionDirectory, folder: Path, name: str, role: KeyRole) -> Signer:
    signer = keys.new_signer(name)
    keys.write_key(signer, folder / f"{name}.key")
    register_key(store, CLERK, signer.verifier(), role)
    return signer


def canvass_demo(
    store: ElectionDirectory, definition: dict[str, Any], directory: Path, seed: int
) -> list[str]:
    """Reconcile, certify every county and the state, and issue the certificate of
    ascertainment; returns what happened, a line each."""
    rng = random.Random(seed)
    said: list[str] = []
    counts = tabulated(store)
    units = sorted(counts)
    in_person = [u for u in units if u[2] != "absentee"]
    if len(in_person) < 5:
        raise StoreError(
            "the demo's canvass: expected at least 5 precinct and vote-type units voted in "
            f"person, to show what reconciling finds; found {len(in_person)} (give more "
            "--precincts or --ballots-per-precinct)"
        )
    odd = rng.sample(in_person, 5)
    lines = [
        "county,precinct,vote_type,checkins,absentee_received,absentee_accepted,"
        "absentee_rejected,provisional_issued,provisional_accepted,ballots_issued,"
        "ballots_spoiled,ballots_unused"
    ]
    for key in units:
        county, precinct, vote_type = key
        ballots = counts[key]
        voters = ballots + (1 if key in odd[:3] else -1 if key == odd[4] else 0)
        spoiled, unused = rng.randint(0, 3), rng.randint(5, 40)
        issued = ballots + spoiled + unused + (1 if key == odd[3] else 0)
        rejected = rng.randint(0, 2)
        if vote_type == "absentee":
            row = [voters + rejected, voters, rejected, 0, 0, 0, 0, 0]
            lines.append(",".join([county, precinct, vote_type, "0", *map(str, row)]))
        else:
            row = [voters, 0, 0, 0, 1, 1, issued, spoiled, unused]
            lines.append(",".join([county, precinct, vote_type, *map(str, row)]))
    book = directory / "demo-pollbook.csv"
    book.write_text("\n".join(lines) + "\n")
    import_pollbook(store, CLERK, book)
    reasons = [
        ("left-without-voting", "a voter checked in and left before voting"),
        ("left-without-voting", "a voter checked in twice at the e-poll book"),
        ("poll-book-error", "a voter was checked in on the wrong line"),
        ("spoiled-not-recorded", "a spoiled ballot was put in the unused stock"),
    ]
    for (county, precinct, vote_type), (reason, text) in zip(odd[:4], reasons, strict=True):
        explain(store, CLERK, county, precinct, vote_type, reason, text)
    summary = summarize(reconcile(store))
    said.append(
        f"Reconciled {summary.units:,} precinct and vote-type units: {summary.out_of_balance} "
        f"out of balance ({summary.ballots_in_question} ballots in question), "
        f"{summary.unexplained} unexplained (canvass reconcile report {directory})"
    )
    folder = directory / "demo-keys"
    said += audit_demo(store, seed, folder)
    counties = [j["id"] for j in definition["jurisdictions"] if j["kind"] == "county"]
    boards: dict[str, list[Signer]] = {}
    for board in [*(county_board(c) for c in counties), STATE]:
        prefix = board.replace("county:", "")
        seated: list[tuple[Signer, str]] = []
        for party in ("dem", "dem", "rep", "rep"):
            n = 1 + sum(1 for m in seated if m[1] == party)
            signer = _member(store, folder, f"{prefix}-{party}{n}", KeyRole.BOARD_MEMBER)
            seated.append((signer, party))
        constitute(
            store,
            CLERK,
            board,
            "michigan",
            [Member(sg.name, sg.name, party.upper()) for sg, party in seated],
        )
        boards[board] = [sg for sg, _ in seated]
    for n, county in enumerate(counties):
        board = county_board(county)
        d1, d2, r1, r2 = boards[board]
        cert = propose_county(store, CLERK, county)
        if n == 0:  # a 2-2 deadlock first, then a unanimous certification
            motion = move(store, d1, board, "certify", cert, "Move to certify the canvass")
            for member, choice in ((d1, "yes"), (r1, "no"), (d2, "yes"), (r2, "no")):
                vote(store, member, motion, choice)
            said.append(f"{county}: the board deadlocked 2-2 on motion {motion}")
        motion = move(store, r1, board, "certify", cert, "Move to certify the canvass")
        for member in (r1, d1, d2, r2):
            vote(store, member, motion, "yes")
    said.append(f"{len(counties)} county boards certified (canvass board status {directory})")
    cert = propose_state(store, CLERK)
    members = boards[STATE]
    motion = move(store, members[0], STATE, "certify", cert, "Move to certify the state canvass")
    for member in members:
        vote(store, member, motion, "yes")
    said.append(f"The state board certified: certificate {cert[:16]}…")
    official = _member(store, folder, "secretary-of-state", KeyRole.STATE_OFFICIAL)
    president = next(c for c in definition["contests"] if c["id"] == "president")
    electors = {
        candidate: [f"{candidate} elector {k}" for k in range(1, 8)]
        for candidate in president["candidates"]
    }
    doc = prepare_ascertainment(store, "president", electors, official.name)
    ascertain(store, official, doc)
    votes = doc["votes"]
    winner = max(votes, key=lambda c: votes[c])
    said.append(
        f"Certificate of ascertainment signed by {official.name}: {winner}'s "
        f"{len(doc['appointed'])} electors appointed ({votes[winner]:,} votes)"
    )
    return said


def audit_demo(store: ElectionDirectory, seed: int, folder: Path) -> list[str]:
    """A ballot-comparison audit of the presidential contest (the audit board finds two
    discrepancies, so a second round is drawn) and a ballot-polling audit of Proposal 1,
    each committed before its seed and run to its risk limit. Each round's audit board is
    two people with their own keys, who both sign every reading."""
    said = []
    teams = [
        [_member(store, folder, f"audit-{n}{side}", KeyRole.AUDIT_BOARD) for side in "ab"]
        for n in (1, 2, 3)
    ]
    counted, _ = results(store)
    totals = {t.contest: t for t in counted.contests}
    rng = random.Random(seed)
    for name, method, contest in (
        ("president-comparison", "comparison", "president"),
        ("proposal-1-polling", "polling", "proposal-1"),
    ):
        open_audit(store, DIRECTOR, name, method, 10, [contest])
        for n, team in enumerate(teams, start=1):
            seat_board(store, DIRECTOR, name, f"audit-board-{n}", [m.name for m in team])
        commit(store, DIRECTOR, name)
        dice = "".join(str(rng.randint(0, 9)) for _ in range(20))
        record_seed(store, DIRECTOR, name, dice)
        t = totals[contest]
        top = sorted(t.votes.values(), reverse=True)
        ballots = counted.cards
        if method == "comparison":
            size = arlo_supersimple_sample_size(10, (top[0] - top[1]) / ballots, ballots)
        else:
            size = bravo_asn(0.1, top[0] / ballots, top[1] / ballots) * 3 // 2
        for round_number in (1, 2, 3):
            draw(store, DIRECTOR, name, size)
            audit = load_audits(store).audit(name)
            sampled = sorted(drawn(store, audit))
            said_votes = cvr_votes(store, audit, sampled)
            readings: list[dict[str, Any]] = []
            for ballot in sampled:
                if (ballot, contest) in audit.interpretations:
                    continue
                votes = said_votes[ballot].get(contest, [])
                if method == "comparison" and round_number == 1 and len(readings) in (3, 17):
                    votes = []  # the paper shows no vote where the scanner counted one
                readings.append({"ballot": ballot, "contest": contest, "votes": votes})
            board, team = f"audit-board-{round_number}", teams[round_number - 1]
            interpret(store, team, name, readings, board)
            [result] = measure(store, DIRECTOR, name)
            if result["met"] or result["next_size"] >= ballots:
                break
            size = result["next_size"]
        outcome = "risk limit met" if result["met"] else "a full hand count is due"
        found = sum(result.get("discrepancies", {}).values())
        said.append(
            f"Audit {name}: {result['draws']} ballots drawn in {round_number} round(s), "
            f"{found} {'discrepancy' if found == 1 else 'discrepancies'}, "
            f"risk {result['p_value']:.4f}: {outcome}"
        )
    return said
