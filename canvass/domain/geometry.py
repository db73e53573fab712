"""Checks of the boundaries an election definition may give its jurisdictions (GeoJSON,
RFC 7946), beyond their shape: rings closed and long enough, positions on the globe."""

from __future__ import annotations

from collections.abc import Iterator

from canvass.domain.model import MultiPolygon, Polygon


def polygons(geometry: Polygon | MultiPolygon) -> list[list[list[list[float]]]]:
    """Every polygon of a geometry, each a list of rings."""
    return [geometry.coordinates] if isinstance(geometry, Polygon) else geometry.coordinates


def geometry_problems(geometry: Polygon | MultiPolygon) -> Iterator[tuple[str, str, str]]:
    """``(path inside the geometry, expected, found)`` for each thing wrong with it."""
    multi = isinstance(geometry, MultiPolygon)
    if not geometry.coordinates:
        yield "coordinates", "at least one ring", "none"
    for p, rings in enumerate(polygons(geometry)):
        at = f"coordinates[{p}]" if multi else "coordinates"
        if not rings:
            yield at, "at least one ring (the outer boundary)", "none"
        for r, ring in enumerate(rings):
            if len(ring) < 4:
                yield f"{at}[{r}]", "a ring of at least 4 positions", f"{len(ring)}"
            elif ring[0][:2] != ring[-1][:2]:
                yield f"{at}[{r}]", "a closed ring (its last position its first)", "an open one"
            for k, (lon, lat, *_) in enumerate(ring):
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    yield (
                        f"{at}[{r}][{k}]",
                        "longitude, latitude in degrees (-180 to 180, -90 to 90)",
                        f"[{lon}, {lat}]",
                    )
