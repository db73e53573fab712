"""``python -m fuzz``: fuzz each target for a while and print what happened.

    python -m fuzz --seconds 600                  every target, ten minutes each
    python -m fuzz --seconds 60 --target dominion --target ess
    python -m fuzz --seconds 600 --out figures.json --crashes fuzz-crashes/

Each target runs in batches of cases, each batch under its own Hypothesis seed (``--seed``
is the first), until its time is up. Crashes are shrunk, written under ``--crashes`` with
their traceback, and counted by class; the exit status is 1 when any target crashed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

from fuzz.engine import Tally, fuzz, save
from fuzz.targets import TARGETS

BATCH = 200


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="time per target")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="repeatable")
    parser.add_argument("--seed", type=int, default=1, help="the first batch's seed")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args(argv)
    figures = {}
    crashed = False
    for name in args.target or sorted(TARGETS):
        target = TARGETS[name]
        started = time.monotonic()
        deadline = started + args.seconds
        total = Tally()
        batch_seed = args.seed
        while time.monotonic() < deadline:
            tally = fuzz(target, BATCH, batch_seed, deadline)
            batch_seed += 1
            total.cases += tally.cases
            total.accepted += tally.accepted
            total.named += tally.named
            total.errors.update(tally.errors)
            for crash in tally.crashes:
                total.cases += 1
                total.crashes.append(crash)
                where = save(crash, args.crashes)
                print(f"{name}: CRASH {crash.kind} -> {where}", flush=True)
            if tally.cases == 0 and not tally.crashes:
                break  # no seeds (the shared data is absent)
        elapsed = time.monotonic() - started
        kinds = sorted({c.kind for c in total.crashes})
        figures[name] = {
            "seconds": round(elapsed),
            "cases": total.cases,
            "accepted": total.accepted,
            "named_errors": total.named,
            "crashes": len(total.crashes),
            "crash_classes": kinds,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            "top_errors": total.errors.most_common(5),
        }
        crashed |= bool(total.crashes)
        print(
            f"{name}: {total.cases} cases in {elapsed:.0f} s: {total.accepted} accepted, "
            f"{total.named} named errors, {len(total.crashes)} crashes "
            f"({len(kinds)} classes)",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
