"""Benchmark: verifying the published bundle of a whole state (not a test).

Builds the demo state with --ballots-per-precinct ballots in each of its 2,500 precincts
(2,000 make 5,000,000 cards), canvassed, audited and certified; publishes its bundle;
then runs `canvass verify` on it in a fresh process and reports the time (wall clock, and
the CPU time the process used, which a busy machine does not inflate) and that process's
peak memory.

    python benchmarks/bench_verify.py --ballots-per-precinct 2000 --work /tmp/bench-verify
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from canvass.app.actor import Actor
from canvass.app.publishing import publish
from canvass.demo.build import build_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots-per-precinct", type=int, default=2000)
    parser.add_argument("--precincts", type=int, default=2500)
    parser.add_argument("--counties", type=int, default=104)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--keep", action="store_true", help="Reuse a bundle already built.")
    parser.add_argument(
        "--no-reingest", action="store_true", help="Skip reading the CVR exports again."
    )
    args = parser.parse_args()
    election, bundle = args.work / "election", args.work / "bundle"
    if not (args.keep and (bundle / "manifest.json").is_file()):
        shutil.rmtree(args.work, ignore_errors=True)
        args.work.mkdir(parents=True)
        start = time.perf_counter()
        run = build_demo(
            election, False, args.counties, args.precincts, 2026, args.ballots_per_precinct
        )
        built = time.perf_counter() - start
        cards = run.results.cards if run.results else 0
        start = time.perf_counter()
        done = publish(run.store, Actor("clerk"), bundle)
        published = time.perf_counter() - start
        print(
            f"built the state ({cards:,} cards, {run.store.size():,} log entries) in "
            f"{built:.0f} s; published {done.files:,} files, {done.bytes / 1e9:.2f} GB, "
            f"in {published:.1f} s"
        )
        shutil.rmtree(election / "demo-cvrs")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    verified = subprocess.run(
        [sys.executable, "-m", "canvass", "verify", str(bundle), "--no-trust-store"]
        + (["--no-reingest"] if args.no_reingest else []),
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = after.ru_maxrss / 1024
    print(verified.stdout, end="")
    print(
        f"verified in {elapsed:.1f} s wall, {cpu:.1f} s of CPU, peak memory {peak:,.0f} MiB, "
        f"exit {verified.returncode}"
    )


if __name__ == "__main__":
    main()
