"""Where a poll-book row or a ballot card belongs: counties and precincts named by id or
name, resolved to the definition's ids, and ballot cards counted by unit (county, precinct,
vote type). Pure, for the election directory and the verifier alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

import pyarrow as pa

from canvass.domain.model import ElectionDefinition, JurisdictionKind
from canvass.errors import IngestError
from canvass.ingest.names import norm
from canvass.reconcile.balance import Key
from canvass.reconcile.pollbook import PollbookRow


@dataclass(frozen=True)
class Places:
    counties: dict[str, str]
    """County id by normalized id or name."""
    precincts: dict[str, tuple[str, str]]
    """(county id, precinct id) by normalized precinct id or name."""


def places(election: ElectionDefinition) -> Places:
    counties: dict[str, str] = {}
    precincts: dict[str, tuple[str, str]] = {}
    parent = {j.id: j.parent for j in election.jurisdictions}
    kind = {j.id: j.kind for j in election.jurisdictions}
    for j in election.jurisdictions:
        if j.kind == JurisdictionKind.COUNTY:
            counties[norm(j.id)] = counties[norm(j.name)] = j.id
    for j in election.jurisdictions:
        if j.kind == JurisdictionKind.PRECINCT:
            county = j.parent
            while county is not None and kind.get(county) != JurisdictionKind.COUNTY:
                county = parent.get(county)
            precincts[norm(j.id)] = precincts[norm(j.name)] = (county or "", j.id)
    return Places(counties, precincts)


def resolve(at: Places, rows: list[PollbookRow], where: str) -> list[PollbookRow]:
    """Poll-book rows with the definition's county and precinct ids."""
    out = []
    for n, row in enumerate(rows, start=2):
        county = at.counties.get(norm(row.county))
        if county is None:
            raise IngestError(f"{where} row {n}: {row.county!r} is not a county of the election")
        found = at.precincts.get(norm(row.precinct))
        if found is None or found[0] != county:
            raise IngestError(f"{where} row {n}: {row.precinct!r} is not a precinct of {county}")
        out.append(replace(row, county=county, precinct=found[1]))
    return out


def tabulated_units(at: Places, tables: Iterable[tuple[str, pa.Table]]) -> dict[Key, int]:
    """Ballot cards in each (county, table) by county, precinct (id) and vote type."""
    counts: Counter[Key] = Counter()
    for table_county, table in tables:
        grouped = (
            table.select(["precinct", "vote_type"])
            .unify_dictionaries()  # a large table's batches each have their own
            .group_by(["precinct", "vote_type"])
            .aggregate([([], "count_all")])
        )
        for precinct, vote_type, n in zip(
            grouped.column("precinct").to_pylist(),
            grouped.column("vote_type").to_pylist(),
            grouped.column("count_all").to_pylist(),
            strict=True,
        ):
            found = at.precincts.get(norm(str(precinct or "")))
            key = (table_county, found[1] if found else str(precinct), str(vote_type or ""))
            counts[key] += int(n)
    return dict(counts)
