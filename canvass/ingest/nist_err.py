"""Results-only import of a NIST SP 1500-100 v2 election results report (JSON).

A report gives ``VoteCounts`` per selection at several reporting units at once (a county
and its precincts), so taking every count would count votes twice. For each selection
the import takes the counts at precinct-level units (``precinct``, ``split-precinct``,
``combined-precinct``, ``polling-place``, ``vote-center``, ``ballot-batch``) when there
are any, and otherwise the count at the contest's own electoral district. When both are
given they must agree: precinct counts that do not add up to the district's total stop
the import. Counts by vote type (``election-day``, ``early``, ``absentee-mail``, …) are
taken in place of a unit's ``total`` when they are present, and must add up to it too.

Contests match the election definition by name, id or alias; selections by candidate
ballot name, measure selection text, or ``IsWriteIn``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from canvass.domain.model import ElectionDefinition
from canvass.errors import IngestError
from canvass.ingest.names import definition_contests, norm
from canvass.ingest.results_csv import RESULTS_SCHEMA, ResultsImport

FINE_UNITS = {
    "precinct",
    "split-precinct",
    "combined-precinct",
    "polling-place",
    "vote-center",
    "ballot-batch",
}
VOTE_TYPES = {
    "election-day": "election_day",
    "early": "early",
    "absentee": "absentee",
    "absentee-mail": "absentee",
    "absentee-in-person": "early",
    "absentee-fwab": "uocava",
    "provisional": "provisional",
    "uocava": "uocava",
}


def _text(value: Any) -> str:
    if isinstance(value, dict):
        texts = value.get("Text") or []
        return str(texts[0].get("Content", "")) if texts else ""
    return str(value or "")


def read_err(path: Path, definition: ElectionDefinition, county: str) -> ResultsImport:
    try:
        doc = msgspec.json.decode(path.read_bytes())
    except OSError as e:
        raise IngestError(f"{path}: cannot read ({e.strerror})") from None
    except msgspec.DecodeError as e:
        raise IngestError(f"{path}: expected a NIST SP 1500-100 report in JSON; {e}") from None
    if not isinstance(doc, dict) or doc.get("@type") != "ElectionResults.ElectionReport":
        raise IngestError(f'{path}: expected "@type": "ElectionResults.ElectionReport"')
    units = {u["@id"]: u for u in doc.get("GpUnit", [])}
    elections = doc.get("Election") or []
    if not elections:
        raise IngestError(f"{path}: Election: expected an election; found none")
    election = elections[0]
    ballot_names = {c["@id"]: _text(c.get("BallotName")) for c in election.get("Candidate", [])}
    pairs = definition_contests(definition)
    by_name: dict[str, int] = {}
    for index, c in enumerate(definition.contests):
        for spelling in (c.id, c.name, *c.aliases):
            by_name.setdefault(norm(spelling), index)
    rows: dict[str, list[object]] = {f.name: [] for f in RESULTS_SCHEMA}
    for n, contest in enumerate(election.get("Contest", [])):
        where = f"{path}: Election[0].Contest[{n}] ({contest.get('Name')!r})"
        found = by_name.get(norm(_text(contest.get("Name"))))
        if found is None:
            raise IngestError(f"{where}: not a contest of the election definition; add an alias")
        k = found
        _, choices = pairs[k]
        spellings: dict[str, int] = {}
        for position, ch in enumerate(choices):
            for spelling in (ch.id, ch.name, *ch.aliases):
                spellings.setdefault(norm(spelling), position)
        write_in = next((p for p, ch in enumerate(choices) if ch.write_in), None)
        district = contest.get("ElectionDistrictId")
        for selection in contest.get("ContestSelection", []):
            j: int | None
            if selection.get("IsWriteIn"):
                j = write_in
                label = "write-in"
            else:
                label = " / ".join(
                    ballot_names.get(c, c) for c in selection.get("CandidateIds", [])
                ) or _text(selection.get("Selection"))
                j = spellings.get(norm(label))
            if j is None:
                raise IngestError(
                    f"{where}: selection {label!r} is not a choice of {pairs[k][0].name!r}; "
                    "add an alias"
                )
            for unit, vote_type, votes in _counts(selection, units, district, where):
                rows["county"].append(county)
                rows["precinct"].append(_text(units.get(unit, {}).get("Name")) or unit)
                rows["vote_type"].append(vote_type)
                rows["contest"].append(k)
                rows["choice"].append(j)
                rows["votes"].append(votes)
    return ResultsImport(pa.table(rows, schema=RESULTS_SCHEMA))


def _counts(
    selection: dict[str, Any], units: dict[str, Any], district: str | None, where: str
) -> list[tuple[str, str, int]]:
    """The non-overlapping counts of one selection: (unit, vote type, votes)."""
    by_unit: dict[str, dict[str, int]] = defaultdict(dict)
    for count in selection.get("VoteCounts", []):
        by_unit[count["GpUnitId"]][count.get("Type", "total")] = int(count["Count"])

    def split(unit: str) -> list[tuple[str, str, int]]:
        counts = by_unit[unit]
        typed = {t: v for t, v in counts.items() if t in VOTE_TYPES}
        if typed:
            if "total" in counts and sum(typed.values()) != counts["total"]:
                raise IngestError(
                    f"{where}: selection {selection.get('@id')!r} at {unit!r}: counts by vote "
                    f"type add up to {sum(typed.values())}, not the total {counts['total']}"
                )
            return [(unit, VOTE_TYPES[t], v) for t, v in typed.items()]
        return [(unit, "", counts.get("total", 0))]

    fine = [u for u in by_unit if units.get(u, {}).get("Type") in FINE_UNITS]
    if not fine:
        return split(district) if district in by_unit else []
    out = [c for u in fine for c in split(u)]
    if district in by_unit and "total" in by_unit[district]:
        total = sum(v for _, _, v in out)
        if total != by_unit[district]["total"]:
            raise IngestError(
                f"{where}: selection {selection.get('@id')!r}: precinct counts add up to "
                f"{total}, but {district!r} reports {by_unit[district]['total']}"
            )
    return out
