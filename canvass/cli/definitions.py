"""``canvass define`` and ``canvass definition draft``: election definitions, written by
hand or drafted from a voting system's own files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from canvass.cli.common import ActorOpt, DirArg, _Typer, actor, out
from canvass.errors import StoreError
from canvass.guard.text import read_file

definition_app = _Typer(
    help="Election definitions drafted from a voting system's files.", no_args_is_help=True
)

FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        help="Draft the definition from an export of this format: dominion, nist-err, "
        "openelections, dominion-csv, nist-cvr, ess, hart, clear-ballot or generic-csv",
    ),
]
StateOpt = Annotated[str, typer.Option(help="The state (postal code), e.g. CA")]
CountyOpt = Annotated[
    str | None,
    typer.Option(help="The county the export is of, when it does not say (one export)"),
]
NameOpt = Annotated[str | None, typer.Option(help="The election's name, when it does not say")]
DateOpt = Annotated[
    str | None, typer.Option(help="The election's date (YYYY-MM-DD), when it does not say")
]
IdOpt = Annotated[str | None, typer.Option("--id", help="The election's id (default: its name)")]


def _counties(paths: list[Path], county: str | None) -> list[tuple[str, list[Path]]]:
    """Each export and its county: ``COUNTY=PATH`` names one county's export, a bare
    ``PATH`` is of ``--county`` (or of the county the export names)."""
    named: dict[str, list[Path]] = {}
    for path in paths:
        text = str(path)
        if "=" in text and not path.exists():
            name, _, rest = text.partition("=")
            named.setdefault(name.strip(), []).append(Path(rest))
        else:
            named.setdefault(county or "", []).append(path)
    return list(named.items())


def _draft(
    fmt: str,
    paths: list[Path],
    county: str | None,
    state: str,
    election_id: str | None,
    name: str | None,
    date: str | None,
) -> tuple[str, list[str]]:
    from canvass.ingest.draft_sources import draft_definition

    return draft_definition(fmt, _counties(paths, county), state, election_id, name, date)


@definition_app.command("draft")
def definition_draft(
    paths: Annotated[
        list[Path],
        typer.Argument(help="The export's files or folder; COUNTY=PATH for each county of several"),
    ],
    fmt: FromOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the draft here (default: print it)")
    ] = None,
    county: CountyOpt = None,
    state: StateOpt = "",
    name: NameOpt = None,
    date: DateOpt = None,
    election_id: IdOpt = None,
) -> None:
    """Draft an election definition from an export's own manifests and contests, for the
    clerk to review and then record with 'canvass define'."""
    if fmt is None:
        raise StoreError("give the export's format with --from (e.g. --from dominion)")
    text, review = _draft(fmt, paths, county, state, election_id, name, date)
    if out_file is None:
        typer.echo(text, nl=False)
        return
    out_file.write_text(text)
    out.print(f"Wrote the drafted definition to {out_file}")
    for note in review:
        out.print(f"  review: {note}")


def define_command(
    directory: DirArg,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="The definition (YAML or JSON); with --from, the export to draft it from"
        ),
    ],
    fmt: FromOpt = None,
    county: CountyOpt = None,
    state: StateOpt = "",
    name: NameOpt = None,
    date: DateOpt = None,
    election_id: IdOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="With --from: also write the draft here")
    ] = None,
    who: ActorOpt = None,
) -> None:
    """Record the election definition (see docs/election-definition.md): a file, or with
    --from FORMAT one drafted from an export's own manifests and contests."""
    from canvass.app import elections

    if fmt is not None:
        text, review = _draft(fmt, files, county, state, election_id, name, date)
        data, file_name = text.encode(), "definition-drafted.yaml"
        if out_file is not None:
            out_file.write_text(text)
        for note in review:
            out.print(f"review: {note}")
    elif len(files) != 1:
        raise StoreError(f"give one definition file; found {len(files)} (drafting needs --from)")
    else:
        data, file_name = read_file(files[0], StoreError), files[0].name
    store = elections.open_election(directory)
    index = elections.define(store, actor(who), data, file_name)
    if index is None:
        out.print(f"{file_name}: unchanged; this definition is already in force")
        return
    out.print(f"{file_name}: recorded as log entry {index}")
    out.print(elections.checkpoint(store), end="")
