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
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from canvass.ingest.ballots import MAX_RANK, MEDIA_TYPE, ballot_weights, read_table, to_parquet
from canvass.ingest.files import files_in
from canvass.ingest.manifest import read_ballot_manifest
from canvass.ingest.names import NameMap
from canvass.ingest.nist_err import read_err
from canvass.ingest.openelections import read_openelections
from canvass.ingest.results_csv import MEDIA_TYPE as RESULTS_MEDIA_TYPE
from canvass.ingest.results_csv import read_precinct_results
from canvass.log.entry import ArtifactRef, new_entry
from canvass.store import schema as s
from canvass.store.election import ElectionDirectory, staged_or_nothing
from canvass.store.log import LogReader

RESULTS_FORMATS = ("precinct-results", "nist-err", "openelections")
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
    skip_contests: Sequence[str] = (),
    cards_per_ballot: int | None = None,
    contests: Sequence[str] = (),
    choice_columns: Mapping[str, str] | None = None,
    county_totals: bool = False,
    where: tuple[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Imported | None:
    """Import a county's CVR export, a results-only file or a ballot manifest; None if the
    same bytes were already imported. ``hart_key``: Hart's public key, by which every Hart
    CVR file must be signed. ``replace``: these CVRs replace the county's earlier ones (a
    recount, a corrected export), which are no longer counted. ``skip_contests``: contests
    of the export the definition leaves out, named so that they are left out of the
    import (and the entry says how many cards carried each). ``cards_per_ballot``: for a
    format that does not say which cards form a ballot, how many cards each ballot has (see
    :mod:`canvass.ingest.ballots`). ``contests``, ``choice_columns``, ``county_totals``
    and ``where``: how to read a results CSV (see :mod:`canvass.ingest.results_csv`).

    A results-only import with ``replace`` replaces every earlier import (results, or
    CVRs) of the counties it holds: an earlier results import must hold none but those
    counties (a recount of a statewide file is imported statewide). A CVR import with
    ``replace`` replaces its county's earlier CVRs, and an earlier results import of
    that county alone. ``progress`` is told the cards read, a record batch at a time."""
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
        layout = _Layout(
            county_column, precinct_column, contests, choice_columns, county_totals, where
        )
        data, refs, counties = _read_results(
            election, election_def, sources, files, layout, skip_contests
        )
        return _record(election, actor, sources, "results.imported", data, refs, replace, counties)
    if cards_per_ballot is not None and not 1 <= cards_per_ballot <= MAX_RANK + 1:
        raise IngestError(
            f"--cards-per-ballot: expected a whole number from 1 to {MAX_RANK + 1}; "
            f"found {cards_per_ballot}"
        )
    export = open_export(fmt, list(paths), schema, hart_key)
    names = NameMap(export.contests, election_def, ", ".join(str(p) for p in paths), skip_contests)
    table, cards = to_parquet(
        (names.remap(b) for b in _told(export.read(county_), progress)),
        names.contests,
        cards_per_ballot,
    )
    if cards == 0:
        raise IngestError(f"{', '.join(str(p) for p in paths)}: the export holds no ballot cards")
    refs = [election.store_file(f) for f in files]
    _check_stored(files, refs)
    refs.append(election.store_artifact(table, f"ballots-{county_}.parquet", MEDIA_TYPE))
    read, _ = read_table(table)
    data = {"cards": cards, "ballots": int(ballot_weights(read).sum()), "files": len(files)}
    if names.skipped:
        data["skipped_contests"] = dict(sorted(names.skipped.items()))
    notes = list(getattr(export, "notes", []))
    if notes:
        data["notes"] = notes
    if cards_per_ballot is not None:
        data["cards_per_ballot"] = cards_per_ballot
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
    counties: Sequence[str] = (),
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
            data["replaces"] = _replaced(w, set(counties or [sources.county]))
        index = w.append(new_entry(kind, actor.name, data, tuple(refs)))
    return Imported(index, kind.removesuffix(".imported"), sources.county, data)


def _told(
    batches: Iterator[pa.RecordBatch], progress: Callable[[int], None] | None
) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if progress is not None:
            progress(batch.num_rows)
        yield batch


def _replaced(view: LogReader, counties: set[str]) -> list[int]:
    """The imports in force that an import of ``counties`` with ``--replace`` replaces:
    every CVR import of those counties and every results-only import holding only them.
    A results-only import that also holds other counties is refused: replacing it would
    drop their counts, and keeping it would count the replaced counties twice."""
    replaced = [
        int(r["entry"]) for r in imports_in_force(view, "ballots") if r["county"] in counties
    ]
    for r in imports_in_force(view, "results"):
        table = pq.read_table(
            pa.BufferReader(view.artifacts.get(str(r["table_sha256"]))), columns=["county"]
        )
        held = set(table.column("county").to_pylist())
        if held and held <= counties:
            replaced.append(int(r["entry"]))
        elif held & counties:
            others = sorted(held - counties)
            named = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
            raise StoreError(
                f"--replace: log entry {r['entry']} holds the results of {len(held)} counties, "
                f"{len(others)} of which this import does not hold ({named}); import every "
                "county of that entry again in one file"
            )
    return sorted(replaced)


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


@dataclass(frozen=True)
class _Layout:
    """How to read a results CSV (:func:`canvass.ingest.results_csv.read_precinct_results`)."""

    county_column: str
    precinct_column: str
    contests: Sequence[str]
    choice_columns: Mapping[str, str] | None
    county_totals: bool
    where: tuple[str, str] | None


def _read_results(
    election: ElectionDirectory,
    election_def: ElectionDefinition,
    sources: _Sources,
    files: list[Path],
    layout: _Layout,
    skip_contests: Sequence[str] = (),
) -> tuple[dict[str, Any], list[ArtifactRef], list[str]]:
    """What a results-only file holds, stored; and its counties."""
    fmt, county = sources.fmt, sources.county
    if len(files) != 1:
        raise IngestError(f"a {fmt} import reads one file; found {len(files)}")
    if fmt == "nist-err":
        if not county:
            raise IngestError("a nist-err import needs --county: the report's units are not ours")
        read = read_err(files[0], election_def, county, skip_contests)
    elif fmt == "openelections":
        if skip_contests:
            raise IngestError(
                "--skip-contest: an openelections file passes over offices that are not "
                "contests of the definition and refuses others; define them"
            )
        read = read_openelections(files[0], election_def)
    else:
        if skip_contests:
            raise IngestError(
                "--skip-contest: a precinct-results file is read by its columns; name the "
                "contests to read with --contest"
            )
        read = read_precinct_results(
            files[0],
            election_def,
            layout.county_column,
            layout.precinct_column,
            layout.contests,
            layout.choice_columns,
            layout.county_totals,
            layout.where,
        )
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
    if read.empty_rows:
        data["empty_rows"] = read.empty_rows
    if read.rows_passed_over:
        data["rows_passed_over"] = read.rows_passed_over
        data["where"] = "=".join(layout.where or ())
    if layout.contests:
        data["contests"] = list(layout.contests)
    if read.skipped:
        data["skipped_contest_votes"] = dict(sorted(read.skipped.items()))
        data["notes"] = [
            f"{name} is left out of its import ({votes:,} votes), as --skip-contest asked; "
            "not in the election definition"
            for name, votes in sorted(read.skipped.items())
        ]
    return data, refs, counties


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
