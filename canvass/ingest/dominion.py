"""Dominion Democracy Suite CVR exports (JSON), read into the normalized ballot table.

An export is a set of manifests (``ContestManifest.json``, ``CandidateManifest.json``,
``PrecinctPortionManifest.json``, …) and one or more ``CvrExport.json`` /
``CvrExport_N.json`` files, given as files, folders or zip archives of them. Following
Dominion's "CVR Export Format" document:

- a session holds an ``Original`` and, after adjudication, a ``Modified`` version; the one
  marked ``IsCurrent`` is used;
- a version either lists ``Cards`` (one per sheet, each with its ``Contests`` and its
  ``PaperIndex``, the sheet's number on the ballot from 0) or, in older exports, its
  ``Contests`` directly (one card). The cards of one session are one ballot (its
  ``ballot`` is the session's number in the export); where each sheet was scanned as a
  session of its own, as San Francisco's central scanners do, the sheets are counted into
  ballots by their ``PaperIndex`` (see :mod:`canvass.ingest.ballots`);
- ``RecordId`` may be the string ``"X"`` (a ballot not linked to a record in its batch);
- a mark's ``IsVote`` and ``IsAmbiguous`` become the mark's status. What ``IsVote`` means
  in ranked contests has varied between versions (5.10.11 sets it on the first ranking
  only, 5.10.50 on every mark over the threshold), so in ranked contests every mark that
  is not ambiguous is a ranking, as RCTab reads them. Overvotes are never taken from
  ``IsVote``: tabulation decides them from the votes against the contest's ``VoteFor``;
- candidates of type ``WriteIn`` are undeclared write-in lines, ``QualifiedWriteIn``
  declared write-ins;
- outstack conditions are the scanner's own flags (overvote, blank contest, ambiguous
  mark), numbered differently in each export: a mark flagged with the condition that
  ``OutstackConditionManifest.json`` names "Ambiguous" is ambiguous. Overvotes are never
  taken from the flags.

Decoding uses typed ``msgspec`` Structs that the garbage collector never scans
(5-20x faster than a generic JSON parse), one CVR file at a time. Each card's ids and each
mark are kept as integers, and turned into the table's names and fields a whole record
batch at a time (:mod:`canvass.ingest.dominion_batches`): the per-mark Python work is a
few attribute reads.
"""

from __future__ import annotations

import gc
import mmap
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import numpy as np
import pyarrow as pa

from canvass.errors import IngestError
from canvass.guard.archive import Archive, is_zip
from canvass.guard.documents import (
    decode_problem,
    has_surrogate,
    json_value,
    too_deep,
    typed,
    validation_problem,
)
from canvass.ingest.ballots import (
    MAX_CHOICES,
    MAX_RANK,
    ChoiceInfo,
    ContestInfo,
    check_contests,
)
from canvass.ingest.dominion_batches import Columns, Part
from canvass.parallel import process_map, worth_it

MANIFESTS = (
    "ContestManifest",
    "CandidateManifest",
    "PrecinctPortionManifest",
    "PrecinctManifest",
    "BallotTypeManifest",
    "CountingGroupManifest",
    "TabulatorManifest",
    "PartyManifest",
    "OutstackConditionManifest",
)
REQUIRED = ("ContestManifest", "CandidateManifest")
_CVR_FILE = re.compile(r"^CvrExport(?:_(\d+))?\.json$", re.IGNORECASE)
READ_AHEAD_BYTES = 192 * 2**20
"""JSON read ahead of the record batches handed out, when files are read side by side:
about 65,536 cards (a record batch) at Dominion's 3 KB a card, whose cards, read, take
about a twelfth of that in memory."""
GROUP_BYTES = 16 * 2**20
"""JSON handed to a worker at once: small files (Dominion writes about 3 MB each) are read
in runs, so that handing them out costs little beside reading them."""
_KINDS = {"WriteIn": "write_in", "Writein": "write_in", "QualifiedWriteIn": "declared_write_in"}


_Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
"""An id as the ballot table's int64 columns hold it."""


class _Mark(msgspec.Struct, gc=False, rename="pascal"):
    candidate_id: int
    rank: Annotated[int, msgspec.Meta(ge=0, le=MAX_RANK)] = 1
    is_ambiguous: bool = False
    is_vote: bool = True
    outstack_condition_ids: tuple[int, ...] = ()
    """Why the scanner set the card aside at this mark: ids of the OutstackConditionManifest."""


class _Contest(msgspec.Struct, gc=False, rename="pascal"):
    id: int
    marks: list[_Mark] = []


class _Card(msgspec.Struct, gc=False, rename="pascal"):
    contests: list[_Contest] = []
    paper_index: Annotated[int, msgspec.Meta(ge=0, le=MAX_RANK)] | None = None
    """The card's sheet on its ballot, from 0."""


class _Version(msgspec.Struct, gc=False, rename="pascal"):
    precinct_portion_id: _Int64 | None = None
    ballot_type_id: _Int64 | None = None
    is_current: bool | None = None
    cards: list[_Card] | None = None
    contests: list[_Contest] | None = None


class _Session(msgspec.Struct, gc=False, rename="pascal"):
    tabulator_id: _Int64
    batch_id: _Int64
    record_id: _Int64 | str
    counting_group_id: _Int64 | None = None
    original: _Version | None = None
    modified: _Version | None = None


class _Export(msgspec.Struct, gc=False, rename="pascal"):
    sessions: list[_Session]
    version: str = ""
    election_id: str = ""


_DECODER = msgspec.json.Decoder(_Export)


class _Item(msgspec.Struct):
    """An entry of a manifest: the fields read, typed; any other field is passed over."""

    Id: _Int64
    Description: str | int | float | None = None
    VoteFor: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHOICES)] | None = None
    NumOfRanks: Annotated[int, msgspec.Meta(ge=0, le=MAX_RANK)] | None = None
    ContestId: _Int64 | None = None
    PrecinctId: _Int64 | None = None
    Type: str | None = None

    def name(self) -> str:
        return str(self.Id if self.Description is None else self.Description)


class _Manifest(msgspec.Struct):
    List: list[_Item]


@dataclass
class _Source:
    name: str
    """How to name the file in messages: its path, or ``archive.zip:member``."""
    path: Path
    member: str | None = None
    """The member's name when the file is inside a zip archive."""

    def read(self) -> bytes:
        """The bytes, read only when needed: an export is read one file at a time."""
        if self.member is None:
            try:
                return self.path.read_bytes()
            except OSError as e:
                raise IngestError(f"{self.name}: cannot read ({e.strerror})") from None
        with Archive(self.path) as archive:
            return archive.read(self.member)

    @contextmanager
    def mapped(self) -> Iterator[bytes | mmap.mmap]:
        """The bytes, mapped from the file rather than copied when it is a plain file."""
        if self.member is not None:
            yield self.read()
            return
        try:
            f = self.path.open("rb")
        except OSError as e:
            raise IngestError(f"{self.name}: cannot read ({e.strerror})") from None
        with f:
            try:
                mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # an empty file, or one that cannot be mapped
                yield f.read()
                return
            with mapped:
                yield mapped


def _sources(paths: Sequence[Path]) -> Iterator[_Source]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file():
                    yield from _sources([child])
        elif is_zip(path):
            with Archive(path) as archive:
                for member in sorted(archive.names()):
                    yield _Source(f"{path}:{member}", path, member)
        elif path.is_file():
            yield _Source(str(path), path)
        else:
            raise IngestError(f"{path}: no such file or folder")


def _base(name: str) -> str:
    return re.split(r"[/\\:]", name)[-1]


def _at(items: list[Any], item: Any) -> int:
    """Where an item is in a list, found only to name it in a message (by identity: two
    sessions may be equal)."""
    return next(i for i, x in enumerate(items) if x is item)


class DominionExport:
    """The manifests of an export, and the CVR files to read with them."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.name = ", ".join(str(p) for p in paths)
        self.manifests: dict[str, list[dict[str, Any]]] = {}
        self.items: dict[str, list[_Item]] = {}
        self.manifest_files: dict[str, str] = {}
        cvr_files: list[tuple[int, _Source]] = []
        for source in _sources(paths):
            base = _base(source.name)
            stem = base.removesuffix(".json")
            if stem in MANIFESTS:
                self.manifests[stem], self.items[stem] = self._read_manifest(source)
                self.manifest_files[stem] = source.name
            elif m := _CVR_FILE.match(base):
                cvr_files.append((int(m.group(1) or 0), source))
        for required in REQUIRED:
            if required not in self.manifests:
                raise IngestError(
                    f"{', '.join(str(p) for p in paths)}: no {required}.json among the files; "
                    "a Dominion export is read with its manifests"
                )
        if not cvr_files:
            raise IngestError(
                f"{', '.join(str(p) for p in paths)}: no CvrExport.json or CvrExport_N.json "
                "among the files"
            )
        self.cvr_files = [s for _, s in sorted(cvr_files, key=lambda t: (t[0], t[1].name))]
        self._index()

    @staticmethod
    def _read_manifest(source: _Source) -> tuple[list[dict[str, Any]], list[_Item]]:
        doc = json_value(source.read(), source.name, unique=True)
        items = doc.get("List") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise IngestError(f'{source.name}: expected a "List" of entries; found none')
        for i, item in enumerate(items):
            if not isinstance(item, dict) or type(item.get("Id")) is not int:
                raise IngestError(f"{source.name}: List[{i}].Id: expected a whole number")
        return items, typed(doc, _Manifest, source.name).List

    def _names(self, manifest: str) -> dict[int, str]:
        return {item.Id: item.name() for item in self.items.get(manifest, [])}

    def _index(self) -> None:
        self.contests: list[ContestInfo] = []
        self.contest_index: dict[int, int] = {}
        self.choice_index: dict[int, tuple[int, int]] = {}
        for item in self.items["ContestManifest"]:
            self.contest_index[item.Id] = len(self.contests)
            self.contests.append(ContestInfo(item.name(), item.VoteFor or 1, item.NumOfRanks or 0))
            check_contests(self.contests, self.manifest_files["ContestManifest"])
        source = self.manifest_files["CandidateManifest"]
        for i, item in enumerate(self.items["CandidateManifest"]):
            contest = self.contest_index.get(item.ContestId if item.ContestId is not None else -1)
            if contest is None:
                raise IngestError(
                    f"{source}: List[{i}].ContestId: expected a contest of ContestManifest.json; "
                    f"found {item.ContestId!r}"
                )
            check_contests(self.contests, f"{source}: List[{i}]", contest)
            choices = self.contests[contest].choices
            self.choice_index[item.Id] = (contest, len(choices))
            kind = _KINDS.get(item.Type or "", "candidate")
            choices.append(ChoiceInfo(item.name(), kind))
        self.portions = self._names("PrecinctPortionManifest")
        precincts = self._names("PrecinctManifest")
        self.portion_precinct = {
            item.Id: precincts.get(item.PrecinctId if item.PrecinctId is not None else -1, "")
            for item in self.items.get("PrecinctPortionManifest", [])
        }
        self.ballot_types = self._names("BallotTypeManifest")
        # Each mark is read into one integer (see dominion_batches.Columns): its (contest,
        # choice) pair's number shifted left by 10, plus rank << 2, IsVote << 1 and whether
        # it is ambiguous.
        # mark_base maps a contest id, then a candidate id, to the pair's part.
        self.pair_contest: list[int] = []
        self.pair_choice: list[int] = []
        self.mark_base: dict[int, dict[int, int]] = {}
        contest_ids = {c: contest_id for contest_id, c in self.contest_index.items()}
        for candidate, (contest, choice) in self.choice_index.items():
            base = self.mark_base.setdefault(contest_ids[contest], {})
            base[candidate] = len(self.pair_contest) << 10
            self.pair_contest.append(contest)
            self.pair_choice.append(choice)
        for contest_id in self.contest_index:
            self.mark_base.setdefault(contest_id, {})
        self.mark_type = np.int32 if len(self.pair_contest) < 2**21 else np.int64
        # Cards list contest ids, known to be in the manifest; the table holds their indices.
        ids = sorted(self.contest_index)
        self.contest_ids = np.array(ids, np.int64)
        self.contest_of_id = np.array([self.contest_index[i] for i in ids], np.int16)
        self.ranked = [c.ranks > 0 for c in self.contests]
        self.contest_choices: list[dict[int, int]] = [{} for _ in self.contests]
        for candidate, (contest, choice) in self.choice_index.items():
            self.contest_choices[contest][candidate] = choice
        # Outstack condition ids differ from one export to another: the one for an ambiguous
        # mark is looked up by its name (-1 when the export names none).
        outstack = {
            ("" if item.Description is None else str(item.Description)).lower(): item.Id
            for item in self.items.get("OutstackConditionManifest", [])
        }
        self.ambiguous_condition = outstack.get("ambiguous", -1)
        self.counting_groups = self._names("CountingGroupManifest")

    def read(self, county: str, batch_size: int = 65_536) -> Iterator[pa.RecordBatch]:
        """The cards of every CVR file, as ballot-table record batches. The files are read
        side by side, one process a core; the batches are the same however they are read."""
        columns = Columns(self, county)
        sizes = [_size(source) for source in self.cvr_files]
        # While this process names and hands out a record batch, the workers read on: the
        # files in flight hold about a record batch's cards (or READ_AHEAD_BYTES of JSON).
        groups = _groups(self.cvr_files, sizes, GROUP_BYTES)
        ahead = int(READ_AHEAD_BYTES / GROUP_BYTES) + 1
        read = process_map(_read_parts, self, groups, worth_it(sizes), ahead, caller_works=True)
        for parts in read:
            for part in parts:
                columns.add(part)
                while len(columns) >= batch_size:
                    yield columns.flush(batch_size)
        if len(columns):
            yield columns.flush(len(columns))

    def _unknown(self, where: str, card: _Card) -> NoReturn:
        """Name the contest or candidate of a card that the manifests do not have."""
        for contest in card.contests:
            c = self.contest_index.get(contest.id)
            if c is None:
                raise IngestError(
                    f"{where}: contest id {contest.id} is not in ContestManifest.json"
                )
            for mark in contest.marks:
                if mark.candidate_id not in self.contest_choices[c]:
                    raise IngestError(
                        f"{where}: contest {contest.id}: candidate id "
                        f"{mark.candidate_id} is not a candidate of that contest in "
                        "CandidateManifest.json"
                    )
        raise AssertionError("every contest and candidate of the card is known")

    @staticmethod
    def _current(session: _Session, where: str) -> _Version:
        versions = [v for v in (session.modified, session.original) if v is not None]
        if not versions:
            raise IngestError(f"{where}: expected an Original or Modified version; found neither")
        current = [v for v in versions if v.is_current]
        if current:
            return current[0]
        if all(v.is_current is None for v in versions):
            return versions[0]  # exports without IsCurrent: the adjudicated version wins
        raise IngestError(f"{where}: neither version is marked IsCurrent")


def _groups(sources: list[_Source], sizes: list[int], most: int) -> list[list[_Source]]:
    """The files in their order, in runs of about ``most`` bytes, smaller towards the end
    (at most an eighth of what is left), so that no process is left with a long run to
    read while the others have nothing (a file larger than that is a run on its own)."""
    groups: list[list[_Source]] = []
    left = sum(sizes)
    held = most
    for source, size in zip(sources, sizes, strict=True):
        if held + size > min(most, left // 8):
            groups.append([])
            held = 0
        groups[-1].append(source)
        held += size
        left -= size
    return groups


def _read_parts(export: DominionExport, sources: list[_Source]) -> list[Part]:
    return [_read_part(export, source) for source in sources]


def _read_part(export: DominionExport, source: _Source) -> Part:
    """One CVR file's cards (in a worker process when the export is read side by side)."""
    # The collector is paused while a file is decoded and its cards are read: the decoded
    # file is millions of objects the collector would scan again and again, and nothing
    # made here holds a reference cycle. It resumes after the file and if reading stops.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            with source.mapped() as data:
                decoded = _DECODER.decode(data)
        except RecursionError:
            raise IngestError(too_deep(source.name)) from None
        except msgspec.ValidationError as e:
            where, problem = validation_problem(e)
            raise IngestError(f"{source.name}: {where}: {problem}") from None
        except msgspec.DecodeError as e:
            with source.mapped() as data:
                problem = decode_problem(e, data)
            raise IngestError(f"{source.name}: expected a CVR export in JSON; {problem}") from None
        # This loop runs once per card and its inner comprehension once per mark: it is
        # kept to plain local lookups, and each mark becomes one integer (see
        # dominion_batches.Columns).
        rows: list[tuple[Any, ...]] = []
        sheets: list[int | None] = []
        contest_values: list[int] = []
        contest_counts: list[int] = []
        mark_values: list[int] = []
        mark_counts: list[int] = []
        mark_base, ambiguous = export.mark_base, export.ambiguous_condition
        sessions = decoded.sessions
        number = 0
        for session in sessions:
            version = session.modified
            if version is None or not version.is_current:
                version = session.original
                if version is None or not version.is_current:
                    version = export._current(
                        session, f"{source.name}: Sessions[{_at(sessions, session)}]"
                    )
            ids = (
                session.tabulator_id,
                session.batch_id,
                session.record_id,
                session.counting_group_id,
                version.precinct_portion_id,
                version.ballot_type_id,
                number,
            )
            number += 1
            cards = version.cards
            if cards is None:
                cards = [_Card(version.contests or [])]
            for card in cards:
                contests = card.contests
                try:
                    marks = [
                        base[mark.candidate_id]
                        + (mark.rank << 2)
                        + (2 if mark.is_vote else 0)
                        + (
                            1
                            if mark.is_ambiguous or ambiguous in mark.outstack_condition_ids
                            else 0
                        )
                        for contest in contests
                        for base in (mark_base[contest.id],)
                        for mark in contest.marks
                    ]
                except KeyError:
                    where = f"Sessions[{_at(sessions, session)}].Cards[{_at(cards, card)}]"
                    export._unknown(f"{source.name}: {where}", card)
                rows.append(ids)
                sheets.append(card.paper_index)
                contest_values += [contest.id for contest in contests]  # ids known now
                contest_counts.append(len(contests))
                mark_values += marks
                mark_counts.append(len(marks))
        del decoded, sessions
    finally:
        if gc_was_enabled:
            gc.enable()
    tabulator, batch, record, group, portion, ballot_type, session_number = (
        (list(column) for column in zip(*rows, strict=True)) if rows else ([] for _ in range(7))
    )
    return Part(
        np.array(tabulator, np.int64),
        np.array(batch, np.int64),
        _records(export, record),
        pa.array(group, pa.int64()),
        pa.array(portion, pa.int64()),
        pa.array(ballot_type, pa.int64()),
        np.array(session_number, np.int32),
        number,
        pa.array(sheets, pa.int8()),
        np.array(contest_counts, np.int32),
        export.contest_of_id[np.searchsorted(export.contest_ids, contest_values)],
        np.array(mark_counts, np.int32),
        np.array(mark_values, export.mark_type),
    )


def _size(source: _Source) -> int:
    """The file's size, without reading it (a member of an archive: as Dominion writes one,
    a thousand sessions, about 3 MB)."""
    if source.member is not None:
        return 3 * 2**20
    try:
        return source.path.stat().st_size
    except OSError:
        return 0


def _records(export: DominionExport, records: list[int | str]) -> pa.Array:
    """The records as text (Dominion's RecordId is a number, or "X" on some ballots)."""
    try:
        return pa.array(records, pa.int64()).cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        for record in records:
            if isinstance(record, str) and has_surrogate(record):
                raise IngestError(
                    f"{export.name}: RecordId {record!r}: expected text; found a lone "
                    "surrogate, which is no character"
                ) from None
        return pa.array([str(record) for record in records], pa.string())
