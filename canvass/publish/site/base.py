"""What every page renderer of the site shares: the election's names and counties, its
status, the map's projection (worked out once), and :meth:`Site.page`, which writes a
page in the site's frame with its JSON twin and its CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from canvass.domain.model import Contest, JurisdictionKind
from canvass.publish.site.check import check_block, check_config
from canvass.publish.site.layout import TEMPLATES, Status, render_page
from canvass.publish.site.maps import Projected, project
from canvass.publish.site.model import SiteData, county_ids, in_force, status

File = tuple[str, bytes]
Table = tuple[Sequence[str], Sequence[Sequence[Any]]]
"""A CSV: its header and its rows."""

VOTE_TYPES = {
    "election_day": "Election day",
    "early": "Early voting",
    "absentee": "Absentee by mail",
    "provisional": "Provisional",
    "uocava": "Military and overseas (UOCAVA)",
}
NOT_REPORTED = "#d6d6d6"


def json_bytes(doc: Any) -> bytes:
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table[0])
    writer.writerows(table[1])
    return out.getvalue().encode()


class Site:
    """The election as the site shows it."""

    def __init__(self, data: SiteData) -> None:
        self.data = data
        self.status: Status = status(data)
        self.definition = data.definition
        self.names = {j.id: j.name for j in self.definition.jurisdictions}
        self.counties = county_ids(self.definition)
        self.reported: Mapping[str, Mapping[str, Any]] = data.results.get("counties", {})
        self.contests: list[Contest] = [
            c for c in self.definition.contests if c.id in data.results.get("contests", {})
        ]
        self.certified = {c for c in self.counties if in_force(data.certificates, c)}
        self.state_certified = in_force(data.certificates, "state") is not None
        geometries = {
            j.id: j.geometry
            for j in self.definition.jurisdictions
            if j.kind == JurisdictionKind.COUNTY and j.geometry is not None
        }
        # A map only when every county has a boundary: a map with holes misleads.
        complete = bool(self.counties) and len(geometries) == len(self.counties)
        self.projected: Projected | None = project(geometries) if complete else None

    def contest_name(self, contest: str) -> str:
        return next((c.name for c in self.definition.contests if c.id == contest), contest)

    def page(
        self, path: str, title: str, template: str, doc: Any, table: Table, **context: Any
    ) -> Iterator[File]:
        """The page at ``path`` from ``template`` and ``context``, then its JSON twin
        (``doc``) and its CSV (``table``) beside it."""
        stem = path.removesuffix(".html")
        name = stem.rsplit("/", 1)[-1]
        twins = [f"{stem}.json", f"{stem}.csv"]
        body = Markup(TEMPLATES.get_template(template).render(**context))
        config = check_config(self.data.claim, path, "../" * path.count("/"), twins)
        yield (
            path,
            render_page(
                path=path,
                title=title,
                election=self.definition.election.name,
                status=self.status,
                as_of=self.data.as_of,
                body=body,
                check=check_block(config),
                downloads=[(f"{name}.json", "JSON"), (f"{name}.csv", "CSV")],
            ),
        )
        yield twins[0], json_bytes(doc)
        yield twins[1], csv_bytes(table)
