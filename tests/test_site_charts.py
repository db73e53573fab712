"""Charts and maps of the results site, written as SVG at publish time: bar charts, the
flow of a ranked-choice count, and county maps from the definition's GeoJSON — checked
against RCTab's report of a real count, the Census Bureau's county areas and the 2020
county results of Georgia and Michigan."""

from __future__ import annotations

import copy
import csv
import json
import re
from decimal import Decimal
from typing import Any

import msgspec
import pytest
import yaml
from lxml import etree

from canvass.demo.definition import demo_definition
from canvass.domain.definition import load_definition
from canvass.domain.model import MultiPolygon, Polygon
from canvass.errors import DefinitionError
from canvass.publish.site.charts import BAR_SPAN, Bar, bar_chart
from canvass.publish.site.flow import flow_chart
from canvass.publish.site.maps import Area, county_map, douglas_peucker, project
from canvass.publish.site.svg import PALETTE, count, percent
from tests.conftest import EXAMPLES, shared_path

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> Any:
    return etree.fromstring(str(markup).encode())


def accessible_text(svg: Any) -> tuple[str, str]:
    """The image's name and description, as a screen reader gets them."""
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    (title,) = svg.xpath(f"//*[@id='{title_id}']")
    (desc,) = svg.xpath(f"//*[@id='{desc_id}']")
    assert (title.tag, desc.tag) == (f"{SVG}title", f"{SVG}desc")
    return title.text, desc.text


# --- Numbers ---------------------------------------------------------------------------


def test_numbers_are_written_one_way() -> None:
    assert [count(0), count(2474507), count(Decimal("12.5000")), count("7")] == [
        "0",
        "2,474,507",
        "12.5000",
        "7",
    ]
    # Exact decimal rounding, half to even: 1/8 = 12.5% and 3/16 = 18.75% -> 18.8%.
    assert [percent(1, 8), percent(3, 16), percent(1, 3), percent(5, 0)] == [
        "12.5%",
        "18.8%",
        "33.3%",
        "–",
    ]


# --- Bar charts ------------------------------------------------------------------------


def georgia_president() -> dict[str, int]:
    path = shared_path("data", "ga-2020", "precinct_results_original_certification.csv")
    totals = {"biden": 0, "trump": 0, "jorgensen": 0}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            for who in totals:
                value = row[f"{who}_all"]
                totals[who] += 0 if value == "NA" else int(value)  # rows of no votes
    return totals


def test_a_bar_chart_of_georgia_2020() -> None:
    votes = georgia_president()
    # The totals as originally certified (../shared/data/README.md).
    assert (votes["biden"], votes["trump"]) == (2_474_507, 2_461_837)
    total = sum(votes.values())
    bars = [
        Bar("Joseph R. Biden", votes["biden"], "won"),
        Bar("Donald J. Trump", votes["trump"]),
        Bar("Jo Jorgensen", votes["jorgensen"]),
    ]
    svg = parse(bar_chart("president", "President: votes by candidate", bars, total))
    title, desc = accessible_text(svg)
    assert title == "President: votes by candidate"
    assert desc == (
        "Joseph R. Biden — won: 2,474,507 votes, 49.5%; Donald J. Trump: 2,461,837 votes, "
        "49.3%; Jo Jorgensen: 62,138 votes, 1.2%."
    )
    widths = [Decimal(r.get("width").rstrip("%")) for r in svg.iter(f"{SVG}rect")]
    assert widths[0] == BAR_SPAN
    for bar, width in zip(bars, widths, strict=True):
        assert abs(width / BAR_SPAN - Decimal(bar.votes) / votes["biden"]) < Decimal("0.0002")
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts[:2] == ["Joseph R. Biden — won", "2,474,507 · 49.5%"]
    # The same bytes every time: the verifier renders the chart again.
    assert bar_chart("president", "President: votes by candidate", bars, total) == bar_chart(
        "president", "President: votes by candidate", bars, total
    )


def test_a_chart_escapes_names() -> None:
    markup = bar_chart("c", "A <contest>", [Bar("O'Brien & <Sons>", 3)], 3)
    svg = parse(markup)
    assert accessible_text(svg)[0] == "A <contest>"
    assert next(svg.iter(f"{SVG}text")).text == "O'Brien & <Sons>"


# --- The flow of a ranked-choice count ---------------------------------------------------


def maine_2018() -> dict[str, Any]:
    """RCTab's report of the 2018 Maine Democratic primary for governor, as the rounds
    publish writes them (``rounds_json``)."""
    path = shared_path(
        "data",
        "rctab",
        "2018_maine_governor_primary",
        "2018_maine_governor_primary_expected_detailed_report.json",
    )
    report = json.loads(path.read_text())
    rounds = []
    for r in report["results"]:
        results = r.get("tallyResults", [])
        rounds.append(
            {
                "round": r["round"],
                "threshold": r["threshold"],
                "tally": r["tally"],
                "inactive": r["inactiveBallots"],
                "elected": [t["elected"] for t in results if "elected" in t],
                "eliminated": [t["eliminated"] for t in results if "eliminated" in t],
                "transfers": {
                    t.get("eliminated") or t["elected"]: t.get("transfers", {}) for t in results
                },
            }
        )
    winners = [c for r in rounds for c in r["elected"]]
    return {"winners": winners, "rounds": rounds}


BAND = re.compile(
    r"M(?P<x0>[\d.]+) (?P<y0>\d+)C[\d. ]+ (?P<x1>[\d.]+) (?P<y1>\d+)H(?P<x1w>[\d.]+)C"
)


def test_the_flow_of_maines_2018_primary() -> None:
    count_pass = maine_2018()
    assert count_pass["winners"] == ["Mills, Janet T."]
    labels = {c: " ".join(reversed(c.split(", "))) for c in count_pass["rounds"][0]["tally"]}
    svg = parse(flow_chart("governor", "Governor: round by round", count_pass, labels))
    title, desc = accessible_text(svg)
    assert title == "Governor: round by round"
    assert desc.startswith("Round 1: Adam Roland Cote 35,478 (28.1%), Donna J. Dion 1,596 (1.3%), ")
    assert (
        "Donna J. Dion eliminated. Mark N. Dion eliminated. Diane Marie Russell eliminated. "
        "Write-in eliminated. Transferred: 390 from Donna J. Dion to Adam Roland Cote; "
    ) in desc
    assert desc.endswith(
        "Round 4: Adam Roland Cote 53,866 (45.9%), Janet T. Mills 63,387 (54.1%); 9,462 no "
        "longer counting. Janet T. Mills elected. Elected: Janet T. Mills."
    )
    # Every band is as wide as the votes it carries, and the bands reaching a round fill
    # each of its segments exactly: RCTab's transfers add up to its next round.
    inner = svg.find(f"{SVG}svg")
    rects: dict[int, list[tuple[Decimal, Decimal]]] = {}
    for rect in inner.iter(f"{SVG}rect"):
        x, w = Decimal(rect.get("x")), Decimal(rect.get("width"))
        rects.setdefault(int(rect.get("y")), []).append((x, x + w))
    arriving: dict[tuple[int, Decimal], Decimal] = {}
    for path in inner.iter(f"{SVG}path"):
        m = BAND.match(path.get("d"))
        assert m, path.get("d")
        x1, x1w = Decimal(m["x1"]), Decimal(m["x1w"])
        arriving.setdefault((int(m["y1"]), x1), Decimal(0))
        arriving[(int(m["y1"]), x1)] += x1w - x1
    tops = sorted(rects)
    assert len(tops) == 4
    for top in tops[1:]:
        for start, end in rects[top]:
            into = sum(
                (w for (y, x), w in arriving.items() if y == top and start <= x < end),
                Decimal(0),
            )
            assert abs(into - (end - start)) < Decimal("0.05"), (top, start)
    legend = [t.text for t in svg.iter(f"{SVG}text")][-9:]
    assert legend[-1] == "No longer counting" and legend[0] == "Adam Roland Cote"


# --- Maps --------------------------------------------------------------------------------


def counties(state: str) -> tuple[dict[str, Polygon | MultiPolygon], dict[str, dict[str, Any]]]:
    path = shared_path("data", "geo", f"{state}_counties.geojson")
    features = json.loads(path.read_text())["features"]
    geometries = {f["id"]: msgspec.convert(f["geometry"], Polygon | MultiPolygon) for f in features}
    return geometries, {f["id"]: f["properties"] for f in features}


@pytest.mark.parametrize(
    ("state", "largest", "smallest"),
    [
        ("georgia", "Ware", "Clarke"),
        ("michigan", "Marquette", "Benzie"),
    ],
)
def test_projected_areas_agree_with_the_census(state: str, largest: str, smallest: str) -> None:
    """Each county's share of the state's area on the map is its share of the Census
    Bureau's land area (CENSUSAREA, square miles) to within a few percent."""
    geometries, props = counties(state)
    projected = project(geometries)
    areas = {k: s.area() for k, s in projected.shapes.items()}
    names = {k: props[k]["NAME"] for k in props}
    assert (names[max(areas, key=areas.__getitem__)], names[min(areas, key=areas.__getitem__)]) == (
        largest,
        smallest,
    )
    census = {k: props[k]["CENSUSAREA"] for k in props}
    ratio = sum(areas.values()) / sum(census.values())
    errors = sorted(abs(areas[k] / census[k] / ratio - 1) for k in areas)
    assert errors[len(errors) // 2] < 0.05
    assert sum(e < 0.10 for e in errors) >= 0.9 * len(errors)


def _edges(projected: Any) -> dict[frozenset[tuple[int, int]], int]:
    seen: dict[frozenset[tuple[int, int]], int] = {}
    for shape in projected.shapes.values():
        for ring in shape.rings:
            for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
                key = frozenset((a, b))
                seen[key] = seen.get(key, 0) + 1
    return seen


def _length(edges: dict[frozenset[tuple[int, int]], int], times: int) -> float:
    import math

    return sum(math.dist(*tuple(e)) for e, n in edges.items() if n == times and len(e) == 2)


@pytest.mark.parametrize("state", ["georgia", "michigan"])
def test_simplifying_opens_no_gap_between_neighbours(state: str) -> None:
    """A border two counties share is one arc, simplified once: after simplification it
    is still drawn by both (every edge twice), and the state's outline (edges drawn once)
    does not grow — simplifying each county on its own would leave every border twice as
    two different lines."""
    geometries, _ = counties(state)
    exact, simple = _edges(project(geometries, 0)), _edges(project(geometries, 2.0))
    assert _length(simple, 2) > 0.99 * _length(exact, 2)
    assert _length(simple, 1) <= _length(exact, 1)
    assert sum(len(e) for e in simple) < sum(len(e) for e in exact)
    # The same map whatever order the counties come in.
    backwards = dict(reversed(list(geometries.items())))
    assert project(backwards, 2.0).shapes == project(geometries, 2.0).shapes


def test_douglas_peucker_keeps_what_strays() -> None:
    points = [(0, 0), (1, 0), (2, 3), (3, 0), (4, 0), (5, 1), (6, 0)]
    assert douglas_peucker(points, 1.0) == [(0, 0), (2, 3), (3, 0), (6, 0)]
    assert douglas_peucker(points, 5.0) == [(0, 0), (6, 0)]
    # (1, 0) is 0.83 from the chord (0, 0)-(2, 3); (4, 0) is 0.45 from (3, 0)-(5, 1).
    assert douglas_peucker(points, 0.5) == [(0, 0), (1, 0), (2, 3), (3, 0), (5, 1), (6, 0)]


@pytest.mark.parametrize(
    ("state", "name", "dem_counties"),
    [
        ("Georgia", "georgia", 30),
        ("Michigan", "michigan", 11),
    ],
)
def test_a_map_of_the_2020_county_winners(state: str, name: str, dem_counties: int) -> None:
    """Biden carried 30 of Georgia's 159 counties and 11 of Michigan's 83."""
    geometries, _ = counties(name)
    path = shared_path("data", "us-2020", "county_presidential_results_final.csv")
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["state_name"] == state]
    areas = {}
    for r in rows:
        dem, gop, total = int(r["votes_dem"]), int(r["votes_gop"]), int(r["total_votes"])
        lead = ("Biden", dem) if dem > gop else ("Trump", gop)
        areas[r["county_fips"]] = Area(
            r["county_name"],
            PALETTE[0] if lead[0] == "Biden" else PALETTE[1],
            f"{lead[0]} leads with {percent(lead[1], total)}",
        )
    markup = county_map(
        "map",
        f"{state}: who leads in each county",
        project(geometries),
        areas,
        "Colour: who leads.",
    )
    svg = parse(markup)
    paths = list(svg.iter(f"{SVG}path"))
    assert len(paths) == len(geometries) == len(rows)
    assert sum(p.get("fill") == PALETTE[0] for p in paths) == dem_counties
    title, desc = accessible_text(svg)
    assert title == f"{state}: who leads in each county"
    assert desc.startswith("Colour: who leads. ")
    assert desc.count(" leads with ") == len(rows)
    assert svg.get("viewBox").startswith("0 0 1000 ")
    assert len(markup) < 60_000


# --- Geometry in the definition -----------------------------------------------------------


def _with_geometry(geometry: Any) -> bytes:
    doc = yaml.safe_load((EXAMPLES / "election.yaml").read_text())
    doc = copy.deepcopy(doc)
    county = next(j for j in doc["jurisdictions"] if j["kind"] == "county")
    county["geometry"] = geometry
    return json.dumps(doc, default=str).encode()


def test_a_county_boundary_in_the_definition() -> None:
    geometries, _ = counties("georgia")
    fulton = msgspec.to_builtins(geometries["13121"])
    definition = load_definition(_with_geometry(fulton), "election.json")
    county = next(j for j in definition.jurisdictions if j.geometry)
    assert isinstance(county.geometry, Polygon)
    assert county.geometry.coordinates == fulton["coordinates"]


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (
            {"type": "Point", "coordinates": [-84, 33]},
            "geometry.type: expected one of Polygon, MultiPolygon; found 'Point'",
        ),
        (
            {"type": "Polygon", "coordinates": [[[-84, 33], [-83, 33], [-83, 34], [-84, 34]]]},
            "geometry.coordinates[0]: expected a closed ring (its last position its first); "
            "found an open one",
        ),
        (
            {"type": "Polygon", "coordinates": [[[-84, 33], [-83, 33], [-84, 33]]]},
            "geometry.coordinates[0]: expected a ring of at least 4 positions; found 3",
        ),
        (
            {
                "type": "MultiPolygon",
                "coordinates": [[[[-84, 33], [-83, 33], [-83, 34], [-84, 33]]], []],
            },
            "geometry.coordinates[1]: expected at least one ring (the outer boundary); found none",
        ),
        (
            {"type": "Polygon", "coordinates": [[[33, -84], [33, -83], [34, -183], [33, -84]]]},
            "geometry.coordinates[0][2]: expected longitude, latitude in degrees (-180 to 180, "
            "-90 to 90); found [34.0, -183.0]",
        ),
        (
            {"type": "Polygon", "coordinates": [[[-84, "north"], [-83, 33], [-83, 34], [-84, 33]]]},
            "geometry.coordinates[0][0][1]: expected a number; found 'north'",
        ),
    ],
)
def test_a_boundary_that_is_not_one_is_named(geometry: Any, message: str) -> None:
    with pytest.raises(DefinitionError) as e:
        load_definition(_with_geometry(geometry), "election.json")
    assert str(e.value) == f"election.json: jurisdictions[2].{message}"


def test_the_demo_state_has_a_map() -> None:
    definition = load_definition(
        json.dumps(demo_definition(counties=12, precincts=40)).encode(), "demo.json"
    )
    shapes = {j.id: j.geometry for j in definition.jurisdictions if j.kind == "county"}
    assert len(shapes) == 12 and all(shapes.values())
    projected = project({k: g for k, g in shapes.items() if g})
    edges = _edges(projected)
    # Neighbouring counties share their borders exactly.
    assert _length(edges, 2) > _length(edges, 1)
    assert set(projected.shapes) == set(shapes)
