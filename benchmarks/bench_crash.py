"""SIGKILL an app server's writer at random moments, --kills times, on SQLite or
PostgreSQL, and check after every kill that nothing committed is lost and nothing is
half-written (not a test: the test suite's ``tests/test_crash.py`` runs a smaller slice of
the same drill; nothing here fails on timing).

Each round forks a writer process that appends entries (one per durable transaction,
every fourth naming a new artifact) and reports each entry's number once its transaction
has committed; after its first commit it is killed at a random moment within --window
seconds. Then the election is opened afresh and checked: the log verifies (entries,
tree, checkpoints, artifacts, and every projection equal to a rebuild), it holds every
entry the writer reported, in order, and at most one more (a commit that finished as the
process died, before it could report it), and its latest signed checkpoint covers the
whole log. Any failure stops the run and is printed.

    python benchmarks/bench_crash.py --kills 1000 --out crash.json
    python benchmarks/bench_crash.py --kills 200 --database sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import IO, Any

from canvass.log.entry import ArtifactRef, new_entry
from canvass.store.election import ElectionDirectory


def writer(path: Path, out: int, go: int) -> None:
    """The writer (a forked child): open the election, wait to be told to go, then append
    entries, one per durable transaction, every fourth naming a new artifact, writing
    each entry's number to ``out`` once its transaction has committed (one short line: a
    kill never leaves half of one)."""
    try:
        store = ElectionDirectory.open(path)
        n = store.size() - 1
        os.read(go, 1)
        while True:
            refs: tuple[ArtifactRef, ...] = ()
            if n % 4 == 0:
                refs = (store.store_artifact(f"artifact {n}".encode() * 100, f"file-{n}.txt"),)
            with store.writing() as w:
                w.append(new_entry("crash.test", "tester", {"n": n}, refs))
            os.write(out, f"{n}\n".encode())
            n += 1
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(1)


def spawn(path: Path) -> tuple[int, IO[str], int]:
    """Fork a writer: its process id, the lines it reports, the pipe that tells it to go.
    Forked from this process, which holds no connection then (as a server's process
    manager forks its workers), so a kill costs no Python start-up."""
    read, out = os.pipe()
    go_read, go = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.close(go)
        writer(path, out, go_read)
    os.close(out)
    os.close(go_read)
    return pid, os.fdopen(read, "r"), go


def drill(path: Path, kills: int, window: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    committed = 0  # entries after the opening one known to be committed
    unreported = 0  # kills after which the log held one commit more than was reported
    started = time.monotonic()
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    done = 0
    for attempt in range(kills):
        pid, lines, go = spawn(path)
        os.write(go, b"g")
        first = lines.readline()
        if not first:
            raise SystemExit(f"kill {attempt}: the writer stopped before its first commit")
        time.sleep(rng.uniform(0, window))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        reported = [int(line) for line in [first, *lines.read().split()]]
        lines.close()
        os.close(go)
        if reported != list(range(committed, committed + len(reported))):
            raise SystemExit(f"kill {attempt}: reported {reported[:5]}…, expected from {committed}")
        committed += len(reported)

        store = ElectionDirectory.open(path)  # places what the killed writer staged
        try:
            problems = store.verify()
            if problems:
                raise SystemExit(f"kill {attempt}: the log does not verify: {problems[:3]}")
            numbers = [e.data["n"] for _, e in store.entries(1)]
            if numbers != list(range(len(numbers))):
                raise SystemExit(f"kill {attempt}: the log's entries are not 0…{len(numbers)}")
            if len(numbers) not in (committed, committed + 1):
                raise SystemExit(
                    f"kill {attempt}: {len(numbers)} entries, {committed} reported committed"
                )
            unreported += len(numbers) - committed
            committed = len(numbers)
            if store.checkpoint().split("\n")[1] != str(store.size()):
                raise SystemExit(f"kill {attempt}: the latest checkpoint is not the log's size")
        finally:
            store.close()  # no connection of this process's is left for the next fork
        done = attempt + 1
        if done % 50 == 0:
            print(f"{done} kills, {committed} entries committed", file=sys.stderr)
        if stopping:  # told to stop (SIGTERM): report what was done
            break
    return {
        "kills": done,
        "entries_committed": committed,
        "kills_with_a_commit_unreported": unreported,
        "log_verified_after_every_kill": True,
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument(
        "--database",
        default=os.environ.get("CANVASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1/test"),
        help="a PostgreSQL URL (the drill uses a schema of its own), or 'sqlite'",
    )
    parser.add_argument("--window", type=float, default=0.08, help="seconds; see above")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    on_sqlite = args.database == "sqlite"
    schema = None if on_sqlite else f"crash_{secrets.token_hex(4)}"
    url = None if on_sqlite else args.database
    results: dict[str, Any] = {
        "database": "sqlite" if on_sqlite else "postgresql",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "election"
        ElectionDirectory.init(path, "bench.invalid/crash", "tester", url, schema).close()
        try:
            results |= drill(path, args.kills, args.window, args.seed)
        finally:
            if not on_sqlite:
                ElectionDirectory.remove(path)
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
