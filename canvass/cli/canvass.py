"""Commands of the canvass: reconciliation, boards of canvassers, certificates, the state."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from canvass.cli.common import ActorOpt, DirArg, KeyOpt, PassOpt, _Typer, actor, out
from canvass.errors import StoreError
from canvass.guard.text import read_file
from canvass.reconcile.balance import REASONS

if TYPE_CHECKING:
    from canvass.app import Election
    from canvass.app.boards import CanvassStatus
    from canvass.log.note import Signer

ALL_COUNTIES = "county:all"
"""The boards of every county: a body acting on each county's canvass in turn (each
certificate, motion and vote still its own entry, each signed)."""

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
    who: ActorOpt = None,
) -> None:
    """Record poll-book and ballot-accounting counts per precinct and vote type."""
    from canvass.app.elections import open_election
    from canvass.app.reconcile import import_pollbook

    index = import_pollbook(open_election(directory), actor(who), file)
    out.print(f"Recorded the poll book as log entry {index}")


@reconcile_app.command("explain")
def reconcile_explain(
    directory: DirArg,
    county: Annotated[str, typer.Option(help="County id or name.")],
    precinct: Annotated[str, typer.Option(help="Precinct id or name.")],
    vote_type: Annotated[str, typer.Option(help="election_day, absentee, ...")],
    reason: Annotated[str, typer.Option(help=", ".join(REASONS))],
    text: Annotated[str, typer.Option(help="The explanation in words.")] = "",
    who: ActorOpt = None,
) -> None:
    """Record why a precinct is out of balance."""
    from canvass.app.elections import open_election
    from canvass.app.reconcile import explain

    store = open_election(directory)
    index = explain(store, actor(who), county, precinct, vote_type, reason, text)
    out.print(f"Recorded the explanation as log entry {index}")


@reconcile_app.command("report")
def reconcile_report(
    directory: DirArg,
    layout: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="summary or georgia (default: the report the election's state profile asks for)",
        ),
    ] = None,
) -> None:
    """Balance every precinct and vote type, in the report the state's law asks for: the
    summary of units out of balance (Michigan's, citing MCL 168.871) or Georgia's
    precinct reconciliation (CSV)."""
    from canvass.app.elections import open_election
    from canvass.app.reconcile import (
        contest_identities,
        reconciliation_report,
        results_only_counted,
    )

    store = open_election(directory)
    layout, text = reconciliation_report(store, layout)
    sys.stdout.write(text)
    if layout != "summary":
        return
    identities = contest_identities(store)
    failures = [i for i in identities if not i.holds]
    out.print(
        f"votes + undervotes + overvotes = ballots × votes allowed: "
        f"{len(identities) - len(failures):,} of {len(identities):,} precinct contests hold"
        + (
            " (counted from ballots; results-only imports give no ballots to check against)"
            if results_only_counted(store)
            else ""
        )
    )
    for f in failures:
        out.print(
            f"  {f.precinct} / {f.contest}: {f.votes} votes + {f.undervotes} undervotes + "
            f"{f.overvotes} overvotes = {f.votes + f.undervotes + f.overvotes}, but "
            f"{f.ballots} ballots × {f.votes_allowed} = {f.ballots * f.votes_allowed}"
        )


@reconcile_app.command("published")
def reconcile_published(
    file: Annotated[Path, typer.Argument(help="A published results file.")],
    layout: Annotated[str, typer.Option("--layout", help="michigan-county or georgia-precinct")],
) -> None:
    """Check published results: ballots cast against votes, parts against totals."""
    from canvass.reconcile.published import georgia_precincts, michigan_counties

    readers = {"michigan-county": michigan_counties, "georgia-precinct": georgia_precincts}
    if layout not in readers:
        raise StoreError(f"layout {layout!r} is not one of {', '.join(readers)}")
    sys.stdout.write(readers[layout](read_file(file), str(file)).text())


@board_app.command("constitute")
def board_constitute(
    directory: DirArg,
    board: Annotated[
        str,
        typer.Option(
            help="state, or county:<county id>; county:all seats the same members on every "
            "county's board not yet seated"
        ),
    ],
    profile: Annotated[str, typer.Option(help="michigan, georgia or generic")],
    member: Annotated[
        list[str], typer.Option(help="KEY:Full name:PARTY, once per member (registered keys)")
    ],
    reason: Annotated[
        str, typer.Option(help="Why the board is seated again (needed to change a board)")
    ] = "",
    who: ActorOpt = None,
) -> None:
    """Seat a board of canvassers under a state profile, or seat it again with other
    members (refused while its certificate is in force, unless a correction is open)."""
    from canvass.app.boards import constitute
    from canvass.app.elections import open_election
    from canvass.certify.canvass import Member

    members = []
    for m in member:
        key, _, rest = m.partition(":")
        name, _, party = rest.partition(":")
        members.append(Member(key, name or key, party))
    election = open_election(directory)
    if board == ALL_COUNTIES:
        from canvass.app.boards import counties_without_board
        from canvass.cli.progress import progress

        counties = counties_without_board(election)
        with progress("Seating county boards", "boards", len(counties)) as advance:
            for county in counties:
                index = constitute(
                    election, actor(who), f"county:{county}", profile, members, reason=reason
                )
                out.print(
                    f"Board county:{county} constituted ({len(members)} members) as log entry "
                    f"{index}"
                )
                advance(1)
        return
    index = constitute(election, actor(who), board, profile, members, reason=reason)
    out.print(f"Board {board} constituted ({len(members)} members) as log entry {index}")


@board_app.command("meeting")
def board_meeting(
    directory: DirArg,
    board: Annotated[str, typer.Option(help="state, or county:<county id>")],
    action: Annotated[str, typer.Option(help="opened or adjourned")],
    present: Annotated[list[str] | None, typer.Option(help="A member present (key name)")] = None,
    text: Annotated[str, typer.Option(help="Place, notice, remarks")] = "",
    who: ActorOpt = None,
) -> None:
    """Record a board's meeting opened (with who is present) or adjourned."""
    from canvass.app.boards import meeting
    from canvass.app.elections import open_election

    index = meeting(open_election(directory), actor(who), board, action, present or [], text)
    out.print(f"Meeting of board {board} {action} as log entry {index}")


@board_app.command("move")
def board_move(
    directory: DirArg,
    board: Annotated[
        str,
        typer.Option(
            help="state, or county:<county id>; county:all moves to certify each certificate "
            "proposed on a county board you sit on and not yet moved"
        ),
    ],
    kind: Annotated[str, typer.Option(help="certify, recess, request_recount, rescind or correct")],
    key: KeyOpt,
    certificate: Annotated[
        str,
        typer.Option(
            help="The certificate's SHA-256 (6 or more hex digits do); a motion to certify "
            "without it takes the one proposed on the board and not yet moved"
        ),
    ] = "",
    text: Annotated[str, typer.Option(help="The motion's words")] = "",
    passphrase: PassOpt = None,
) -> None:
    """Make a motion, signed with your key (a motion of its own on each board, each signed,
    with county:all)."""
    from canvass import keys
    from canvass.app.elections import open_election
    from canvass.signing import move

    signer = keys.read_key(key, passphrase)
    election = open_election(directory)
    if board == ALL_COUNTIES:
        from canvass.app.boards import awaiting_motion

        if kind != "certify":
            raise StoreError("--board county:all moves to certify; give --kind certify")
        from canvass.cli.progress import progress

        waiting = awaiting_motion(election, signer.name)
        with progress("Moving to certify", "motions", len(waiting)) as advance:
            for on, sha in waiting:
                index = move(election, signer, on, kind, sha, text)
                out.print(f"Motion {index} ({kind}) by {signer.name} on board {on}")
                advance(1)
        return
    from canvass.app.boards import certificate_to_move

    certificate = certificate_to_move(election, board, kind, certificate)
    index = move(election, signer, board, kind, certificate, text)
    out.print(f"Motion {index} ({kind}) by {signer.name} on board {board}")


@board_app.command("vote")
def board_vote(
    directory: DirArg,
    motion: Annotated[
        str,
        typer.Option(help="The motion's log entry; all: every open motion on a board you sit on"),
    ],
    choice: Annotated[str, typer.Option("--vote", help="yes, no or abstain")],
    key: KeyOpt,
    passphrase: PassOpt = None,
) -> None:
    """Vote on a motion, signed with your key (each vote signed on its own, with all)."""
    from canvass import keys
    from canvass.app.elections import open_election

    store = open_election(directory)
    signer = keys.read_key(key, passphrase)
    if motion == "all":
        from canvass.app.boards import open_motions
        from canvass.cli.progress import progress

        motions = open_motions(store, signer.name)
        with progress("Voting", "votes", len(motions)) as advance:
            for index in motions:
                _vote(store, signer, index, choice)
                advance(1)
        return
    if not motion.isdigit():
        raise StoreError(f"--motion: expected a motion's log entry or all; found {motion!r}")
    _vote(store, signer, int(motion), choice)


def _vote(store: Election, signer: Signer, motion: int, choice: str) -> None:
    from canvass.signing import vote

    cast = vote(store, signer, motion, choice)
    out.print(
        f"{signer.name} voted {choice} on motion {motion}: {cast.yes} yes, "
        f"{cast.no} no, {cast.abstain} abstain; {cast.outcome or 'undecided'}"
    )
    if cast.shown is not None:
        out.print(
            f"The vote records that the certificate puts {cast.shown['unexplained']} "
            "unexplained imbalance(s) before the board (canvass certify show)"
        )


@board_app.command("status")
def board_status(directory: DirArg) -> None:
    """Boards, motions and their votes, certificates in force, deadlines and recounts."""
    from canvass.app.boards import status
    from canvass.app.elections import open_election

    sys.stdout.write(_status_text(status(open_election(directory))))


@certify_app.command("propose")
def certify_propose(
    directory: DirArg,
    county: Annotated[
        str | None,
        typer.Option(
            help="The county; all: every county with counts to certify and none proposed; "
            "leave out for the state"
        ),
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (a correction, a recount)")] = "",
    for_state_board: Annotated[
        bool, typer.Option(help="The state board's certificate for a county past its deadline")
    ] = False,
    who: ActorOpt = None,
) -> None:
    """Write a certificate for a board to vote on; prints its SHA-256."""
    from canvass.app.boards import propose_county
    from canvass.app.elections import open_election
    from canvass.app.state import county_certificate_for_state_board, propose_state

    store = open_election(directory)
    acting = actor(who)
    if county == "all" and not for_state_board:
        from canvass.app.boards import counties_to_certify
        from canvass.cli.progress import progress

        counties = counties_to_certify(store)
        with progress("Writing county certificates", "certificates", len(counties)) as advance:
            for each in counties:
                out.print(f"{each} {propose_county(store, acting, each, reason=reason)}")
                advance(1)
        return
    if county is None:
        sha = propose_state(store, acting, reason)
    elif for_state_board:
        sha = county_certificate_for_state_board(store, acting, county)
    else:
        sha = propose_county(store, acting, county, reason=reason)
    out.print(sha)


@certify_app.command("escalate")
def certify_escalate(
    directory: DirArg, county: Annotated[str, typer.Option()], who: ActorOpt = None
) -> None:
    """Record that a county's deadline passed without a certificate."""
    from canvass.app.boards import escalate
    from canvass.app.elections import open_election

    index = escalate(open_election(directory), actor(who), county)
    out.print(f"{county}'s canvass passed to the state as log entry {index}")


@certify_app.command("correct")
def certify_correct(
    directory: DirArg,
    county: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option(help="What is corrected and why")],
    who: ActorOpt = None,
) -> None:
    """Open a correction: the county may change and certify again, superseding."""
    from canvass.app.boards import open_correction
    from canvass.app.elections import open_election

    index = open_correction(open_election(directory), actor(who), county, reason)
    out.print(f"Correction of {county} opened as log entry {index}")


@certify_app.command("verify")
def certify_verify(directory: DirArg) -> None:
    """Check every vote's signature and every certificate against its artifacts; name
    the certificates no longer in force."""
    from canvass.app.boards import verify_canvass
    from canvass.app.elections import open_election
    from canvass.app.folds import canvass
    from canvass.publish.certificate_text import standing

    election = open_election(directory)
    problems = verify_canvass(election)
    for p in problems:
        typer.echo(f"FAILED {p}")
    if problems:
        raise typer.Exit(1)
    out.print("OK: every signature checks and every certificate matches its ballots")
    for sha, cert in canvass(election).certificates.items():
        if cert.county_change is not None:
            out.print(f"state certificate {sha[:12]}: {standing(cert)}")


@certify_app.command("show")
def certify_show(
    directory: DirArg,
    certificate: Annotated[str, typer.Argument(help="The certificate's SHA-256 (or its start)")],
) -> None:
    """A certificate as a person reads it: every total, every unit out of balance with its
    explanation or "unexplained", what it supersedes, what it rests on, where it stands."""
    from canvass.app.boards import certificate as find
    from canvass.app.elections import open_election
    from canvass.publish.certificate_text import certificate_text

    shown = find(open_election(directory), certificate)
    sys.stdout.write(certificate_text(shown.document, shown.certificate, shown.definition))


@state_app.command("recount")
def state_recount(
    directory: DirArg,
    contest: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()],
    who: ActorOpt = None,
) -> None:
    """Order a recount of a contest: counties may re-import and certify again."""
    from canvass.app.elections import open_election
    from canvass.app.state import order_recount

    index = order_recount(open_election(directory), actor(who), contest, reason)
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
    from canvass import keys
    from canvass.app.elections import open_election
    from canvass.app.state import prepare_ascertainment
    from canvass.guard.documents import yaml_value
    from canvass.signing import ascertain

    store = open_election(directory)
    signer = keys.read_key(key, passphrase)
    data = read_file(electors, StoreError)
    named = yaml_value(data, str(electors), StoreError)
    if not isinstance(named, dict) or not all(isinstance(v, list) for v in named.values()):
        raise StoreError(f"{electors}: expected candidate ids, each with a list of elector names")
    doc = prepare_ascertainment(store, contest, named, signer.name)
    index = ascertain(store, signer, doc)
    out.print(
        f"Certificate of ascertainment issued as log entry {index}: electors appointed "
        f"{', '.join(doc['appointed'])}"
    )


def _status_text(found: CanvassStatus) -> str:
    """The canvass in words: boards, motions and votes, certificates, deadlines, recounts."""
    from canvass.certify.canvass import STATE

    state, names = found.canvass, found.names
    profile = state.profile
    if profile is None or found.county_deadline is None or found.state_deadline is None:
        return "No board of canvassers has been constituted yet.\n"
    lines = [
        f"Profile: {profile.name} (county deadline {found.county_deadline[:10]}, "
        f"state deadline {found.state_deadline[:10]})"
    ]
    for board in state.boards.values():
        scope = names.get(board.county or "", "State") if board.county else "State"
        members = ", ".join(f"{m.name} ({m.party})" if m.party else m.name for m in board.members)
        lines.append(f"Board {board.id} — {scope}: {members}; {board.needed} votes carry a motion")
        for earlier, then in zip(board.seatings, board.seatings[1:], strict=False):
            seated = ", ".join(m.name for m in earlier.members)
            lines.append(
                f"  seated at log entry {earlier.entry}: {seated}; seated again at log entry "
                f"{then.entry}: {then.reason}"
            )
        for index, at, action, present, text in state.meetings.get(board.id, []):
            who = f", present: {', '.join(present)}" if present else ""
            lines.append(
                f"  meeting {action} at {at[:16]} (log entry {index}){who} {text}".rstrip()
            )
        for motion in (m for m in state.motions.values() if m.board == board.id):
            votes = ", ".join(f"{v.member} {v.vote}" for v in motion.votes.values())
            target = f" certificate {motion.certificate[:12]}" if motion.certificate else ""
            outcome = motion.outcome or (
                f"lapsed at log entry {motion.lapsed}" if motion.lapsed is not None else "open"
            )
            under = (
                f"; the members seated at log entry {motion.seating.entry}"
                if motion.seating is not board.seated
                else ""
            )
            lines.append(
                f"  motion {motion.index}: {motion.kind}{target} by {motion.mover}: "
                f"{outcome} ({votes or 'no votes yet'}{under})"
            )
        if board.county:
            cert = state.certificate_of(board.county)
            if cert is not None:
                lines.append(
                    f"  certified: {cert.sha256[:12]} ({cert.status}), log entry {cert.issued}"
                    + (", reopened" if board.county in state.reopened else "")
                )
            elif board.county in state.escalated:
                lines.append(f"  deadline passed; escalated to {profile.escalation}")
            else:
                lines.append("  not certified")
    cert = state.certificate_of(STATE)
    if found.state_deadline_passed:
        lines.append(f"State deadline {found.state_deadline[:10]} passed without a certificate")
    if cert is not None:
        lines.append(
            f"State certificate: {cert.sha256[:12]} ({cert.status}), log entry {cert.issued}"
        )
        if cert.county_change is not None:
            change = cert.county_change
            lines.append(
                f"  superseded by a county change: {change['county']} certified again at log "
                f"entry {change['entry']} (certificate {str(change['certificate'])[:12]}); "
                "no longer in force until the state board certifies again"
            )
        for contest in found.within_recount_margin:
            lines.append(f"  {contest}: within the recount margin")
    for index, recount in state.recounts:
        lines.append(
            f"Recount of {recount['contest']} ordered at log entry {index}: {recount['reason']}"
        )
    for index, sha in state.ascertainments:
        lines.append(f"Certificate of ascertainment {sha[:12]}, log entry {index}")
    return "\n".join(lines) + "\n"
