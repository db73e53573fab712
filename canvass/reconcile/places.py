"""Where a poll-book row or a ballot card belongs: counties and precincts named by id or
name, resolved to the definition's ids, and ballot cards counted by unit (county, precinct,
vote type). Pure, for the election directory and the verifier alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import pyarrow as pa

from canvass.domain.model import ElectionDefinition, JurisdictionKind
from canvass.errors import IngestError
from canvass.ingest.ballots import ballot_weights
from canvass.ingest.names import norm
from canvass.reconcile.balance import ALL_PRECINCTS, Key
from canvass.reconcile.pollbook import PollbookRow


@dataclass(frozen=True)
class Places:
    counties: dict[str, str]
    """County id by normalized id or name."""
    precincts: dict[str, tuple[str, str]]
    """(county id, precinct id) by normalized precinct id or name."""
    in_county: dict[tuple[str, str], str] = field(default_factory=dict)
    """Precinct id by (county id, normalized id or name of the precinct or of one of its
    portions): a portion lies in one precinct, and names repeat across counties."""


def places(election: ElectionDefinition) -> Places:
    counties: dict[str, str] = {}
    precincts: dict[str, tuple[str, str]] = {}
    in_county: dict[tuple[str, str], str] = {}
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
            in_county[(county or "", norm(j.id))] = in_county[(county or "", norm(j.name))] = j.id
    for j in election.jurisdictions:  # portions after precincts: a precinct's name wins
        for p in j.portions:
            county, precinct = precincts[norm(j.id)]
            for name in (p.id, p.name):
                in_county.setdefault((county, norm(name)), precinct)
    return Places(counties, precincts, in_county)


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
    """Ballots (not cards: :func:`~canvass.ingest.ballots.ballot_weights`) in each (county,
    table) by county, precinct (id) and vote type."""
    counts: Counter[Key] = Counter()
    for table_county, table in tables:
        columns = ["precinct", "precinct_portion", "vote_type"]
        grouped = (
            table.select(columns)
            .append_column("ballots", pa.array(ballot_weights(table), pa.int64()))
            .unify_dictionaries()  # a large table's batches each have their own
            .group_by(columns)
            .aggregate([("ballots", "sum")])
        )
        for precinct, portion, vote_type, n in zip(
            grouped.column("precinct").to_pylist(),
            grouped.column("precinct_portion").to_pylist(),
            grouped.column("vote_type").to_pylist(),
            grouped.column("ballots_sum").to_pylist(),
            strict=True,
        ):
            key = (table_county, precinct_of(at, table_county, precinct, portion), vote_type or "")
            counts[key] += int(n)
    return dict(counts)


def precinct_of(at: Places, county: str, precinct: str | None, portion: str | None) -> str:
    """A card's precinct as the definition names it: by the precinct the card names, else
    by its portion; else the name the card gives; :data:`ALL_PRECINCTS` for a card that
    names neither."""
    for name in (precinct, portion):
        found = at.in_county.get((county, norm(name or "")))
        if found is not None:
            return found
        anywhere = at.precincts.get(norm(name or ""))
        if anywhere is not None and anywhere[0] == "":  # a precinct under no county
            return anywhere[1]
    return precinct or portion or ALL_PRECINCTS
