"""Peer: votekit counts an instant runoff from the same CSV, its ballots grouped into a
weighted profile first (identical rankings once, with their number).

    python votekit_irv.py ballots.csv first_candidate_column out.json"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter

from votekit.ballot import RankBallot
from votekit.elections import IRV
from votekit.pref_profile import RankProfile


def main() -> None:
    path, first, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    start = time.perf_counter()
    counts: Counter[tuple[str, ...]] = Counter()
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        names = header[first - 1 :]
        for row in rows:
            ranked = sorted(
                (int(cell), k) for k, cell in enumerate(row[first - 1 :]) if cell.strip()
            )
            counts[tuple(names[k] for _, k in ranked)] += 1
    profile = RankProfile(
        ballots=[RankBallot(ranking=[{c} for c in r], weight=n) for r, n in counts.items()],
        candidates=names,
    )
    read = time.perf_counter()
    election = IRV(profile)
    winners = [c for s in election.get_elected() for c in s]
    counted = time.perf_counter()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"winners": winners, "rounds": len(election.election_states) - 1}, f)
    print(json.dumps({"read_seconds": read - start, "count_seconds": counted - read}))


if __name__ == "__main__":
    main()
