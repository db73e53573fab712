"""Commands of the canvass: reconciliation, boards of canvassers, certificates, the state."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml

from canvass import keys
from canvass.certify.canvass import Member
from canvass.cli.common import ActorOpt, DirArg, KeyOpt, PassOpt, _Typer, out
from canvass.errors import StoreError
from canvass.reconcile.balance import REASONS, georgia_report, michigan_report
from canvass.reconcile.published import georgia_precincts, michigan_counties
from canvass.store.ballots import (
    definition,
)
from canvass.store.canvass import (
    constitute,
    county_certificate_for_state_board,
    escalate,
    issue_ascertainment,
    meeting,
    move,
    open_correction,
    order_recount,
    prepare_ascertainment,
    propose_county,
    propose_state,
    sign_ascertainment,
    verify_canvass,
    vote,
)
from canvass.store.canvass import load as load_canvass
from canvass.store.canvass import (
    status as canvass_status,
)
from canvass.store.election import ElectionDirectory, default_actor
from canvass.store.reconcile import contest_identities, explain, import_pollbook, reconcile

reconcile_app = _Typer(help="Balance poll books against ballots.", no_args_is_help=True)
board_app = _Typer(help="Boards of canvassers: seat, move, vote.", no_args_is_help=True)
certify_app = _Typer(help="Certificates: propose, escalate, correct, verify.", no_args_is_help=True)
state_app = _Typer(
    help="The state: recounts and the certificate of ascertainment.", no_args_is_help=True
)


@reconcile_app.command("import")
def reconcile_import(
    directory: DirArg,
    file: Annotated[
        Path, typer.Argument(help="Poll-book CSV (see canvass/reconcile/pollbook.py).")
    ],
    actor: ActorOpt = None,
) -> None:
    """Record poll-book and ballot-accounting counts per precinct and vote type."""
    index = import_pollbook(ElectionDirectory.open(directory), file, actor or default_actor())
    out.print(f"Recorded the poll book as log entry {index}")


@reconcile_app.command("explain")
def reconcile_explain(
    directory: DirArg,
    county: Annotated[str, typer.Option(help="County id or name.")],
    precinct: Annotated[str, typer.Option(help="Precinct id or name.")],
    vote_type: Annotated[str, typer.Option(help="election_day, absentee, ...")],
    reason: Annotated[str, typer.Option(help=", ".join(REASONS))],
    text: Annotated[str, typer.Option(help="The explanation in words.")] = "",
    actor: ActorOpt = None,
) -> None:
    """Record why a precinct is out of balance."""
    store = ElectionDirectory.open(directory)
    index = explain(store, county, precinct, vote_type, reason, text, actor or default_actor())
    out.print(f"Recorded the explanation as log entry {index}")


@reconcile_app.command("report")
def reconcile_report(
    directory: DirArg,
    layout: Annotated[str, typer.Option("--format", help="michigan or georgia")] = "michigan",
) -> None:
    """Balance every precinct and vote type: Michigan's summary or Georgia's report."""
    store = ElectionDirectory.open(directory)
    names = {j.id: j.name for j in definition(store).jurisdictions}
    units = reconcile(store)
    if layout == "georgia":
        sys.stdout.write(georgia_report(units, names))
    elif layout == "michigan":
        sys.stdout.write(michigan_report(units, names))
        checked, failures = contest_identities(store)
        out.print(
            f"votes + undervotes + overvotes = ballots × votes allowed: "
            f"{checked - len(failures):,} of {checked:,} precinct contests hold"
        )
        for failure in failures:
            out.print(f"  {failure}")
    else:
        raise StoreError(f"format {layout!r} is not michigan or georgia")


@reconcile_app.command("published")
def reconcile_published(
    file: Annotated[Path, typer.Argument(help="A published results file.")],
    layout: Annotated[str, typer.Option("--layout", help="michigan-county or georgia-precinct")],
) -> None:
    """Check published results: ballots cast against votes, parts against totals."""
    readers = {"michigan-county": michigan_counties, "georgia-precinct": georgia_precincts}
    if layout not in readers:
        raise StoreError(f"layout {layout!r} is not one of {', '.join(readers)}")
    sys.stdout.write(readers[layout](file.read_bytes(), str(file)).text())


@board_app.command("constitute")
def board_constitute(
    directory: DirArg,
    board: Annotated[str, typer.Option(help="state, or county:<county id>")],
    profile: Annotated[str, typer.Option(help="michigan, georgia or generic")],
    member: Annotated[
        list[str], typer.Option(help="KEY:Full name:PARTY, once per member (registered keys)")
    ],
    actor: ActorOpt = None,
) -> None:
    """Seat a board of canvassers under a state profile."""
    members = []
    for m in member:
        key, _, rest = m.partition(":")
        name, _, party = rest.partition(":")
        members.append(Member(key, name or key, party))
    index = constitute(
        ElectionDirectory.open(directory), board, profile, members, actor or default_actor()
    )
    out.print(f"Board {board} constituted ({len(members)} members) as log entry {index}")


@board_app.command("meeting")
def board_meeting(
    directory: DirArg,
    board: Annotated[str, typer.Option(help="state, or county:<county id>")],
    action: Annotated[str, typer.Option(help="opened or adjourned")],
    present: Annotated[list[str] | None, typer.Option(help="A member present (key name)")] = None,
    text: Annotated[str, typer.Option(help="Place, notice, remarks")] = "",
    actor: ActorOpt = None,
) -> None:
    """Record a board's meeting opened (with who is present) or adjourned."""
    store = ElectionDirectory.open(directory)
    index = meeting(store, board, action, present or [], actor or default_actor(), text)
    out.print(f"Meeting of board {board} {action} as log entry {index}")


@board_app.command("move")
def board_move(
    directory: DirArg,
    board: Annotated[str, typer.Option(help="state, or county:<county id>")],
    kind: Annotated[str, typer.Option(help="certify, recess, request_recount, rescind or correct")],
    key: KeyOpt,
    certificate: Annotated[str, typer.Option(help="The certificate's SHA-256")] = "",
    text: Annotated[str, typer.Option(help="The motion's words")] = "",
    passphrase: PassOpt = None,
) -> None:
    """Make a motion, signed with your key."""
    signer = keys.read_key(key, passphrase)
    index = move(ElectionDirectory.open(directory), board, kind, signer, certificate, text)
    out.print(f"Motion {index} ({kind}) by {signer.name} on board {board}")


@board_app.command("vote")
def board_vote(
    directory: DirArg,
    motion: Annotated[int, typer.Option(help="The motion's log entry")],
    choice: Annotated[str, typer.Option("--vote", help="yes, no or abstain")],
    key: KeyOpt,
    passphrase: PassOpt = None,
) -> None:
    """Vote on a motion, signed with your key."""
    store = ElectionDirectory.open(directory)
    signer = keys.read_key(key, passphrase)
    vote(store, motion, choice, signer)
    state = load_canvass(store)
    decided = state.motions[motion]
    out.print(
        f"{signer.name} voted {choice} on motion {motion}: {decided.count('yes')} yes, "
        f"{decided.count('no')} no, {decided.count('abstain')} abstain; "
        f"{decided.outcome or 'undecided'}"
    )


@board_app.command("status")
def board_status(directory: DirArg) -> None:
    """Boards, motions and their votes, certificates in force, deadlines and recounts."""
    store = ElectionDirectory.open(directory)
    sys.stdout.write(canvass_status(store))


@certify_app.command("propose")
def certify_propose(
    directory: DirArg,
    county: Annotated[str | None, typer.Option(help="The county; leave out for the state")] = None,
    reason: Annotated[str, typer.Option(help="Why (a correction, a recount)")] = "",
    for_state_board: Annotated[
        bool, typer.Option(help="The state board's certificate for a county past its deadline")
    ] = False,
    actor: ActorOpt = None,
) -> None:
    """Write a certificate for a board to vote on; prints its SHA-256."""
    store = ElectionDirectory.open(directory)
    who = actor or default_actor()
    if county is None:
        sha = propose_state(store, who, reason)
    elif for_state_board:
        sha = county_certificate_for_state_board(store, county, who)
    else:
        sha = propose_county(store, county, who, reason=reason)
    out.print(sha)


@certify_app.command("escalate")
def certify_escalate(
    directory: DirArg, county: Annotated[str, typer.Option()], actor: ActorOpt = None
) -> None:
    """Record that a county's deadline passed without a certificate."""
    index = escalate(ElectionDirectory.open(directory), county, actor or default_actor())
    out.print(f"{county}'s canvass passed to the state as log entry {index}")


@certify_app.command("correct")
def certify_correct(
    directory: DirArg,
    county: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option(help="What is corrected and why")],
    actor: ActorOpt = None,
) -> None:
    """Open a correction: the county may change and certify again, superseding."""
    index = open_correction(
        ElectionDirectory.open(directory), county, reason, actor or default_actor()
    )
    out.print(f"Correction of {county} opened as log entry {index}")


@certify_app.command("verify")
def certify_verify(directory: DirArg) -> None:
    """Check every vote's signature and every certificate against its artifacts."""
    problems = verify_canvass(ElectionDirectory.open(directory))
    for p in problems:
        typer.echo(f"FAILED {p}")
    if problems:
        raise typer.Exit(1)
    out.print("OK: every signature checks and every certificate matches its ballots")


@state_app.command("recount")
def state_recount(
    directory: DirArg,
    contest: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()],
    actor: ActorOpt = None,
) -> None:
    """Order a recount of a contest: counties may re-import and certify again."""
    index = order_recount(
        ElectionDirectory.open(directory), contest, reason, actor or default_actor()
    )
    out.print(f"Recount of {contest} ordered as log entry {index}")


@state_app.command("ascertain")
def state_ascertain(
    directory: DirArg,
    electors: Annotated[Path, typer.Option(help="YAML: candidate id → list of elector names")],
    key: KeyOpt,
    contest: Annotated[str, typer.Option(help="The presidential contest")] = "president",
    passphrase: PassOpt = None,
) -> None:
    """Issue the certificate of ascertainment, signed with your (state official's) key."""
    store = ElectionDirectory.open(directory)
    signer = keys.read_key(key, passphrase)
    named = yaml.safe_load(electors.read_text())
    if not isinstance(named, dict) or not all(isinstance(v, list) for v in named.values()):
        raise StoreError(f"{electors}: expected candidate ids, each with a list of elector names")
    doc = prepare_ascertainment(store, contest, named, signer.name)
    index = issue_ascertainment(store, doc, signer.name, sign_ascertainment(store, doc, signer))
    out.print(
        f"Certificate of ascertainment issued as log entry {index}: electors appointed "
        f"{', '.join(doc['appointed'])}"
    )
