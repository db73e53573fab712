"""Benchmark: the public results site on election night.

1. Builds the demo state's election (``canvass demo``'s sizes: 104 counties, 2,500
   precincts, 60 ballots a precinct) with every county but the last imported, and
   publishes it (the site included).
2. Serves the bundle with Debian's nginx and the shipped configuration
   (``deploy/nginx-results.conf``) on loopback, and measures requests per second with
   ``wrk`` for the front page and for ``results/results.json``.
3. The last county reports: its ballots are imported, the publication recorded and
   cosigned, the bundle rendered again (``canvass publish`` into a fresh folder) and the
   served bundle brought up to date in place (``canvass.publish.republish``), each step
   timed, with the files rewritten counted.

Needs ``nginx`` and ``wrk`` (``apt-get install -y nginx wrk``). Writes its figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from canvass import keys  # noqa: E402
from canvass.app.actor import Actor  # noqa: E402
from canvass.app.elections import define, init, register_key  # noqa: E402
from canvass.app.imports import import_ballots  # noqa: E402
from canvass.app.publishing import publish, record_publication  # noqa: E402
from canvass.demo.cvrs import county_exports  # noqa: E402
from canvass.demo.definition import demo_definition  # noqa: E402
from canvass.domain.model import KeyRole  # noqa: E402
from canvass.publish.republish import republish  # noqa: E402
from canvass.signing import witness  # noqa: E402
from tests.browser import nginx_serving  # noqa: E402

CLERK = Actor("clerk")


def wrk(url: str, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figure = {
        "url": url.rsplit("/", 1)[-1] or "/",
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        "latency_p50": re.search(r"50%\s+(\S+)", out)[1],  # type: ignore[index]
        "latency_p99": re.search(r"99%\s+(\S+)", out)[1],  # type: ignore[index]
    }
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figure["non_2xx"] = int(errors[1]) if errors else 0
    return figure


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counties", type=int, default=104)
    parser.add_argument("--precincts", type=int, default=2500)
    parser.add_argument("--ballots-per-precinct", type=int, default=60)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/site.json"))
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-site-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    figures: dict[str, Any] = {"counties": args.counties, "precincts": args.precincts}

    definition = demo_definition(args.counties, args.precincts, 2026)
    store = init(work / "election", CLERK, "canvass.invalid/bench-site")
    define(store, CLERK, json.dumps(definition).encode(), "definition.json")
    gazette = keys.new_signer("gazette")
    register_key(store, CLERK, gazette.verifier(), KeyRole.WITNESS)
    exports = list(county_exports(definition, args.ballots_per_precinct, 2026))
    t = time.perf_counter()
    for county, files in exports[:-1]:
        folder = work / "cvrs" / county
        folder.mkdir(parents=True)
        for name, data in files.items():
            (folder / name).write_bytes(data)
        import_ballots(store, CLERK, county, "dominion", [folder])
    figures["import_all_but_one_s"] = round(time.perf_counter() - t, 1)
    record_publication(store, CLERK)
    witness(store, gazette, int(time.time()))
    served = work / "served"
    t = time.perf_counter()
    publish(store, CLERK, served)
    figures["first_publish_s"] = round(time.perf_counter() - t, 2)
    figures["bundle_files"] = len(files_of(served))

    with nginx_serving(served, work / "nginx") as address:
        for name, path in (("front_page", "index.html"), ("results_json", "results/results.json")):
            figures[name] = wrk(address + path, args.seconds, args.connections, args.threads)
            figures[name]["bytes"] = (served / path).stat().st_size

    county, files = exports[-1]
    folder = work / "cvrs" / county
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    steps: dict[str, float] = {}
    t = time.perf_counter()
    import_ballots(store, CLERK, county, "dominion", [folder])
    steps["import_county_s"] = time.perf_counter() - t
    t = time.perf_counter()
    record_publication(store, CLERK)
    steps["render_and_record_s"] = time.perf_counter() - t
    t = time.perf_counter()
    witness(store, gazette, int(time.time()))
    steps["cosign_s"] = time.perf_counter() - t
    t = time.perf_counter()
    publish(store, CLERK, work / "fresh")
    steps["write_bundle_s"] = time.perf_counter() - t
    t = time.perf_counter()
    done = republish(served, files_of(work / "fresh"))
    steps["update_served_in_place_s"] = time.perf_counter() - t
    store.close()
    figures["last_county_reports"] = {
        **{k: round(v, 2) for k, v in steps.items()},
        "total_s": round(sum(steps.values()), 2),
        "files_rewritten": len(done.written),
        "files_unchanged": done.unchanged,
        "files_removed": len(done.removed),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
