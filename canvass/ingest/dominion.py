"""Dominion Democracy Suite CVR exports (JSON), read into the normalized ballot table.

An export is a set of manifests (``ContestManifest.json``, ``CandidateManifest.json``,
``PrecinctPortionManifest.json``, …) and one or more ``CvrExport.json`` /
``CvrExport_N.json`` files, given as files, folders or zip archives of them. Following
Dominion's "CVR Export Format" document:

- a session (one ballot) holds an ``Original`` and, after adjudication, a ``Modified``
  version; the one marked ``IsCurrent`` is used;
- a version either lists ``Cards`` (one per sheet, each with its ``Contests``) or, in older
  exports, its ``Contests`` directly (one card);
- ``RecordId`` may be the string ``"X"`` (a ballot not linked to a record in its batch);
- a mark's ``IsVote`` and ``IsAmbiguous`` become the mark's status. What ``IsVote`` means
  in ranked contests has varied between versions (5.10.11 sets it on the first ranking
  only, 5.10.50 on every mark over the threshold), so in ranked contests every mark that
  is not ambiguous is a ranking, as RCTab reads them. Overvotes are never taken from
  ``IsVote``: tabulation decides them from the votes against the contest's ``VoteFor``;
- candidates of type ``WriteIn`` are undeclared write-in lines, ``QualifiedWriteIn``
  declared write-ins;
- outstack conditions (the scanner's own flags: overvote, blank contest, ambiguous mark)
  are not used to count: overvotes and ambiguity come from the marks themselves, so the
  ids a given manifest assigns to those flags are never relied on.

Decoding uses typed ``msgspec`` Structs that the garbage collector never scans
(see PERFORMANCE notes: 5-20x faster than a generic JSON parse), one CVR file at a time.
"""

from __future__ import annotations

import gc
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from canvass.errors import IngestError
from canvass.ingest.ballots import (
    AMBIGUOUS,
    NOT_A_VOTE,
    VOTE,
    Card,
    ChoiceInfo,
    ContestInfo,
    batches,
)

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
_KINDS = {"WriteIn": "write_in", "Writein": "write_in", "QualifiedWriteIn": "declared_write_in"}


class _Mark(msgspec.Struct, gc=False, rename="pascal"):
    candidate_id: int
    rank: int = 1
    is_ambiguous: bool = False
    is_vote: bool = True
    outstack_condition_ids: tuple[int, ...] = ()
    """Why the scanner set the card aside at this mark: ids of the OutstackConditionManifest."""


class _Contest(msgspec.Struct, gc=False, rename="pascal"):
    id: int
    marks: list[_Mark] = []


class _Card(msgspec.Struct, gc=False, rename="pascal"):
    contests: list[_Contest] = []


class _Version(msgspec.Struct, gc=False, rename="pascal"):
    precinct_portion_id: int | None = None
    ballot_type_id: int | None = None
    is_current: bool | None = None
    cards: list[_Card] | None = None
    contests: list[_Contest] | None = None


class _Session(msgspec.Struct, gc=False, rename="pascal"):
    tabulator_id: int
    batch_id: int
    record_id: int | str
    counting_group_id: int | None = None
    original: _Version | None = None
    modified: _Version | None = None


class _Export(msgspec.Struct, gc=False, rename="pascal"):
    sessions: list[_Session]
    version: str = ""
    election_id: str = ""


_DECODER = msgspec.json.Decoder(_Export)


def _pick(session: _Session) -> _Version | None:
    """The current version when there is one to take without question."""
    modified, original = session.modified, session.original
    if modified is not None and modified.is_current:
        return modified
    if original is not None and original.is_current:
        return original
    return None


# Mark status by [ranked contest][IsVote][IsAmbiguous]. In a ranked contest every mark that
# is not ambiguous is a ranking; elsewhere IsVote decides, ambiguity only naming the reason.
_STATUS = (
    ((NOT_A_VOTE, AMBIGUOUS), (VOTE, VOTE)),
    ((VOTE, AMBIGUOUS), (VOTE, AMBIGUOUS)),
)


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
            return self.path.read_bytes()
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(self.member)


def _sources(paths: Sequence[Path]) -> Iterator[_Source]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file():
                    yield from _sources([child])
        elif zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in sorted(archive.namelist()):
                    if not member.endswith("/"):
                        yield _Source(f"{path}:{member}", path, member)
        elif path.is_file():
            yield _Source(str(path), path)
        else:
            raise IngestError(f"{path}: no such file or folder")


def _base(name: str) -> str:
    return re.split(r"[/\\:]", name)[-1]


def vote_type_of(counting_group: str) -> str:
    """The vote type a counting group's name implies ('' when it does not say)."""
    name = counting_group.lower()
    for words, vote_type in (
        (("provisional",), "provisional"),
        (("uocava", "overseas", "military"), "uocava"),
        (("mail", "absentee", "vbm", "by mail"), "absentee"),
        (("early", "advance"), "early"),
        (("election day", "in person", "in-person", "polling", "precinct"), "election_day"),
    ):
        if any(w in name for w in words):
            return vote_type
    return ""


class DominionExport:
    """The manifests of an export, and the CVR files to read with them."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.manifests: dict[str, list[dict[str, Any]]] = {}
        self.manifest_files: dict[str, str] = {}
        cvr_files: list[tuple[int, _Source]] = []
        for source in _sources(paths):
            base = _base(source.name)
            stem = base.removesuffix(".json")
            if stem in MANIFESTS:
                self.manifests[stem] = self._read_manifest(source)
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
    def _read_manifest(source: _Source) -> list[dict[str, Any]]:
        try:
            doc = msgspec.json.decode(source.read())
        except msgspec.DecodeError as e:
            raise IngestError(f"{source.name}: expected a JSON manifest; {e}") from None
        items = doc.get("List") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise IngestError(f'{source.name}: expected a "List" of entries; found none')
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("Id"), int):
                raise IngestError(f"{source.name}: List[{i}].Id: expected a whole number")
        return items

    def _names(self, manifest: str) -> dict[int, str]:
        return {
            item["Id"]: str(item.get("Description", item["Id"]))
            for item in self.manifests.get(manifest, [])
        }

    def _index(self) -> None:
        self.contests: list[ContestInfo] = []
        self.contest_index: dict[int, int] = {}
        self.choice_index: dict[int, tuple[int, int]] = {}
        for item in self.manifests["ContestManifest"]:
            self.contest_index[item["Id"]] = len(self.contests)
            self.contests.append(
                ContestInfo(
                    str(item.get("Description", item["Id"])),
                    int(item.get("VoteFor", 1) or 1),
                    int(item.get("NumOfRanks", 0) or 0),
                )
            )
        source = self.manifest_files["CandidateManifest"]
        for i, item in enumerate(self.manifests["CandidateManifest"]):
            contest = self.contest_index.get(item.get("ContestId", -1))
            if contest is None:
                raise IngestError(
                    f"{source}: List[{i}].ContestId: expected a contest of ContestManifest.json; "
                    f"found {item.get('ContestId')!r}"
                )
            choices = self.contests[contest].choices
            self.choice_index[item["Id"]] = (contest, len(choices))
            kind = _KINDS.get(str(item.get("Type", "")), "candidate")
            choices.append(ChoiceInfo(str(item.get("Description", item["Id"])), kind))
        self.portions = self._names("PrecinctPortionManifest")
        precincts = self._names("PrecinctManifest")
        self.portion_precinct = {
            item["Id"]: precincts.get(item.get("PrecinctId", -1), "")
            for item in self.manifests.get("PrecinctPortionManifest", [])
        }
        self.ballot_types = self._names("BallotTypeManifest")
        self.ranked = [c.ranks > 0 for c in self.contests]
        # Per contest: its candidates' ids to choice positions, and how a mark's IsVote and
        # IsAmbiguous read in it (ranked contests read IsVote differently).
        self.contest_choices: list[dict[int, int]] = [{} for _ in self.contests]
        for candidate, (contest, choice) in self.choice_index.items():
            self.contest_choices[contest][candidate] = choice
        self.contest_status = [_STATUS[r] for r in self.ranked]
        # Outstack condition ids differ from one export to another: the one for an ambiguous
        # mark is looked up by its name (-1 when the export names none).
        outstack = {
            str(item.get("Description", "")).lower(): item["Id"]
            for item in self.manifests.get("OutstackConditionManifest", [])
        }
        self.ambiguous_condition = outstack.get("ambiguous", -1)
        self.vote_types: dict[str, str] = {}
        self.counting_groups = self._names("CountingGroupManifest")

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        """The cards of every CVR file, as ballot-table record batches."""
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[Card]:
        # The collector is paused while a file is decoded and its cards are read: the decoded
        # file is millions of lists the collector would scan again and again, and nothing
        # made here holds a reference cycle. It resumes between files and if reading stops.
        gc_was_enabled = gc.isenabled()
        try:
            for source in self.cvr_files:
                gc.disable()
                try:
                    export = _DECODER.decode(source.read())
                except msgspec.ValidationError as e:
                    message, _, at = str(e).rpartition(" - at `")
                    where = at.rstrip("`").removeprefix("$").lstrip(".") or "document"
                    raise IngestError(f"{source.name}: {where}: {message or e}") from None
                except msgspec.DecodeError as e:
                    raise IngestError(
                        f"{source.name}: expected a CVR export in JSON; {e}"
                    ) from None
                for n, session in enumerate(export.sessions):
                    yield from self._session_cards(county, source.name, n, session)
                del export
                if gc_was_enabled:
                    gc.enable()
        finally:
            if gc_was_enabled:
                gc.enable()

    def _session_cards(self, county: str, file: str, n: int, session: _Session) -> Iterator[Card]:
        version = _pick(session) or self._current(session, f"{file}: Sessions[{n}]")
        tabulator, batch, record = (
            str(session.tabulator_id),
            str(session.batch_id),
            str(session.record_id),
        )
        group = self.counting_groups.get(session.counting_group_id or -1, "")
        vote_type = self.vote_types.get(group)
        if vote_type is None:
            vote_type = self.vote_types[group] = vote_type_of(group)
        portion_id = version.precinct_portion_id
        fields = (
            county,
            tabulator,
            batch,
            record,
            f"{tabulator}-{batch}-{record}",
            self.ballot_types.get(version.ballot_type_id or -1, str(version.ballot_type_id or "")),
            self.portion_precinct.get(portion_id or -1, ""),
            self.portions.get(portion_id or -1, str(portion_id or "")),
            group,
            vote_type,
        )
        cards = version.cards if version.cards is not None else [_Card(version.contests or [])]
        contest_index, contest_choices, contest_status, ambiguous = (
            self.contest_index,
            self.contest_choices,
            self.contest_status,
            self.ambiguous_condition,
        )
        for k, card in enumerate(cards):
            try:
                indices = [contest_index[contest.id] for contest in card.contests]
            except KeyError as e:
                raise IngestError(
                    f"{file}: Sessions[{n}].Cards[{k}]: contest id {e.args[0]} is not in "
                    "ContestManifest.json"
                ) from None
            try:
                marks = [
                    (
                        c,
                        choices[mark.candidate_id],
                        mark.rank,
                        status[mark.is_vote][
                            mark.is_ambiguous or ambiguous in mark.outstack_condition_ids
                        ],
                    )
                    for contest, c in zip(card.contests, indices, strict=True)
                    for choices, status in ((contest_choices[c], contest_status[c]),)
                    for mark in contest.marks
                ]
            except KeyError:
                self._unknown_candidate(file, n, k, card, indices)
            yield fields, indices, marks

    def _unknown_candidate(
        self, file: str, n: int, k: int, card: _Card, indices: list[int]
    ) -> None:
        for contest, c in zip(card.contests, indices, strict=True):
            for mark in contest.marks:
                if mark.candidate_id not in self.contest_choices[c]:
                    raise IngestError(
                        f"{file}: Sessions[{n}].Cards[{k}]: contest {contest.id}: candidate id "
                        f"{mark.candidate_id} is not a candidate of that contest in "
                        "CandidateManifest.json"
                    )
        raise AssertionError("every candidate of the card is known")

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
