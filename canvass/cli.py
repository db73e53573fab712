"""The ``canvass`` command line: a thin shell over the library.

Every command calls the library and turns a :class:`~canvass.errors.CanvassError` into one
line on standard error and exit status 1; nothing the user can cause prints a traceback.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer
import yaml
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from canvass import keys
from canvass.audit.handcount import compare, georgia_machine_counts, read_arlo_report
from canvass.audit.sampler import arlo_sample
from canvass.audit.stats import arlo_supersimple_sample_size, bravo_asn
from canvass.certify.canvass import Member
from canvass.domain.model import KeyRole, definition_schema
from canvass.errors import CanvassError, StoreError
from canvass.ingest import open_export
from canvass.ingest.ballots import SCHEMA
from canvass.ingest.manifest import read_ballot_manifest
from canvass.reconcile.balance import REASONS, georgia_report, michigan_report
from canvass.reconcile.published import georgia_precincts, michigan_counties
from canvass.store.audit import commit, interpret, measure, open_audit, record_seed
from canvass.store.audit import draw as audit_draw_round
from canvass.store.audit import report as audit_report
from canvass.store.ballots import (
    definition,
    export_err,
    import_ballots,
    manifest_check,
    ranked_choice_results,
    results,
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
from canvass.store.demo import build_demo
from canvass.store.election import ElectionDirectory, default_actor, registered_keys
from canvass.store.reconcile import contest_identities, explain, import_pollbook, reconcile
from canvass.tabulate.plurality import Results, tabulate
from canvass.tabulate.rctab import load_config, read_ballots
from canvass.tabulate.rcv import Tabulation, tabulate_passes
from canvass.tabulate.render import render, render_rounds
from canvass.tabulate.urcvt import ContestInfo, write_reports


class _Typer(typer.Typer):
    """Typer whose commands turn Canvass errors into one line and exit status 1."""

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        register = super().command(*args, **kwargs)

        def decorate(f: Callable[..., Any]) -> Any:
            @functools.wraps(f)
            def run(*a: Any, **kw: Any) -> Any:
                try:
                    return f(*a, **kw)
                except CanvassError as e:
                    typer.echo(f"error: {e}", err=True)
                    raise typer.Exit(1) from None
                except OperationalError as e:
                    typer.echo(f"error: the database could not do it: {e.orig}", err=True)
                    raise typer.Exit(1) from None
                except OSError as e:
                    typer.echo(f"error: {e.filename or ''}: {e.strerror}", err=True)
                    raise typer.Exit(1) from None

            return register(run)

        return decorate


app = _Typer(
    help="Canvass: run the canvass on a public, append-only, signed election log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
log_app = _Typer(help="Show, prove, sign and verify the election log.", no_args_is_help=True)
keys_app = _Typer(help="Make and register Ed25519 keys.", no_args_is_help=True)
reconcile_app = _Typer(help="Balance poll books against ballots.", no_args_is_help=True)
board_app = _Typer(help="Boards of canvassers: seat, move, vote.", no_args_is_help=True)
certify_app = _Typer(help="Certificates: propose, escalate, correct, verify.", no_args_is_help=True)
state_app = _Typer(
    help="The state: recounts and the certificate of ascertainment.", no_args_is_help=True
)
audit_app = _Typer(
    help="Risk-limiting audits: sample sizes, draws, hand counts.", no_args_is_help=True
)
app.add_typer(log_app, name="log")
app.add_typer(keys_app, name="keys")
app.add_typer(reconcile_app, name="reconcile")
app.add_typer(board_app, name="board")
app.add_typer(certify_app, name="certify")
app.add_typer(state_app, name="state")
app.add_typer(audit_app, name="audit")

out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)

DirArg = Annotated[Path, typer.Argument(help="The election directory.")]
ActorOpt = Annotated[
    str | None, typer.Option("--actor", help="Who is acting (default: $CANVASS_ACTOR or $USER).")
]


@app.command()
def init(
    directory: DirArg,
    origin: Annotated[
        str | None, typer.Option(help="The log's origin line, e.g. results.sos.example.gov/2026")
    ] = None,
    actor: ActorOpt = None,
) -> None:
    """Create an election directory, its log operator key and its log."""
    store = ElectionDirectory.init(directory, origin, actor or default_actor())
    out.print(f"Created election directory {directory}")
    out.print(f"Log operator key: {store.operator_key().encode()}")
    out.print(store.checkpoint(), end="")


@app.command()
def define(
    directory: DirArg,
    file: Annotated[Path, typer.Argument(help="Definition (YAML or JSON).")],
    actor: ActorOpt = None,
) -> None:
    """Record the election definition (see docs/election-definition.md)."""
    try:
        data = file.read_bytes()
    except OSError as e:
        raise StoreError(f"{file}: cannot read ({e.strerror})") from None
    store = ElectionDirectory.open(directory)
    index = store.define(data, file.name, actor or default_actor())
    if index is None:
        out.print(f"{file.name}: unchanged; this definition is already in force")
        return
    out.print(f"{file.name}: recorded as log entry {index}")
    out.print(store.checkpoint(), end="")


@app.command("import")
def import_(
    directory: DirArg,
    paths: Annotated[list[Path], typer.Argument(help="CVR files, folders or zip archives.")],
    county: Annotated[
        str | None,
        typer.Option(
            help="The county the ballots belong to (id or name); not for precinct-results."
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="dominion, dominion-csv, ess, hart, clear-ballot, nist-cvr, generic-csv, "
            "precinct-results, nist-err or ballot-manifest",
        ),
    ] = "dominion",
    cvr_schema: Annotated[
        Path | None, typer.Option(help="nist-cvr: NIST's JSON Schema to check reports against")
    ] = None,
    hart_key: Annotated[
        Path | None,
        typer.Option(
            help="hart: Hart's public key (<RSAKeyValue>); every CVR must be signed by it"
        ),
    ] = None,
    county_column: Annotated[str, typer.Option(help="precinct-results: the county column")] = (
        "county"
    ),
    precinct_column: Annotated[
        str, typer.Option(help="precinct-results: the precinct column")
    ] = "precinct",
    replace: Annotated[
        bool,
        typer.Option(help="These CVRs replace the county's earlier ones (a recount, a correction)"),
    ] = False,
    actor: ActorOpt = None,
) -> None:
    """Import a county's cast vote records (all or nothing; the same bytes twice: no-op)."""
    store = ElectionDirectory.open(directory)
    index = import_ballots(
        store,
        county,
        fmt,
        paths,
        actor or default_actor(),
        county_column,
        precinct_column,
        cvr_schema,
        hart_key,
        replace,
    )
    if index is None:
        out.print("unchanged: these files were already imported for this county")
        return
    entry = dict(store.entries(index, index + 1))[index]
    out.print(
        f"Imported {entry.data['cards']:,} cards for {entry.data['county']} as log entry {index}"
    )


ByOpt = Annotated[
    str | None, typer.Option("--by", help="county, precinct, batch, tabulator, vote-type, ...")
]
ContestOpt = Annotated[str | None, typer.Option("--contest", help="Only this contest.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, json or csv")]


def _render(
    results: Results,
    fmt: str,
    contest: str | None,
    labels: dict[str, str] | None = None,
    ranked: dict[str, list[Tabulation]] | None = None,
) -> None:
    try:
        sys.stdout.write(render(results, fmt, contest, labels, ranked))
    except ValueError as e:
        raise StoreError(str(e)) from None


@app.command("results")
def results_(
    directory: DirArg, contest: ContestOpt = None, by: ByOpt = None, fmt: FormatOpt = "table"
) -> None:
    """Count every imported ballot against the election definition; ranked-choice contests
    also round by round, with every elimination and transfer, under their rules."""
    store = ElectionDirectory.open(directory)
    try:
        counted, labels = results(store, by and by.replace("-", "_"))
    except ValueError as e:
        raise StoreError(str(e)) from None
    _render(counted, fmt, contest, labels, ranked_choice_results(store, contest))


@app.command("tabulate")
def tabulate_(
    paths: Annotated[list[Path], typer.Argument(help="CVR files, folders or zip archives.")],
    source: Annotated[
        str,
        typer.Option(
            "--source-format", help="dominion, dominion-csv, nist-cvr, generic-csv or ess"
        ),
    ] = "dominion",
    contest: ContestOpt = None,
    by: ByOpt = None,
    fmt: FormatOpt = "table",
    cvr_schema: Annotated[
        Path | None, typer.Option(help="nist-cvr: NIST's JSON Schema to check reports against")
    ] = None,
    hart_key: Annotated[
        Path | None,
        typer.Option(
            help="hart: Hart's public key (<RSAKeyValue>); every CVR must be signed by it"
        ),
    ] = None,
) -> None:
    """Count a CVR export directly, without an election directory."""
    export = open_export(source, paths, cvr_schema, hart_key)
    table = pa.Table.from_batches(list(export.read("")), schema=SCHEMA)
    try:
        counted = tabulate(table, export.contests, by and by.replace("-", "_"))
    except ValueError as e:
        raise StoreError(str(e)) from None
    _render(counted, fmt, contest)


@app.command("batches")
def batches_(
    directory: DirArg,
    county: Annotated[str, typer.Option(help="The county (id or name).")],
) -> None:
    """Compare a county's ballot manifest with the cards in its CVRs, batch by batch."""
    count, problems = manifest_check(ElectionDirectory.open(directory), county)
    for problem in problems:
        typer.echo(f"DIFFERS {problem}")
    if problems:
        raise typer.Exit(1)
    out.print(f"OK: all {count:,} batches of the manifest hold the cards the CVRs say")


@app.command("export-err")
def export_err_(
    directory: DirArg,
    out_file: Annotated[Path, typer.Argument(help="Where to write the JSON report.")],
    status: Annotated[str, typer.Option(help="NIST result status")] = "unofficial-complete",
    issuer: Annotated[str, typer.Option(help="Who issues the report")] = "Canvass",
) -> None:
    """Write the results as NIST SP 1500-100 v2 JSON (election results reporting)."""
    report = export_err(ElectionDirectory.open(directory), status, issuer)
    out_file.write_text(json.dumps(report, indent=1) + "\n")
    out.print(f"Wrote {out_file}")


@app.command("rcv")
def rcv(
    config_file: Annotated[Path, typer.Argument(help="An RCTab contest configuration (JSON).")],
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="Where to write the round-by-round reports.")
    ],
) -> None:
    """Count a ranked-choice contest as an RCTab configuration describes it, and write its
    detailed reports (URCVT JSON and CSV, and per precinct or batch when asked)."""
    config = load_config(config_file)
    ballots = read_ballots(config)
    ask = _ask_operator if sys.stdin.isatty() else None
    passes = tabulate_passes(ballots, config.rules, config.slices, *([ask] if ask else []))
    info = ContestInfo(config.contest, config.jurisdiction, config.office, config.date)
    written = write_reports(config.stem, info, passes, output_dir)
    for tabulation in passes:
        out.print(
            f"{config.contest}: {', '.join(tabulation.winners) or 'no winner'} elected after "
            f"{len(tabulation.rounds)} rounds, {tabulation.ballots} ballots"
        )
        for tie in tabulation.tiebreaks:
            out.print(f"  tie: {tie}")
    out.print(f"Wrote {len(written)} reports to {output_dir}")


def _ask_operator(round_number: int, tied: list[str], winner: bool) -> str:
    """Ask at the terminal who wins (or loses) a tie the rules leave to the officials."""
    out.print(f"Round {round_number}: a tie to be {'elected' if winner else 'eliminated'}:")
    for n, name in enumerate(tied, start=1):
        out.print(f"  {n}. {name}")
    while True:
        answer = typer.prompt(f"Which candidate {'wins' if winner else 'loses'} the tie? (number)")
        if answer.strip().isdigit() and 1 <= int(answer) <= len(tied):
            return tied[int(answer) - 1]
        out.print(f"Give a number from 1 to {len(tied)}.")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the election definition format."""
    sys.stdout.write(json.dumps(definition_schema(), indent=2) + "\n")


@app.command()
def rebuild(directory: DirArg) -> None:
    """Regenerate every table from the log and the artifacts."""
    size = ElectionDirectory.open(directory).rebuild()
    out.print(f"Rebuilt the tables from {size} log entries")


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Where to create it.")] = Path("demo-election"),
    replace: Annotated[bool, typer.Option(help="Delete DIRECTORY first if it exists.")] = False,
    counties: Annotated[int, typer.Option(help="Counties in the demo state.")] = 104,
    precincts: Annotated[int, typer.Option(help="Precincts in the demo state.")] = 2500,
    seed: Annotated[int, typer.Option(help="Seed; the same seed makes the same election.")] = 2026,
    ballots_per_precinct: Annotated[
        int, typer.Option(help="Ballots generated per precinct (0: define only).")
    ] = 60,
) -> None:
    """Build the demo election (the State of Lakeland) and print its signed checkpoint."""
    demo_run = build_demo(directory, replace, counties, precincts, seed, ballots_per_precinct)
    definition = demo_run.definition
    counted, by_county, labels = demo_run.results, demo_run.by_county, demo_run.labels
    if counted is not None and by_county is not None and labels is not None:
        out.print(render(counted, "table", "president", labels), end="")
        names = {j["id"]: j["name"] for j in definition["jurisdictions"]}
        out.print(
            f"\nPresident, by county (first 5 of {len(by_county.groups)}; all: "
            f"canvass results {directory} --contest president --by county):"
        )
        for county, totals in sorted(by_county.groups.items())[:5]:
            president = totals[0]
            leader, votes = max(president.votes.items(), key=lambda kv: kv[1])
            share = 100 * votes / (president.total_votes or 1)
            out.print(
                f"  {names.get(county, county):<28} {labels.get(f'president/{leader}', leader)}"
                f" {votes:,} ({share:.1f}%) of {president.ballots:,} ballots"
            )
        rounds = ranked_choice_results(demo_run.store, "congress-2")
        out.print(render_rounds(rounds, "table", labels), end="")
    for line in demo_run.canvass or []:
        out.print(line)
    kinds = [j["kind"] for j in definition["jurisdictions"]]
    cards = demo_run.results.cards if demo_run.results is not None else 0
    out.print(f"Demo election {definition['election']['name']} in {directory}:")
    out.print(
        f"  {kinds.count('county')} counties, {kinds.count('precinct')} precincts, "
        f"{len(definition['contests'])} contests, {cards:,} ballot cards, "
        f"{demo_run.store.size()} log entries"
    )
    out.print("Signed checkpoint, cosigned by the witness lakeland-gazette:")
    out.print(demo_run.cosigned, end="")


# --- log ----------------------------------------------------------------------------


@log_app.command("show")
def log_show(
    directory: DirArg,
    start: Annotated[int, typer.Option("--from", help="First entry to show.")] = 0,
    limit: Annotated[int, typer.Option(help="Most entries to show.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One canonical entry per line.")] = False,
) -> None:
    """List log entries."""
    store = ElectionDirectory.open(directory)
    if as_json:
        for raw in store.entry_bytes(start, start + limit):
            sys.stdout.write(raw.decode() + "\n")
        return
    for index, entry in store.entries(start, start + limit):
        facts = " ".join(
            f"{k}={v}" for k, v in entry.data.items() if isinstance(v, (str, int)) and k != "vkey"
        )
        files = " ".join(f"{a.name}@sha256:{a.sha256[:16]}" for a in entry.artifacts)
        line = f"{index:>6}  {entry.time}  {entry.type:<18} by {entry.actor}  {facts} {files}"
        typer.echo(line.rstrip())


@log_app.command("checkpoint")
def log_checkpoint(directory: DirArg) -> None:
    """Print the signed checkpoint of the log as it stands (signing one if the log grew)."""
    store = ElectionDirectory.open(directory)
    store.checkpoint()
    out.print(store.cosigned_checkpoint(), end="")


@log_app.command("prove")
def log_prove(
    directory: DirArg,
    entry: Annotated[int | None, typer.Option(help="Prove this entry is in the log.")] = None,
    since: Annotated[
        int | None, typer.Option(help="Prove the log extends its state at this size.")
    ] = None,
    size: Annotated[
        int | None, typer.Option(help="Tree size to prove against (default: all).")
    ] = None,
) -> None:
    """Print an inclusion or consistency proof as JSON (hashes in base64)."""
    store = ElectionDirectory.open(directory)
    size = store.size() if size is None else size
    if (entry is None) == (since is None):
        raise StoreError("give exactly one of --entry N (inclusion) or --since SIZE (consistency)")
    if entry is not None:
        doc = store.inclusion_proof_document(entry, size)
    else:
        assert since is not None
        doc = store.consistency_proof_document(since, size)
    sys.stdout.write(json.dumps(doc, indent=2) + "\n")


@log_app.command("verify")
def log_verify(
    directory: DirArg,
    trusted: Annotated[
        list[Path] | None,
        typer.Option("--trusted", help="A checkpoint you saw earlier; the log must extend it."),
    ] = None,
) -> None:
    """Check entries, tree, checkpoints, cosignatures, artifacts and every table row; and
    the canvass: every signed vote and certificate, each against the ballots it rests on."""
    store = ElectionDirectory.open(directory)
    notes = [p.read_text() for p in trusted or []]
    problems = store.verify(notes)
    if not problems and any(e.type == "certificate.issued" for _, e in store.entries()):
        problems = verify_canvass(store)
    if problems:
        for p in problems:
            typer.echo(f"FAIL {p}", err=True)
        raise typer.Exit(1)
    out.print(
        f"OK: {store.size()} entries, {len(store.checkpoints())} checkpoints, "
        "tree, artifacts and tables agree with the log"
    )


@log_app.command("cosign")
def log_cosign(
    directory: DirArg,
    key: Annotated[Path, typer.Option(help="The witness's private key file.")],
    since: Annotated[
        Path | None, typer.Option(help="The checkpoint this witness cosigned before.")
    ] = None,
    passphrase: Annotated[str | None, typer.Option(envvar=keys.PASSPHRASE_ENV, hidden=True)] = None,
) -> None:
    """Cosign the latest checkpoint as a registered witness."""
    store = ElectionDirectory.open(directory)
    witness = keys.read_key(key, passphrase)
    note = store.cosign(witness, int(time.time()), since.read_text() if since else None)
    out.print(note, end="")


# --- reconciliation, boards, certificates, the state ------------------------------------

KeyOpt = Annotated[
    Path, typer.Option("--key", help="Your own private key file (it stays with you).")
]
PassOpt = Annotated[str | None, typer.Option(envvar=keys.PASSPHRASE_ENV, hidden=True)]


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


# --- audits --------------------------------------------------------------------------


@audit_app.command("sample-size")
def audit_sample_size(
    winner: Annotated[int, typer.Option(help="Votes for the reported winner")],
    loser: Annotated[int, typer.Option(help="Votes for the reported runner-up")],
    ballots: Annotated[int, typer.Option(help="Ballots cast in the contest")],
    risk_limit: Annotated[int, typer.Option(help="Risk limit, percent")] = 10,
) -> None:
    """Initial sample sizes: ballot comparison (Kaplan-Markov, as Arlo) and ballot polling
    (BRAVO's average sample number)."""
    if not 0 < risk_limit < 100 or ballots <= 0 or winner <= loser or winner + loser > ballots:
        raise StoreError(
            "expected 0 < risk limit < 100 and loser < winner with winner + loser <= ballots"
        )
    margin = (winner - loser) / ballots
    comparison = arlo_supersimple_sample_size(risk_limit, margin, ballots)
    polling = bravo_asn(risk_limit / 100, winner / ballots, loser / ballots)
    out.print(f"diluted margin {margin:.4%}")
    out.print(f"ballot comparison (Kaplan-Markov): {comparison:,} ballots")
    out.print(f"ballot polling (BRAVO, average): {min(polling, ballots):,} ballots")


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
    report: Annotated[Path, typer.Argument(help="Arlo's audit report CSV (batch results)")],
    machine: Annotated[Path, typer.Option(help="Georgia's precinct results file")],
) -> None:
    """Compare a full hand count with the machine count, by county and statewide
    (Georgia 2020's layout)."""
    names = {"Donald J. Trump": "trump", "Joseph R. Biden": "biden", "Jo Jorgensen": "jorgensen"}
    hand = read_arlo_report(report.read_bytes(), str(report))
    counted = compare(
        georgia_machine_counts(machine.read_bytes(), names), hand.hand_count, list(names)
    )
    sys.stdout.write(counted.text("Joseph R. Biden", "Donald J. Trump"))


@audit_app.command("open")
def audit_open(
    directory: DirArg,
    name: Annotated[str, typer.Option(help="The audit's name")],
    contest: Annotated[list[str], typer.Option(help="A contest to audit (repeat)")],
    method: Annotated[str, typer.Option(help="comparison or polling")] = "comparison",
    risk_limit: Annotated[int, typer.Option(help="Risk limit, percent")] = 10,
    actor: ActorOpt = None,
) -> None:
    """Open an audit of some contests at a risk limit."""
    store = ElectionDirectory.open(directory)
    index = open_audit(store, name, method, risk_limit, contest, actor or default_actor())
    out.print(f"Audit {name} opened as log entry {index}")


@audit_app.command("commit")
def audit_commit(
    directory: DirArg, name: Annotated[str, typer.Option()], actor: ActorOpt = None
) -> None:
    """Commit the ballot tables and manifests, in a signed checkpoint, before the seed."""
    index, checkpoint = commit(ElectionDirectory.open(directory), name, actor or default_actor())
    out.print(f"Committed the audit frame as log entry {index}; publish this checkpoint now:")
    out.print(checkpoint, end="")


@audit_app.command("seed")
def audit_seed(
    directory: DirArg,
    name: Annotated[str, typer.Option()],
    seed: Annotated[str, typer.Option(help="20 or more digits rolled on public dice")],
    actor: ActorOpt = None,
) -> None:
    """Record the seed (refused before the commitment)."""
    index = record_seed(ElectionDirectory.open(directory), name, seed, actor or default_actor())
    out.print(f"Seed recorded as log entry {index}")


@audit_app.command("round")
def audit_round(
    directory: DirArg,
    name: Annotated[str, typer.Option()],
    size: Annotated[int, typer.Option(help="Draws in all, after this round")],
    actor: ActorOpt = None,
) -> None:
    """Draw a round; prints the retrieval list (county, tabulator, batch, record) as CSV."""
    _, listing = audit_draw_round(
        ElectionDirectory.open(directory), name, size, actor or default_actor()
    )
    sys.stdout.write(listing)


@audit_app.command("interpret")
def audit_interpret(
    directory: DirArg,
    name: Annotated[str, typer.Option()],
    readings: Annotated[
        Path, typer.Argument(help="CSV: ballot, contest, votes (choice ids, |-separated), finding")
    ],
    board: Annotated[str, typer.Option(help="The audit board")],
    actor: ActorOpt = None,
) -> None:
    """Record what the audit board read on the paper."""
    rows = []
    for n, row in enumerate(csv.DictReader(io.StringIO(readings.read_text())), start=2):
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
    store = ElectionDirectory.open(directory)
    interpret(store, name, rows, board, actor or default_actor())
    out.print(f"Recorded {len(rows)} readings by {board}")


@audit_app.command("measure")
def audit_measure(
    directory: DirArg, name: Annotated[str, typer.Option()], actor: ActorOpt = None
) -> None:
    """Measure the risk of every audited contest; say what comes next."""
    store = ElectionDirectory.open(directory)
    measure(store, name, actor or default_actor())
    sys.stdout.write(audit_report(store, name))


@audit_app.command("report")
def audit_report_(directory: DirArg, name: Annotated[str, typer.Option()]) -> None:
    """The audit so far: commitment, seed, rounds, risk measured."""
    sys.stdout.write(audit_report(ElectionDirectory.open(directory), name))


# --- keys ---------------------------------------------------------------------------


@keys_app.command("new")
def keys_new(
    name: Annotated[str, typer.Option(help="Key name: no spaces or '+', e.g. jane.doe@wayne")],
    out_file: Annotated[Path, typer.Option("--out", help="Private key file to write (0600).")],
    encrypt: Annotated[
        bool,
        typer.Option(
            "--passphrase",
            help=f"Encrypt with a passphrase (asked for, or ${keys.PASSPHRASE_ENV}).",
        ),
    ] = False,
) -> None:
    """Make an Ed25519 key for a person; writes FILE and FILE.pub."""
    phrase = None
    if encrypt:
        phrase = os.environ.get(keys.PASSPHRASE_ENV) or typer.prompt(
            "Passphrase", hide_input=True, confirmation_prompt=True
        )
    signer = keys.new_signer(name)
    pub = keys.write_key(signer, out_file, phrase)
    out.print(f"Wrote {out_file} (private, mode 0600) and {pub}")
    out.print(signer.verifier().encode())


@keys_app.command("register")
def keys_register(
    directory: DirArg,
    public_key: Annotated[Path, typer.Argument(help="The .pub file.")],
    role: Annotated[KeyRole, typer.Option(help="What the key's owner does.")],
    actor: ActorOpt = None,
) -> None:
    """Register a public key in the election, with its role."""
    store = ElectionDirectory.open(directory)
    key = keys.read_public_key(public_key)
    index = store.register_key(key, role, actor or default_actor())
    out.print(f"Registered {key.name} as {role.value} in log entry {index}")
    out.print(store.checkpoint(), end="")


@keys_app.command("list")
def keys_list(directory: DirArg) -> None:
    """List the registered keys."""
    table = Table("name", "role", "key", "entry")
    for row in registered_keys(ElectionDirectory.open(directory)):
        table.add_row(row["name"], row["role"], row["vkey"], str(row["entry"]))
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
