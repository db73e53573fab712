"""Several app servers on one PostgreSQL election, officials making every kind of state
change at once (not a test: nothing here fails on timing; ``tests/test_pg_load.py`` is
the small version that does check).

Wayne County's test election (Dominion CVRs and a poll book imported through the
application, its accounts beside it in PostgreSQL), served by --servers uvicorn
processes, each on a port of its own as on separate machines. The officials, spread over
the servers, each a client signed in with a session of their own, then all at once
(``tests/load.py``): --clerks clerks, each recording --explanations explanations of
imbalances (``POST /api/counties/wayne/explanations``), reading the county's dashboard
after each (``GET /api/counties/wayne``) and importing the poll book again after every
fourth; the county board's four members, each making --motions motions
(``POST /api/boards/wayne/motions``) and voting on every motion
(``POST …/motions/N/votes``), each signed with the member's own key on the client's side
over the statement the server gives (``GET …/statement``); and --audit-boards audit
boards of two, both members signing the reading of each of --readings drawn ballots
(``POST /api/audits/rla/readings``; recorded when the second signs). Then the log is
checked (``tests/load.py``'s ``check_log``): every acknowledged change in it once at the
entry its answer named, nothing nobody asked for, each decision the one the votes make,
each reading's signatures the members', the log verified (projections equal to a
rebuild), every checkpoint extending the one before. Reports requests per second,
p50/p95/p99 of each kind of request, errors, and the machine's load.

    python benchmarks/bench_pg_web.py --servers 2 --out pg-web.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import secrets
import sys
import tempfile
from collections import Counter
from pathlib import Path

import psycopg

# The tests' fixtures build the election, drive the officials and check the log.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_web import summary

from canvass.store.election import ElectionDirectory
from tests.load import Work, Writes, app_servers, check_log, officials_at_work, prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database",
        default=os.environ.get("CANVASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1/test"),
    )
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--clerks", type=int, default=2)
    parser.add_argument("--explanations", type=int, default=200, help="per clerk")
    parser.add_argument("--motions", type=int, default=50, help="per board member")
    parser.add_argument("--audit-boards", type=int, default=1)
    parser.add_argument("--readings", type=int, default=250, help="ballots per audit board")
    parser.add_argument("--ballots-per-precinct", type=int, default=500)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    schema = f"bench_web_{secrets.token_hex(4)}"
    where = Path(tempfile.mkdtemp(prefix="bench-pg-web-"))
    drawn = args.readings * args.audit_boards * 5 // 4  # drawn with replacement
    prepared = prepare(
        where,
        args.clerks,
        ballots=args.ballots_per_precinct,
        database=args.database,
        schema=schema,
        audit_boards=args.audit_boards,
        drawn=drawn,
    )
    work = Work(args.explanations, 4, args.motions, args.readings)
    writes = Writes()
    try:
        with app_servers(prepared.directory, args.servers, where / "uploads") as bases:
            load_before = os.getloadavg()
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            elapsed = officials_at_work(prepared, bases, writes, args.clerks, work)
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            load_after = os.getloadavg()
        found = check_log(prepared.directory, writes, prepared)
        with psycopg.connect(args.database) as conn:
            row = conn.execute("SHOW synchronous_commit").fetchone()
        requests = sum(len(t) for t in writes.times.values())
        changes = sum(len(writes.times.get(k, [])) for k in WRITES)
        statuses = Counter(f"{kind} {status}" for kind, status in writes.statuses)
        result = {
            "servers": args.servers,
            "officials": args.clerks + 4 + 2 * args.audit_boards,
            "work": work.__dict__,
            "seconds": round(elapsed, 1),
            "requests": requests,
            "requests_per_second": round(requests / elapsed, 1),
            "state_changes_per_second": round(changes / elapsed, 1),
            **{kind: summary(times) for kind, times in sorted(writes.times.items())},
            "answers": dict(sorted(statuses.items())),
            "errors": len(writes.errors),
            "first_errors": writes.errors[:5],
            "in_the_log": found,
            "log_checked": True,
            "client_cpu_seconds": round(
                cpu_after.ru_utime - cpu_before.ru_utime + cpu_after.ru_stime - cpu_before.ru_stime,
                1,
            ),
            "postgresql_synchronous_commit": row[0] if row else None,
            "ballots_per_precinct": args.ballots_per_precinct,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
    finally:
        ElectionDirectory.remove(prepared.directory)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


WRITES = ("explanation", "import", "motion", "vote", "reading")
"""The kinds of request that change the election (a reading's first signature is kept
apart from the log until the second)."""


if __name__ == "__main__":
    main()
