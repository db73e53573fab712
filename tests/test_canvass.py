"""The canvass, scenario by scenario: boards that deadlock and certify, a rescind that
changes nothing, a missed deadline, a close contest recounted, a certificate of
ascertainment refused, and certified totals that cannot change unseen."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from canvass.app.actor import Actor
from canvass.app.boards import (
    constitute,
    escalate,
    propose_county,
    read_document,
    verify_canvass,
)
from canvass.app.elections import define, register_key
from canvass.app.folds import canvass as load
from canvass.app.imports import import_ballots
from canvass.app.state import (
    ascertainment_to_sign,
    county_certificate_for_state_board,
    issue_ascertainment,
    order_recount,
    prepare_ascertainment,
    propose_state,
)
from canvass.certify.canvass import STATE, CanvassRefused, Member, county_board
from canvass.certify.statements import sign
from canvass.demo.build import build_demo
from canvass.domain.model import KeyRole
from canvass.errors import SignatureError, StoreError
from canvass.keys import new_signer
from canvass.log.entry import now
from canvass.log.note import Signer
from canvass.signing import move, vote
from canvass.store.election import ElectionDirectory
from tests.postgres import behind_the_log


@dataclass
class Election:
    store: ElectionDirectory
    path: Path
    counties: list[str]
    people: dict[str, Signer] = field(default_factory=dict)

    def members(self, board: str) -> list[Signer]:
        return [self.people[m.key] for m in load(self.store).boards[board].members]


def _register(e: Election, name: str, role: KeyRole) -> Signer:
    signer = new_signer(name)
    register_key(e.store, Actor("clerk"), signer.verifier(), role)
    e.people[name] = signer
    return signer


@pytest.fixture
def michigan(tmp_path: Path) -> Iterator[Election]:
    run = build_demo(tmp_path / "lakeland", False, 3, 12, 2026, 10, canvass=False)
    counties = [j["id"] for j in run.definition["jurisdictions"] if j["kind"] == "county"]
    e = Election(run.store, tmp_path / "lakeland", counties)
    for board in [county_board(c) for c in counties] + [STATE]:
        seats = []
        for party, n in (("DEM", 1), ("DEM", 2), ("REP", 1), ("REP", 2)):
            name = f"{board.replace(':', '-')}-{party.lower()}{n}"
            role = KeyRole.STATE_OFFICIAL if board == STATE else KeyRole.BOARD_MEMBER
            _register(e, name, role)
            seats.append(Member(name, name, party))
        constitute(e.store, Actor("clerk"), board, "michigan", seats)
    _register(e, "secretary-of-state", KeyRole.STATE_OFFICIAL)
    yield e
    e.store.close()


def _certify(e: Election, county: str, board: str | None = None) -> str:
    board = board or county_board(county)
    cert = propose_county(e.store, Actor("clerk"), county, board=board)
    first, *others = e.members(board)
    motion = move(e.store, first, board, "certify", cert, "I move that we certify")
    for member in (first, *others):
        vote(e.store, member, motion, "yes")
    return cert


def _types(store: ElectionDirectory, start: int) -> list[str]:
    return [entry.type for _, entry in store.entries(start)]


# --- (a) a deadlock, then certification; a rescind changes nothing -----------------------


def test_a_deadlocked_board_then_certifies_and_a_rescind_changes_nothing(
    michigan: Election,
) -> None:
    e, county = michigan, michigan.counties[0]
    board = county_board(county)
    d1, d2, r1, r2 = e.members(board)
    cert = propose_county(e.store, Actor("clerk"), county)
    motion = move(e.store, d1, board, "certify", cert, "Move to certify the canvass")
    for member, choice in ((d1, "yes"), (d2, "yes"), (r1, "no")):
        vote(e.store, member, motion, choice)
    start = e.store.size()
    vote(e.store, r2, motion, "no")
    assert _types(e.store, start) == ["board.vote", "board.decided"]
    decided = dict(e.store.entries(start + 1))[start + 1].data
    assert decided == {
        "motion": motion,
        "outcome": "failed",
        "yes": 2,
        "no": 2,
        "abstain": 0,
        "needed": 3,
    }
    assert load(e.store).certificate_of(county) is None

    again = move(e.store, r1, board, "certify", cert, "Move again to certify")
    for member in (d1, d2, r1):
        vote(e.store, member, again, "yes")
    state = load(e.store)
    issued = state.certificate_of(county)
    assert issued is not None and issued.sha256 == cert and issued.motion == again
    assert len(issued.signatures) == 3  # issued the moment the third yes vote came in
    start = e.store.size()
    vote(e.store, r2, again, "no")  # the roll call ends; the outcome stands
    assert _types(e.store, start) == ["board.vote"]
    assert load(e.store).motions[again].outcome == "passed"

    rescind = move(e.store, r1, board, "rescind", cert, "Move to rescind our certification")
    for member in (r1, r2, d1):
        vote(e.store, member, rescind, "yes")
    state = load(e.store)
    assert state.motions[rescind].outcome == "passed"
    assert state.certificate_of(county).sha256 == cert  # the certificate stands
    assert state.frozen(county) is not None


def test_only_a_seated_member_votes_once_with_their_own_key(michigan: Election) -> None:
    e, county = michigan, michigan.counties[0]
    board = county_board(county)
    d1, d2, *_ = e.members(board)
    cert = propose_county(e.store, Actor("clerk"), county)
    motion = move(e.store, d1, board, "certify", cert, "Move to certify")
    outsider = e.members(county_board(e.counties[1]))[0]
    with pytest.raises(
        CanvassRefused,
        match=f"{outsider.name} did not sit on board {board} when motion {motion} was made",
    ):
        vote(e.store, outsider, motion, "yes")
    vote(e.store, d2, motion, "yes")
    with pytest.raises(CanvassRefused, match=f"{d2.name} has already voted"):
        vote(e.store, d2, motion, "no")
    forged = Signer(d1.name, new_signer("someone").private_key)  # d1's name, another key
    with pytest.raises(SignatureError, match=f"the signature is not {d1.name}'s"):
        vote(e.store, forged, motion, "yes")
    seated = [
        Member(m.name, m.name, p)
        for m, p in zip(e.members(board), ["DEM", "DEM", "REP", "REP"], strict=True)
    ]
    with pytest.raises(CanvassRefused, match="seats 4 members; 3 named"):
        constitute(e.store, Actor("clerk"), board, "michigan", seated[:3])
    with pytest.raises(CanvassRefused, match="seats 2 members of each party; found DEM 3, REP 1"):
        constitute(
            e.store,
            Actor("clerk"),
            board,
            "michigan",
            [*seated[:2], Member(seated[2].key, "x", "DEM"), seated[3]],
        )
    with pytest.raises(CanvassRefused, match="a member is listed twice"):
        constitute(e.store, Actor("clerk"), board, "michigan", [seated[0], *seated[:3]])


# --- (b) a missed deadline: the state board certifies the county --------------------------


def test_a_county_that_misses_its_deadline_is_certified_by_the_state(michigan: Election) -> None:
    e, county = michigan, michigan.counties[1]
    deadline_day = "2026-11-17"  # 14 days after the 2026-11-03 election
    with pytest.raises(CanvassRefused, match=f"has until {deadline_day}T23:59:59"):
        escalate(e.store, Actor("clerk"), county, time=f"{deadline_day}T12:00:00.000000Z")
    index = escalate(e.store, Actor("clerk"), county, time=now())
    entry = dict(e.store.entries(index, index + 1))[index]
    assert entry.data["to"] == "Board of State Canvassers"
    cert = propose_county(e.store, Actor("clerk"), county)
    with pytest.raises(CanvassRefused, match=r"passed to the state .* its board cannot certify"):
        move(e.store, e.members(county_board(county))[0], county_board(county), "certify", cert)
    state_cert = county_certificate_for_state_board(e.store, Actor("clerk"), county)
    members = e.members(STATE)
    motion = move(e.store, members[0], STATE, "certify", state_cert, f"Certify {county}")
    for m in members[:3]:
        vote(e.store, m, motion, "yes")
    issued = load(e.store).certificate_of(county)
    assert issued is not None and issued.board == STATE and issued.sha256 == state_cert


# --- (c) a close contest, a recount, superseding certificates -----------------------------


def _tamper_one_vote(export: Path) -> None:
    """A hand count finds one presidential vote read for the wrong candidate."""
    path = export / "CvrExport.json"
    doc = json.loads(path.read_text())
    contests = json.loads((export / "ContestManifest.json").read_text())["List"]
    president = next(c["Id"] for c in contests if c["Description"].startswith("PRESIDENT"))
    candidates = json.loads((export / "CandidateManifest.json").read_text())["List"]
    ids = [c["Id"] for c in candidates if c["ContestId"] == president][:2]
    for session in doc["Sessions"]:
        for card in session["Original"].get("Cards", [session["Original"]]):
            for contest in card["Contests"]:
                if contest["Id"] == president and [m["CandidateId"] for m in contest["Marks"]] == [
                    ids[0]
                ]:
                    contest["Marks"][0]["CandidateId"] = ids[1]
                    path.write_text(json.dumps(doc))
                    return
    raise AssertionError("no ballot to change")


def test_a_close_contest_is_recounted_and_certificates_are_superseded(
    michigan: Election, tmp_path: Path
) -> None:
    e = michigan
    for county in e.counties:
        _certify(e, county)
    first_state = propose_state(e.store, Actor("clerk"))
    doc = read_document(e.store, first_state)
    assert "president" in doc["within_recount_margin"]  # Michigan: within 2,000 votes
    members = e.members(STATE)
    motion = move(e.store, members[0], STATE, "certify", first_state, "Certify the state")
    for m in members[:3]:
        vote(e.store, m, motion, "yes")
    assert load(e.store).certificate_of(STATE).sha256 == first_state

    reason = "statewide margin within 2,000 votes (MCL 168.880a)"
    order_recount(e.store, Actor("director"), "president", reason)
    county = e.counties[0]
    export = tmp_path / "recount" / county
    shutil.copytree(e.path / "demo-cvrs" / county, export)
    _tamper_one_vote(export)
    import_ballots(e.store, Actor("clerk"), county, "dominion", [export], replace=True)
    superseding = {c: _certify(e, c) for c in e.counties}
    changed = read_document(e.store, superseding[county])
    assert changed["status"] == "recount"
    old_county = load(e.store).certificates[changed["supersedes"]]
    assert old_county.superseded_by == superseding[county]
    before = read_document(e.store, changed["supersedes"])["results"]["president"]["votes"]
    after = changed["results"]["president"]["votes"]
    assert sum(before.values()) == sum(after.values()) and before != after

    second_state = propose_state(e.store, Actor("clerk"), reason)
    motion = move(e.store, members[0], STATE, "certify", second_state, "Certify the recount")
    for m in members[:3]:
        vote(e.store, m, motion, "yes")
    state = load(e.store)
    new = read_document(e.store, second_state)
    assert (new["status"], new["supersedes"], new["reason"]) == ("recount", first_state, reason)
    assert state.certificate_of(STATE).sha256 == second_state
    assert state.certificates[first_state].superseded_by == second_state
    assert verify_canvass(e.store) == []


# --- (d) the certificate of ascertainment -----------------------------------------------


def _certified_state(e: Election) -> None:
    for county in e.counties:
        _certify(e, county)
    cert = propose_state(e.store, Actor("clerk"))
    members = e.members(STATE)
    motion = move(e.store, members[0], STATE, "certify", cert, "Certify the state")
    for m in members[:3]:
        vote(e.store, m, motion, "yes")


def _electors(e: Election) -> dict[str, list[str]]:
    doc = read_document(e.store, load(e.store).certificate_of(STATE).sha256)
    return {
        c: [f"{c} elector {n}" for n in range(1, 16)]
        for c in doc["results"]["president"]["votes"]
        if c != "write-in"
    }


def test_a_certificate_of_ascertainment_is_issued_and_checked(michigan: Election) -> None:
    e = michigan
    _certified_state(e)
    official = e.people["secretary-of-state"]
    doc = prepare_ascertainment(e.store, "president", _electors(e), official.name)
    winner = max(doc["votes"], key=lambda c: doc["votes"][c])
    assert doc["appointed"] == doc["electors"][winner]
    issue_ascertainment(
        e.store, Actor(official.name), doc, sign(official, ascertainment_to_sign(e.store, doc))
    )
    assert verify_canvass(e.store) == []


def test_an_ascertainment_by_an_unregistered_key_is_refused(michigan: Election) -> None:
    e = michigan
    _certified_state(e)
    impostor = new_signer("impostor")
    doc = prepare_ascertainment(e.store, "president", _electors(e), impostor.name)
    signature = sign(impostor, ascertainment_to_sign(e.store, doc))
    size = e.store.size()
    with pytest.raises(CanvassRefused, match="'impostor' is not a registered key"):
        issue_ascertainment(e.store, Actor(impostor.name), doc, signature)
    member = e.members(county_board(e.counties[0]))[0]
    with pytest.raises(CanvassRefused, match="registered as board-member"):
        issue_ascertainment(
            e.store, Actor(member.name), doc, sign(member, ascertainment_to_sign(e.store, doc))
        )
    assert e.store.size() == size


def test_an_ascertainment_whose_totals_differ_is_refused(michigan: Election) -> None:
    e = michigan
    _certified_state(e)
    official = e.people["secretary-of-state"]
    doc = prepare_ascertainment(e.store, "president", _electors(e), official.name)
    loser = min(doc["votes"], key=lambda c: doc["votes"][c])
    certified = doc["votes"][loser]
    doc["votes"] = {**doc["votes"], loser: certified + 11_780}
    with pytest.raises(CanvassRefused) as refused:
        issue_ascertainment(
            e.store, Actor(official.name), doc, sign(official, ascertainment_to_sign(e.store, doc))
        )
    assert (
        f"president {loser}: certified {certified}, on this certificate {certified + 11_780}"
        in str(refused.value)
    )


# --- (e) a certified total cannot change unseen -------------------------------------------


def test_certified_totals_cannot_change_by_any_path(michigan: Election) -> None:
    e, county = michigan, michigan.counties[0]
    cert = _certify(e, county)
    with pytest.raises(StoreError, match=f"{county}'s results are certified"):
        import_ballots(
            e.store,
            Actor("clerk"),
            county,
            "dominion",
            [e.path / "demo-cvrs" / county],
            replace=True,
        )
    definition = e.path / "demo-election.json"
    body = dict(e.store.entries(1, 2))[1]  # the definition entry
    source = e.store.artifacts.get(body.artifacts[0].sha256)
    definition.write_bytes(source.replace(b"Lakeland General Election", b"Lakeland Election"))
    with pytest.raises(StoreError, match="results are certified"):
        define(e.store, Actor("clerk"), definition.read_bytes(), definition.name)
    assert e.store.verify() == [] and verify_canvass(e.store) == []

    # A swapped certificate document is found.
    path = e.store.artifacts.path(cert)
    original = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(original.replace(b'"ballots":', b'"ballots": ', 1))
    assert any(cert in p and "damaged" in p for p in e.store.verify())
    path.write_bytes(original)

    # A row changed behind the log is found, naming the change.
    behind_the_log(
        e.path, "UPDATE ballot_import SET replaced_by = 0 WHERE county = :county", county=county
    )
    problems = e.store.verify()
    assert any("ballot_import" in p and "replaced_by" in p for p in problems), problems


# --- the command line -------------------------------------------------------------------------


def test_the_canvass_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()

    def run(*args: object, code: int = 0) -> str:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, result.output
        return result.output

    path = tmp_path / "e"
    build_demo(path, False, 2, 8, 2026, 10, canvass=False)
    keys = tmp_path / "keys"
    keys.mkdir()
    members = []
    for name, party in (("ann", "DEM"), ("bo", "DEM"), ("cy", "REP"), ("di", "REP")):
        run("keys", "new", "--name", name, "--out", keys / f"{name}.key")
        run("keys", "register", path, keys / f"{name}.key.pub", "--role", "board-member")
        members += ["--member", f"{name}:{name.title()}:{party}"]
    run("board", "constitute", path, "--board", "county:c001", "--profile", "michigan", *members)
    cert = run("certify", "propose", path, "--county", "c001").strip()
    moved = run(
        "board",
        "move",
        path,
        "--board",
        "county:c001",
        "--kind",
        "certify",
        "--certificate",
        cert,
        "--text",
        "Move to certify",
        "--key",
        keys / "ann.key",
    )
    motion = int(moved.split()[1])
    for name in ("ann", "bo"):
        run(
            "board",
            "vote",
            path,
            "--motion",
            motion,
            "--vote",
            "yes",
            "--key",
            keys / f"{name}.key",
        )
    passed = run(
        "board", "vote", path, "--motion", motion, "--vote", "yes", "--key", keys / "cy.key"
    )
    assert "3 yes, 0 no, 0 abstain; passed" in passed
    # No poll book was imported: every unit is out of balance and unexplained, and the
    # certificate, what each member was shown and the vote they signed all say so.
    shown = run("certify", "show", path, cert[:10])
    units = int(shown.split("Reconciliation: ")[1].split(" units")[0])
    assert units > 0
    assert f"Reconciliation: {units} units, {units} out of balance, {units} unexplained\n" in shown
    assert shown.count(" — unexplained — not recountable\n") == units
    assert "Standing: in force: issued at log entry " in shown
    assert passed.endswith(
        f"The vote records that the certificate puts {units} unexplained imbalance(s) before "
        "the board (canvass certify show)\n"
    )
    assert f"certified: {cert[:12]} (certified)" in run("board", "status", path)
    refused = run(
        "import", path, path / "demo-cvrs" / "c001", "--county", "c001", "--replace", code=1
    )
    assert refused.startswith("error: c001's results are certified")
    assert run("log", "verify", path).startswith("OK")
    assert "c001" in run("reconcile", "report", path)  # no poll book: every unit out of balance
    wrong = run(
        "board",
        "vote",
        path,
        "--motion",
        motion,
        "--vote",
        "maybe",
        "--key",
        keys / "di.key",
        code=1,
    )
    assert "a vote is one of yes, no, abstain; found 'maybe'" in wrong


def test_a_correction_supersedes_in_the_open(michigan: Election, tmp_path: Path) -> None:
    from canvass.app.boards import meeting, open_correction

    e, county = michigan, michigan.counties[1]
    board = county_board(county)
    present = [m.name for m in e.members(board)]
    meeting(e.store, Actor("clerk"), board, "opened", present, "County building, room 2")
    first = _certify(e, county)
    meeting(e.store, Actor("clerk"), board, "adjourned", [])
    with pytest.raises(CanvassRefused, match="is certified"):
        propose_county(e.store, Actor("clerk"), county)
    reason = "a batch of 10 ballots from precinct 2 was scanned twice"
    open_correction(e.store, Actor("clerk"), county, reason)
    export = tmp_path / "corrected"
    shutil.copytree(e.path / "demo-cvrs" / county, export)
    _tamper_one_vote(export)
    import_ballots(e.store, Actor("clerk"), county, "dominion", [export], replace=True)
    second = propose_county(e.store, Actor("clerk"), county, reason=reason)
    doc = read_document(e.store, second)
    assert (doc["status"], doc["supersedes"], doc["reason"]) == ("correction", first, reason)
    members = e.members(board)
    motion = move(e.store, members[0], board, "certify", second, "Certify the corrected canvass")
    for m in members[:3]:
        vote(e.store, m, motion, "yes")
    state = load(e.store)
    assert state.certificate_of(county).sha256 == second
    assert state.certificates[first].superseded_by == second and state.frozen(county) is not None
    assert [a for _, _, a, _, _ in state.meetings[board]] == ["opened", "adjourned"]
    with pytest.raises(CanvassRefused, match="do not sit on board"):
        meeting(e.store, Actor("clerk"), board, "opened", ["nobody"])


def test_recount_margins_by_profile() -> None:
    from canvass.certify.profiles import profile

    georgia, michigan = profile("georgia"), profile("michigan")
    # Georgia 2020 as originally certified: Biden 2,474,507, Trump 2,461,837; a margin of
    # 12,670 is 0.26% of their two totals alone.
    assert georgia.within_recount_margin(2_474_507 - 2_461_837, 2_474_507 + 2_461_837)
    assert not georgia.within_recount_margin(30_000, 4_936_344)  # 0.61%
    assert georgia.within_recount_margin(5, 1_000) and not georgia.within_recount_margin(6, 1_000)
    # Michigan: 2,000 votes or fewer, whatever the turnout (MCL 168.880a).
    assert michigan.within_recount_margin(2_000, 5_500_000)
    assert not michigan.within_recount_margin(2_001, 100_000)
    assert georgia.county_board.needed(5) == 3 and michigan.county_board.needed(4) == 3
    with pytest.raises(Exception, match="no state profile 'ohio'"):
        profile("ohio")


# --- board membership has a history -------------------------------------------------------


def test_a_certified_board_cannot_be_reseated_unless_a_correction_is_open(
    michigan: Election,
) -> None:
    from canvass.app.boards import open_correction

    e, county = michigan, michigan.counties[0]
    board = county_board(county)
    d1, d2, r1, r2 = e.members(board)
    cert = _certify(e, county)
    issued = load(e.store).certificates[cert]
    certifying = issued.motion
    stranger = _register(e, "county-c001-dem3", KeyRole.BOARD_MEMBER)
    seats = [
        Member(m.name, m.name, p)
        for m, p in ((stranger, "DEM"), (d2, "DEM"), (r1, "REP"), (r2, "REP"))
    ]
    size = e.store.size()
    with pytest.raises(CanvassRefused) as refused:
        constitute(e.store, Actor("clerk"), board, "michigan", seats, reason="a member resigned")
    assert str(refused.value) == (
        f"board {board} certified {county} (certificate {cert[:12]}, log entry {issued.issued}); "
        "its members cannot change while that certificate is in force unless a correction is "
        "open (canvass certify correct)"
    )
    assert e.store.size() == size

    open_correction(e.store, Actor("clerk"), county, "a batch was scanned twice")
    with pytest.raises(CanvassRefused, match=f"board {board} is seated .*needs a reason"):
        constitute(e.store, Actor("clerk"), board, "michigan", seats)
    # A motion open when the board is seated again lapses.
    pending = move(e.store, d1, board, "recess", "", "Move to recess")
    seated = constitute(e.store, Actor("clerk"), board, "michigan", seats, reason="Ann resigned")
    state = load(e.store)
    assert [s.entry for s in state.boards[board].seatings][-1] == seated
    assert state.motions[pending].lapsed == seated
    with pytest.raises(CanvassRefused, match=f"motion {pending} lapsed when board {board} was"):
        vote(e.store, r1, pending, "yes")
    # The certifying motion stays judged under the members of its time.
    motion = state.motions[certifying]
    assert motion.outcome == "passed" and d1.name in {m.key for m in motion.seating.members}
    with pytest.raises(CanvassRefused, match="did not sit on board"):
        vote(e.store, stranger, certifying, "yes")
    from canvass.app.boards import status
    from canvass.cli.canvass import _status_text

    text = _status_text(status(e.store))
    assert f"  seated at log entry {state.boards[board].seatings[0].entry}: {d1.name}, " in text
    assert f"seated again at log entry {seated}: Ann resigned" in text
    assert f"motion {pending}: recess by {d1.name}: lapsed at log entry {seated}" in text
    assert f"; the members seated at log entry {state.boards[board].seatings[0].entry})" in text


# --- a state certificate that stops being true says so ------------------------------------


def test_a_county_correction_supersedes_the_state_certificate_resting_on_it(
    michigan: Election, tmp_path: Path
) -> None:
    """Certify every county and the state; open a correction in one county, re-import it
    with fewer cards, certify the county again: the state certificate that rests on the
    superseded county certificate is no longer in force, wherever it is shown. (The tamper
    drill does the same with 30 fewer cards, and presents it in force in a bundle.)"""
    from typer.testing import CliRunner

    from canvass.app.boards import open_correction, status
    from canvass.app.publishing import record_publication
    from canvass.cli import app
    from canvass.cli.canvass import _status_text
    from canvass.demo.rewriting import corrected_export

    e = michigan
    _certified_state(e)
    state_cert = load(e.store).certificate_of(STATE)
    assert state_cert is not None and state_cert.standing == "in force"
    county = e.counties[0]
    open_correction(e.store, Actor("clerk"), county, "3 cards of another county")
    corrected_export(e.store, county, tmp_path / "corrected", 3)
    import_ballots(
        e.store, Actor("clerk"), county, "dominion", [tmp_path / "corrected"], replace=True
    )
    county_cert = _certify(e, county)
    state = load(e.store)
    old = state.certificates[state_cert.sha256]
    assert old.standing == "superseded-by-county-change" and old.superseded_by is None
    assert old.county_change == {
        "county": county,
        "certificate": county_cert,
        "entry": state.certificates[county_cert].issued,
    }
    assert state.in_force(STATE) is None
    text = _status_text(status(e.store))
    assert (
        f"  superseded by a county change: {county} certified again at log entry "
        f"{old.county_change['entry']} (certificate {county_cert[:12]}); no longer in force "
        "until the state board certifies again"
    ) in text
    verified = CliRunner().invoke(app, ["certify", "verify", str(e.path)])
    assert verified.exit_code == 0
    assert f"state certificate {old.sha256[:12]}: NO LONGER IN FORCE: {county} certified" in (
        verified.output
    )
    published = record_publication(e.store, Actor("clerk")).content
    nist = json.loads(published["results/nist-1500-100.json"])
    assert nist["Status"] == "correction"  # no state certificate in force: it is reopened
    index = json.loads(published["certificates/index.json"])
    [shown] = [c for c in index["certificates"] if c["sha256"] == old.sha256]
    assert shown["standing"] == "superseded-by-county-change"
    assert (
        f"NO LONGER IN FORCE: {county} certified again"
        in published[f"certificates/{old.sha256}.txt"].decode()
    )
    with pytest.raises(CanvassRefused, match="the state has not certified its results"):
        prepare_ascertainment(e.store, "president", _electors(e), "secretary-of-state")

    # The state board certifies again: the new one is in force, the old one superseded.
    again = propose_state(e.store, Actor("clerk"), "a county corrected its count")
    members = e.members(STATE)
    motion = move(e.store, members[0], STATE, "certify", again, "Certify again")
    for m in members[:3]:
        vote(e.store, m, motion, "yes")
    state = load(e.store)
    assert state.certificates[again].standing == "in force"
    assert state.certificates[old.sha256].standing == "superseded"
    assert read_document(e.store, again)["counties"][county] == county_cert


def test_a_motion_to_certify_names_its_certificate_or_takes_the_one_proposed(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from canvass.cli import app

    runner = CliRunner()

    def run(*args: object, code: int = 0) -> str:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, result.output
        return result.stdout if code == 0 else result.stderr

    path = tmp_path / "e"
    build_demo(path, False, 2, 8, 2026, 10, canvass=False)
    run("keys", "new", "--name", "ann", "--out", tmp_path / "ann.key")
    run("keys", "register", path, tmp_path / "ann.key.pub", "--role", "board-member")
    run(
        "board", "constitute", path, "--board", "county:c001", "--profile", "generic",
        "--member", "ann:Ann:",
    )  # fmt: skip
    move = ("board", "move", path, "--board", "county:c001", "--kind", "certify")
    key = ("--key", tmp_path / "ann.key")
    assert run(*move, *key, code=1) == (
        "error: --kind certify: board county:c001 has no proposed certificate awaiting a "
        "motion; give --certificate SHA (canvass certify propose, canvass board status)\n"
    )
    cert = run("certify", "propose", path, "--county", "c001").strip()
    assert run(*move, *key, "--certificate", cert[:5], code=1) == (
        f"error: --certificate {cert[:5]}: too short; give 6 or more hex digits of the "
        "SHA-256 of one proposed on that board (canvass board status)\n"
    )
    other = "0" * 8 if not cert.startswith("0" * 8) else "f" * 8
    assert run(*move, *key, "--certificate", other, code=1) == (
        f"error: --certificate {other}: no certificate proposed on board county:c001 begins "
        "with it; give 6 or more hex digits of the SHA-256 of one proposed on that board "
        "(canvass board status)\n"
    )
    motion = run(*move, *key).split()[1]  # the one proposed and not yet moved
    assert f"motion {motion}: certify certificate {cert[:12]} by ann: open" in run(
        "board", "status", path
    )
    assert run(*move, *key, code=1).startswith(
        "error: --kind certify: board county:c001 has no proposed certificate awaiting"
    )
