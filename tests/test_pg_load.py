"""Many officials at once over HTTP: two app servers (separate processes, as on two
machines) on one election, clerks recording explanations and importing the poll book,
board members making and voting on motions and audit board members signing readings, all
at once through both; and PostgreSQL crashed and shut down under that load. Nothing
acknowledged is lost or doubled, the log verifies, every checkpoint extends the last."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from canvass.app.elections import UNAVAILABLE
from tests.load import (
    UNITS,
    Work,
    Writes,
    app_servers,
    check_log,
    officials_at_work,
    prepare,
    signed_in,
    start_server,
    wait_ready,
)
from tests.officials import WAYNE_BOARD, free_port
from tests.postgres import Database, private_server

CLERKS = 2
"""With the county board's four members and one audit board's two: eight clients."""
WORK = Work(explanations=12, import_every=4, motions=3, readings=10)


def test_two_servers_eight_officials_keep_one_log(database: Database, tmp_path: Path) -> None:
    """Eight officials at once through two app servers, every kind of state change:
    explanations and poll-book imports (two clerks), motions and votes signed with the
    members' own keys (the county board's four), readings signed by both members of an
    audit board (two). Every answer is a 200; every change acknowledged is in the log
    once, where its answer said; the board's decisions are the ones its votes make."""
    prepared = prepare(
        tmp_path,
        CLERKS,
        database=database.url,
        schema=database.schema,
        audit_boards=1,
        drawn=2 * WORK.readings,
    )
    assert len(prepared.to_read["wayne/1"]) >= WORK.readings  # drawn with replacement
    writes = Writes()
    with app_servers(prepared.directory, 2, tmp_path / "uploads") as bases:
        officials_at_work(prepared, bases, writes, CLERKS, WORK)
    assert writes.errors == []
    refused = [(kind, status) for kind, status in writes.statuses if status != 200]
    assert refused == []
    assert writes.failed == {} and writes.imports_failed == 0
    assert writes.motions_failed == {} and writes.votes_failed == {}
    motions = len(WAYNE_BOARD) * WORK.motions
    readings = WORK.readings
    assert len(writes.motions) == motions
    assert len(writes.votes) == motions * len(WAYNE_BOARD)  # every member on every motion
    assert len(writes.readings) == readings
    assert sorted(Counter(writes.reading_signatures.values()).items()) == [
        ("recorded", readings),
        ("waiting", readings),
    ]
    found = check_log(prepared.directory, writes, prepared)
    assert found == {
        "explanations": CLERKS * WORK.explanations,
        "imports": CLERKS * (WORK.explanations // WORK.import_every),
        "motions": motions,
        "votes": motions * len(WAYNE_BOARD),
        "decisions": motions,  # each decided once all four have voted, if not before
        "readings": readings,
    }


KILLS = 6


@pytest.mark.slow
def test_an_app_server_killed_during_writes(database: Database, tmp_path: Path) -> None:
    """One of two app servers SIGKILLed at a random moment while clerks write through
    both, then started again, six times: after each kill the log verifies, every write
    acknowledged is in it once, a write whose answer the kill took is in it at most once,
    nothing else; the other server goes on answering. (``benchmarks/bench_crash.py`` kills
    a writer a thousand times; this is the same over HTTP, with the server's own process.)"""
    prepared = prepare(tmp_path, 4, database=database.url, schema=database.schema)
    writes, rng, port = Writes(), random.Random(20261203), free_port()
    victim_base = f"http://127.0.0.1:{port}"
    uploads = tmp_path / "uploads"
    with app_servers(prepared.directory, 1, uploads) as [steady]:
        victim = start_server(prepared.directory, uploads, port)
        try:
            wait_ready(victim, victim_base)
            bases = [victim_base, steady] * 2
            clients = [signed_in(bases[n], prepared.officials[f"clerk.{n}"]) for n in range(4)]
            for kill in range(KILLS):
                stop = threading.Event()
                before = len(writes.acknowledged)

                def clerk(n: int, kill: int = kill, stop: threading.Event = stop) -> None:
                    client, csrf = clients[n]
                    for i in itertools.count():
                        if stop.is_set():
                            return
                        with contextlib.suppress(httpx.TransportError):  # in writes.failed
                            writes.explain(
                                client, csrf, f"clerk {n} kill {kill} note {i}", UNITS[i % 4]
                            )

                threads = [threading.Thread(target=clerk, args=(n,)) for n in range(4)]
                for thread in threads:
                    thread.start()
                while len(writes.acknowledged) < before + 4:  # writing through both
                    time.sleep(0.05)
                time.sleep(rng.uniform(0, 0.5))
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                stop.set()
                for thread in threads:
                    thread.join()
                check_log(prepared.directory, writes)  # after each kill
                assert httpx.get(steady + "/readyz").status_code == 200
                victim = start_server(prepared.directory, uploads, port)
                wait_ready(victim, victim_base)
            for client, _ in clients:
                client.close()
        finally:
            victim.kill()
            victim.wait()
    refused = [
        f
        for f in writes.failed.values()
        if not f.startswith(
            ("ReadError", "RemoteProtocolError", "ConnectError", "ConnectTimeout", "ReadTimeout")
        )
    ]
    assert refused == [], refused[:3]  # only answers the kill took: no 500, no refusal
    assert check_log(prepared.directory, writes)["explanations"] >= len(writes.acknowledged)


@pytest.mark.slow
def test_postgresql_restarted_under_load(tmp_path: Path) -> None:
    """PostgreSQL (a server of the test's own) crashed (``immediate``: recovery from its
    WAL) and then shut down (``fast``) while clerks write through two app servers: while
    it is down every request is refused with 503 and words to try again (never a 500),
    /readyz says not ready; once it is back both servers answer again without being
    restarted, and every acknowledged write is in the log once."""
    with private_server() as pg:
        prepared = prepare(tmp_path, 4, database=pg.url, schema="wayne")
        directory, officials = prepared.directory, prepared.officials
        writes, refusals, dropped = Writes(), [], []
        stop = threading.Event()
        with app_servers(directory, 2, tmp_path / "uploads") as bases:
            clients = [signed_in(bases[n % 2], officials[f"clerk.{n}"]) for n in range(4)]

            def clerk(n: int) -> None:
                client, csrf = clients[n]
                for i in range(100_000):
                    if stop.is_set():
                        return
                    try:
                        answer = writes.explain(client, csrf, f"clerk {n} note {i}", UNITS[i % 4])
                    except httpx.TransportError as e:  # counted in writes.failed
                        dropped.append(repr(e))
                        continue
                    if answer.status_code != 200:
                        refusals.append((answer.status_code, answer.text))
                        time.sleep(0.1)

            def acknowledged(more: int) -> None:
                """Wait until ``more`` writes more are acknowledged."""
                target = len(writes.acknowledged) + more
                while len(writes.acknowledged) < target:
                    time.sleep(0.1)

            threads = [threading.Thread(target=clerk, args=(n,)) for n in range(4)]
            for thread in threads:
                thread.start()
            try:
                for mode in ("immediate", "fast"):
                    acknowledged(8)
                    pg.stop(mode)
                    for base in bases:
                        ready = httpx.get(base + "/readyz")
                        assert ready.status_code == 503
                        assert ready.json()["problem"].startswith("the database does not answer")
                    refused = len(refusals)
                    while len(refusals) < refused + 4:  # the clerks are refused meanwhile
                        time.sleep(0.1)
                    pg.start()
                    for base in bases:
                        while httpx.get(base + "/readyz").status_code != 200:
                            time.sleep(0.2)
                    acknowledged(8)  # both servers write again, not restarted
            finally:
                stop.set()
                for thread in threads:
                    thread.join()
            for client, _ in clients:
                client.close()
        assert refusals, "no request was refused while the database was down"
        assert {status for status, _ in refusals} == {503}, refusals
        assert {json.loads(answer)["error"] for _, answer in refusals} == {UNAVAILABLE}
        assert check_log(directory, writes)["explanations"] >= len(writes.acknowledged) >= 32
