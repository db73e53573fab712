"""Benchmark: a ranked-choice contest of a million ballots (not a test).

Two contests, each counted from the normalized ballot table as ``canvass rcv`` counts it:

1. **replicated**: a real case of RCTab's suite (default: the 2013 Minneapolis mayoral
   election, 80,101 ballots, 35 candidates plus write-ins, 3 rankings) read from its ES&S
   spreadsheet and repeated until there are at least --ballots ballots;
2. **diverse**: --ballots synthetic ballots ranking up to 6 of 12 candidates with
   Zipf-like preferences, so most ballots differ from one another (the worst case for
   grouping identical ballots).

For each: the seconds to turn the table into ranked ballots (grouped), the seconds to
count every round, the number of distinct ballots, and the process's peak resident memory.

    python benchmarks/bench_rcv.py --ballots 1000000

With --whole DIR it only writes, for measuring the whole ``canvass rcv`` process, RCTab's
case repeated as sources: DIR holds --copies copies of its spreadsheet and a configuration
naming them all (13 copies of Minneapolis: 1,041,313 ballots), and prints the command.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from canvass.ingest.ballots import VOTE, ChoiceInfo, ContestInfo, batches
from canvass.tabulate.rctab import SourceTable, ranked_ballots, read_source
from canvass.tabulate.rctab_config import load_config
from canvass.tabulate.rcv import Rules, tabulate_passes

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "rctab"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def count(label: str, config, source, read: SourceTable) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    ballots = ranked_ballots(config, source, read)
    grouped = time.perf_counter() - start
    start = time.perf_counter()
    passes = tabulate_passes(ballots, config.rules)
    counted = time.perf_counter() - start
    result = passes[-1]
    print(
        f"{label}: {len(read.table):,} ballots, {len(ballots):,} distinct; "
        f"grouped in {grouped:.2f} s, counted {len(result.rounds)} rounds in {counted:.2f} s "
        f"(total {grouped + counted:.2f} s); winner {', '.join(result.winners)}; "
        f"peak RSS {peak_mib():.0f} MiB"
    )


def replicated(case: str, ballots: int) -> None:
    config = load_config(SHARED / case / f"{case}_config.json")
    source = config.sources[0]
    start = time.perf_counter()
    read = read_source(source)
    print(f"{case}: read {len(read.table):,} ballots in {time.perf_counter() - start:.2f} s")
    copies = -(-ballots // len(read.table))
    big = pa.concat_tables([read.table] * copies)
    count(f"{case} x{copies}", config, source, dataclasses.replace(read, table=big))


def diverse(ballots: int, seed: int = 2026) -> None:
    names = [f"Candidate {chr(65 + i)}" for i in range(12)]
    rng = np.random.default_rng(seed)
    weights = 1 / np.arange(1, len(names) + 1)
    weights /= weights.sum()
    contest = ContestInfo("Mayor", 1, 6, [ChoiceInfo(n) for n in names])

    def cards():  # type: ignore[no-untyped-def]
        for n in range(ballots):
            k = int(rng.integers(0, 7))
            order = rng.choice(len(names), size=k, replace=False, p=weights) if k else []
            marks = [(0, int(c), rank, VOTE) for rank, c in enumerate(order, start=1)]
            yield ("c", "", "", str(n), "", "", "", "", "", ""), [0], marks

    start = time.perf_counter()
    table = pa.Table.from_batches(list(batches(cards())))
    print(f"diverse: generated {ballots:,} ballots in {time.perf_counter() - start:.2f} s")
    rules = Rules(candidates=tuple(names), max_skipped_ranks=None)
    config = load_config(SHARED / "precinct_example" / "precinct_example_config.json")
    config = dataclasses.replace(config, names={n: n for n in names}, rules=rules, slices=())
    read = SourceTable(table, [contest], 0, [[n] for n in names])
    count("diverse", config, config.sources[0], read)


def whole(case: str, copies: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = json.loads((SHARED / case / f"{case}_config.json").read_text())
    source = config["cvrFileSources"][0]
    sources = []
    for n in range(1, copies + 1):
        name = f"{case}_{n}{Path(source['filePath']).suffix}"
        shutil.copyfile(SHARED / case / source["filePath"], folder / name)
        sources.append({**source, "filePath": name})
    config["cvrFileSources"] = sources
    path = folder / f"{case}_x{copies}_config.json"
    path.write_text(json.dumps(config, indent=1))
    print(f"canvass rcv count {path} --output-dir {folder / 'out'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--case", default="2013_minneapolis_mayor")
    parser.add_argument("--whole", type=Path, help="write the whole-process case here, only")
    parser.add_argument("--copies", type=int, default=13)
    args = parser.parse_args()
    if args.whole:
        whole(args.case, args.copies, args.whole)
        return
    replicated(args.case, args.ballots)
    diverse(args.ballots)


if __name__ == "__main__":
    main()
