"""The results site of a small demo election, in a browser: every page renders with no
console error, the numbers on the front, contest and county pages are those of the
results JSON, axe-core finds no serious or critical violation, nothing scrolls sideways
at 390 px; screenshots of the front, a contest, a county and a ranked-choice page at 1280
and 390 px are saved (in ``screenshots/`` of pytest's base temporary directory, or in
``$CANVASS_SCREENSHOTS``).

Every page checks itself in the browser and passes: the bundle is the one publishing
writes."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import html

from canvass.app.actor import Actor
from canvass.app.publishing import publish
from canvass.demo.build import WITNESS, build_demo
from canvass.log.note import parse_checkpoint_text, parse_note
from canvass.log.tiles import WIDTH, tile_path
from canvass.publish.site.base import VOTE_TYPES
from canvass.publish.site.documents import site_data as read_site_data
from canvass.publish.site.model import SiteData
from canvass.publish.site.pages import render_site
from canvass.publish.site.svg import count
from tests.browser import axe_violations, serving, sideways_scroll

SHOTS = ("front", "contest", "county", "rounds")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: ``$CANVASS_SCREENSHOTS`` when set, else ``screenshots/``
    in the run's pytest base temporary directory."""
    where = os.environ.get("CANVASS_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


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


def test_county_pages_show_every_contest_by_precinct_and_by_vote_type(
    site: tuple[Path, SiteData, str],
) -> None:
    """The county's tables by precinct and by vote type are breakdowns.json's numbers, and
    each adds up to the county's total in results.json."""
    bundle, data, _ = site
    results = json.loads((bundle / "results" / "results.json").read_text())
    breakdowns = json.loads((bundle / "results" / "breakdowns.json").read_text())
    names = {j.id: j.name for j in data.definition.jurisdictions}
    kinds = {"precincts": "precinct", "vote-types": "county,vote_type"}
    seen = dict.fromkeys(kinds, 0)
    for county, contests in results["counties"].items():
        page = html.fromstring((bundle / "counties" / f"{county}.html").read_bytes())
        for contest, totals in contests.items():
            for key, by in kinds.items():
                groups = {
                    g.split("/", 1)[1]: v["contests"][contest]
                    for g, v in breakdowns[by].items()
                    if g.startswith(f"{county}/") and contest in v["contests"]
                }
                if not groups:  # the contest is not on the county's ballots
                    assert not any(totals["votes"].values()) and totals["ballots"] == 0
                    assert not page.xpath(f"//*[@id='{contest}-{key}']"), (county, contest)
                    continue
                (table,) = page.xpath(f"//*[@id='{contest}-{key}']//table")
                header = [th.text_content() for th in table.xpath("thead/tr/th")][1:-1]
                choices = {results["choices"].get(f"{contest}/{c}", c): c for c in totals["votes"]}
                assert sorted(header) == sorted(choices), (county, contest)
                summed = dict.fromkeys(totals["votes"], 0)
                rows = table.xpath("tbody/tr")
                assert len(rows) == len(groups), (county, contest, key)
                for row in rows:
                    label = row.xpath("th")[0].text_content()
                    unit = next(u for u in groups if label in (names.get(u), VOTE_TYPES.get(u), u))
                    cells = [td.text_content() for td in row.xpath("td")]
                    want = groups[unit]
                    assert cells == [count(want["votes"][choices[h]]) for h in header] + [
                        count(want["ballots"])
                    ], (county, contest, unit)
                    for h in header:
                        summed[choices[h]] += want["votes"][choices[h]]
                    seen[key] += 1
                assert summed == totals["votes"], (county, contest, key)
    assert all(seen.values()), seen


def _share(part: int, whole: int) -> str:
    return f"{(Decimal(part) * 100 / whole).quantize(Decimal('0.1'), ROUND_HALF_EVEN)}%"


def test_turnout_is_ballots_counted_against_registered_voters(
    site: tuple[Path, SiteData, str],
) -> None:
    """The demo's definition gives each county's registered voters: each county page, the
    list of counties and the front page set the ballots results.json counts against them."""
    bundle, data, _ = site
    results = json.loads((bundle / "results" / "results.json").read_text())
    registered = {
        j.id: j.registered_voters for j in data.definition.jurisdictions if j.kind == "county"
    }
    assert all(registered.values()), registered
    rows = {
        r["county"]: r for r in csv.DictReader(io.StringIO((bundle / "counties.csv").read_text()))
    }
    for county, voters in registered.items():
        ballots = results["county_ballots"][county]["ballots"]
        assert 0 < ballots <= voters
        said = f"Turnout: {count(ballots)} ballots counted of {count(voters)} registered voters ({_share(ballots, voters)})."
        page = html.fromstring((bundle / "counties" / f"{county}.html").read_bytes())
        assert said in numbers(page, "//main//p"), county
        twin = json.loads((bundle / "counties" / f"{county}.json").read_text())
        assert twin["turnout"] == {
            "ballots": ballots,
            "registered_voters": voters,
            "turnout": _share(ballots, voters),
        }
        assert (
            rows[county]["ballots"],
            rows[county]["registered_voters"],
            rows[county]["turnout"],
        ) == (
            str(ballots),
            str(voters),
            _share(ballots, voters),
        )
    total = sum(registered.values())
    front = html.fromstring((bundle / "index.html").read_bytes())
    assert (
        f"Turnout: {count(results['ballots'])} ballots counted of {count(total)} registered "
        f"voters ({_share(results['ballots'], total)})."
    ) in numbers(front, "//main//p")


def test_every_page_names_its_sources_and_links_its_data(
    site: tuple[Path, SiteData, str],
) -> None:
    bundle, data, _ = site
    needs = {
        "index.html": ["results/results.json", "certificates/index.json"],
        "counties.html": ["results/results.json", "certificates/index.json"],
        "certificates.html": ["certificates/index.json"],
        "audits.html": ["audits/index.json"],
        "how-to-check.html": ["manifest.json", "log/checkpoint"],
    }
    for c in data.definition.contests:
        needs[f"contests/{c.id}.html"] = [
            "results/results.json",
            f"results/{c.id}.csv",
            "results/breakdowns.json",
        ]
    for c in data.ranked:
        needs[f"contests/{c}-rounds.html"] = ["results/ranked-choice.json"]
    for county in data.results["counties"]:
        needs[f"counties/{county}.html"] = [
            "results/results.json",
            "results/breakdowns.json",
            "reconciliation/units.csv",
            "certificates/index.json",
        ]
    for path in pages(bundle):
        page = html.fromstring((bundle / path).read_bytes())
        (section,) = page.xpath("//main//section[contains(@class, 'sources')]")
        links = section.xpath(".//a")
        stem = path.rsplit("/", 1)[-1].removesuffix(".html")
        assert [a.get("href") for a in links[:2]] == [f"{stem}.json", f"{stem}.csv"], path
        for a in links:
            assert ((bundle / path).parent / a.get("href")).resolve().is_file(), (
                path,
                a.get("href"),
            )
        named = [a.text_content() for a in links[2:]]
        assert set(needs[path]) <= set(named), (path, named)
        assert all((bundle / n).is_file() for n in named), (path, named)


@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_reads_well(
    browser: Any, site: tuple[Path, SiteData, str], screenshots: Path, width: int
) -> None:
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
            page.screenshot(path=str(screenshots / f"{name}-{width}.png"), full_page=True)
    context.close()
    saved = {p.name: p.read_bytes() for p in screenshots.glob(f"*-{width}.png")}
    for name in SHOTS:
        png = saved[f"{name}-{width}.png"]
        assert png.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert int.from_bytes(png[16:20], "big") == width, name  # the IHDR's width


def _flip_signature(note: str, name: str) -> str:
    """The signed note with the last byte of ``name``'s signature flipped."""
    lines = note.split("\n")
    found = [i for i, line in enumerate(lines) if line.startswith(f"\u2014 {name} ")]
    assert found, name
    for i in found:
        blob = bytearray(base64.b64decode(lines[i].rsplit(" ", 1)[1]))
        blob[-1] ^= 1
        lines[i] = f"\u2014 {name} {base64.b64encode(bytes(blob)).decode()}"
    return "\n".join(lines)


def _alter(bundle: Path, what: str) -> str:
    """Alter the bundle's ``what``; returns the failure the page must name."""
    checkpoint = bundle / "log" / "checkpoint"
    note = parse_note(checkpoint.read_text(), "log/checkpoint")
    signed = parse_checkpoint_text(note.text, "log/checkpoint")
    origin, size = signed.origin, signed.size
    if what == "checkpoint signature":
        checkpoint.write_text(_flip_signature(checkpoint.read_text(), origin))
        return (
            "The log's checkpoint is not signed by the election's log key: log/checkpoint: "
            f"the signature by {origin} does not verify"
        )
    if what == "cosignature":
        checkpoint.write_text(_flip_signature(checkpoint.read_text(), WITNESS))
        return (
            f"Witness {WITNESS} has not vouched for this log: log/checkpoint: the cosignature "
            f"by {WITNESS} does not verify"
        )
    # The publication is the log's last entry, N: its inclusion proof takes a hash of the
    # subtree that ends at entry N - 1, which the page computes from the level-0 tile.
    published = size - 1
    assert published % WIDTH, "entry N - 1 lies in entry N's tile"
    index = (published - 1) // WIDTH
    width = WIDTH if (index + 1) * WIDTH <= size else size - index * WIDTH
    tile = bundle / "log" / tile_path(0, index, width)
    data = bytearray(tile.read_bytes())
    data[((published - 1) % WIDTH) * 32] ^= 1
    tile.write_bytes(bytes(data))
    return (
        f"Log entry {published}, the publication of these results, is not in the log: the "
        f"inclusion proof for entry {published} does not lead to the root"
    )


@pytest.mark.parametrize("what", ["checkpoint signature", "cosignature", "inclusion proof"])
def test_the_demo_bundle_altered_is_named_in_the_browser(
    browser: Any, site: tuple[Path, SiteData, str], tmp_path: Path, what: str
) -> None:
    """The published demo bundle, one thing in it altered: every page says the check
    failed and names what failed (the honest bundle passes: test_every_page_reads_well)."""
    bundle, _, _ = site
    altered = tmp_path / "bundle"
    shutil.copytree(bundle, altered)
    failure = _alter(altered, what)
    context = browser.new_context()
    errors: list[str] = []
    with serving(altered) as address:
        tab = context.new_page()
        tab.on("pageerror", lambda e: errors.append(str(e)))
        for path in ("index.html", "contests/president.html", "counties/c001.html"):
            tab.goto(address + path)
            tab.wait_for_function(
                "document.getElementById('check-report').dataset.check !== 'not-run'",
                timeout=60_000,
            )
            report = tab.evaluate(
                """() => {
                  const out = document.getElementById('check-report');
                  return {state: out.dataset.check,
                          failed: Array.from(out.querySelectorAll('.check-failed-list li'),
                                             (li) => li.textContent)};
                }"""
            )
            assert report["state"] == "failed", (what, path, report)
            assert failure in report["failed"], (what, path, report)
    context.close()
    assert errors == []
