"""Commands of risk-limiting audits."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from canvass.cli.common import ActorOpt, DirArg, PassOpt, _Typer, actor, out
from canvass.errors import StoreError
from canvass.guard.text import decode_text, read_file

if TYPE_CHECKING:
    from canvass.app import Election

audit_app = _Typer(
    help="Risk-limiting audits: sample sizes, draws, hand counts.", no_args_is_help=True
)


def _text(path: Path) -> io.StringIO:
    """A CSV file's text, UTF-8 only, for ``csv``: any line ending."""
    return io.StringIO(decode_text(read_file(path, StoreError), str(path), StoreError), newline="")


@audit_app.command("sample-size")
def audit_sample_size(
    winner: Annotated[int, typer.Option(help="Votes for the reported winner")],
    loser: Annotated[int, typer.Option(help="Votes for the reported runner-up")],
    ballots: Annotated[int, typer.Option(help="Ballots cast in the contest")],
    risk_limit: Annotated[int, typer.Option(help="Risk limit, percent")] = 10,
) -> None:
    """Initial sample sizes: ballot comparison (Kaplan-Markov, as Arlo) and ballot polling
    (BRAVO: its average sample number with the chance it finishes in one round, and the
    round sizes that finish with a 70%, 80% and 90% chance)."""
    from canvass.audit.stats import (
        arlo_supersimple_sample_size,
        bravo_asn,
        bravo_completion_chance,
        bravo_sample_size,
    )

    if not 0 < risk_limit < 100 or ballots <= 0 or winner <= loser or winner + loser > ballots:
        raise StoreError(
            "expected 0 < risk limit < 100 and loser < winner with winner + loser <= ballots"
        )
    margin = (winner - loser) / ballots
    comparison = arlo_supersimple_sample_size(risk_limit, margin, ballots)
    polling = bravo_asn(risk_limit / 100, winner / ballots, loser / ballots)
    out.print(f"diluted margin {margin:.4%}")
    out.print(f"ballot comparison (Kaplan-Markov): {comparison:,} ballots")
    alpha, w, lo = risk_limit / 100, winner / ballots, loser / ballots
    chance = bravo_completion_chance(alpha, w, lo, polling)
    out.print(
        f"ballot polling (BRAVO, average): {min(polling, ballots):,} ballots "
        f"({chance:.0%} chance to finish in one round)"
    )
    for p in (0.7, 0.8, 0.9):
        size = min(bravo_sample_size(alpha, w, lo, p), ballots)
        out.print(f"ballot polling (BRAVO, {p:.0%} chance in one round): {size:,} ballots")


@audit_app.command("draw")
def audit_draw(
    manifest: Annotated[
        Path, typer.Argument(help="Ballot manifest CSV (Tabulator, Batch Name, Number of Ballots)")
    ],
    seed: Annotated[str, typer.Option(help="At least 20 digits, from public dice rolls")],
    size: Annotated[int, typer.Option(help="Ballots to draw")],
    already: Annotated[int, typer.Option(help="Ballots drawn in earlier rounds")] = 0,
) -> None:
    """Draw ballots (Rivest's consistent sampler, with replacement, as Arlo): a retrieval
    list as CSV. A later round with --already extends the earlier one."""
    from canvass.audit.sampler import arlo_sample
    from canvass.ingest.manifest import read_ballot_manifest

    if not (seed.isdigit() and len(seed) >= 20):
        raise StoreError(f"the seed must be at least 20 digits; found {seed!r}")
    batches = read_ballot_manifest(manifest)
    frame = [((b.tabulator, b.id), b.cards) for b in batches]
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["ticket_number", "tabulator", "batch", "position", "times_drawn"])
    for ticket in arlo_sample(frame, seed, size, already):
        key: Any = ticket.id
        (tabulator, batch), position = key
        writer.writerow([ticket.number, tabulator, batch, position, ticket.generation])


@audit_app.command("hand-count")
def audit_hand_count(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="DIR REPORT: the election directory and Arlo's audit report CSV (batch "
            "results); with --machine, the report alone"
        ),
    ],
    name: Annotated[str | None, typer.Option(help="The audit's name (recording it)")] = None,
    contest: Annotated[str | None, typer.Option(help="The contest counted by hand (id)")] = None,
    machine: Annotated[
        Path | None,
        typer.Option(help="Georgia's precinct results file, to compare with, recording nothing"),
    ] = None,
    who: ActorOpt = None,
) -> None:
    """Record a full hand count in the election as an audit of the certified result (kept,
    logged, published and verified, set beside the state certificate in force); or, with
    --machine, compare it with Georgia's machine count, by county and statewide."""
    from canvass.audit.handcount import compare, georgia_machine_counts, read_arlo_report

    if machine is not None:
        if len(paths) != 1:
            raise StoreError("with --machine, give the report alone")
        report = paths[0]
        names = {
            "Donald J. Trump": "trump",
            "Joseph R. Biden": "biden",
            "Jo Jorgensen": "jorgensen",
        }
        hand = read_arlo_report(read_file(report), str(report))
        counted = compare(
            georgia_machine_counts(read_file(machine), names), hand.hand_count, list(names)
        )
        sys.stdout.write(counted.text("Joseph R. Biden", "Donald J. Trump"))
        return
    if len(paths) != 2 or name is None or contest is None:
        raise StoreError(
            "to record a hand count, give DIR REPORT --name NAME --contest CONTEST "
            "(or compare one with --machine FILE)"
        )
    from canvass.app.audits import hand_count_report, record_hand_count
    from canvass.app.elections import open_election

    store = open_election(paths[0])
    index = record_hand_count(store, actor(who), name, contest, paths[1])
    out.print(f"Recorded the hand count {name} as log entry {index}")
    sys.stdout.write(hand_count_report(store, name))


@audit_app.command("open")
def audit_open(
    directory: DirArg,
    name: Annotated[str, typer.Option(help="The audit's name")],
    contest: Annotated[list[str], typer.Option(help="A contest to audit (repeat)")],
    method: Annotated[
        str, typer.Option(help="comparison, polling or batch-comparison")
    ] = "comparison",
    risk_limit: Annotated[int, typer.Option(help="Risk limit, percent")] = 10,
    who: ActorOpt = None,
) -> None:
    """Open an audit of some contests at a risk limit."""
    from canvass.app.audits import open_audit
    from canvass.app.elections import open_election

    index = open_audit(open_election(directory), actor(who), name, method, risk_limit, contest)
    out.print(f"Audit {name} opened as log entry {index}")


@audit_app.command("commit")
def audit_commit(
    directory: DirArg, name: Annotated[str, typer.Option()], who: ActorOpt = None
) -> None:
    """Commit the ballot tables and manifests, in a signed checkpoint, before the seed."""
    from canvass.app.audits import commit
    from canvass.app.elections import open_election

    index, checkpoint = commit(open_election(directory), actor(who), name)
    out.print(f"Committed the audit frame as log entry {index}; publish this checkpoint now:")
    out.print(checkpoint, end="")


@audit_app.command("seed")
def audit_seed(
    directory: DirArg,
    name: Annotated[str, typer.Option()],
    seed: Annotated[str, typer.Option(help="20 or more digits rolled on public dice")],
    who: ActorOpt = None,
) -> None:
    """Record the seed (refused before the commitment)."""
    from canvass.app.audits import record_seed
    from canvass.app.elections import open_election

    index = record_seed(open_election(directory), actor(who), name, seed)
    out.print(f"Seed recorded as log entry {index}")


MemberKeys = Annotated[
    list[Path],
    typer.Option("--key", help="The private key file of each member of the audit board (repeat)."),
]
ReasonOpt = Annotated[
    str,
    typer.Option(
        help="Why ballots already read are read again (the earlier readings stay in the log)."
    ),
]


@audit_app.command("board")
def audit_board(
    directory: DirArg,
    name: Annotated[str, typer.Option(help="The audit's name")],
    board: Annotated[str, typer.Option(help="The audit board's name")],
    member: Annotated[
        list[str], typer.Option(help="A member's key name, registered as audit-board (repeat)")
    ],
    who: ActorOpt = None,
) -> None:
    """Seat an audit board: every member signs each reading it records."""
    from canvass.app.audits import seat_board
    from canvass.app.elections import open_election

    index = seat_board(open_election(directory), actor(who), name, board, member)
    out.print(f"Audit board {board} ({', '.join(member)}) seated as log entry {index}")


@audit_app.command("round")
def audit_round(
    directory: DirArg,
    name: Annotated[str, typer.Option()],
    size: Annotated[int, typer.Option(help="Draws in all, after this round")],
    out_dir: Annotated[
        Path | None,
        typer.Option(help="Also write each county's retrieval list here, as COUNTY.csv"),
    ] = None,
    who: ActorOpt = None,
) -> None:
    """Draw a round; prints the retrieval list (county, tabulator, batch, record) as CSV."""
    from canvass.app.audits import draw as audit_draw_round
    from canvass.app.elections import open_election

    _, listing = audit_draw_round(open_election(directory), actor(who), name, size)
    sys.stdout.write(listing)
    if out_dir is not None:
        header, *rows = listing.splitlines(keepends=True)
        by_county: dict[str, list[str]] = {}
        for line, row in zip(rows, csv.DictReader(io.StringIO(listing)), strict=True):
            by_county.setdefault(row["county"], []).append(line)
        out_dir.mkdir(parents=True, exist_ok=True)
        for county, lines in sorted(by_county.items()):
            (out_dir / f"{county}.csv").write_text(header + "".join(lines))
        out.print(f"Wrote the retrieval lists of {len(by_county)} counties to {out_dir}")


@audit_app.command("interpret")
def audit_interpret(
    directory: DirArg,
    name: Annotated[str, typer.Option()],
    readings: Annotated[
        Path, typer.Argument(help="CSV: ballot, contest, votes (choice ids, |-separated), finding")
    ],
    board: Annotated[str, typer.Option(help="The audit board")],
    key: MemberKeys,
    reason: ReasonOpt = "",
    passphrase: PassOpt = None,
    who: ActorOpt = None,
) -> None:
    """Record what the audit board read on the paper, signed by every member. A ballot
    read again (--reason) supersedes its earlier reading, which stays in the log."""
    from canvass import keys, signing
    from canvass.app.elections import open_election

    rows = []
    for n, row in enumerate(csv.DictReader(_text(readings)), start=2):
        if not row.get("ballot") or not row.get("contest"):
            raise StoreError(f"{readings} row {n}: expected a ballot and a contest")
        votes = [v for v in (row.get("votes") or "").split("|") if v]
        rows.append(
            {
                "ballot": row["ballot"],
                "contest": row["contest"],
                "votes": votes,
                "finding": (row.get("finding") or "").strip(),
            }
        )
    members = [keys.read_key(k, passphrase) for k in key]
    election = open_election(directory)
    recorded = signing.interpret(election, members, name, rows, board, reason, who)
    again = _read_again(election, recorded)
    out.print(
        f"Recorded {len(rows)} readings by {board}, signed by "
        f"{', '.join(m.name for m in members)}"
        + (f"; {again} read again: {reason}" if again else "")
    )


@audit_app.command("tally")
def audit_tally(
    directory: DirArg,
    name: Annotated[str, typer.Option()],
    tallies: Annotated[
        Path, typer.Argument(help="CSV: county, tabulator, batch, contest, choice, votes")
    ],
    board: Annotated[str, typer.Option(help="The audit board")],
    key: MemberKeys,
    reason: ReasonOpt = "",
    passphrase: PassOpt = None,
    who: ActorOpt = None,
) -> None:
    """Record the audit board's hand count of drawn batches (batch comparison), signed by
    every member. A batch counted again (--reason) supersedes its earlier count."""
    from canvass import keys, signing
    from canvass.app.elections import open_election

    counted: dict[tuple[str, str], dict[str, int]] = {}
    for n, row in enumerate(csv.DictReader(_text(tallies)), start=2):
        missing = [
            c for c in ("county", "tabulator", "batch", "contest", "choice") if not row.get(c)
        ]
        if missing:
            raise StoreError(f"{tallies} row {n}: no {', '.join(missing)}")
        votes = (row.get("votes") or "").strip()
        if not votes.isdigit():
            raise StoreError(
                f"{tallies} row {n}, votes: expected a whole number of votes; found {votes!r}"
            )
        batch = "/".join((row["county"], row["tabulator"], row["batch"]))
        counted.setdefault((batch, row["contest"]), {})[row["choice"]] = int(votes)
    rows = [{"batch": b, "contest": c, "votes": v} for (b, c), v in counted.items()]
    members = [keys.read_key(k, passphrase) for k in key]
    election = open_election(directory)
    recorded = signing.tally(election, members, name, rows, board, reason, who)
    again = _read_again(election, recorded)
    out.print(
        f"Recorded the hand counts of {len({b for b, _ in counted})} batches by {board}"
        + (f"; {again} counted again: {reason}" if again else "")
    )


def _read_again(election: Election, recorded: list[int]) -> int:
    """How many of the entries just recorded supersede an earlier reading."""
    if not recorded:
        return 0
    entries = election.entries(recorded[0], recorded[-1] + 1)
    return sum(1 for _, e in entries if e.data.get("supersedes") is not None)


@audit_app.command("measure")
def audit_measure(
    directory: DirArg, name: Annotated[str, typer.Option()], who: ActorOpt = None
) -> None:
    """Measure the risk of every audited contest; say what comes next."""
    from canvass.app.audits import load_audits, measure
    from canvass.app.elections import open_election
    from canvass.publish.audits import audit_report

    store = open_election(directory)
    measure(store, actor(who), name)
    sys.stdout.write(audit_report(load_audits(store).audit(name)))


@audit_app.command("report")
def audit_report_(directory: DirArg, name: Annotated[str, typer.Option()]) -> None:
    """The audit so far: commitment, seed, rounds, risk measured."""
    from canvass.app.audits import load_audits
    from canvass.app.elections import open_election
    from canvass.publish.audits import audit_report

    sys.stdout.write(audit_report(load_audits(open_election(directory)).audit(name)))
