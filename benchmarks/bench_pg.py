"""Log appends on SQLite and PostgreSQL, alone and with several writers (not a test:
nothing here fails on timing).

For each database: appends with one entry per durable transaction (each also signing
its checkpoint), appends in transactions of --batch entries, and --writers processes
appending one entry per transaction at once to one election (as several app servers
do), after which the log is verified.

    python benchmarks/bench_pg.py --out pg.json
    python benchmarks/bench_pg.py --postgres postgresql://canvass@db.internal/bench

PostgreSQL's figures are with durable commits (``synchronous_commit=on``, the default).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from canvass.log.entry import new_entry
from canvass.store.election import ElectionDirectory


def entry(writer: str, n: int) -> Any:
    return new_entry(
        "ballots.batch_counted",
        writer,
        {"county": "county-017", "batch": f"b{n:08d}", "cards": 250, "tabulator": "icc-2"},
        time="2026-11-05T14:03:11.000000Z",
    )


def _write(path: str, writer: str, count: int, start: Any, done: Any) -> None:
    store = ElectionDirectory.open(Path(path))
    start.wait()
    for n in range(count):
        with store.writing() as w:
            w.append(entry(writer, n))
    store.close()
    done.put(writer)


def measure(path: Path, database: str | None, schema: str | None, args: Any) -> dict[str, Any]:
    store = ElectionDirectory.init(path, "bench.invalid/pg", "bench", database, schema)
    figures: dict[str, Any] = {}

    t = time.perf_counter()
    for n in range(args.single):
        with store.writing() as w:
            w.append(entry("single", n))
    figures["one_entry_per_commit_per_s"] = round(args.single / (time.perf_counter() - t), 1)

    t = time.perf_counter()
    for b in range(args.batches):
        with store.writing() as w:
            w.append_many([entry("batch", b * args.batch + i) for i in range(args.batch)])
    elapsed = time.perf_counter() - t
    figures[f"entries_per_s_in_commits_of_{args.batch}"] = round(
        args.batches * args.batch / elapsed, 1
    )
    store.close()

    context = multiprocessing.get_context("spawn")
    start, done = context.Event(), context.Queue()
    writers = [
        context.Process(target=_write, args=(str(path), f"w{k}", args.each, start, done))
        for k in range(args.writers)
    ]
    for p in writers:
        p.start()
    time.sleep(3)  # every writer opened
    t = time.perf_counter()
    start.set()
    for _ in writers:
        done.get(timeout=600)
    elapsed = time.perf_counter() - t
    for p in writers:
        p.join()
    figures[f"{args.writers}_writers_commits_per_s"] = round(args.writers * args.each / elapsed, 1)

    store = ElectionDirectory.open(path)
    expected = 1 + args.single + args.batches * args.batch + args.writers * args.each
    figures["log_size"] = store.size()
    figures["log_verifies"] = store.size() == expected and store.verify_log() == []
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CANVASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1/test"),
    )
    parser.add_argument("--single", type=int, default=500)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--each", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import psycopg

    schema = f"bench_{secrets.token_hex(4)}"
    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"] = measure(Path(tmp) / "sqlite", None, None, args)
        try:
            results["postgresql"] = measure(Path(tmp) / "pg", args.postgres, schema, args)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    with psycopg.connect(args.postgres) as conn:
        for name in ("server_version", "synchronous_commit"):
            row = conn.execute(f"SHOW {name}").fetchone()
            results[f"postgresql_{name}"] = row[0] if row else None
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
