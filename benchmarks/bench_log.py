"""Benchmarks of the election log (not tests: nothing here fails on timing).

Measures, on a real election directory (SQLite, WAL, synchronous=FULL):

1. appending entries with durable commits, in transactions of --batch entries, sustained
   over --entries entries, with the process's resident memory sampled as the log grows;
2. the cost of one entry per transaction (one fsync'd commit each);
3. inclusion and consistency proofs at the final size, from the store's node table.

    python benchmarks/bench_log.py --entries 10000000 --dir /tmp/b --out log-10m.json
    python benchmarks/bench_log.py --proofs-only /tmp/b/election   # proofs again, warm cache
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from canvass.log import merkle
from canvass.log.entry import new_entry
from canvass.store.election import ElectionDirectory


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def entry(n: int) -> object:
    return new_entry(
        "ballots.batch_counted",
        "clerk@county-017",
        {"county": "county-017", "batch": f"b{n:08d}", "cards": 250, "tabulator": "icc-2"},
        time="2026-11-05T14:03:11.000000Z",
    )


def time_proofs(store: ElectionDirectory, count: int) -> dict[str, object]:
    """Inclusion and consistency proofs at random positions, checked as they are timed."""
    rng = random.Random(1)
    size = store.size()
    root = store.root()
    timings = []
    for _ in range(count):
        index = rng.randrange(size)
        t = time.perf_counter()
        proof = store.inclusion_proof(index, size)
        timings.append(time.perf_counter() - t)
        if len(timings) <= 50:
            merkle.verify_inclusion(index, size, store.leaf_hash(index), proof, root)
    figures: dict[str, object] = {"inclusion_proof_ms": summary(timings)}
    timings = []
    for _ in range(min(count, 500)):
        old = rng.randrange(1, size)
        t = time.perf_counter()
        store.consistency_proof(old, size)
        timings.append(time.perf_counter() - t)
    figures["consistency_proof_ms"] = summary(timings)
    return figures


def summary(timings: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(timings) * 1e3, 3),
        "p99": round(sorted(timings)[int(len(timings) * 0.99)] * 1e3, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--proofs", type=int, default=2_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the log")
    parser.add_argument("--out", type=Path, default=None, help="write figures as JSON here")
    parser.add_argument(
        "--proofs-only",
        type=Path,
        default=None,
        help="only time proofs, in this existing election directory",
    )
    args = parser.parse_args()
    if args.proofs_only:
        store = ElectionDirectory.open(args.proofs_only)
        figures = {"entries": store.size(), **time_proofs(store, args.proofs)}
        print(json.dumps(figures, indent=2))
        return

    work = args.dir or Path(tempfile.mkdtemp(prefix="canvass-bench-"))
    store = ElectionDirectory.init(work / "election", "bench.example/log", "bench")
    results: dict[str, object] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "entries": args.entries,
        "batch": args.batch,
    }

    # 2. One entry per durable transaction.
    t = time.perf_counter()
    singles = 300
    for n in range(singles):
        with store.writing() as w:
            w.append(entry(n))  # type: ignore[arg-type]
    results["single_entry_commits_per_s"] = round(singles / (time.perf_counter() - t))

    # 1. Sustained appends in batches.
    samples = []
    start = time.perf_counter()
    window_start, window_n = start, 0
    total = singles
    next_report = max(args.entries // 20, args.batch)
    while total < args.entries:
        size = min(args.batch, args.entries - total)
        with store.writing() as w:
            w.append_many([entry(total + i) for i in range(size)])  # type: ignore[misc]
        total += size
        window_n += size
        if total >= next_report or total == args.entries:
            now = time.perf_counter()
            samples.append(
                {
                    "entries": total,
                    "entries_per_s": round(window_n / (now - window_start)),
                    "rss_mib": round(rss_mib(), 1),
                }
            )
            print(samples[-1], flush=True)
            window_start, window_n = now, 0
            next_report += max(args.entries // 20, args.batch)
    elapsed = time.perf_counter() - start
    results["append_entries_per_s"] = round((total - singles) / elapsed)
    results["append_samples"] = samples

    # 3. Proofs at the final size.
    results.update(time_proofs(store, args.proofs))
    results["database_mib"] = round((work / "election" / "canvass.db").stat().st_size / 2**20)
    print(json.dumps(results, indent=2))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
