"""Benchmark: Canvass and its peers on the same work, side by side (not a test).

``make bench-peers`` installs the peers from PyPI into their own environment
(``.venv-peers``, from ``benchmarks/peers/requirements.txt``) and runs this script, which:

1. generates the inputs, the same files for both: an RCTab generic CSV of --ballots varied
   ranked ballots (8 candidates, each ballot ranking 1 to 5 of them, preferences drawn with
   unequal weights) with its RCTab configuration, and ballot manifests of 1,000,000 and
   5,000,000 ballots (batches of 200 to 600);
2. runs each job as whole processes, Canvass's command and the peer's script alternately
   (Canvass first in odd repeats, the peer first in even ones), --repeat times, recording
   wall-clock seconds and peak resident memory (GNU time's, ``/usr/bin/time``);
3. checks that both gave the same answer: the same winner and the same tallies round by
   round (pyrankvote), the same winner (votekit), the same draws line for line
   (consistent-sampler, called as Arlo calls it);
4. prints the figures with the ratio Canvass / peer and, with --write-docs, writes them into
   ``docs/benchmarks.md`` between its ``bench-peers`` markers, with the commands and the
   machine's load while it ran.

    python benchmarks/bench_peers.py --peers-python .venv-peers/bin/python --write-docs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = "31415926535897932384"
CANDIDATES = [f"Candidate {c}" for c in "ABCDEFGH"]
START, END = "<!-- bench-peers:start -->", "<!-- bench-peers:end -->"


def write_ballots(folder: Path, ballots: int, seed: int = 2026) -> Path:
    """An RCTab generic CSV (id, then one column per candidate holding its rank) and the
    configuration that counts it as a single-winner instant runoff."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.22, 0.2, 0.16, 0.13, 0.11, 0.08, 0.06, 0.04])
    # Rankings drawn without replacement by weight: sort log-weight plus Gumbel noise.
    keys = np.log(weights) + rng.gumbel(size=(ballots, len(CANDIDATES)))
    order = np.argsort(-keys, axis=1)
    ranked = rng.integers(1, 6, size=ballots)
    rank_of = np.empty_like(order)
    np.put_along_axis(rank_of, order, np.arange(1, len(CANDIDATES) + 1), axis=1)
    rank_of[rank_of > ranked[:, None]] = 0
    path = folder / "ballots.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("id," + ",".join(CANDIDATES) + "\n")
        cells = np.where(rank_of > 0, rank_of.astype(str), "")
        for n, row in enumerate(cells.tolist(), start=1):
            f.write(f"{n}," + ",".join(row) + "\n")
    config = {
        "outputSettings": {"contestName": "Varied", "tabulateByPrecinct": False},
        "cvrFileSources": [
            {
                "filePath": path.name,
                "provider": "genericCsv",
                "firstVoteColumnIndex": "2",
                "firstVoteRowIndex": "2",
                "idColumnIndex": "1",
            }
        ],
        "candidates": [{"name": c} for c in CANDIDATES],
        "rules": {
            "tiebreakMode": "useCandidateOrder",
            "overvoteRule": "alwaysSkipToNextRank",
            "winnerElectionMode": "singleWinnerMajority",
            "numberOfWinners": "1",
            "decimalPlacesForVoteArithmetic": "4",
            "maxSkippedRanksAllowed": "unlimited",
            "maxRankingsAllowed": "max",
            "batchElimination": True,  # pyrankvote drops every hopeless candidate at once
        },
    }
    (folder / "varied_config.json").write_text(json.dumps(config, indent=1))
    return path


def write_manifest(folder: Path, ballots: int, seed: int = 2026) -> Path:
    rng = np.random.default_rng(seed)
    path = folder / f"manifest_{ballots}.csv"
    left, batch = ballots, 0
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("Tabulator,Batch Name,Number of Ballots\n")
        while left:
            batch += 1
            n = min(left, int(rng.integers(200, 601)))
            f.write(f"Tabulator {batch % 37 + 1},Batch {batch:05d},{n}\n")
            left -= n
    return path


def measure(command: list[str], stdout: Path, cpus: str | None) -> tuple[float, float]:
    """Run a whole process; its wall-clock seconds and peak resident memory (MiB).

    The peak is read by GNU time, a small process that starts the command: Linux carries a
    process's peak over fork and exec, so a command started from this script (which holds
    the generated inputs) would report this script's peak instead of its own."""
    report = stdout.with_suffix(".rss")
    command = ["/usr/bin/time", "-f", "%M", "-o", str(report), *command]
    if cpus:
        command = ["taskset", "-c", cpus, *command]
    with stdout.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, check=False)
        elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.decode()}")
    return elapsed, int(report.read_text().split()[-1]) / 1024


def same_irv(folder: Path, peer: str) -> str:
    """Whether Canvass's report and the peer's answer agree: ``""`` if so, else why not."""
    ours = json.loads((folder / "out" / "varied_detailed_report.json").read_text())
    theirs = json.loads((folder / f"{peer}.json").read_text())
    rounds = ours["results"]
    winners = [a["elected"] for r in rounds for a in r["tallyResults"] if "elected" in a]
    if winners != theirs["winners"]:
        return f"winners differ: {winners} and {theirs['winners']}"
    if isinstance(theirs["rounds"], int):
        return ""  # votekit: the winner is compared; its rounds follow another quota
    if len(rounds) != len(theirs["rounds"]):
        return f"{len(rounds)} rounds and {len(theirs['rounds'])}"
    for n, (a, b) in enumerate(zip(rounds, theirs["rounds"], strict=True), start=1):
        for candidate, votes in a["tally"].items():
            if int(float(votes)) != b.get(candidate):
                return f"round {n}: {candidate} has {votes} and {b.get(candidate)}"
    return ""


def same_file(a: Path, b: Path) -> str:
    return "" if a.read_bytes() == b.read_bytes() else f"{a.name} and {b.name} differ"


Job = tuple[str, list[str], Path, list[str], Path, Callable[[], str]]


def jobs(folder: Path, canvass: str, peers: str, ballots: int) -> list[Job]:
    csv_path = write_ballots(folder, ballots)
    out = folder / "out"
    found: list[Job] = []
    irv = [canvass, "rcv", str(folder / "varied_config.json"), "--output-dir", str(out)]
    for peer in ("pyrankvote", "votekit"):
        script = str(HERE / "peers" / f"{peer}_irv.py")
        found.append(
            (
                f"IRV, {ballots:,} varied ballots from a generic CSV, vs {peer}",
                irv,
                folder / "canvass_irv.txt",
                [peers, script, str(csv_path), "2", str(folder / f"{peer}.json")],
                folder / f"{peer}.txt",
                lambda peer=peer: same_irv(folder, peer),  # type: ignore[misc]
            )
        )
    for size in (1_000_000, 5_000_000):
        manifest = str(write_manifest(folder, size))
        ours, theirs = folder / f"canvass_draw_{size}.csv", folder / f"peer_draw_{size}.csv"
        found.append(
            (
                f"draw 500 from {size:,} ballots, vs consistent-sampler",
                [canvass, "audit", "draw", manifest, "--seed", SEED, "--size", "500"],
                ours,
                [
                    peers,
                    str(HERE / "peers" / "consistent_sampler_draw.py"),
                    manifest,
                    SEED,
                    "500",
                    str(theirs),
                ],
                folder / "peer_draw.txt",
                lambda ours=ours, theirs=theirs: same_file(ours, theirs),  # type: ignore[misc]
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--peers-python", required=True, help="python of the peers' venv")
    parser.add_argument("--canvass", default=str(Path(sys.executable).parent / "canvass"))
    parser.add_argument("--work", type=Path, default=Path("bench-peers"))
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cpus", help="pin every process to these CPUs (taskset -c)")
    parser.add_argument("--only", help="run only the jobs whose title contains this")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    load_before = os.getloadavg()
    todo = jobs(args.work, args.canvass, args.peers_python, args.ballots)
    if args.only:
        todo = [j for j in todo if args.only in j[0]]
    rows = []
    for title, ours, ours_out, theirs, theirs_out, check in todo:
        times: dict[str, list[tuple[float, float]]] = {"canvass": [], "peer": []}
        for r in range(args.repeat):
            order = [("canvass", ours, ours_out), ("peer", theirs, theirs_out)]
            for who, command, out in order if r % 2 == 0 else order[::-1]:
                times[who].append(measure(command, out, args.cpus))
            problem = check()
            if problem:
                raise SystemExit(f"{title}: the answers differ: {problem}")
        ours_s = [t for t, _ in times["canvass"]]
        peer_s = [t for t, _ in times["peer"]]
        row = {
            "job": title,
            "canvass_seconds": [round(t, 2) for t in ours_s],
            "peer_seconds": [round(t, 2) for t in peer_s],
            "canvass_mib": round(max(m for _, m in times["canvass"])),
            "peer_mib": round(max(m for _, m in times["peer"])),
            "time_ratio": round(float(np.median(ours_s)) / float(np.median(peer_s)), 2),
        }
        row["memory_ratio"] = round(row["canvass_mib"] / row["peer_mib"], 2)  # type: ignore[operator]
        rows.append(row)
        print(json.dumps(row), flush=True)
    load = (load_before, os.getloadavg())
    if args.write_docs:
        write_docs(rows, args, load)


def write_docs(rows: list[dict[str, object]], args: argparse.Namespace, load: object) -> None:
    before, after = load  # type: ignore[misc]
    lines = [
        START,
        "",
        f"Measured {time.strftime('%Y-%m-%d')} with `make bench-peers` "
        f"(`python benchmarks/bench_peers.py --peers-python .venv-peers/bin/python "
        f"--repeat {args.repeat}{' --cpus ' + args.cpus if args.cpus else ''} --write-docs`); "
        f"{os.cpu_count()} cores, load average {before[0]:.1f} before and {after[0]:.1f} after "
        "(other work shared the machine). Whole processes, alternating; every run's seconds "
        "are listed, the ratio is of the medians; same answers checked on every run.",
        "",
        "| job | Canvass (s) | peer (s) | Canvass / peer, time | memory, Canvass / peer |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        ours = ", ".join(f"{t:.2f}" for t in r["canvass_seconds"])  # type: ignore[attr-defined]
        theirs = ", ".join(f"{t:.2f}" for t in r["peer_seconds"])  # type: ignore[attr-defined]
        lines.append(
            f"| {r['job']} | {ours} | {theirs} | **{r['time_ratio']}** | "
            f"{r['canvass_mib']} / {r['peer_mib']} MiB = **{r['memory_ratio']}** |"
        )
    lines += ["", END]
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text()
    if START in text:
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        text = head + "\n".join(lines) + tail
    else:
        text += "\n## Side by side with the peers (`benchmarks/bench_peers.py`)\n\n"
        text += "\n".join(lines) + "\n"
    doc.write_text(text)


if __name__ == "__main__":
    main()
