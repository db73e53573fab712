"""``canvass rcv``: ranked-choice contests counted from an RCTab configuration, and ties the
rules leave to the officials decided by them and recorded."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from canvass.cli.common import ActorOpt, DirArg, _Typer, actor, out


class _CountByDefault(TyperGroup):
    """``canvass rcv CONFIG --output-dir DIR`` counts, as ``canvass rcv count`` does: the
    command line kept from before ``rcv`` had commands of its own."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["count", *args]
        return super().parse_args(ctx, args)


rcv_app = _Typer(
    help="Ranked-choice contests: count an RCTab configuration; record the officials' "
    "decision of a tie.",
    no_args_is_help=True,
    cls=_CountByDefault,
)


@rcv_app.command("count")
def rcv_count(
    config_file: Annotated[Path, typer.Argument(help="An RCTab contest configuration (JSON).")],
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="Where to write the round-by-round reports.")
    ],
) -> None:
    """Count a ranked-choice contest as an RCTab configuration describes it, and write its
    detailed reports (URCVT JSON and CSV, and per precinct or batch when asked)."""
    import pyarrow as pa

    # Ballots are read and counted a block at a time: Arrow's default allocator (mimalloc)
    # keeps what each block freed, the system's hands it back (160 MB at the peak instead
    # of 180 MB for a million ballots from a CSV, and less system time).
    pa.set_memory_pool(pa.system_memory_pool())
    from canvass.tabulate.rctab import read_ballots
    from canvass.tabulate.rctab_config import load_config
    from canvass.tabulate.rcv import tabulate_passes
    from canvass.tabulate.urcvt import write_reports

    config = load_config(config_file)
    ballots = read_ballots(config)
    ask = _ask_operator if sys.stdin.isatty() else None
    passes = tabulate_passes(ballots, config.rules, config.slices, *([ask] if ask else []))
    info = config.header
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


@rcv_app.command("resolve-tie")
def rcv_resolve_tie(
    directory: DirArg,
    contest: Annotated[str, typer.Option(help="The contest (id) whose count stops at a tie")],
    round_number: Annotated[int, typer.Option("--round", help="The round of the tie")],
    chosen: Annotated[
        str,
        typer.Option(help="The candidate (id) the officials chose: elected, or eliminated"),
    ],
    reason: Annotated[str, typer.Option(help="How they chose (a public drawing of lots, …)")] = "",
    who: ActorOpt = None,
) -> None:
    """Record the officials' decision of a tie the contest's rules leave to them; the count,
    the results, publishing and the verifier then follow it."""
    from canvass.app.elections import open_election
    from canvass.app.ties import resolve_tie

    index = resolve_tie(open_election(directory), actor(who), contest, round_number, chosen, reason)
    out.print(
        f"Recorded the decision of the tie in {contest}, round {round_number}, as log entry {index}"
    )
