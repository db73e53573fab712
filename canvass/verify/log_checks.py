"""The checks of the bytes: the files against the manifest, the log against its
checkpoints, tiles and witnesses, the artifacts against the log, and every published CVR
export read again into its ballot table."""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from canvass.domain.model import KeyRole
from canvass.errors import LogIntegrityError, VerificationError
from canvass.guard.unique import shown
from canvass.ingest import open_export
from canvass.ingest.ballots import MEDIA_TYPE as BALLOT_TABLE
from canvass.ingest.ballots import read_table, to_parquet
from canvass.ingest.names import NameMap
from canvass.log.entry import ArtifactRef, Entry
from canvass.log.merkle import MerkleTree
from canvass.log.note import (
    COSIGNATURE_V1,
    VerifierKey,
    parse_checkpoint_text,
    parse_note,
    verify_cosignature,
)
from canvass.log.tiles import check_tiles, read_entries
from canvass.log.verify import verify_log
from canvass.parallel import beside, worth_it
from canvass.publish.render import CHECKPOINT, CHECKPOINTS
from canvass.verify.artifacts import Artifacts
from canvass.verify.report import Check, Report, attempt
from canvass.verify.source import Source


@dataclass
class Log:
    """The bundle's log as read and checked."""

    entries: list[Entry]
    raw: list[bytes]
    tree: MerkleTree
    witnesses: dict[str, str]
    """Every witness whose cosignature verified on the latest checkpoint: name → key."""


def check_log(
    source: Source,
    key: VerifierKey,
    trusted: list[str],
    held_witnesses: list[str],
    check: Check,
    report: Report,
) -> Log | None:
    """The entries against every checkpoint the operator signed and the ones seen before,
    the tiles against the entries, the latest checkpoint against every witness (those the
    log registers and those the user holds), and the entries' times."""
    try:
        note_text = source.text(CHECKPOINT)
        note = parse_note(note_text, CHECKPOINT)
        size = parse_checkpoint_text(note.text, CHECKPOINT).size
        published = source.json(CHECKPOINTS)
    except (VerificationError, ValueError) as e:
        check.problems.append(str(e))
        return None
    if not isinstance(published, list) or not all(isinstance(n, str) for n in published):
        check.problems.append(f"{CHECKPOINTS}: expected a list of signed checkpoints")
        published = []
    report.checkpoint, report.log_size = note_text, size

    def in_log(path: str) -> bytes:
        return source.read(f"log/{path}")

    try:
        raw = read_entries(in_log, size)
    except VerificationError as e:
        problems = e.problems if isinstance(e, LogIntegrityError) else [str(e)]
        check.problems += [
            f"the entries do not match the checkpoint of size {size}: {p}" for p in problems
        ]
        return None
    result = verify_log(raw, [note_text, *published], key, trusted)
    report.signed_sizes = sorted({cp.size for cp in result.checkpoints})
    check.checked = len(raw)
    check.problems += result.problems
    check.problems += check_tiles(in_log, result.tree)
    entries = result.entries
    registered = {
        str(e.data.get("name")): str(e.data.get("vkey"))
        for e in entries
        if e.type == "key.registered" and e.data.get("role") == KeyRole.WITNESS.value
    }
    witnesses = dict(registered)
    for held in held_witnesses:
        try:
            name = VerifierKey.decode(held).name
        except VerificationError as e:
            check.problems.append(f"witness key {held!r}: {e}")
            continue
        if name in registered and registered[name] != held:
            check.problems.append(
                f"witness {name}: the log registers key {registered[name]}, not the one held "
                f"({held}): the log was rewritten, or the key is not the witness's"
            )
        witnesses[name] = held
    vouched: dict[str, str] = {}
    for name, vkey in sorted(witnesses.items()):
        try:
            wkey = VerifierKey.decode(vkey)
            verify_cosignature(
                note, VerifierKey(wkey.name, COSIGNATURE_V1, wkey.public_key), CHECKPOINT
            )
            vouched[name] = vkey
            held = " (a key you hold)" if vkey in held_witnesses else ""
            check.notes.append(f"cosigned by witness {name}{held}")
        except VerificationError as e:
            check.problems.append(f"{e}: the witness has not vouched for this log")
    if not witnesses:
        check.notes.append("no witness is registered in this log")
    elif not held_witnesses:
        check.notes.append(
            "the witnesses' keys are the log's own: hold one from the witness itself "
            "(--witness-key) to tell this log from a rewritten one the first time"
        )
    for i in range(1, len(entries)):
        if entries[i].time < entries[i - 1].time:
            check.problems.append(
                f"log entry {i} ({entries[i].type} by {entries[i].actor}) is dated "
                f"{entries[i].time}, before entry {i - 1} ({entries[i - 1].time}): back-dated"
            )
    return Log(entries, list(raw), result.tree, vouched)


def check_files(source: Source, manifest: dict[str, Any], expected: set[str], check: Check) -> None:
    """Every file of the bundle (in its folder, or listed in its manifest) must be part of
    the election: a file the log gives (``expected``: rendered from it, the log itself) or
    an artifact an entry names (which the artifacts check sees to). A file missing is
    named by the check that needs it."""
    listed = set(manifest["files"])
    on_disk = source.listing("")
    present = set(on_disk) if on_disk is not None else listed
    check.checked = len(present | listed)
    others = {p for p in present | listed if not p.startswith("artifacts/")}
    for path in sorted(others - expected):
        check.problems.append(
            f"{shown(path)}: not part of the election: the log neither gives this file nor names it"
        )


def check_artifacts(
    source: Source,
    manifest: dict[str, Any],
    entries: list[Entry],
    check: Check,
    read_again: Collection[str] = (),
) -> dict[str, str]:
    """Every artifact the log names is in the bundle with the bytes its name hashes to, and
    every artifact in the bundle is named. The artifacts in ``read_again`` (the CVR files
    the ballots check reads again) are hashed there, as they are read, rather than read
    twice: returned, each with the log entry that names it, for :func:`check_ballots` to
    put what it finds in this check."""
    withheld = manifest.get("withheld") or {}
    named: dict[str, tuple[int, Entry]] = {}
    for index, entry in enumerate(entries):
        for ref in entry.artifacts:
            named.setdefault(ref.sha256, (index, entry))
    hashed_elsewhere: dict[str, str] = {}
    for sha, (index, entry) in named.items():
        check.checked += 1
        if sha in withheld:
            ref = next(r for r in entry.artifacts if r.sha256 == sha)
            if entry.type != "ballots.imported" or ref.media_type == BALLOT_TABLE:
                check.problems.append(
                    f"the manifest withholds artifact {sha} of log entry {index} "
                    f"({entry.type}); only original CVR files may be withheld"
                )
            continue
        if sha in read_again:
            hashed_elsewhere[sha] = f"log entry {index} ({entry.type})"
            continue
        try:
            source.artifact(sha)
        except VerificationError as e:
            check.problems.append(f"log entry {index} ({entry.type}): {e}")
    if withheld:
        check.notes.append(
            f"{len(withheld)} original CVR files withheld by county policy; their normalized "
            "ballot tables are published and checked"
        )
    listed = [p for p in manifest["files"] if p.startswith("artifacts/")]
    on_disk = source.listing("artifacts") or []
    for path in sorted(set(listed) | set(on_disk)):
        if path.removeprefix("artifacts/") not in named:
            check.problems.append(f"{shown(path)}: not named by any log entry")
    return hashed_elsewhere


@dataclass(frozen=True)
class _Export:
    """An import's CVR files, to read again and compare with its ballot table."""

    where: str
    data: dict[str, Any]
    sources: list[ArtifactRef]
    table: str | None
    key: str | None


def exports_to_read(withheld: dict[str, Any], entries: list[Entry]) -> list[_Export]:
    """Every import whose CVR files the bundle holds (none withheld), to read again."""
    exports = []
    for index, entry in enumerate(entries):
        if entry.type != "ballots.imported":
            continue
        d = entry.data
        key = d.get("signature_key_sha256")
        where = f"log entry {index} ({d.get('county')}, {d.get('format')})"
        table_ref = next((r for r in entry.artifacts if r.media_type == BALLOT_TABLE), None)
        sources = [r for r in entry.artifacts if r is not table_ref and r.sha256 != key]
        if any(r.sha256 in withheld for r in sources):
            continue
        table = table_ref.sha256 if table_ref is not None else None
        exports.append(_Export(where, d, sources, table, key))
    return exports


@dataclass(frozen=True)
class _ReadAgain:
    """What reading one export again found."""

    altered: dict[str, str]
    """Its CVR files whose bytes could not be read or do not hash to their name: why."""
    problems: list[str]


@contextmanager
def check_ballots(
    v: Artifacts,
    exports: list[_Export],
    check: Check,
    artifacts: Check,
    hashed_here: dict[str, str],
) -> Iterator[None]:
    """Read every published CVR export again, with the same reader and under the same
    definition, and compare what it gives with the ballot table the log holds. The exports
    are read in worker processes while the block runs (the other checks, in this process);
    their problems are the check's, in the log's order, when the block ends. Each CVR file
    is hashed as it is read: those of ``hashed_here`` (by SHA-256, with the log entry that
    names each) that do not hash to their name are the ``artifacts`` check's problems."""
    check.checked += len(exports)
    altered: dict[str, str] = {}
    sizes = (ref.size for export in exports for ref in export.sources)
    with beside(_read_export, v, exports, worth_it(sizes)) as results:
        yield
        for found in results:
            altered.update(found.altered)
            check.problems += found.problems
    artifacts.problems += [
        f"{where}: {altered[sha]}" for sha, where in hashed_here.items() if sha in altered
    ]


NAME_BYTES = 200
"""The longest file name the log may give a CVR file read again (file systems allow 255
bytes); a longer one, or one no file may have, is read under a name of the verifier's."""


def _file_name(given: object, n: int) -> str:
    """The name a CVR file is read again under: the log's, but never a path (it is the
    bundle's word), nor a name no file may have."""
    name = Path(given).name if isinstance(given, str) else ""
    try:
        usable = 0 < len(name.encode()) <= NAME_BYTES and "\x00" not in name
    except UnicodeEncodeError:  # a lone surrogate
        usable = False
    return name if usable and name not in (".", "..") else f"file-{n}"


def _read_export(v: Artifacts, export: _Export) -> _ReadAgain:
    """One export read again (in a worker process, when read beside the other checks)."""
    with tempfile.TemporaryDirectory(prefix="canvass-verify-") as tmp:
        folder = Path(tmp) / "export"
        altered: dict[str, str] = {}
        unwritten = ""
        for n, ref in enumerate(export.sources):
            try:
                data = v.get(ref.sha256)  # refused unless its bytes hash to its name
            except VerificationError as e:
                altered[ref.sha256] = str(e)
                continue
            if unwritten:
                continue  # every source is still hashed: the artifacts check left them here
            name = _file_name(ref.name, n)
            target = folder / name
            if target.exists():  # two files of one name, from different folders
                target = folder / f"{n}" / name
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            except (OSError, ValueError) as e:
                unwritten = f"cannot be checked: its file {name!r:.80} cannot be written ({e})"
            del data
        if export.table is None:
            return _ReadAgain(altered, [f"{export.where}: names no ballot table"])
        if unwritten and not altered:
            return _ReadAgain(altered, [f"{export.where}: {unwritten}"])
        if altered:
            first = next(iter(altered.values()))
            return _ReadAgain(altered, [f"{export.where}: cannot be checked: {first}"])
        found = Check("ballots", "")
        attempt(
            found,
            export.where,
            partial(_read_again, v, export, folder, Path(tmp)),
        )
        return _ReadAgain(altered, found.problems)


def _read_again(v: Artifacts, export: _Export, folder: Path, tmp: Path) -> list[str]:
    """The export's CVR files (written to ``folder``) read again and compared with its
    ballot table."""
    where, data, key = export.where, export.data, export.key
    assert export.table is not None
    hart_key = None
    if key is not None:
        hart_key = tmp / "signing-key.xml"
        hart_key.write_bytes(v.get(key))
    election = v.definition(data["definition_sha256"])
    opened = open_export(data["format"], [folder], None, hart_key)
    # As the import read them: the contests it was told to leave out, and the card count
    # per ballot it was given.
    skipped = dict(data.get("skipped_contests") or {})
    names = NameMap(opened.contests, election, where, list(skipped))
    batches = (names.remap(b) for b in opened.read(data["county"]))
    again, _ = to_parquet(batches, names.contests, data.get("cards_per_ballot"))
    if names.skipped != skipped:
        return [
            f"{where}: its entry says it left out {skipped}; its CVR files leave out "
            f"{names.skipped}"
        ]
    found, found_contests = read_table(again)
    held, held_contests = read_table(v.get(export.table))
    if [c.to_json() for c in found_contests] != [c.to_json() for c in held_contests]:
        return [f"{where}: its ballot table's contests are not those its CVR files give"]
    if found.num_rows != held.num_rows:
        return [
            f"{where}: its ballot table holds {held.num_rows:,} cards; its CVR files give "
            f"{found.num_rows:,}"
        ]
    if not found.equals(held):
        return [f"{where}: its ballot table is not what its CVR files give, card for card"]
    return []
