"""County maps from the boundaries an election definition gives (GeoJSON), projected and
simplified in Python and written as SVG at publish time: no tile server, no script.

- **Projection**: equirectangular, longitude scaled by the cosine of the middle latitude
  (true to scale along that parallel). Over one state the distortion is a few percent,
  and it needs one cosine for the whole map: every point is then a product and a sum,
  exact the same on every machine, which matters because the verifier draws the map
  again and compares bytes.
- **Snapping**: points are rounded to a grid of whole units (the map is 1000 wide), so a
  border two counties share lands on the same points in both.
- **Simplification**: Douglas & Peucker (1973), applied to *arcs*: each ring is cut where
  three or more counties meet (or where a shared border ends), and an arc shared by two
  counties is simplified once and used by both, so simplifying opens no gap and no overlap
  between neighbours (the method of TopoJSON, Bostock 2013).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from canvass.domain.geometry import polygons
from canvass.domain.model import MultiPolygon, Polygon
from canvass.publish.site.svg import frame

WIDTH = 1000
MARGIN = 4
TOLERANCE = 1.0
"""How far, in map units, a simplified border may stray from the snapped one."""

Point = tuple[int, int]
Ring = list[Point]


@dataclass(frozen=True)
class Shape:
    """A jurisdiction's outline on the map: rings of points, outer boundaries and holes
    alike (drawn with the even-odd rule)."""

    rings: tuple[tuple[Point, ...], ...]

    def path(self) -> str:
        return "".join(
            "M" + "L".join(f"{x} {y}" for x, y in ring) + "Z" for ring in self.rings if ring
        )

    def area(self) -> float:
        """Area in square map units (shoelace formula; holes subtract)."""
        total = 0.0
        for ring in self.rings:
            twice = sum(
                x0 * y1 - x1 * y0
                for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
            )
            total += twice / 2
        return abs(total)


@dataclass(frozen=True)
class Projected:
    shapes: dict[str, Shape]
    width: int
    height: int


def project(
    geometries: Mapping[str, Polygon | MultiPolygon], tolerance: float = TOLERANCE
) -> Projected:
    """Project, snap and simplify every geometry, fitted to a map :data:`WIDTH` wide."""
    lons = [p[0] for g in geometries.values() for poly in polygons(g) for r in poly for p in r]
    lats = [p[1] for g in geometries.values() for poly in polygons(g) for r in poly for p in r]
    if not lons:
        return Projected({}, WIDTH, 0)
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    stretch = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * stretch, 1e-9)
    span_y = max(north - south, 1e-9)
    scale = (WIDTH - 2 * MARGIN) / span_x
    height = math.ceil(span_y * scale) + 2 * MARGIN

    def snap(lon: float, lat: float) -> Point:
        return (
            round((lon - west) * stretch * scale) + MARGIN,
            round((north - lat) * scale) + MARGIN,
        )

    snapped: dict[str, list[Ring]] = {}
    for key, geometry in geometries.items():
        rings = []
        for poly in polygons(geometry):
            for ring in poly:
                points = _dedupe([snap(p[0], p[1]) for p in ring[:-1]])
                if len(points) >= 3:
                    rings.append(points)
        snapped[key] = rings
    simplified = _simplify_shared(snapped, tolerance)
    shapes = {
        key: Shape(tuple(tuple(r) for r in rings if len(set(r)) >= 3))
        for key, rings in simplified.items()
    }
    return Projected(shapes, WIDTH, height)


def _dedupe(points: Ring) -> Ring:
    out: Ring = []
    for p in points:
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _junctions(rings: Iterable[Ring]) -> set[Point]:
    """Points where borders meet or part: a point whose neighbours are not the same
    (either way round) in every ring through it."""
    neighbours: dict[Point, set[frozenset[Point]]] = {}
    for ring in rings:
        n = len(ring)
        for i, p in enumerate(ring):
            neighbours.setdefault(p, set()).add(frozenset((ring[i - 1], ring[(i + 1) % n])))
    return {p for p, pairs in neighbours.items() if len(pairs) > 1}


def _simplify_shared(snapped: dict[str, list[Ring]], tolerance: float) -> dict[str, list[Ring]]:
    junctions = _junctions(r for rings in snapped.values() for r in rings)
    done: dict[tuple[Point, ...], list[Point]] = {}

    def arc(points: list[Point]) -> list[Point]:
        key = tuple(points)
        back = key[::-1]
        canonical = min(key, back)
        if canonical not in done:
            done[canonical] = douglas_peucker(list(canonical), tolerance)
        result = done[canonical]
        return result if canonical == key else result[::-1]

    out: dict[str, list[Ring]] = {}
    for key, rings in snapped.items():
        out[key] = []
        for ring in rings:
            cuts = [i for i, p in enumerate(ring) if p in junctions]
            if not cuts:
                # A ring with no junction (an island, or a county inside another): cut it
                # at its least and greatest points, which whoever shares it cuts too.
                cuts = sorted({ring.index(min(ring)), ring.index(max(ring))})
            ring = ring[cuts[0] :] + ring[: cuts[0]]
            cuts = [c - cuts[0] for c in cuts] + [len(ring)]
            closed = [*ring, ring[0]]
            points: list[Point] = []
            for a, b in itertools.pairwise(cuts):
                points += arc(closed[a : b + 1])[:-1]
            out[key].append(points)
    return out


def douglas_peucker(points: Sequence[Point], tolerance: float) -> list[Point]:
    """Douglas & Peucker (1973): keep the ends, and recursively the point farthest from
    the chord while it is farther than ``tolerance``; ties go to the first."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = points[a], points[b]
        dx, dy = bx - ax, by - ay
        length = math.hypot(dx, dy)
        far, at = -1.0, -1
        for i in range(a + 1, b):
            px, py = points[i]
            d = (
                abs(dy * (px - ax) - dx * (py - ay)) / length
                if length
                else math.hypot(px - ax, py - ay)
            )
            if d > far:
                far, at = d, i
        if at > 0 and far > tolerance:
            keep[at] = True
            stack += [(a, at), (at, b)]
    return [p for p, k in zip(points, keep, strict=True) if k]


@dataclass(frozen=True)
class Area:
    """How one jurisdiction is shown on a map."""

    name: str
    fill: str
    says: str
    """Its result in words (the tooltip, and part of the map's description)."""


def county_map(
    ident: str, title: str, projected: Projected, areas: Mapping[str, Area], summary: str
) -> Markup:
    """A map of ``projected`` shapes coloured by ``areas``, named and described for screen
    readers. ``summary`` begins the map's description (what the colours mean); each
    county's result follows. The map is an image, not a control (an image's parts cannot
    be): the pages of the counties are linked from the table that goes with it."""
    body = []
    said = [summary]
    for key in sorted(projected.shapes):
        shape, area = projected.shapes[key], areas.get(key)
        if area is None or not shape.rings:
            continue
        path = (
            f'<path d="{shape.path()}" fill="{area.fill}" fill-rule="evenodd" stroke="#ffffff" '
            f'stroke-width="1"><title>{escape(area.name)}: {escape(area.says)}</title></path>'
        )
        body.append(path)
        said.append(f"{area.name}: {area.says}.")
    return frame(
        ident,
        title,
        " ".join(said),
        "".join(body),
        width="100%",
        height=None,
        view_box=f"0 0 {projected.width} {projected.height}",
        css_class="map",
    )
