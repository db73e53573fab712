"""Election night: counties report one after another and the results are published after
each. Every bundle verifies, each extends the one before (the verifier, holding the
earlier checkpoint, accepts the later), the site's pages follow the count, and a browser
that checked the first bundle accepts the third."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from canvass import keys
from canvass.app.actor import Actor
from canvass.app.elections import define, init, register_key
from canvass.app.imports import import_ballots
from canvass.app.publishing import publish, record_publication
from canvass.demo.cvrs import county_exports
from canvass.demo.definition import demo_definition
from canvass.domain.model import KeyRole
from canvass.signing import witness
from canvass.verify import TrustStore, open_source, verify_bundle
from tests.browser import serving

CLERK = Actor("clerk")


def check(context: Any, address: str, path: str) -> dict[str, Any]:
    page = context.new_page()
    page.goto(address + path)
    page.wait_for_function(
        "document.getElementById('check-report').dataset.check !== 'not-run'", timeout=60_000
    )
    report = page.evaluate(
        """() => {
          const out = document.getElementById('check-report');
          return {state: out.dataset.check,
                  held: Array.from(out.querySelectorAll('.check-held-list li'), (li) => li.textContent),
                  failed: Array.from(out.querySelectorAll('.check-failed-list li'), (li) => li.textContent)};
        }"""
    )
    page.close()
    return report


def test_three_publications_as_counties_report(tmp_path: Path, context: Any) -> None:
    definition = demo_definition(counties=3, precincts=9)
    store = init(tmp_path / "election", CLERK, "canvass.test/election-night")
    define(store, CLERK, json.dumps(definition).encode(), "election.json")
    gazette = keys.new_signer("gazette")
    register_key(store, CLERK, gazette.verifier(), KeyRole.WITNESS)
    bundle, trust = tmp_path / "bundle", tmp_path / "trust.json"
    seen: list[int] = []
    reports: list[dict[str, Any]] = []
    with serving(tmp_path) as address:
        for n, (county, files) in enumerate(county_exports(definition, 20, 2026)):
            folder = tmp_path / "cvrs" / county
            folder.mkdir(parents=True)
            for name, data in files.items():
                (folder / name).write_bytes(data)
            import_ballots(store, CLERK, county, "dominion", [folder])
            record_publication(store, CLERK)
            previous = (bundle / "log" / "checkpoint").read_text() if n else None
            witness(store, gazette, 1_793_000_000 + n, since=previous)
            published = publish(store, CLERK, bundle, replace=True)
            assert published.not_cosigned == []
            # Verified holding every checkpoint seen before: the log only grew.
            report = verify_bundle(open_source(str(bundle)), TrustStore(trust))
            assert report.ok, [p for c in report.checks for p in c.problems]
            TrustStore(trust).remember(report.origin, report.operator, report.checkpoint)
            seen.append(report.log_size)
            results = json.loads((bundle / "results" / "results.json").read_text())
            assert sorted(results["counties"]) == [f"c00{k}" for k in range(1, n + 2)]
            front = json.loads((bundle / "index.json").read_text())
            assert front["counties"]["reported"] == n + 1 and front["status"] == "unofficial"
            if n in (0, 2):
                reports.append(check(context, address, "bundle/index.html"))
        assert n == 2
    assert seen == sorted(set(seen))
    first, third = reports
    assert first["state"] == "passed", first
    assert third["state"] == "passed", third
    extended = [h for h in third["held"] if h.startswith("The log extends the checkpoint")]
    assert len(extended) == 1 and f"({seen[0]} entries)" in extended[0]
    assert context.console_errors == []
    store.close()
