"""Benchmark: how long a ``canvass`` command takes from start to exit (not a test).

Runs ``python -m canvass ARGS`` again and again in fresh processes, alternating between
source trees (``--tree before=DIR --tree after=DIR``, each put first on ``PYTHONPATH``; by
default only the installed Canvass), and prints each tree's median and range of wall
time and of CPU time (user + system, the process and its children): on a shared machine
the CPU time says more, since the wall time measures the load as much as Canvass.

With ``--cached`` each tree's compiled modules are kept (``PYTHONPYCACHEPREFIX``, written
on a first run that is not counted); without it the runs write none
(``PYTHONDONTWRITEBYTECODE=1``), so a tree without ``__pycache__`` (an editable install
under that setting) is compiled at every start, while the installed libraries keep the
compiled modules their installation wrote.

    python benchmarks/bench_startup.py --runs 7 --cached -- --help
    python benchmarks/bench_startup.py --runs 5 --cached \\
        --tree before=../old --tree after=. -- results demo-election
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(tree: str | None, args: list[str], cache: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds of one ``python -m canvass ARGS``."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(Path(tree).resolve())
    if cache is not None:
        env["PYTHONPYCACHEPREFIX"] = str(cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # From /: "python -m" puts the working directory first on sys.path.
    subprocess.run(
        [sys.executable, "-m", "canvass", *args],
        env=env,
        cwd="/",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", action="append", default=[], help="LABEL=DIR")
    parser.add_argument("--cached", action="store_true", help="keep compiled modules")
    parser.add_argument("args", nargs="+", help="the command's arguments (after --)")
    options = parser.parse_args()
    trees: list[tuple[str, str | None]] = [
        (t.split("=", 1)[0], t.split("=", 1)[1]) for t in options.tree
    ] or [("installed", None)]
    with tempfile.TemporaryDirectory() as scratch:
        caches = {label: Path(scratch, label) if options.cached else None for label, _ in trees}
        if options.cached:
            for label, tree in trees:
                run_once(tree, options.args, caches[label])
        found: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in trees}
        for _ in range(options.runs):
            for label, tree in trees:
                found[label].append(run_once(tree, options.args, caches[label]))
    load = os.getloadavg()[0]
    print(f"canvass {' '.join(options.args)}: {options.runs} runs each, load average {load:.1f}")
    for label, runs in found.items():
        wall = [w for w, _ in runs]
        cpu = [c for _, c in runs]
        print(
            f"  {label}: wall {statistics.median(wall):.2f} s ({min(wall):.2f}-{max(wall):.2f}),"
            f" CPU {statistics.median(cpu):.2f} s ({min(cpu):.2f}-{max(cpu):.2f})"
        )


if __name__ == "__main__":
    main()
