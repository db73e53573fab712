"""The ``canvass`` command line: a thin shell over the library.

Every command calls the library and turns a :class:`~canvass.errors.CanvassError` into one
line on standard error and exit status 1; nothing the user can cause prints a traceback.
"""

from __future__ import annotations

import copy
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.main import get_command_name
from typer.models import TyperInfo

from canvass.cli.audit import audit_app
from canvass.cli.canvass import board_app, certify_app, reconcile_app, state_app
from canvass.cli.common import ActorOpt, DirArg, _Typer, actor, out
from canvass.cli.definitions import define_command, definition_app
from canvass.cli.log import keys_app, log_app
from canvass.cli.publish import publish_command, serve_command, verify_command
from canvass.cli.rcv import rcv_app
from canvass.domain.model import definition_schema
from canvass.errors import StoreError

if TYPE_CHECKING:
    from canvass.tabulate.election import RankedChoice
    from canvass.tabulate.plurality import Results

app = _Typer(
    help="Canvass: run the canvass on a public, append-only, signed election log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(log_app, name="log")
app.add_typer(keys_app, name="keys")
app.add_typer(reconcile_app, name="reconcile")
app.add_typer(board_app, name="board")
app.add_typer(certify_app, name="certify")
app.add_typer(state_app, name="state")
app.add_typer(audit_app, name="audit")
app.add_typer(definition_app, name="definition")
app.add_typer(rcv_app, name="rcv")
app.command("define")(define_command)
app.command("publish")(publish_command)
app.command("verify")(verify_command)
app.command("serve")(serve_command)


def _version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"canvass {version('canvass')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Canvass: run the canvass on a public, append-only, signed election log."""


@app.command()
def init(
    directory: DirArg,
    origin: Annotated[
        str | None, typer.Option(help="The log's origin line, e.g. results.sos.example.gov/2026")
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            envvar="CANVASS_DATABASE",
            help="Keep the log in this PostgreSQL database (postgresql://host/db) "
            "instead of DIR/canvass.db; DIR keeps the artifacts and the operator's key.",
        ),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(help="The PostgreSQL schema for this election (default: from DIR's name)."),
    ] = None,
    who: ActorOpt = None,
) -> None:
    """Create an election directory, its log operator key and its log."""
    from canvass.app import elections

    store = elections.init(directory, actor(who), origin, database, schema)
    out.print(f"Created election directory {directory}")
    out.print(f"Log operator key: {elections.operator_key(store).encode()}")
    out.print(elections.checkpoint(store), end="")
    store.close()


@app.command()
def migrate(directory: DirArg) -> None:
    """Bring an election directory's database schema up to this version of Canvass."""
    from canvass.app import elections

    before, after = elections.migrate(directory)
    if before == after:
        out.print(f"{directory}: the schema is up to date (revision {after})")
    else:
        out.print(f"{directory}: migrated the schema from revision {before} to {after}")


AccountsOpt = Annotated[
    str | None,
    typer.Option(
        envvar="CANVASS_ACCOUNTS_URL",
        help="The officials' accounts database (default: beside the election, as the "
        "officials' application keeps them).",
    ),
]


@app.command()
def backup(
    directory: DirArg,
    folder: Annotated[Path, typer.Argument(help="A new folder for the backup.")],
    accounts: AccountsOpt = None,
) -> None:
    """Back up an election: its log, artifacts and operator key, from one snapshot, and
    the officials' accounts kept beside it."""
    from canvass.app import elections

    store = elections.open_election(directory)
    try:
        made = elections.backup(store, folder, accounts)
    finally:
        store.close()
    out.print(
        f"Backed up {directory} to {folder}: {made.entries} entries, {made.checkpoints} "
        f"checkpoints, {made.artifacts} artifacts, {made.accounts} accounts; root {made.root}"
    )


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A folder written by 'canvass backup'.")],
    directory: Annotated[Path, typer.Argument(help="A new election directory.")],
    database: Annotated[
        str | None,
        typer.Option(
            envvar="CANVASS_DATABASE",
            help="Restore the log into this PostgreSQL database (postgresql://host/db).",
        ),
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="The PostgreSQL schema (default: from DIR's name).")
    ] = None,
    accounts: AccountsOpt = None,
) -> None:
    """Restore a backup into a new election directory, rebuilt from its log and verified,
    with the officials' accounts it holds."""
    from canvass.app import elections

    made = elections.restore(source, directory, database, schema, accounts)
    out.print(
        f"Restored {source} to {directory}: {made.entries} entries, {made.checkpoints} "
        f"checkpoints, {made.artifacts} artifacts, {made.accounts} accounts; root {made.root}; "
        "it verifies"
    )


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
            "precinct-results, nist-err, openelections or ballot-manifest",
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
    skip_contest: Annotated[
        list[str] | None,
        typer.Option(
            help="A contest of the export the definition leaves out, to leave out of the "
            "import (repeat for several); the import records it"
        ),
    ] = None,
    cards_per_ballot: Annotated[
        int | None,
        typer.Option(
            help="Cards each ballot has, for a format that does not say which cards form a "
            "ballot (reconciliation counts ballots)"
        ),
    ] = None,
    contest: Annotated[
        list[str] | None,
        typer.Option(
            help="precinct-results: read only this contest's columns (repeat for several)"
        ),
    ] = None,
    choice_column: Annotated[
        list[str] | None,
        typer.Option(
            help="precinct-results: CHOICE=COLUMN, a column holding a choice's total votes "
            "(vote type total); repeat for several"
        ),
    ] = None,
    county_totals: Annotated[
        bool,
        typer.Option(help="precinct-results: each row is a county's total (no precinct column)"),
    ] = False,
    where: Annotated[
        str | None,
        typer.Option(help="precinct-results: COLUMN=VALUE, read only the rows with that value"),
    ] = None,
    who: ActorOpt = None,
) -> None:
    """Import a county's cast vote records (all or nothing; the same bytes twice: no-op)."""
    from canvass.app import elections
    from canvass.app.imports import import_ballots
    from canvass.cli.progress import progress

    with progress("Reading the export", "cards") as advance:
        done = import_ballots(
            elections.open_election(directory),
            actor(who),
            county,
            fmt,
            paths,
            county_column,
            precinct_column,
            cvr_schema,
            hart_key,
            replace,
            skip_contest or [],
            cards_per_ballot,
            contest or [],
            dict(_pair(c, "--choice-column", "CHOICE=COLUMN") for c in choice_column or []),
            county_totals,
            _pair(where, "--where", "COLUMN=VALUE") if where is not None else None,
            advance,
        )
    if done is None:
        out.print("unchanged: these files were already imported for this county")
    elif done.kind == "results":
        n = done.data["counties"]
        out.print(
            f"Imported {done.data['votes']:,} votes from {n} "
            f"{'county' if n == 1 else 'counties'} as log entry {done.entry}"
        )
        empty = done.data.get("empty_rows") or []
        if empty:
            out.print(
                f"  {len(empty)} rows hold no county and no count, counted nowhere: "
                f"{', '.join(empty)}"
            )
        if done.data.get("rows_passed_over"):
            out.print(
                f"  {done.data['rows_passed_over']:,} rows passed over (not {done.data['where']})"
            )
        for name, votes in (done.data.get("skipped_contest_votes") or {}).items():
            out.print(f"  left out: {name} ({votes:,} votes), as --skip-contest asked")
    else:
        ballots = done.data.get("ballots")
        out.print(
            f"Imported {done.data['cards']:,} cards"
            + (f" ({ballots:,} ballots)" if ballots is not None else "")
            + f" for {done.county} as log entry {done.entry}"
        )
    if done is not None and done.data.get("replaces"):
        replaced = ", ".join(str(e) for e in done.data["replaces"])
        out.print(f"  replaces the imports of log entries {replaced}, no longer counted")
    if done is not None and done.kind == "ballots":
        for name, cards in (done.data.get("skipped_contests") or {}).items():
            out.print(f"  left out: {name} ({cards:,} cards), as --skip-contest asked")
        for note in done.data.get("notes") or []:
            out.print(f"  note: {note}")


def _pair(text: str, option: str, form: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise StoreError(f"{option}: expected {form}; found {text!r}")
    return name.strip(), value.strip()


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
    ranked: RankedChoice | None = None,
    notes: dict[str, dict[str, Any]] | None = None,
) -> None:
    from canvass.tabulate.render import render

    try:
        sys.stdout.write(render(results, fmt, contest, labels, ranked, notes))
    except ValueError as e:
        raise StoreError(str(e)) from None


@app.command("results")
def results_(
    directory: DirArg, contest: ContestOpt = None, by: ByOpt = None, fmt: FormatOpt = "table"
) -> None:
    """Count every imported ballot against the election definition; ranked-choice contests
    also round by round, with every elimination and transfer, under their rules."""
    from canvass.app.results import import_notes, results_and_rounds
    from canvass.app.snapshot import open_to_read  # not the workflows that change it

    store = open_to_read(directory)
    with store.reading() as view:  # the counts and their notes from one snapshot
        try:
            counted, labels, rounds = results_and_rounds(view, by and by.replace("-", "_"), contest)
        except ValueError as e:
            raise StoreError(str(e)) from None
        notes = import_notes(view)
    _render(counted, fmt, contest, labels, rounds, notes)


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
    import pyarrow as pa

    from canvass.ingest import open_export
    from canvass.ingest.ballots import SCHEMA
    from canvass.tabulate.plurality import tabulate

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
    from canvass.app import elections
    from canvass.app.results import manifest_check

    count, problems = manifest_check(elections.open_election(directory), county)
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
    from canvass.app import elections
    from canvass.app.results import export_err

    report = export_err(elections.open_election(directory), status, issuer)
    out_file.write_text(json.dumps(report, indent=1) + "\n")
    out.print(f"Wrote {out_file}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the election definition format."""
    sys.stdout.write(json.dumps(definition_schema(), indent=2) + "\n")


@app.command()
def rebuild(directory: DirArg) -> None:
    """Regenerate every table from the log and the artifacts."""
    from canvass.app import elections

    size = elections.rebuild(elections.open_election(directory))
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
    tamper: Annotated[
        bool,
        typer.Option(
            help="Then run the tamper drill: change the count every way there is, on copies "
            "of the published bundle, and show that 'canvass verify' names each."
        ),
    ] = False,
    database: Annotated[
        str | None,
        typer.Option(
            envvar="CANVASS_DATABASE",
            help="Keep the demo's log in this PostgreSQL database (postgresql://host/db) "
            "instead of DIRECTORY/canvass.db.",
        ),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(help="The PostgreSQL schema for the demo (default: from DIRECTORY's name)."),
    ] = None,
) -> None:
    """Build the demo election (the State of Lakeland), publish its results bundle to
    DIRECTORY/public and print its signed checkpoint."""
    from canvass.app import elections
    from canvass.app.publishing import publish
    from canvass.app.results import ranked_choice_results
    from canvass.cli.progress import progress
    from canvass.demo.build import build_demo
    from canvass.tabulate.render import render, render_rounds

    if tamper and database is not None:
        raise StoreError(
            "the tamper drill changes copies of the election's SQLite file; "
            "run it without --database"
        )
    with progress("Generating and importing each county's CVRs", "counties", counties) as advance:
        demo_run = build_demo(
            directory,
            replace,
            counties,
            precincts,
            seed,
            ballots_per_precinct,
            progress=advance,
            database=database,
            schema=schema,
        )
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
        f"{elections.size(demo_run.store)} log entries"
    )
    out.print("Signed checkpoint, cosigned by the witness lakeland-gazette:")
    out.print(demo_run.cosigned, end="")
    if ballots_per_precinct > 0:
        with progress("Writing the bundle", "files") as advance:
            bundle = publish(demo_run.store, actor(None), directory / "public", progress=advance)
        out.print(
            f"Published the results bundle: {bundle.files:,} files in {bundle.path} "
            f"(canvass verify {bundle.path}; canvass serve {bundle.path})"
        )
    if tamper:
        _tamper_drill(directory)


def _tamper_drill(directory: Path) -> None:
    from canvass.demo.drill import run_drill
    from canvass.guard.unique import printable

    work = directory / "tamper-drill"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    out.print(f"\nThe tamper drill (copies in {work}):")
    missed = 0
    for outcome in run_drill(directory, directory / "public", work):
        expect = outcome.tamper.expect
        reasons = sorted(outcome.reasons(), key=lambda r: expect not in r)
        mark = "caught" if outcome.caught else "MISSED"
        missed += not outcome.caught
        out.print(f"  {mark:<6} {outcome.tamper.name}: {outcome.tamper.what}")
        for reason in reasons[:3]:
            out.print(f"           {printable(reason)[:160]}")
        if len(reasons) > 3:
            out.print(f"           … and {len(reasons) - 3} more")
    if missed:
        raise StoreError(f"the verifier missed {missed} tamper(s)")
    out.print("The verifier caught every one and named it.")


def only(args: Sequence[str]) -> typer.Typer:
    """The command line as ``args`` use it: when they name one of its commands or groups,
    the same ``canvass`` with only that one, so that Typer builds one command (or group),
    not all eighty (a tenth of a second, docs/benchmarks.md); when they name none
    (``--help``, ``--version``, nothing), every group without its commands, which its
    help does not list; a name it does not know, the whole of it. What each command says
    and does is the same either way (``tests/test_startup.py``)."""
    name = next((a for a in args if not a.startswith("-")), None)
    if name is None:
        shell = copy.copy(app)
        shell.registered_groups = [_without_commands(g) for g in app.registered_groups]
        return shell
    commands = [
        c
        for c in app.registered_commands
        if c.callback is not None and (c.name or get_command_name(c.callback.__name__)) == name
    ]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one


def _without_commands(group: TyperInfo) -> TyperInfo:
    """``group`` as the help of the whole command line shows it: its name and help."""
    assert group.typer_instance is not None
    shell = copy.copy(group)
    shell.typer_instance = copy.copy(group.typer_instance)
    shell.typer_instance.registered_commands = []
    shell.typer_instance.registered_groups = []
    return shell


def main() -> None:
    only(sys.argv[1:])()


if __name__ == "__main__":
    main()
