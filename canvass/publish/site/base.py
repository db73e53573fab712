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
from canvass.publish.site.svg import percent

File = tuple[str, bytes]
Table = tuple[Sequence[str], Sequence[Sequence[Any]]]
"""A CSV: its header and its rows."""

RESULTS = "results/results.json"
BREAKDOWNS = "results/breakdowns.json"
RANKED = "results/ranked-choice.json"
CERTIFICATES = "certificates/index.json"
AUDITS = "audits/index.json"
UNITS = "reconciliation/units.csv"

VOTE_TYPES = {
    "election_day": "Election day",
    "early": "Early voting",
    "absentee": "Absentee by mail",
    "provisional": "Provisional",
    "uocava": "Military and overseas (UOCAVA)",
}
NOT_REPORTED = "#d6d6d6"


def json_bytes(doc: Any) -> bytes:
    # Compact: the C encoder (an indented document takes the pure-Python one, several
    # times slower over a hundred county pages).
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


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
        self.notices = [self.reopened_in_words(r) for r in data.reopened]
        self._county_units: dict[str, dict[str, dict[str, Mapping[str, Any]]]] = {}
        self.registered = {
            j.id: j.registered_voters
            for j in self.definition.jurisdictions
            if j.registered_voters is not None
        }

    def county_units(self, by: str) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
        """``breakdowns.json``'s breakdown ``by`` (its groups ``county/unit``) by county,
        then unit; worked out once."""
        if by not in self._county_units:
            out: dict[str, dict[str, Mapping[str, Any]]] = {}
            for group, doc in self.data.breakdowns.get(by, {}).items():
                county, _, unit = group.partition("/")
                out.setdefault(county, {})[unit] = doc
            self._county_units[by] = out
        return self._county_units[by]

    def turnout(self, county: str | None = None) -> dict[str, Any] | None:
        """Ballots counted against registered voters, in a county or (``None``) the state,
        where the definition gives them (the state's: its own, else its counties' when
        every county has them); None where it does not."""
        if county is None:
            state = next(j.id for j in self.definition.jurisdictions if j.parent is None)
            registered = self.registered.get(state)
            if registered is None and all(c in self.registered for c in self.counties):
                registered = sum(self.registered[c] for c in self.counties)
            ballots = int(self.data.results.get("ballots", 0))
        else:
            registered = self.registered.get(county)
            said = self.data.results.get("county_ballots", {}).get(county, {})
            ballots = int(said.get("ballots", 0))
        if registered is None:
            return None
        return {
            "ballots": ballots,
            "registered_voters": registered,
            "turnout": percent(ballots, registered),
        }

    def reopened_in_words(self, r: Mapping[str, Any]) -> str:
        """A certificate reopened by a correction or a recount, in a sentence."""
        cert = next((c for c in self.data.certificates if c["sha256"] == r["certificate"]), {})
        issued = cert.get("issued")
        what = "A correction" if r["kind"] == "correction" else "A recount"
        if r["scope"] == "state":
            return (
                f"{what} was opened at log entry {r['entry']} ({r['reason']}). The state "
                f"board certified at log entry {issued}; it is to certify again once the "
                "counties have."
            )
        return (
            f"{what} of {self.names.get(r['scope'], r['scope'])} was opened at log entry "
            f"{r['entry']}: {r['reason']}. Its results, certified at log entry {issued}, "
            "may change until its board certifies again."
        )

    def contest_name(self, contest: str) -> str:
        return next((c.name for c in self.definition.contests if c.id == contest), contest)

    def page(
        self,
        path: str,
        title: str,
        template: str,
        doc: Any,
        table: Table,
        sources: Sequence[str] = (),
        **context: Any,
    ) -> Iterator[File]:
        """The page at ``path`` from ``template`` and ``context``, then its JSON twin
        (``doc``) and its CSV (``table``) beside it. ``sources``: the bundle's documents
        the page is made from, which its foot names and links."""
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
                sources=sources,
                notices=self.notices,
            ),
        )
        yield twins[0], json_bytes(doc)
        yield twins[1], csv_bytes(table)
