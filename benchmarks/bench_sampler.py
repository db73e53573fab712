"""Benchmark: drawing an audit sample from a frame of --ballots ballot ids (not a test).

Rivest's consistent sampler as Arlo uses it (with replacement, 18-digit tickets): every id
gets a SHA-256 ticket, then the smallest are drawn. Then the sample sizes of ever smaller
margins.

    python benchmarks/bench_sampler.py --ballots 5000000 --take 500
"""

from __future__ import annotations

import argparse
import time

from canvass.audit.sampler import sampler
from canvass.audit.stats import arlo_supersimple_sample_size, bravo_asn, bravo_sample_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--take", type=int, default=500)
    args = parser.parse_args()
    ids = [f"c{i % 100}/t{i % 40}/b{i // 500}/{i % 500}" for i in range(args.ballots)]
    start = time.perf_counter()
    drawn = list(sampler(ids, "31415926535897932384", True, take=args.take, digits=18))
    elapsed = time.perf_counter() - start
    print(f"{len(drawn)} draws from {args.ballots:,} ballots in {elapsed:.2f} s")
    for margin in (0.01, 0.001, 0.0001, 0.00001):
        start = time.perf_counter()
        sizes = (
            bravo_sample_size(0.1, 0.5 + margin / 2, 0.5 - margin / 2, 0.9),
            bravo_asn(0.1, 0.5 + margin / 2, 0.5 - margin / 2),
            arlo_supersimple_sample_size(10, margin, args.ballots),
        )
        ms = (time.perf_counter() - start) * 1000
        print(
            f"margin {margin:.3%}: BRAVO 90% {sizes[0]:,}, ASN {sizes[1]:,}, "
            f"comparison {sizes[2]:,} in {ms:.2f} ms"
        )


if __name__ == "__main__":
    main()
