"""Benchmark of the officials' application (not a test: nothing here fails on timing).

Wayne County's election (the tests' fixture: Dominion CVRs imported, a poll book with
counting boards out of balance) served by uvicorn with two worker processes on SQLite;
then, at once, --readers people browsing (each in turn: the county's dashboard, the board
meeting, the state dashboard, the log, the audits) and --writers clerks each recording an
explanation of an imbalance (a log entry: one write transaction, the canvass folded, a
checkpoint signed) and reading the dashboard back, for --seconds. Every client signs in
first, with its own session. Reports each kind of request's count, errors, p50, p95 and
p99, and the machine's load.

    python benchmarks/bench_web.py --readers 50 --writers 10 --seconds 60 --out web.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

# The tests' fixtures build the election.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.officials import (
    OFFICIALS,
    PASSWORD,
    Official,
    free_port,
    make_office,
    wayne_export,
    wayne_pollbook,
)

READ_PAGES = ["/counties/wayne", "/boards/county:wayne", "/state", "/log", "/audits"]
UNITS = ["wayne-avcb-1", "wayne-avcb-2", "wayne-avcb-3", "wayne-avcb-4"]


def prepare(
    where: Path, readers: int, writers: int, ballots: int
) -> tuple[Path, dict[str, Official]]:
    people = list(OFFICIALS)
    people += [(f"reader.{n}", f"Reader {n}", "observer", "") for n in range(readers)]
    people += [(f"writer.{n}", f"Clerk {n}", "county-clerk", "wayne") for n in range(writers)]
    office = make_office(where, people)
    export = wayne_export(where, ballots)
    from fastapi.testclient import TestClient

    from tests.officials import sign_in

    clerk = TestClient(office.app, base_url="https://testserver")
    csrf = sign_in(clerk, office.officials["clerk.wayne"])
    files = [("files", (p.name, p.open("rb"))) for p in export.files]
    clerk.post("/counties/wayne/imports", data={"csrf": csrf, "format": "dominion"}, files=files)
    pollbook = wayne_pollbook(export, where)
    with pollbook.open("rb") as f:
        clerk.post(
            "/counties/wayne/pollbooks", data={"csrf": csrf}, files=[("pollbook", ("pb.csv", f))]
        )
    return office.directory, office.officials


async def signed_in(base: str, official: Official) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    page = await client.get("/sign-in")
    token = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    await client.post(
        "/sign-in", data={"csrf": token, "username": official.username, "password": PASSWORD}
    )
    done = await client.post(
        "/sign-in/code", data={"csrf": token, "code": official.code()}, follow_redirects=True
    )
    csrf = re.search(r'name="csrf" value="([^"]*)"', done.text)
    if csrf is None or done.url.path != "/":
        raise RuntimeError(f"{official.username} could not sign in: {done.status_code}")
    return client, csrf.group(1)


async def reader(
    client: httpx.AsyncClient,
    until: float,
    times: dict[str, list[float]],
    errors: list[str],
    n: int,
) -> None:
    i = n
    while time.monotonic() < until:
        path = READ_PAGES[i % len(READ_PAGES)]
        i += 1
        start = time.perf_counter()
        try:
            r = await client.get(path)
            ok = r.status_code == 200
        except httpx.HTTPError as e:
            ok, r = False, None
            errors.append(f"GET {path}: {e!r}")
        times["page"].append(time.perf_counter() - start)
        if not ok and r is not None:
            errors.append(f"GET {path}: {r.status_code}")


async def writer(
    client: httpx.AsyncClient,
    csrf: str,
    until: float,
    times: dict[str, list[float]],
    errors: list[str],
    n: int,
) -> None:
    i = n
    while time.monotonic() < until:
        unit = UNITS[i % len(UNITS)]
        i += 1
        form = {
            "csrf": csrf,
            "precinct": unit,
            "vote_type": "absentee",
            "reason": "other",
            "text": f"note {i}",
        }
        start = time.perf_counter()
        try:
            r = await client.post("/counties/wayne/explanations", data=form)
            ok = r.status_code == 303
        except httpx.HTTPError as e:
            ok, r = False, None
            errors.append(f"POST explanation: {e!r}")
        times["write"].append(time.perf_counter() - start)
        if not ok and r is not None:
            errors.append(f"POST explanation: {r.status_code} {r.text[:200]}")
        start = time.perf_counter()
        r = await client.get("/counties/wayne")
        times["page"].append(time.perf_counter() - start)
        if r.status_code != 200:
            errors.append(f"GET /counties/wayne: {r.status_code}")


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {
        "count": len(values),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.fmean(values) * 1000, 1),
    }


async def load(
    base: str, officials: dict[str, Official], readers: int, writers: int, seconds: float
) -> dict[str, Any]:
    sessions = [await signed_in(base, officials[f"reader.{n}"]) for n in range(readers)]
    writing = [await signed_in(base, officials[f"writer.{n}"]) for n in range(writers)]
    times: dict[str, list[float]] = {"page": [], "write": []}
    errors: list[str] = []
    until = time.monotonic() + seconds
    started = time.monotonic()
    await asyncio.gather(
        *(reader(c, until, times, errors, n) for n, (c, _) in enumerate(sessions)),
        *(writer(c, csrf, until, times, errors, n) for n, (c, csrf) in enumerate(writing)),
    )
    elapsed = time.monotonic() - started
    for c, _ in sessions + writing:
        await c.aclose()
    return {
        "pages": summary(times["page"]),
        "writes": summary(times["write"]),
        "requests_per_second": round((len(times["page"]) + len(times["write"])) / elapsed, 1),
        "errors": len(errors),
        "first_errors": errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ballots-per-precinct", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(prefix="bench-web-"))
    directory, officials = prepare(where, args.readers, args.writers, args.ballots_per_precinct)
    port = free_port()
    env = {
        **os.environ,
        "CANVASS_ELECTION": str(directory),
        "CANVASS_INSECURE_COOKIES": "1",  # plain HTTP on the loopback
        "CANVASS_PASSWORD_HASH": "test-only-cheapest",  # sign-in is not what is measured
        "CANVASS_UPLOAD_DIR": str(where / "uploads"),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "canvass.web.app:from_environment",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/sign-in").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        load_before = os.getloadavg()
        result = asyncio.run(load(base, officials, args.readers, args.writers, args.seconds))
        result |= {
            "readers": args.readers,
            "writers": args.writers,
            "seconds": args.seconds,
            "server_processes": args.workers,
            "ballots_per_precinct": args.ballots_per_precinct,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
    finally:
        server.terminate()
        server.wait(30)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
