"""Benchmark: reading Dominion JSON into the ballot table, and counting it (not a test).

Generates a Dominion 5.10-style export of --cards ballot cards with 10 contests each, split
into CvrExport_N.json files of --per-file sessions as Dominion writes them (every mark
field Dominion writes, so the bytes are realistic), then:

1. reads it with the Dominion reader into the normalized table and writes Parquet (on one
   core under ``taskset -c 0``; else one process a core, or ``CANVASS_WORKERS``), reporting
   cards/s, the CPU seconds of this process and of the workers, and peak resident memory;
2. counts every contest of --tabulate-cards cards (the table repeated) and reports the time.

    python benchmarks/bench_ingest.py --cards 1000000 --dir /tmp/ingest
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from pathlib import Path

import msgspec
import pyarrow as pa

from canvass.ingest.ballots import read_table, to_parquet
from canvass.ingest.dominion import DominionExport
from canvass.tabulate.plurality import tabulate

CONTESTS = 10
CANDIDATES = 6


def manifest(items: list[dict[str, object]]) -> bytes:
    return msgspec.json.encode({"Version": "5.10.50.85", "List": items})


# San Francisco's November 2024 export lists these outstack conditions (its manifest).
OUTSTACK = [
    ("Ambiguous", 0),
    ("Writein", 1),
    ("BlankBallot", 2),
    ("Overvote", 5),
    ("Undervote", 4),
    ("BlankContest", 6),
    ("OvervotedRanking", 9),
    ("InconsistentRcvOrdering", 10),
    ("SkippedRanking", 11),
    ("DuplicatedRcvCandidate", 12),
    ("UnvotedRcvContest", 13),
    ("UnusedRanking", 14),
]
PORTIONS = 300


def generate(folder: Path, cards: int, per_file: int) -> int:
    """Ids as Dominion numbers them (from 1 in each manifest; manifestation ids six and
    seven digits long, as in San Francisco's export), every manifest a reader uses, and
    about 1 mark in 100 flagged by the scanner as ambiguous."""
    folder.mkdir(parents=True, exist_ok=True)
    contests = [
        {"Description": f"CONTEST {c}", "Id": c, "VoteFor": 1 if c % 4 else 2, "NumOfRanks": 0}
        for c in range(1, CONTESTS + 1)
    ]
    candidates = [
        {
            "Description": f"CANDIDATE {c}-{k}",
            "Id": (c - 1) * CANDIDATES + k + 1,
            "ContestId": c,
            "Type": "Regular",
        }
        for c in range(1, CONTESTS + 1)
        for k in range(CANDIDATES)
    ]
    (folder / "ContestManifest.json").write_bytes(manifest(contests))  # type: ignore[arg-type]
    (folder / "CandidateManifest.json").write_bytes(manifest(candidates))  # type: ignore[arg-type]
    (folder / "CountingGroupManifest.json").write_bytes(
        manifest([{"Description": "Election Day", "Id": 1}, {"Description": "Mail", "Id": 2}])
    )
    (folder / "OutstackConditionManifest.json").write_bytes(
        manifest([{"Description": name, "Id": i} for name, i in OUTSTACK])
    )
    (folder / "PrecinctManifest.json").write_bytes(
        manifest([{"Description": f"PCT {p}", "Id": p} for p in range(1, PORTIONS // 2 + 1)])
    )
    (folder / "PrecinctPortionManifest.json").write_bytes(
        manifest(
            [
                {"Description": f"PCT {(p + 1) // 2}-{p % 2}", "Id": p, "PrecinctId": (p + 1) // 2}
                for p in range(1, PORTIONS + 1)
            ]
        )
    )
    (folder / "BallotTypeManifest.json").write_bytes(
        manifest([{"Description": f"Ballot Type {b}", "Id": b} for b in range(1, 21)])
    )
    rng = random.Random(5)
    written = 0
    file_no = 0
    manifestation = 1_376_187
    while written < cards:
        sessions = []
        for _ in range(min(per_file, cards - written)):
            marks = []
            for c in range(1, CONTESTS + 1):
                chosen = rng.sample(range(CANDIDATES), 2 if c % 4 == 0 else 1)
                contest_marks = []
                for k in chosen:
                    ambiguous = rng.random() < 0.01
                    manifestation += 2
                    contest_marks.append(
                        {
                            "CandidateId": (c - 1) * CANDIDATES + k + 1,
                            "ManifestationId": manifestation,
                            "PartyId": 0,
                            "Rank": 1,
                            "MarkDensity": rng.randint(9, 20) if ambiguous else rng.randint(90, 99),
                            "IsAmbiguous": ambiguous,
                            "IsVote": not ambiguous,
                            "OutstackConditionIds": [0] if ambiguous else [],
                        }
                    )
                marks.append(
                    {
                        "Id": c,
                        "ManifestationId": 168_700 + c,
                        "Undervotes": 0,
                        "Overvotes": 0,
                        "OutstackConditionIds": [],
                        "Marks": contest_marks,
                    }
                )
            written += 1
            sessions.append(
                {
                    "TabulatorId": 1 + written % 40,
                    "BatchId": 1 + written // 10_000,
                    "RecordId": written,
                    "CountingGroupId": 1 + written % 2,
                    "ImageMask": f"D:\\NAS\\Results\\Tab{written % 40:05d}\\Images\\{written}*.*",
                    "SessionType": "ScannedVote",
                    "VotingSessionIdentifier": "",
                    "UniqueVotingIdentifier": "",
                    "Original": {
                        "PrecinctPortionId": 1 + written % PORTIONS,
                        "BallotTypeId": 1 + written % 20,
                        "IsCurrent": True,
                        "Cards": [
                            {
                                "Id": 99_000 + written,
                                "KeyInId": 99_000 + written,
                                "PaperIndex": 0,
                                "Contests": marks,
                            }
                        ],
                    },
                }
            )
        (folder / f"CvrExport_{file_no}.json").write_bytes(
            msgspec.json.encode(
                {"Version": "5.10.50.85", "ElectionId": "Bench", "Sessions": sessions}
            )
        )
        file_no += 1
    return file_no


def cpu(who: int) -> float:
    """CPU seconds (user + system) of this process, or of its finished worker processes."""
    used = resource.getrusage(who)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200_000)
    parser.add_argument("--per-file", type=int, default=1_000)
    parser.add_argument("--tabulate-cards", type=int, default=5_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    folder = (args.dir or Path(tempfile.mkdtemp(prefix="canvass-ingest-"))) / "export"
    if not (folder / "ContestManifest.json").exists():
        t = time.perf_counter()
        files = generate(folder, args.cards, args.per_file)
        print(
            f"generated {args.cards:,} cards in {files:,} files in {time.perf_counter() - t:.1f} s"
        )
    size = sum(f.stat().st_size for f in folder.iterdir())

    t = time.perf_counter()
    main_cpu, workers_cpu = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    export = DominionExport([folder])
    data, cards = to_parquet(export.read("Bench County"), export.contests)
    elapsed = time.perf_counter() - t
    main_cpu = cpu(resource.RUSAGE_SELF) - main_cpu
    workers_cpu = cpu(resource.RUSAGE_CHILDREN) - workers_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    table, contests = read_table(data)
    repeat = max(1, args.tabulate_cards // table.num_rows)
    big = pa.concat_tables([table] * repeat)
    t = time.perf_counter()
    counted = tabulate(big, contests)
    tab_elapsed = time.perf_counter() - t
    assert counted.contests[0].ballots == big.num_rows
    figures = {
        "cards": cards,
        "json_mib": round(size / 2**20),
        "ingest_s": round(elapsed, 2),
        "cards_per_s": round(cards / elapsed),
        "main_process_cpu_s": round(main_cpu, 2),
        "worker_processes_cpu_s": round(workers_cpu, 2),
        "peak_rss_mib": round(peak),
        "parquet_mib": round(len(data) / 2**20, 1),
        "tabulated_cards": big.num_rows,
        "tabulate_all_contests_s": round(tab_elapsed, 2),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
