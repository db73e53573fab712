"""Importing into an election: a county's cast vote records, results-only counts and
ballot manifests.

Three kinds of import, each one log entry naming every source file (kept byte for byte)
and what was read from it, all as artifacts:

- ``ballots.imported``: a county's cast vote records and the normalized ballot table
  (Parquet, with the election definition's contest and choice ids);
- ``results.imported``: results-only counts, for counties without CVRs;
- ``manifest.imported``: a county's ballot manifest.

The files are read and stored before the write transaction, since an export may take
minutes to read; the transaction then checks again everything the import rests on (the
definition it was read under, the county not frozen by a certificate, the same files not
imported already) and appends the entry. The same source bytes imported again for the
same county change nothing; an import that fails anywhere stores no entry and no file
(what it stored is staged, and dropped: see ``canvass/store/artifacts.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select

from canvass.app.actor import Actor
from canvass.app.folds import canvass
from canvass.app.results import county_id, definition, definition_sha256, imports_in_force
from canvass.domain.model import ElectionDefinition
from canvass.errors import IngestError, StoreError
from canvass.ingest import FORMATS, open_export
from canvass.ingest.ballots import MEDIA_TYPE, to_parquet
from canvass.ingest.files import files_in
from canvass.ingest.manifest import read_ballot_manifest
from canvass.ingest.names import NameMap
from canvass.ingest.nist_err import read_err
from canvass.ingest.results_csv import MEDIA_TYPE as RESULTS_MEDIA_TYPE
from canvass.ingest.results_csv import read_precinct_results
from canvass.log.entry import ArtifactRef, new_entry
from canvass.store import schema as s
from canvass.store.election import ElectionDirectory, staged_or_nothing
from canvass.store.log import LogReader

RESULTS_FORMATS = ("precinct-results", "nist-err")
MANIFEST_FORMATS = ("ballot-manifest",)


@dataclass(frozen=True)
class Imported:
    entry: int
    """The log entry that records the import."""
    kind: str
    """``ballots``, ``results`` or ``manifest``."""
    county: str
    """The county's id; empty for results of several counties."""
    data: dict[str, Any]
    """What the entry records: ``cards``, ``batches``, ``counties``, ``votes``, ..."""


@dataclass(frozen=True)
class _Sources:
    """What an import read, and the state of the election it was read against."""

    county: str
    fmt: str
    sha256: str
    """SHA-256 of the sorted SHA-256 of every source file: the import's identity."""
    definition: str
    """SHA-256 of the definition in force when the files were read."""


@staged_or_nothing
def import_ballots(
    election: ElectionDirectory,
    actor: Actor,
    county: str | None,
    fmt: str,
    paths: Sequence[Path],
    county_column: str = "county",
    precinct_column: str = "precinct",
    schema: Path | None = None,
    hart_key: Path | None = None,
    replace: bool = False,
) -> Imported | None:
    """Import a county's CVR export, a results-only file or a ballot manifest; None if the
    same bytes were already imported. ``hart_key``: Hart's public key, by which every Hart
    CVR file must be signed. ``replace``: these CVRs replace the county's earlier ones (a
    recount, a corrected export), which are no longer counted."""
    if fmt not in (*FORMATS, *RESULTS_FORMATS, *MANIFEST_FORMATS):
        raise IngestError(
            f"format {fmt!r} is not supported; choose one of "
            f"{', '.join((*FORMATS, *RESULTS_FORMATS, *MANIFEST_FORMATS))}"
        )
    with election.reading() as view:
        election_def = definition(view)
        if county is None and fmt in (*FORMATS, *MANIFEST_FORMATS):
            raise IngestError(f"a {fmt} import needs --county: its files name no county")
        county_ = county_id(election_def, county) if county is not None else ""
        _refuse_if_certified(view, [county_] if county_ else None)
        files = files_in(paths)
        # Files are hashed a piece at a time, here and when stored: an export may be gigabytes.
        digests = sorted(_file_sha256(f) for f in files)
        # The same files under a new definition are a new import: the table uses its ids.
        sources = _Sources(
            county_,
            fmt,
            hashlib.sha256("\n".join(digests).encode()).hexdigest(),
            definition_sha256(view),
        )
        if _already_imported(view, sources):
            return None
    if fmt in MANIFEST_FORMATS:
        if len(files) != 1:
            raise IngestError(f"a {fmt} import reads one file; found {len(files)}")
        batches = read_ballot_manifest(files[0])
        ref = election.store_file(files[0], "text/csv")
        _check_stored(files, [ref])
        data: dict[str, Any] = {
            "batches": len(batches),
            "cards": sum(b.cards for b in batches),
        }
        return _record(election, actor, sources, "manifest.imported", data, [ref])
    if fmt in RESULTS_FORMATS:
        data, refs = _read_results(
            election, election_def, sources, files, county_column, precinct_column
        )
        return _record(election, actor, sources, "results.imported", data, refs)
    export = open_export(fmt, list(paths), schema, hart_key)
    names = NameMap(export.contests, election_def, ", ".join(str(p) for p in paths))
    table, cards = to_parquet((names.remap(b) for b in export.read(county_)), names.contests)
    if cards == 0:
        raise IngestError(f"{', '.join(str(p) for p in paths)}: the export holds no ballot cards")
    refs = [election.store_file(f) for f in files]
    _check_stored(files, refs)
    refs.append(election.store_artifact(table, f"ballots-{county_}.parquet", MEDIA_TYPE))
    data = {"cards": cards, "files": len(files)}
    if hart_key is not None:  # every CVR's signature was checked against this key
        key = election.store_file(hart_key, "application/xml")
        refs.append(key)
        data["signature_key_sha256"] = key.sha256
    return _record(election, actor, sources, "ballots.imported", data, refs, replace)


def _record(
    election: ElectionDirectory,
    actor: Actor,
    sources: _Sources,
    kind: str,
    facts: dict[str, Any],
    refs: Sequence[ArtifactRef],
    replace: bool = False,
) -> Imported | None:
    """Check again, in the transaction that writes it, everything the import rests on;
    then append its entry."""
    data = {"county": sources.county, "format": sources.fmt, **facts}
    data |= {"sources_sha256": sources.sha256, "definition_sha256": sources.definition}
    with election.writing() as w:
        if definition_sha256(w) != sources.definition:
            raise StoreError(
                "the election definition changed while these files were being read; "
                "import them again"
            )
        _refuse_if_certified(w, [sources.county] if sources.county else None)
        if _already_imported(w, sources):
            return None
        if replace:
            data["replaces"] = [
                int(r["entry"])
                for r in imports_in_force(w, "ballots")
                if r["county"] == sources.county
            ]
        index = w.append(new_entry(kind, actor.name, data, tuple(refs)))
    return Imported(index, kind.removesuffix(".imported"), sources.county, data)


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _check_stored(files: Sequence[Path], refs: Sequence[ArtifactRef]) -> None:
    """The files stored are the files hashed: none changed while it was being read."""
    for f, ref in zip(files, refs, strict=True):
        if _file_sha256(f) != ref.sha256:
            raise IngestError(f"{f}: the file changed while it was being imported")


def _already_imported(view: LogReader, sources: _Sources) -> bool:
    done = view.conn.execute(
        select(s.ballot_import.c.entry).where(
            (s.ballot_import.c.county == sources.county)
            & (s.ballot_import.c.sources_sha256 == sources.sha256)
            & (s.ballot_import.c.definition_sha256 == sources.definition)
            & (s.ballot_import.c.format == sources.fmt)
        )
    ).first()
    return done is not None


def _read_results(
    election: ElectionDirectory,
    election_def: ElectionDefinition,
    sources: _Sources,
    files: list[Path],
    county_column: str,
    precinct_column: str,
) -> tuple[dict[str, Any], list[ArtifactRef]]:
    fmt, county = sources.fmt, sources.county
    if len(files) != 1:
        raise IngestError(f"a {fmt} import reads one file; found {len(files)}")
    if fmt == "nist-err":
        if not county:
            raise IngestError("a nist-err import needs --county: the report's units are not ours")
        read = read_err(files[0], election_def, county)
    else:
        read = read_precinct_results(files[0], election_def, county_column, precinct_column)
    if county:
        others = set(read.table.column("county").to_pylist()) - {county}
        if others:
            raise IngestError(
                f"{files[0]}: rows for {', '.join(sorted(others))}, though --county is {county}"
            )
    sink = pa.BufferOutputStream()
    pq.write_table(read.table, sink, compression="zstd")
    refs = [
        election.store_file(files[0]),
        election.store_artifact(
            sink.getvalue().to_pybytes(), "results.parquet", RESULTS_MEDIA_TYPE
        ),
    ]
    _check_stored(files, refs[:1])
    counties = sorted(set(read.table.column("county").to_pylist()))
    data = {
        "counties": len(counties),
        "rows": read.table.num_rows,
        "votes": int(pc.sum(read.table.column("votes")).as_py()),
        "ignored_columns": read.ignored_columns,
        "not_reported": read.not_reported,
    }
    return data, refs


def _refuse_if_certified(view: LogReader, counties: list[str] | None) -> None:
    """Refuse to change a certified county's ballots (``None``: any county's): a
    certificate freezes them until a correction or a recount is opened."""
    state = canvass(view)
    for county in counties if counties is not None else list(state.current):
        frozen = state.frozen(county)
        if frozen is not None:
            raise StoreError(
                f"{county}'s results are certified (certificate {frozen.sha256[:12]}, log entry "
                f"{frozen.issued}); they cannot change unless a correction or a recount is opened"
            )
