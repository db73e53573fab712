"""Importing into an election directory, and counting what is there.

Three kinds of import, each one log entry naming every source file (kept byte for byte)
and what was read from it, all as artifacts:

- ``ballots.imported``: a county's cast vote records and the normalized ballot table
  (Parquet, with the election definition's contest and choice ids);
- ``results.imported``: results-only counts, for counties without CVRs;
- ``manifest.imported``: a county's ballot manifest.

The same source bytes imported again for the same county change nothing; an import that
fails anywhere stores no entry at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from difflib import get_close_matches
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, select

from canvass.domain.definition import load_definition
from canvass.domain.model import (
    Batch,
    ElectionDefinition,
    JurisdictionKind,
)
from canvass.errors import IngestError, StoreError
from canvass.ingest import FORMATS, open_export
from canvass.ingest.ballots import MEDIA_TYPE, SCHEMA, read_table, to_parquet
from canvass.ingest.files import files_in
from canvass.ingest.manifest import compare_with_cards, read_ballot_manifest
from canvass.ingest.names import NameMap, definition_contests, norm
from canvass.ingest.nist_err import read_err
from canvass.ingest.results_csv import MEDIA_TYPE as RESULTS_MEDIA_TYPE
from canvass.ingest.results_csv import county_ids, read_precinct_results
from canvass.log.entry import new_entry
from canvass.publish.err import election_report
from canvass.store import schema as s
from canvass.store.election import ElectionDirectory
from canvass.tabulate.election import count, labels, ranked_choice
from canvass.tabulate.plurality import Results
from canvass.tabulate.rcv import Tabulation


def definition_sha256(store: ElectionDirectory) -> str:
    with store.engine.connect() as conn:
        row = conn.execute(select(s.election.c.definition_sha256)).first()
    if row is None:
        raise StoreError(f"{store.path}: no election is defined yet; run 'canvass define' first")
    return str(row.definition_sha256)


_DEFINITIONS: dict[str, ElectionDefinition] = {}
"""Definitions read, by SHA-256: a definition is immutable, and large ones take a while to
check."""


def definition(store: ElectionDirectory) -> ElectionDefinition:
    sha = definition_sha256(store)
    found = _DEFINITIONS.get(sha)
    if found is None:
        found = _DEFINITIONS[sha] = load_definition(store.artifacts.get(sha), "definition")
    return found


def _county(definition: ElectionDefinition, county: str) -> str:
    found = county_ids(definition).get(norm(county))
    if found is not None:
        return found
    names = [j.name for j in definition.jurisdictions if j.kind == JurisdictionKind.COUNTY]
    near = get_close_matches(county, names, n=3, cutoff=0.5)
    hint = ", ".join(repr(n) for n in near) or "none close"
    raise IngestError(f"county {county!r} is not a county of the election; nearest: {hint}")


RESULTS_FORMATS = ("precinct-results", "nist-err")
MANIFEST_FORMATS = ("ballot-manifest",)


def import_ballots(
    store: ElectionDirectory,
    county: str | None,
    fmt: str,
    paths: Sequence[Path],
    actor: str,
    county_column: str = "county",
    precinct_column: str = "precinct",
    schema: Path | None = None,
    hart_key: Path | None = None,
    replace: bool = False,
) -> int | None:
    """Import a county's CVR export, or a results-only file; returns the log entry, or
    None if the same bytes were already imported. ``hart_key``: Hart's public key, by which
    every Hart CVR file must be signed. ``replace``: these CVRs replace the county's earlier
    ones (a recount, a corrected export), which are no longer counted."""
    if fmt not in (*FORMATS, *RESULTS_FORMATS, *MANIFEST_FORMATS):
        raise IngestError(
            f"format {fmt!r} is not supported; choose one of "
            f"{', '.join((*FORMATS, *RESULTS_FORMATS, *MANIFEST_FORMATS))}"
        )
    election = definition(store)
    if county is None and fmt in (*FORMATS, *MANIFEST_FORMATS):
        raise IngestError(f"a {fmt} import needs --county: its files name no county")
    county_id = _county(election, county) if county is not None else ""
    _refuse_if_certified(store, [county_id] if county_id else None)
    files = files_in(paths)
    # Files are read one at a time, here and when stored below: an export may be gigabytes.
    digests = sorted(hashlib.sha256(f.read_bytes()).hexdigest() for f in files)
    sources_sha = hashlib.sha256("\n".join(digests).encode()).hexdigest()
    # The same files under a new definition are a new import: the table uses its ids.
    definition_sha = definition_sha256(store)
    with store.engine.connect() as conn:
        done = conn.execute(
            select(s.ballot_import.c.entry).where(
                (s.ballot_import.c.county == county_id)
                & (s.ballot_import.c.sources_sha256 == sources_sha)
                & (s.ballot_import.c.definition_sha256 == definition_sha)
                & (s.ballot_import.c.format == fmt)
            )
        ).first()
    if done is not None:
        return None
    if fmt in MANIFEST_FORMATS:
        if len(files) != 1:
            raise IngestError(f"a {fmt} import reads one file; found {len(files)}")
        batches = read_ballot_manifest(files[0])
        ref = store.store_artifact(files[0].read_bytes(), files[0].name, "text/csv")
        entry = new_entry(
            "manifest.imported",
            actor,
            {
                "county": county_id,
                "format": fmt,
                "batches": len(batches),
                "cards": sum(b.cards for b in batches),
                "sources_sha256": sources_sha,
                "definition_sha256": definition_sha,
            },
            (ref,),
        )
        with store.writing() as w:
            return w.append(entry)
    if fmt in RESULTS_FORMATS:
        return _import_results(
            store,
            election,
            county_id,
            files,
            sources_sha,
            definition_sha,
            fmt,
            actor,
            county_column,
            precinct_column,
        )
    export = open_export(fmt, list(paths), schema, hart_key)
    names = NameMap(export.contests, election, ", ".join(str(p) for p in paths))
    table, cards = to_parquet((names.remap(b) for b in export.read(county_id)), names.contests)
    if cards == 0:
        raise IngestError(f"{', '.join(str(p) for p in paths)}: the export holds no ballot cards")
    refs = [store.store_artifact(f.read_bytes(), f.name) for f in files]
    refs.append(store.store_artifact(table, f"ballots-{county_id}.parquet", MEDIA_TYPE))
    data: dict[str, object] = {
        "county": county_id,
        "format": fmt,
        "cards": cards,
        "files": len(files),
        "sources_sha256": sources_sha,
        "definition_sha256": definition_sha,
    }
    if replace:
        data["replaces"] = [
            int(str(r["entry"])) for r in _imports(store, "ballots") if r["county"] == county_id
        ]
    if hart_key is not None:  # every CVR's signature was checked against this key
        key = store.store_artifact(hart_key.read_bytes(), hart_key.name, "application/xml")
        refs.append(key)
        data["signature_key_sha256"] = key.sha256
    entry = new_entry("ballots.imported", actor, data, tuple(refs))
    with store.writing() as w:
        return w.append(entry)


def _import_results(
    store: ElectionDirectory,
    election: ElectionDefinition,
    county_id: str,
    files: list[Path],
    sources_sha: str,
    definition_sha: str,
    fmt: str,
    actor: str,
    county_column: str,
    precinct_column: str,
) -> int:
    if len(files) != 1:
        raise IngestError(f"a {fmt} import reads one file; found {len(files)}")
    if fmt == "nist-err":
        if not county_id:
            raise IngestError("a nist-err import needs --county: the report's units are not ours")
        read = read_err(files[0], election, county_id)
    else:
        read = read_precinct_results(files[0], election, county_column, precinct_column)
    if county_id:
        others = set(read.table.column("county").to_pylist()) - {county_id}
        if others:
            raise IngestError(
                f"{files[0]}: rows for {', '.join(sorted(others))}, though --county is {county_id}"
            )
    sink = pa.BufferOutputStream()
    pq.write_table(read.table, sink, compression="zstd")
    refs = (
        store.store_artifact(files[0].read_bytes(), files[0].name),
        store.store_artifact(sink.getvalue().to_pybytes(), "results.parquet", RESULTS_MEDIA_TYPE),
    )
    counties = sorted(set(read.table.column("county").to_pylist()))
    entry = new_entry(
        "results.imported",
        actor,
        {
            "county": county_id,
            "format": fmt,
            "counties": len(counties),
            "rows": read.table.num_rows,
            "votes": int(pc.sum(read.table.column("votes")).as_py()),
            "ignored_columns": read.ignored_columns,
            "not_reported": read.not_reported,
            "sources_sha256": sources_sha,
            "definition_sha256": definition_sha,
        },
        refs,
    )
    with store.writing() as w:
        return w.append(entry)


def _refuse_if_certified(store: ElectionDirectory, counties: list[str] | None) -> None:
    """Refuse to change a certified county's ballots (``None``: any county's): a
    certificate freezes them until a correction or a recount is opened."""
    from canvass.store.canvass import load

    state = load(store)
    for county in counties if counties is not None else list(state.current):
        frozen = state.frozen(county)
        if frozen is not None:
            raise StoreError(
                f"{county}'s results are certified (certificate {frozen.sha256[:12]}, log entry "
                f"{frozen.issued}); they cannot change unless a correction or a recount is opened"
            )


def _imports(store: ElectionDirectory, kind: str) -> list[dict[str, object]]:
    """The imports of ``kind`` to count under the definition in force.

    Their contest and choice numbers are the definition's, so they mean nothing under
    another one. An import made under an earlier definition is passed over when the same
    files were imported again since; otherwise counting stops and says so."""
    current = definition_sha256(store)
    with store.engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(s.ballot_import)
                .where(s.ballot_import.c.kind == kind)
                .order_by(s.ballot_import.c.entry)
            ).mappings()
        ]
    redone = {(r["county"], r["sources_sha256"]) for r in rows if r["definition_sha256"] == current}
    for r in rows:
        if r["definition_sha256"] != current and (r["county"], r["sources_sha256"]) not in redone:
            raise StoreError(
                f"the {kind} of log entry {r['entry']} ({r['county'] or 'several counties'}) "
                "were imported under an earlier election definition, whose contests and "
                "choices may differ; import them again"
            )
    return [r for r in rows if r["definition_sha256"] == current and r["replaced_by"] is None]


def ballot_tables(
    store: ElectionDirectory, county: str | None = None
) -> Iterator[tuple[str, pa.Table]]:
    """Every ballot table to count (of one county, or all), with its county."""
    expected = [info.to_json() for info, _ in definition_contests(definition(store))]
    for r in _imports(store, "ballots"):
        if county is not None and r["county"] != county:
            continue
        table, contests = read_table(store.artifacts.get(str(r["table_sha256"])))
        if [c.to_json() for c in contests] != expected:
            raise StoreError(
                f"the ballot table of log entry {r['entry']} does not match the election "
                "definition it was imported under"
            )
        yield str(r["county"]), table


def results_tables(store: ElectionDirectory) -> list[pa.Table]:
    """Every results-only table to count."""
    return [
        pq.read_table(pa.BufferReader(store.artifacts.get(str(r["table_sha256"]))))
        for r in _imports(store, "results")
    ]


def results(store: ElectionDirectory, by: str | None = None) -> tuple[Results, dict[str, str]]:
    """Tabulate every imported ballot against the election definition; also return the
    names to show for contest and choice ids (``contest`` and ``contest/choice``)."""
    election = definition(store)
    tables = [t for _, t in ballot_tables(store)]
    results_only = results_tables(store)
    if not tables and not results_only:
        raise StoreError(f"{store.path}: no ballots or results have been imported yet")
    return count(election, tables, results_only, by), labels(election)


def ranked_choice_results(
    store: ElectionDirectory, contest: str | None = None
) -> dict[str, list[Tabulation]]:
    """Count every ranked-choice contest (or only ``contest``) round by round under its
    rules; see :func:`canvass.tabulate.election.ranked_choice`."""
    return ranked_choice(definition(store), [t for _, t in ballot_tables(store)], contest)


def export_err(store: ElectionDirectory, status: str, issuer: str) -> dict[str, object]:
    """The election's results as a NIST SP 1500-100 v2 report."""
    election = definition(store)
    overall, _ = results(store)
    by_county, _ = results(store, "county")
    by_vote_type, _ = results(store, "vote_type")
    try:
        return election_report(election, overall, by_county, by_vote_type, status, issuer)
    except ValueError as e:
        raise StoreError(str(e)) from None


def manifest_check(store: ElectionDirectory, county: str) -> tuple[int, list[str]]:
    """Compare a county's latest ballot manifest with the cards its CVRs hold: the number
    of batches in the manifest, and every discrepancy in words."""
    county_id = _county(definition(store), county)
    with store.engine.connect() as conn:
        latest = conn.execute(
            select(func.max(s.manifest_batch.c.entry)).where(s.manifest_batch.c.county == county_id)
        ).scalar()
        if latest is None:
            raise StoreError(f"no ballot manifest has been imported for {county_id}")
        rows = (
            conn.execute(select(s.manifest_batch).where(s.manifest_batch.c.entry == latest))
            .mappings()
            .all()
        )
    manifest = [
        Batch(id=r["batch"], tabulator=r["tabulator"], cards=r["cards"], container=r["container"])
        for r in rows
    ]
    tables = [t for c, t in ballot_tables(store) if c == county_id]
    cards = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    return len(manifest), compare_with_cards(manifest, cards)
