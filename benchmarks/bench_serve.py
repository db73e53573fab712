"""Benchmark: ``canvass serve`` under many clients at once (not a test).

Starts ``canvass serve BUNDLE`` in its own process, then --clients clients (asyncio, in one
process) fetch the bundle's files (every file under 1 MB, in turn) until --requests
responses have come back; each client either keeps one connection open (as browsers do) or
opens a new connection per request (``--new-connections``, the harder case for the listen
backlog). Every response must
be 200 with the file's exact length; anything else, or a connection refused or reset, is a
failure. Prints requests per second, latency percentiles and failures, as JSON with --json.

    python benchmarks/bench_serve.py demo-election/public --clients 50 --requests 5000
    python benchmarks/bench_serve.py demo-election/public --clients 200 --new-connections

Clients and server share the machine's cores; the figures are for the two together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server did not listen on port {port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fetch(
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter], path: str
) -> tuple[int, bytes, bool]:
    """One GET over a connection: status, body, and whether the server keeps it open."""
    reader, writer = streams
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    keeps = lines[0].startswith("HTTP/1.1") and headers.get("connection", "") != "close"
    return status, body, keeps


async def load(
    port: int,
    paths: list[str],
    sizes: list[int],
    clients: int,
    requests: int,
    new_connections: bool,
    latencies: list[float],
    failures: list[str],
) -> None:
    issued = iter(range(requests))

    async def client() -> None:
        streams = None
        for n in issued:
            k = n % len(paths)
            start = time.perf_counter()
            try:
                if streams is None:
                    streams = await asyncio.open_connection("127.0.0.1", port)
                status, body, keeps = await asyncio.wait_for(fetch(streams, paths[k]), 120)
                if status != 200 or len(body) != sizes[k]:
                    raise ValueError(f"{paths[k]}: {status}, {len(body)} bytes")
                if new_connections or not keeps:
                    streams[1].close()
                    streams = None
            except Exception as e:  # every failure is counted, whatever it is
                failures.append(f"{type(e).__name__}: {e}")
                if streams is not None:
                    streams[1].close()
                streams = None
                continue
            latencies.append(time.perf_counter() - start)
        if streams is not None:
            streams[1].close()

    await asyncio.gather(*(client() for _ in range(clients)))


def run(bundle: Path, clients: int, requests: int, new_connections: bool) -> dict[str, object]:
    files = sorted(p for p in bundle.rglob("*") if p.is_file() and p.stat().st_size < 1_000_000)
    paths = ["/" + p.relative_to(bundle).as_posix() for p in files]
    sizes = [p.stat().st_size for p in files]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "canvass", "serve", str(bundle), "--port", str(port)],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        latencies: list[float] = []
        failures: list[str] = []
        start = time.perf_counter()
        asyncio.run(
            load(port, paths, sizes, clients, requests, new_connections, latencies, failures)
        )
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait()
    latencies.sort()

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

    return {
        "clients": clients,
        "requests": requests,
        "connections": "new per request" if new_connections else "kept alive",
        "ok": len(latencies),
        "failed": len(failures),
        "first_failures": failures[:5],
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed),
        "latency_ms": {
            "p50": round(pct(0.5), 1),
            "p99": round(pct(0.99), 1),
            "max": round(latencies[-1] * 1000, 1),
        },
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--new-connections", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.bundle, args.clients, args.requests, args.new_connections)
    if args.json:
        print(json.dumps(result))
        return
    lat = result["latency_ms"]
    print(
        f"{result['clients']} clients, {result['connections']}: {result['ok']:,} ok, "
        f"{result['failed']} failed, {result['requests_per_second']:,} requests/s, "
        f"latency p50 {lat['p50']} ms, p99 {lat['p99']} ms, max {lat['max']} ms"  # type: ignore[index]
    )
    for f in result["first_failures"]:  # type: ignore[attr-defined]
        print("  ", f)


if __name__ == "__main__":
    main()
