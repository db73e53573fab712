"""The results site of a small demo election, in a browser: every page renders with no
console error, the numbers on the front, contest and county pages are those of the
results JSON, axe-core finds no serious or critical violation, nothing scrolls sideways
at 390 px; screenshots at 1280 and 390 px are saved (build/screenshots/).

Every page checks itself in the browser and passes: the bundle is the one publishing
writes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import html

from canvass.app.actor import Actor
from canvass.app.publishing import publish
from canvass.demo.build import build_demo
from canvass.publish.site.documents import site_data as read_site_data
from canvass.publish.site.model import SiteData
from canvass.publish.site.pages import render_site
from canvass.publish.site.svg import count
from tests.browser import axe_violations, serving, sideways_scroll

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "build" / "screenshots"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, SiteData, str]]:
    """A small demo election, canvassed, certified and audited, published, and served."""
    root = tmp_path_factory.mktemp("site")
    run = build_demo(root / "election", False, 4, 16, 2026, 30)
    publish(run.store, Actor("clerk"), root / "bundle")
    run.store.close()
    bundle = root / "bundle"
    data = read_site_data(lambda path: (bundle / path).read_bytes())
    with serving(bundle) as address:
        yield bundle, data, address


def pages(bundle: Path) -> list[str]:
    return sorted(
        str(p.relative_to(bundle))
        for p in bundle.rglob("*.html")
        if p.relative_to(bundle).parts[0] not in ("log", "artifacts")
    )


def test_the_site_has_every_page_with_its_twins(site: tuple[Path, SiteData, str]) -> None:
    bundle, data, _ = site
    found = pages(bundle)
    contests = [c.id for c in data.definition.contests]
    counties = [j.id for j in data.definition.jurisdictions if j.kind == "county"]
    ranked = list(data.ranked)
    assert ranked, "the demo has a ranked-choice contest"
    assert found == sorted(
        [
            "index.html",
            "counties.html",
            "certificates.html",
            "audits.html",
            "how-to-check.html",
            *(f"contests/{c}.html" for c in contests),
            *(f"contests/{c}-rounds.html" for c in ranked),
            *(f"counties/{c}.html" for c in counties),
        ]
    )
    for page in found:
        stem = page.removesuffix(".html")
        assert (bundle / f"{stem}.json").is_file() and (bundle / f"{stem}.csv").is_file(), page
    assert list(render_site(data)) == list(render_site(data))


def numbers(doc: Any, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def test_the_numbers_are_those_of_the_results_json(site: tuple[Path, SiteData, str]) -> None:
    bundle, _, _ = site
    results = json.loads((bundle / "results" / "results.json").read_text())
    for contest, totals in results["contests"].items():
        page = html.fromstring((bundle / "contests" / f"{contest}.html").read_bytes())
        table = page.xpath("//table")[0]
        shown = {
            re.sub(
                r" \((leading|elected|passed|rejected)\)$", "", row.xpath("th")[0].text_content()
            ): row.xpath("td")[0].text_content()
            for row in table.xpath("tbody/tr")
        }
        for choice, votes in totals["votes"].items():
            name = results["choices"].get(f"{contest}/{choice}", choice)
            assert shown[name] == count(votes), (contest, choice)
        assert shown["Overvotes"] == count(totals["overvotes"])
        assert shown["Undervotes"] == count(totals["undervotes"])
        by_county = page.xpath("//table")[1]
        header = [th.text_content() for th in by_county.xpath("thead/tr/th")][1:-1]
        for row in by_county.xpath("tbody/tr"):
            county = row.xpath("th/a")[0].get("href").split("/")[-1].removesuffix(".html")
            cells = [td.text_content() for td in row.xpath("td")][:-1]
            want = results["counties"][county][contest]["votes"]
            names = {results["choices"].get(f"{contest}/{c}", c): v for c, v in want.items()}
            assert cells == [count(names[h]) for h in header], (contest, county)
    for county, contests in results["counties"].items():
        page = html.fromstring((bundle / "counties" / f"{county}.html").read_bytes())
        for contest, totals in contests.items():
            caption = page.xpath(f"//h2[@id='{contest}']/following-sibling::div[1]//table")[0]
            rows = {
                r.xpath("th")[0].text_content(): r.xpath("td")[0].text_content()
                for r in caption.xpath("tbody/tr")
            }
            for choice, votes in totals["votes"].items():
                assert rows[results["choices"].get(f"{contest}/{choice}", choice)] == count(votes)
    front = html.fromstring((bundle / "index.html").read_bytes())
    front_json = json.loads((bundle / "index.json").read_text())
    for card in front_json["contests"]:
        totals = results["contests"][card["contest"]]
        assert {c["choice"]: c["votes"] for c in card["choices"]} == totals["votes"]
        for c in card["choices"]:
            if c["marked"]:
                said = numbers(
                    front, f"//a[@href='contests/{card['contest']}.html']/ancestor::li[1]//p[1]"
                )[0]
                assert (
                    f"{c['name']} {c['marked']} with {count(c['votes'])} votes ({c['share']})"
                    in said
                )


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_reads_well(browser: Any, site: tuple[Path, SiteData, str], width: int) -> None:
    bundle, _, address = site
    context = browser.new_context(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    shots = {"index.html": "front", "counties/c001.html": "county"}
    for path in pages(bundle):
        page.goto(address + path)
        page.wait_for_function(
            "document.getElementById('check-report').dataset.check !== 'not-run'"
        )
        state = page.evaluate("document.getElementById('check-report').dataset.check")
        assert state == "passed", (path, page.text_content("#check-report"))
        assert errors == [], (path, errors)
        assert axe_violations(page) == [], path
        assert sideways_scroll(page) == 0, path
        name = shots.get(path) or ("rounds" if path.endswith("-rounds.html") else None)
        if name is None and path.startswith("contests/") and "contest" not in shots.values():
            name = shots[path] = "contest"
        if name:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    context.close()
    assert {p.name for p in SCREENSHOTS.glob(f"*-{width}.png")} >= {
        f"{n}-{width}.png" for n in ("front", "contest", "county", "rounds")
    }
