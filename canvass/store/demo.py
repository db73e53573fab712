"""Building the demo election directory: the generated definition, a witness, and a
generated Dominion export for every county, imported and counted."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canvass import keys
from canvass.demo import demo_definition
from canvass.demo_cvrs import county_exports
from canvass.domain.model import KeyRole
from canvass.errors import StoreError
from canvass.store.ballots import import_ballots, results
from canvass.store.election import ElectionDirectory
from canvass.tabulate.plurality import Results

WITNESS = "lakeland-gazette"


@dataclass
class DemoRun:
    store: ElectionDirectory
    definition: dict[str, Any]
    cosigned: str
    """The latest checkpoint with the witness's cosignature."""
    results: Results | None = None
    by_county: Results | None = None
    labels: dict[str, str] | None = None


def build_demo(
    directory: Path,
    replace: bool = False,
    counties: int = 104,
    precincts: int = 2500,
    seed: int = 2026,
    ballots_per_precinct: int = 60,
) -> DemoRun:
    if directory.exists():
        if not replace:
            raise StoreError(f"{directory}: already exists; pass --replace to rebuild the demo")
        if not (directory / "canvass.db").exists():
            raise StoreError(
                f"{directory}: exists and is not an election directory; not deleting it"
            )
        shutil.rmtree(directory)
    try:
        definition = demo_definition(counties, precincts, seed)
    except ValueError as e:
        raise StoreError(str(e)) from None
    store = ElectionDirectory.init(directory, "canvass.invalid/lakeland-2026-general", "clerk")
    store.define(json.dumps(definition, indent=1).encode(), "lakeland-2026-general.json", "clerk")
    witness_file = directory / "demo-keys" / f"{WITNESS}.key"
    witness_file.parent.mkdir(mode=0o700)
    witness = keys.new_signer(WITNESS)
    keys.write_key(witness, witness_file)
    store.register_key(witness.verifier(), KeyRole.WITNESS, "clerk")
    run = DemoRun(store, definition, "")
    if ballots_per_precinct > 0:
        for county, files in county_exports(definition, ballots_per_precinct, seed):
            folder = directory / "demo-cvrs" / county
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)
            import_ballots(store, county, "dominion", [folder], "clerk")
        run.results, run.labels = results(store)
        run.by_county, _ = results(store, "county")
    run.cosigned = store.cosign(witness, int(time.time()))
    return run
