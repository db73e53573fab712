"""The election as counted: the definition in force, the imports to count under it, and
the results (overall, by any breakdown, round by round for ranked choice, as a NIST SP
1500-100 report), all as data."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from difflib import get_close_matches
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from canvass.app.snapshot import ReadSource, reading, viewing
from canvass.domain.definition import load_definition
from canvass.domain.model import Batch, ElectionDefinition, JurisdictionKind
from canvass.errors import IngestError, StoreError
from canvass.ingest.ballots import SCHEMA, read_parquet, read_table
from canvass.ingest.manifest import compare_with_cards
from canvass.ingest.names import definition_contests, norm
from canvass.ingest.results_csv import county_ids
from canvass.store.cache import ContentCache
from canvass.store.reading import Snapshot
from canvass.tabulate.election import (
    RankedChoice,
    TieDecision,
    count,
    labels,
    ranked_choice,
)
from canvass.tabulate.election import ranked_choice_counts as ranked_choice_counts_of
from canvass.tabulate.plurality import Results
from canvass.tabulate.rcv import Tabulation

if TYPE_CHECKING:
    from canvass.app.snapshot import Source

_DEFINITIONS: ContentCache[str, ElectionDefinition] = ContentCache(8)
"""Definitions read, by SHA-256: a definition is immutable, and large ones take a while to
check."""


def definition_sha256(view: Snapshot) -> str:
    found = view.definition_sha256()
    if found is None:
        raise StoreError(f"{view.where}: no election is defined yet; run 'canvass define' first")
    return found


def definition(source: ReadSource) -> ElectionDefinition:
    """The election definition in force."""
    with reading(source) as view:
        return definition_at(view, definition_sha256(view))


def definition_at(source: ReadSource, sha: str) -> ElectionDefinition:
    """The election definition the log recorded with SHA-256 ``sha`` (in force or not)."""
    with reading(source) as view:
        # Recorded, so accepted when it was defined: read again the faster way.
        return _DEFINITIONS.get(
            sha, lambda: load_definition(view.artifacts.get(sha), "definition", accepted=True)
        )


def county_id(election: ElectionDefinition, county: str) -> str:
    """The id of the county named ``county`` (by id or name, as an official would write it)."""
    found = county_ids(election).get(norm(county))
    if found is not None:
        return found
    names = [j.name for j in election.jurisdictions if j.kind == JurisdictionKind.COUNTY]
    near = get_close_matches(county, names, n=3, cutoff=0.5)
    hint = ", ".join(repr(n) for n in near) or "none close"
    raise IngestError(f"county {county!r} is not a county of the election; nearest: {hint}")


def imports_in_force(source: ReadSource, kind: str) -> list[dict[str, Any]]:
    """The imports of ``kind`` (ballots, results, manifest) to count under the definition in
    force.

    Their contest and choice numbers are the definition's, so they mean nothing under
    another one. An import made under an earlier definition is passed over when the same
    files were imported again since; otherwise counting stops and says so."""
    with reading(source) as view:
        current = definition_sha256(view)
        rows = view.imports(kind)
    redone = {(r["county"], r["sources_sha256"]) for r in rows if r["definition_sha256"] == current}
    for r in rows:
        if r["definition_sha256"] != current and (r["county"], r["sources_sha256"]) not in redone:
            raise StoreError(
                f"the {kind} of log entry {r['entry']} ({r['county'] or 'several counties'}) "
                "were imported under an earlier election definition, whose contests and "
                "choices may differ; import them again"
            )
    return [r for r in rows if r["definition_sha256"] == current and r["replaced_by"] is None]


def ballot_tables(source: ReadSource, county: str | None = None) -> Iterator[tuple[str, pa.Table]]:
    """Every ballot table to count (of one county, or all), with its county."""
    with reading(source) as view:
        expected = [info.to_json() for info, _ in definition_contests(definition(view))]
        for r in imports_in_force(view, "ballots"):
            if county is not None and r["county"] != county:
                continue
            table, contests = read_table(view.artifacts.get(str(r["table_sha256"])))
            if [c.to_json() for c in contests] != expected:
                raise StoreError(
                    f"the ballot table of log entry {r['entry']} does not match the election "
                    "definition it was imported under"
                )
            yield str(r["county"]), table


def results_tables(source: ReadSource) -> list[pa.Table]:
    """Every results-only table to count."""
    with reading(source) as view:
        return [
            read_parquet(view.artifacts.get(str(r["table_sha256"])))
            for r in imports_in_force(view, "results")
        ]


def results(source: ReadSource, by: str | None = None) -> tuple[Results, dict[str, str]]:
    """Tabulate every imported ballot against the election definition; also return the
    names to show for contest and choice ids (``contest`` and ``contest/choice``)."""
    with reading(source) as view:
        return _results(view, definition(view), [t for _, t in ballot_tables(view)], by)


def _results(
    view: Snapshot, election: ElectionDefinition, tables: list[pa.Table], by: str | None
) -> tuple[Results, dict[str, str]]:
    results_only = results_tables(view)
    if not tables and not results_only:
        raise StoreError(f"{view.where}: no ballots or results have been imported yet")
    return count(election, tables, results_only, by), labels(election)


def results_and_rounds(
    source: ReadSource, by: str | None = None, contest: str | None = None
) -> tuple[Results, dict[str, str], RankedChoice]:
    """:func:`results` and :func:`ranked_choice_counts` from one snapshot, reading each
    ballot table once."""
    with reading(source) as view:
        election = definition(view)
        tables = [t for _, t in ballot_tables(view)]
        counted, names = _results(view, election, tables, by)
        rounds = ranked_choice_counts_of(election, tables, contest, _decisions(view))
    return counted, names, rounds


def tie_decisions(source: ReadSource) -> list[TieDecision]:
    """The officials' recorded decisions of ranked-choice ties."""
    from canvass.app.folds import canvass  # the fold defines what it folds by this module

    return canvass(source).tie_decisions


def _decisions(view: Snapshot) -> Callable[[], list[TieDecision]]:
    """The officials' decisions of ties, found (by folding the whole log) only if a count
    reaches a tie that needs them, and then once."""
    return functools.cache(lambda: tie_decisions(view))


def ranked_choice_results(
    source: ReadSource, contest: str | None = None
) -> dict[str, list[Tabulation]]:
    """Count every ranked-choice contest (or only ``contest``) round by round under its
    rules and the officials' decisions of ties; refused while a tie is undecided (see
    :func:`canvass.tabulate.election.ranked_choice`)."""
    with reading(source) as view:
        tables = [t for _, t in ballot_tables(view)]
        return ranked_choice(definition(view), tables, contest, _decisions(view))


def ranked_choice_counts(source: ReadSource, contest: str | None = None) -> RankedChoice:
    """Every ranked-choice contest (or only ``contest``) counted, or stopped at a tie the
    officials have not decided; the other contests count whatever one contest's tie."""
    with reading(source) as view:
        tables = [t for _, t in ballot_tables(view)]
        return ranked_choice_counts_of(definition(view), tables, contest, _decisions(view))


def export_err(source: ReadSource, status: str, issuer: str) -> dict[str, object]:
    """The election's results as a NIST SP 1500-100 v2 report."""
    with reading(source) as view:
        election = definition(view)
        overall, _ = results(view)
        by_county, _ = results(view, "county")
        by_vote_type, _ = results(view, "vote_type")
    from canvass.publish.err import election_report  # only this export needs it

    try:
        return election_report(election, overall, by_county, by_vote_type, status, issuer)
    except ValueError as e:
        raise StoreError(str(e)) from None


def manifest_check(source: Source, county: str) -> tuple[int, list[str]]:
    """Compare a county's latest ballot manifest with the cards its CVRs hold: the number
    of batches in the manifest, and every discrepancy in words."""
    from sqlalchemy import func, select  # the one read here that queries the projections

    from canvass.store import schema as s

    with viewing(source) as view:
        county = county_id(definition(view), county)
        latest = view.conn.execute(
            select(func.max(s.manifest_batch.c.entry)).where(s.manifest_batch.c.county == county)
        ).scalar()
        if latest is None:
            raise StoreError(f"no ballot manifest has been imported for {county}")
        rows = (
            view.conn.execute(select(s.manifest_batch).where(s.manifest_batch.c.entry == latest))
            .mappings()
            .all()
        )
        tables = [t for c, t in ballot_tables(view) if c == county]
    manifest = [
        Batch(id=r["batch"], tabulator=r["tabulator"], cards=r["cards"], container=r["container"])
        for r in rows
    ]
    cards = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    return len(manifest), compare_with_cards(manifest, cards)


def import_notes(source: ReadSource) -> dict[str, dict[str, Any]]:
    """What the ballot imports in force say of each county beyond their cards: the
    contests left out of them (``skipped_contests``: name → cards that carried it) and what
    the export lacked (``notes``), by county, for every report of the county to show."""
    out: dict[str, dict[str, Any]] = {}
    with reading(source) as view:
        in_force = [*imports_in_force(view, "ballots"), *imports_in_force(view, "results")]
        for r in in_force:
            data = view.entry(int(r["entry"])).data
            if not data.get("skipped_contests") and not data.get("notes"):
                continue
            said = out.setdefault(str(r["county"]), {})
            for name, cards in (data.get("skipped_contests") or {}).items():
                said.setdefault("skipped_contests", {})
                said["skipped_contests"][name] = said["skipped_contests"].get(name, 0) + cards
            for note in data.get("notes") or []:
                if note not in said.setdefault("notes", []):
                    said["notes"].append(note)
        names = {j.id: j.name for j in definition(view).jurisdictions}
    return {
        county: {"name": names.get(county, county), **said}
        for county, said in sorted(out.items())
        if said
    }
