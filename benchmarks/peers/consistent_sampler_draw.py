"""Peer: consistent-sampler draws an audit sample from a ballot manifest as Arlo calls it:
every ballot ``((tabulator, batch), position)``, with replacement, 18-digit tickets.

    python consistent_sampler_draw.py manifest.csv SEED SIZE out.csv

Writes the draws as ``canvass audit draw`` writes them."""

from __future__ import annotations

import csv
import sys

import consistent_sampler


def main() -> None:
    path, seed, size, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    manifest: dict[tuple[str, str], list[int]] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            key = (row["Tabulator"].strip(), row["Batch Name"].strip())
            manifest[key] = list(range(1, int(row["Number of Ballots"]) + 1))
    ballots = [(batch, position) for batch, positions in manifest.items() for position in positions]
    drawn = consistent_sampler.sampler(
        ballots, seed=seed, take=size, with_replacement=True, output="tuple", digits=18
    )
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["ticket_number", "tabulator", "batch", "position", "times_drawn"])
        for ticket, ((tabulator, batch), position), generation in drawn:
            writer.writerow([ticket, tabulator, batch, position, generation])


if __name__ == "__main__":
    main()
