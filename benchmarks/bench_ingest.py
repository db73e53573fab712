"""Benchmark: reading Dominion JSON into the ballot table, and counting it (not a test).

Generates a Dominion 5.10-style export of --cards ballot cards with 10 contests each, split
into CvrExport_N.json files of --per-file sessions as Dominion writes them (every mark
field Dominion writes, so the bytes are realistic), then:

1. reads it with the Dominion reader into the normalized table and writes Parquet, on one
   core, reporting cards/s and the process's peak resident memory;
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


def generate(folder: Path, cards: int, per_file: int) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    contests = [
        {"Description": f"CONTEST {c}", "Id": c, "VoteFor": 1 if c % 4 else 2, "NumOfRanks": 0}
        for c in range(1, CONTESTS + 1)
    ]
    candidates = [
        {"Description": f"CANDIDATE {c}-{k}", "Id": c * 100 + k, "ContestId": c, "Type": "Regular"}
        for c in range(1, CONTESTS + 1)
        for k in range(CANDIDATES)
    ]
    (folder / "ContestManifest.json").write_bytes(manifest(contests))  # type: ignore[arg-type]
    (folder / "CandidateManifest.json").write_bytes(manifest(candidates))  # type: ignore[arg-type]
    (folder / "CountingGroupManifest.json").write_bytes(
        manifest([{"Description": "Election Day", "Id": 1}, {"Description": "Mail", "Id": 2}])
    )
    rng = random.Random(5)
    written = 0
    file_no = 0
    while written < cards:
        sessions = []
        for _ in range(min(per_file, cards - written)):
            marks = []
            for c in range(1, CONTESTS + 1):
                chosen = rng.sample(range(CANDIDATES), 2 if c % 4 == 0 else 1)
                marks.append(
                    {
                        "Id": c,
                        "ManifestationId": 1000 + c,
                        "Undervotes": 0,
                        "Overvotes": 0,
                        "OutstackConditionIds": [],
                        "Marks": [
                            {
                                "CandidateId": c * 100 + k,
                                "ManifestationId": 5000 + k,
                                "PartyId": 0,
                                "Rank": 1,
                                "MarkDensity": 90 + k,
                                "IsAmbiguous": False,
                                "IsVote": True,
                                "OutstackConditionIds": [],
                            }
                            for k in chosen
                        ],
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
                        "PrecinctPortionId": 1 + written % 300,
                        "BallotTypeId": 1,
                        "IsCurrent": True,
                        "Cards": [
                            {"Id": written, "KeyInId": written, "PaperIndex": 0, "Contests": marks}
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
    export = DominionExport([folder])
    data, cards = to_parquet(export.read("Bench County"), export.contests)
    elapsed = time.perf_counter() - t
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
        "peak_rss_mib": round(peak),
        "parquet_mib": round(len(data) / 2**20, 1),
        "tabulated_cards": big.num_rows,
        "tabulate_all_contests_s": round(tab_elapsed, 2),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
