"""Crash safety: kill a process appending to the log at random moments, fifty times, on
SQLite and on PostgreSQL (where the server rolls back the killed session's transaction
and releases its lock).

After every kill the directory must verify, and the log must hold exactly the entries whose
transactions committed: every entry the writer reported as committed, in order, and at
most the one more whose commit finished before the report could be printed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from canvass.cli import app
from canvass.store.election import ElectionDirectory
from tests.postgres import Database

WRITER = """
import sys
from pathlib import Path
from canvass.log.entry import new_entry
from canvass.store.election import ElectionDirectory

store = ElectionDirectory.open(Path(sys.argv[1]))
n = store.size() - 1
print("ready", flush=True)
while True:
    refs = ()
    if n % 4 == 0:
        refs = (store.store_artifact(f"artifact {n}".encode() * 100, f"file-{n}.txt"),)
    with store.writing() as w:
        w.append(new_entry("crash.test", "tester", {"n": n}, refs))
    print(n, flush=True)
    n += 1
"""

KILLS = {"sqlite": 50, "postgresql": int(os.environ.get("CANVASS_POSTGRES_KILLS", "20"))}
"""Kills per database; PostgreSQL's slice is smaller, as its writers start more slowly
(``CANVASS_POSTGRES_KILLS=1000`` for the long run)."""


@pytest.mark.slow
def test_sigkill_while_appending(tmp_path: Path, database: Database) -> None:
    path = tmp_path / "election"
    database.init(path, "canvass.test/crash", "tester").close()
    rng = random.Random(20261122)
    committed = 0  # entries after the opening one known to be committed
    for attempt in range(KILLS[database.kind]):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        # One commit first, however busy the machine: every attempt kills a writer at work.
        first = child.stdout.readline()
        time.sleep(rng.uniform(0, 0.08))
        child.send_signal(signal.SIGKILL)
        child.wait()
        reported = [int(line) for line in [first, *child.stdout.read().split()]]
        child.stdout.close()
        if reported:
            assert reported == list(range(committed, reported[-1] + 1)), attempt
            committed = reported[-1] + 1

        store = ElectionDirectory.open(path)
        problems = store.verify()
        assert problems == [], (attempt, problems)
        numbers = [e.data["n"] for _, e in store.entries(1)]
        assert numbers == list(range(len(numbers))), attempt
        assert len(numbers) in (committed, committed + 1), (attempt, len(numbers), committed)
        committed = len(numbers)
        # Each transaction signs its checkpoint as it commits: it covers the whole log.
        assert store.checkpoint().split("\n")[1] == str(store.size())
        store.close()
    result = CliRunner().invoke(app, ["log", "verify", str(path)])
    assert result.exit_code == 0, result.stderr
