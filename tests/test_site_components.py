"""The site's parts in a browser, before any election fills them: a page in the site's
frame with a results table, a bar chart, the flow of a ranked-choice count and a county
map, read by axe-core (no serious or critical violation) at a phone's 390 px and a
desktop's 1280 px, neither scrolling sideways."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup, escape

from canvass.demo.definition import demo_definition
from canvass.domain.definition import load_definition
from canvass.publish.site.charts import Bar, bar_chart
from canvass.publish.site.check import LogClaim, check_block, check_config, script_bytes
from canvass.publish.site.flow import flow_chart
from canvass.publish.site.layout import Status, render_page
from canvass.publish.site.maps import Area, county_map, project
from canvass.publish.site.svg import colour, count, percent
from tests.browser import axe_violations, serving, sideways_scroll
from tests.test_site_charts import maine_2018

STATIC = Path(__file__).resolve().parent.parent / "canvass" / "publish" / "static"


def body() -> Markup:
    votes = {
        "Adam Roland Cote": 35478,
        "Janet T. Mills": 41735,
        "A candidate with a rather long name, Jr.": 20767,
    }
    total = sum(votes.values())
    rows = "".join(
        f'<tr><th scope="row">{escape(n)}</th><td class="n">{count(v)}</td>'
        f'<td class="n">{percent(v, total)}</td></tr>'
        for n, v in votes.items()
    )
    table = Markup(
        '<div class="table-wrap"><table><caption>Governor: votes by candidate</caption>'
        '<thead><tr><th scope="col">Candidate</th><th scope="col" class="n">Votes</th>'
        f'<th scope="col" class="n">Share</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )
    bars = bar_chart("governor", "Governor", [Bar(n, v) for n, v in votes.items()], total)
    count_pass = maine_2018()
    flow = flow_chart("rounds", "Governor: round by round", count_pass, {})
    definition = load_definition(
        json.dumps(demo_definition(counties=30, precincts=60)).encode(), "demo.json"
    )
    counties = [j for j in definition.jurisdictions if j.geometry]
    projected = project({j.id: j.geometry for j in counties if j.geometry})
    areas = {j.id: Area(j.name, colour(i % 2), "reported") for i, j in enumerate(counties)}
    shown = county_map("map", "Counties", projected, areas, "Every county has reported.")
    return Markup("<h1>Governor</h1>") + table + bars + flow + shown


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("components")
    claim = LogClaim(log_size=3, root=bytes(32), publication=3, operator="log+00000000+AAAA")
    page = render_page(
        path="contests/governor.html",
        title="Governor",
        election="State of Lakeland General Election",
        status=Status("unofficial", "Unofficial results"),
        as_of="2026-11-04T02:00:00.000000Z",
        body=body(),
        check=check_block(check_config(claim, "contests/governor.html", "../")),
        downloads=[("governor.json", "JSON"), ("governor.csv", "CSV")],
    )
    (root / "contests").mkdir()
    (root / "contests" / "governor.html").write_bytes(page)
    (root / "site.css").write_bytes((STATIC / "site.css").read_bytes())
    (root / "check.js").write_bytes(script_bytes())
    with serving(root) as address:
        yield address + "contests/governor.html"


@pytest.mark.parametrize("width", [390, 1280])
def test_the_parts_pass_axe_and_fit_the_screen(browser: Any, site: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(site)
    assert axe_violations(page) == []
    assert sideways_scroll(page) == 0
    page.close()
