"""Peer: pyrankvote counts an instant runoff from an RCTab generic CSV (one column per
candidate, the cell the rank), read with the standard library's ``csv`` as a user would.

    python pyrankvote_irv.py ballots.csv first_candidate_column out.json

Writes the winner and each round's votes per candidate as JSON; prints the seconds spent
reading and counting."""

from __future__ import annotations

import csv
import json
import sys
import time

import pyrankvote
from pyrankvote import Ballot, Candidate


def main() -> None:
    path, first, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    start = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        candidates = [Candidate(name) for name in header[first - 1 :]]
        ballots = []
        for row in rows:
            ranked = sorted(
                (int(cell), k) for k, cell in enumerate(row[first - 1 :]) if cell.strip()
            )
            ballots.append(Ballot(ranked_candidates=[candidates[k] for _, k in ranked]))
    read = time.perf_counter()
    result = pyrankvote.instant_runoff_voting(candidates, ballots)
    counted = time.perf_counter()
    rounds = [
        {r.candidate.name: int(r.number_of_votes) for r in rnd.candidate_results}
        for rnd in result.rounds
    ]
    winner = [c.name for c in result.get_winners()]
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"winners": winner, "rounds": rounds}, f)
    print(json.dumps({"read_seconds": read - start, "count_seconds": counted - read}))


if __name__ == "__main__":
    main()
