"""Several app servers appending to one election at once: four processes, fifty
transactions each, all started together. The log stays one Merkle tree: no entry lost or
duplicated, each process's entries in its own order, one signed checkpoint per
transaction, each extending the one before, and the projections equal a rebuild."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from canvass.cli import app
from canvass.log import merkle
from canvass.log.note import open_checkpoint
from canvass.store.election import ElectionDirectory
from tests.postgres import Database

SERVER = """
import sys
from pathlib import Path
from canvass.log.entry import new_entry
from canvass.store.election import ElectionDirectory

store = ElectionDirectory.open(Path(sys.argv[1]))
server, appends = sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
for n in range(appends):
    refs = ()
    if n % 10 == 0:
        refs = (store.store_artifact(f"{server} {n}".encode(), f"{server}-{n}.txt"),)
    with store.writing() as w:
        before = w.size
        index = w.append(new_entry("concurrency.test", server, {"n": n}, refs))
        assert index == before
    print(index, flush=True)
store.close()
"""

SERVERS, APPENDS = 4, 50


def test_four_servers_appending_at_once_keep_one_log(database: Database, tmp_path: Path) -> None:
    path = tmp_path / "election"
    database.init(path, "canvass.test/concurrency", "operator").close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    servers = [
        subprocess.Popen(
            [sys.executable, "-c", SERVER, str(path), f"server-{k}", str(APPENDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(SERVERS)
    ]
    for server in servers:
        assert server.stdout is not None and server.stdout.readline() == "ready\n"
    for server in servers:  # all at once
        assert server.stdin is not None
        server.stdin.write("go\n")
        server.stdin.flush()
    reported: dict[str, list[int]] = {}
    for k, server in enumerate(servers):
        out, _ = server.communicate(timeout=300)
        assert server.returncode == 0
        reported[f"server-{k}"] = [int(line) for line in out.split()]

    store = ElectionDirectory.open(path)
    entries = list(store.entries(1))
    assert len(entries) == SERVERS * APPENDS
    # Each index went to exactly one transaction, the one that reported it.
    by_index = {i: (e.actor, e.data["n"]) for i, e in entries}
    for name, indexes in reported.items():
        assert [by_index[i] for i in indexes] == [(name, n) for n in range(APPENDS)]
    assert sorted(i for indexes in reported.values() for i in indexes) == list(
        range(1, 1 + SERVERS * APPENDS)
    )
    # How the servers interleaved is up to the scheduler (a fast machine may let one run its
    # fifty appends as a block), so the test asserts only what must hold under any order.

    # One checkpoint per transaction, each the root of the log at its size, each consistent
    # with the one before (RFC 9162 §2.1.4).
    key = store.operator_key()
    tree = merkle.MerkleTree(store.entry_bytes())
    checkpoints = [open_checkpoint(note, key) for note in store.checkpoints()]
    assert [c.size for c in checkpoints] == list(range(1, 2 + SERVERS * APPENDS))
    for before, after in itertools.pairwise(checkpoints):
        assert after.root == tree.root(after.size)
        proof = store.consistency_proof(before.size, after.size)
        merkle.verify_consistency(before.size, after.size, proof, before.root, after.root)
    assert store.verify() == []
    store.close()
    result = CliRunner().invoke(app, ["log", "verify", str(path)])
    assert result.exit_code == 0, result.stderr
