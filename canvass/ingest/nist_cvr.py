"""NIST SP 1500-103 cast vote records (CDF v1, JSON or XML), read into the normalized ballot
table. An XML report is first turned into the JSON form the CDF defines (``ObjectId`` as
``@id``, ``xsi:type`` as ``@type``, repeated elements as lists), so both are read by the
same code.

A ``CastVoteRecordReport`` holds the election (contests, their selections, candidates) and
one ``CVR`` per ballot. Each CVR has snapshots; the one named by ``CurrentSnapshotId`` is
read. A selection position with ``HasIndication`` "yes" is a mark; it is a vote when
``NumberVotes`` is at least 1 — whether the contest is overvoted is decided by tabulation
from ``VotesAllowed``, as for every format (so a position the report marks
``IsAllocable: no`` because of an overvote is still counted as one of the overvoting
marks). ``Rank`` gives the ranking in ranked contests. ``BallotStyleUnitId`` is the
precinct or split; ``CreatingDeviceId`` the tabulator; ``BatchId`` the batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import msgspec
import pyarrow as pa
from lxml import etree

from canvass.errors import IngestError
from canvass.guard.documents import json_value, typed, xml_root
from canvass.guard.text import read_file, whole_number
from canvass.ingest.ballots import (
    AMBIGUOUS,
    MAX_CHOICES,
    MAX_RANK,
    NO_BALLOT,
    NOT_A_VOTE,
    VOTE,
    ChoiceInfo,
    ContestInfo,
    Mark,
    SheetCard,
    batches,
    check_contests,
)
from canvass.ingest.files import files_in

_LISTS = {
    "CVR",
    "Election",
    "Candidate",
    "Contest",
    "ContestSelection",
    "Party",
    "CVRSnapshot",
    "CVRContest",
    "CVRContestSelection",
    "SelectionPosition",
    "GpUnit",
    "Status",
}
_ID_LISTS = {"CandidateIds", "PartyIds"}
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


# The parts of SP 1500-103 the reader uses, typed; any other field is passed over, and a
# field of the wrong type is named by its path. Ids may be numbers in JSON.
_Id = str | int | None


class _Position(msgspec.Struct):
    HasIndication: str = "yes"
    NumberVotes: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHOICES)] = 0
    Rank: Annotated[int, msgspec.Meta(ge=1, le=MAX_RANK)] = 1
    CVRWriteIn: Any = None


class _CvrSelection(msgspec.Struct):
    ContestSelectionId: str | None = None
    Status: list[str] = []
    SelectionPosition: list[_Position] = []

    def writes_in(self) -> bool:
        return any(p.CVRWriteIn is not None for p in self.SelectionPosition)


class _CvrContest(msgspec.Struct):
    ContestId: str | None = None
    CVRContestSelection: list[_CvrSelection] = []


class _Snapshot(msgspec.Struct):
    id: _Id = msgspec.field(name="@id", default=None)
    CVRContest: list[_CvrContest] = []


class _Cvr(msgspec.Struct):
    CurrentSnapshotId: _Id = None
    CVRSnapshot: list[_Snapshot] = []
    BallotStyleUnitId: _Id = None
    CreatingDeviceId: _Id = None
    BatchId: _Id = None
    UniqueId: _Id = None
    BatchSequenceId: _Id = None
    BallotPrePrintedId: _Id = None
    BallotStyleId: _Id = None
    BallotSheetId: _Id = None


class _Selection(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    IsWriteIn: bool = False
    CandidateIds: list[str] | None = None
    PartyIds: list[str] | None = None
    Selection: str | None = None


class _Contest(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    Name: str | None = None
    VotesAllowed: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHOICES)] | None = None
    NumberOfRanks: Annotated[int, msgspec.Meta(ge=0, le=MAX_RANK)] | None = None
    PrimaryPartyId: str | None = None
    ContestSelection: list[_Selection] = []


class _Named(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    Name: str | None = None


class _Election(msgspec.Struct):
    Candidate: list[_Named] = []
    Contest: list[_Contest] = []


class _Report(msgspec.Struct):
    Election: list[_Election] = []
    Party: list[_Named] = []
    CVR: list[_Cvr] = []


def _text(value: _Id) -> str:
    return "" if value is None else str(value)


def _from_xml(element: Any) -> Any:
    """One element of a CDF XML document as the CDF's JSON form."""
    children = list(element)
    if not children and "ObjectId" not in element.attrib:
        text = (element.text or "").strip()
        name = etree.QName(element).localname
        if name in _ID_LISTS:
            return text.split()
        return (
            {"true": True, "false": False, "1": True, "0": False}.get(text, text)
            if name.startswith("Is")
            else text
        )
    out: dict[str, Any] = {}
    if "ObjectId" in element.attrib:
        out["@id"] = element.attrib["ObjectId"]
    if _XSI_TYPE in element.attrib:
        out["@type"] = "CVR." + element.attrib[_XSI_TYPE].split(":")[-1]
    for child in children:
        if not isinstance(child.tag, str):
            continue  # comments
        name = etree.QName(child).localname
        value = _from_xml(child)
        if name in _LISTS:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _load(path: Path) -> dict[str, Any]:
    data = read_file(path, IngestError)
    doc: Any
    if path.suffix.lower() == ".xml" or data.lstrip().startswith(b"<"):
        root = xml_root(data, str(path), "a NIST SP 1500-103 report", huge=True)
        doc = _from_xml(root)
        if not isinstance(doc, dict):
            doc = {}
        doc["@type"] = "CVR." + etree.QName(root).localname
    else:
        doc = json_value(data, str(path), unique=True)
    if not isinstance(doc, dict) or not str(doc.get("@type", "")).endswith("CastVoteRecordReport"):
        raise IngestError(
            f'{path}: expected "@type": "CVR.CastVoteRecordReport"; found '
            f"{doc.get('@type') if isinstance(doc, dict) else type(doc).__name__!r}"
        )
    return doc


def schema_validator(path: Path) -> jsonschema.protocols.Validator:
    """A validator for NIST's JSON Schema of SP 1500-103 (``NIST_V0_cast_vote_records.json``)."""
    data = read_file(path, IngestError)
    schema = json_value(data, str(path))
    if not isinstance(schema, dict):
        raise IngestError(
            f"{path}: expected a JSON Schema (an object); found {type(schema).__name__}"
        )
    try:
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        raise IngestError(f"{path}: not a valid JSON Schema: {e.message}") from None
    return validator_class(schema)


def _check_schema(path: Path, doc: Any, validator: jsonschema.protocols.Validator) -> None:
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise IngestError(
            f"{path}: {where.lstrip('.') or 'document'}: not valid under NIST's SP 1500-103 "
            f"schema: {error.message}"
        )


class NistCvrReport:
    """One or more CVR reports of the same election; JSON reports are checked against
    NIST's schema when one is given."""

    def __init__(
        self, paths: Sequence[Path], validator: jsonschema.protocols.Validator | None = None
    ) -> None:
        files = self.files = files_in(paths, (".json", ".xml"))
        self.validator = validator
        first = self._load(files[0])
        if not first.Election:
            raise IngestError(f"{files[0]}: Election: expected the election's contests; found none")
        election = first.Election[0]
        names = {c.id: c.Name or c.id for c in election.Candidate}
        parties = {p.id: p.Name or p.id for p in first.Party}
        self.contests: list[ContestInfo] = []
        self.contest_index: dict[str, int] = {}
        self.selection_index: dict[tuple[str, str], int] = {}
        for n, contest in enumerate(election.Contest):
            cid = contest.id
            where = f"{files[0]}: Election[0].Contest[{n}]"
            info = ContestInfo(
                contest.Name or cid,
                contest.VotesAllowed or 1,
                contest.NumberOfRanks or 0,
                party=contest.PrimaryPartyId or "",
            )
            self.contest_index[cid] = len(self.contests)
            for selection in contest.ContestSelection:
                sid = selection.id
                if selection.IsWriteIn:
                    lines = sum(ch.kind == "write_in" for ch in info.choices)
                    name, kind = "Write-in" + (f" {lines + 1}" if lines else ""), "write_in"
                elif selection.CandidateIds is not None:
                    name = " / ".join(names.get(c, c) for c in selection.CandidateIds)
                    kind = "candidate"
                elif selection.PartyIds is not None:
                    name = " / ".join(parties.get(p, p) for p in selection.PartyIds)
                    kind = "candidate"
                else:
                    name, kind = selection.Selection or sid, "candidate"
                if len(info.choices) >= MAX_CHOICES:
                    raise IngestError(
                        f"{where}: expected at most {MAX_CHOICES:,} selections; found more"
                    )
                self.selection_index[(cid, sid)] = len(info.choices)
                info.choices.append(ChoiceInfo(name, kind))
            self.contests.append(info)
            check_contests(self.contests, where)
        # A write-in that names no selection counts for the contest's write-in line; give
        # the contests such write-ins reach one now, so the choice list is whole up front.
        for cvr in first.CVR:
            for snapshot in cvr.CVRSnapshot:
                for cvr_contest in snapshot.CVRContest:
                    c = self.contest_index.get(cvr_contest.ContestId or "")
                    if c is not None and any(
                        s.ContestSelectionId is None and s.writes_in()
                        for s in cvr_contest.CVRContestSelection
                    ):
                        self._write_in(c, add=True)
        # Partisan primaries repeat contest names across parties; names must tell apart.
        seen = Counter(c.name for c in self.contests)
        for cid, c in self.contest_index.items():
            if seen[self.contests[c].name] > 1:
                self.contests[c].name = f"{self.contests[c].name} ({cid})"

    def _write_in(self, c: int, add: bool = False) -> int | None:
        """The choice a write-in counts for when it names no selection: the contest's
        write-in line if it has exactly one, else an undeclared ``Write-in`` line (added
        when ``add``)."""
        choices = self.contests[c].choices
        lines = [k for k, ch in enumerate(choices) if ch.kind == "write_in"]
        if len(lines) == 1:
            return lines[0]
        named = [k for k in lines if choices[k].name == "Write-in"]
        if named:
            return named[0]
        if not add:
            return None
        if len(choices) >= MAX_CHOICES:
            raise IngestError(
                f"contest {self.contests[c].name!r}: expected at most {MAX_CHOICES:,} "
                "selections; found more"
            )
        choices.append(ChoiceInfo("Write-in", "write_in"))
        return len(choices) - 1

    def _load(self, path: Path) -> _Report:
        doc = _load(path)
        if self.validator is not None and path.suffix.lower() == ".json":
            _check_schema(path, doc, self.validator)
        return typed(doc, _Report, str(path))

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[SheetCard]:
        self._sheets: dict[str, int] = {}
        for path in self.files:
            report = self._load(path)
            for n, cvr in enumerate(report.CVR):
                yield self._card(county, f"{path}: CVR[{n}]", cvr)

    def _sheet(self, where: str, cvr: _Cvr) -> int:
        sheet = _text(cvr.BallotSheetId)
        if not sheet:
            return NO_BALLOT
        number = whole_number(sheet, MAX_RANK) if sheet.isdigit() else None
        if number is None and sheet.isdigit():
            raise IngestError(
                f"{where}: BallotSheetId: expected a sheet number up to {MAX_RANK}; found {sheet!r}"
            )
        if number is not None:
            return number
        if sheet not in self._sheets:
            if len(self._sheets) > MAX_RANK:
                raise IngestError(
                    f"{where}: BallotSheetId: expected at most {MAX_RANK + 1} different sheets; "
                    "found more"
                )
            self._sheets[sheet] = len(self._sheets)
        return self._sheets[sheet]

    def _card(self, county: str, where: str, cvr: _Cvr) -> SheetCard:
        snapshots = {_text(s.id): s for s in cvr.CVRSnapshot}
        snapshot = snapshots.get(_text(cvr.CurrentSnapshotId))
        if snapshot is None:
            raise IngestError(
                f"{where}: CurrentSnapshotId {cvr.CurrentSnapshotId!r} names none of its "
                f"snapshots ({', '.join(map(str, snapshots))})"
            )
        unit = _text(cvr.BallotStyleUnitId)
        fields = (
            county,
            _text(cvr.CreatingDeviceId),
            _text(cvr.BatchId),
            _text(cvr.UniqueId if cvr.UniqueId is not None else cvr.BatchSequenceId),
            _text(cvr.BallotPrePrintedId),
            _text(cvr.BallotStyleId),
            unit,
            unit,
            "",
            "",
        )
        on: list[int] = []
        marks: list[Mark] = []
        for contest in snapshot.CVRContest:
            cid = contest.ContestId
            c = self.contest_index.get(cid or "")
            if c is None:
                raise IngestError(f"{where}: ContestId {cid!r} is not a contest of the election")
            on.append(c)
            for selection in contest.CVRContestSelection:
                sid = selection.ContestSelectionId
                k = self.selection_index.get((cid or "", sid or ""))
                if k is None and sid is None and selection.writes_in():
                    k = self._write_in(c)
                if k is None:
                    raise IngestError(
                        f"{where}: contest {cid!r}: ContestSelectionId {sid!r} is not one of its "
                        "selections"
                    )
                pending = "needs-adjudication" in selection.Status
                for position in selection.SelectionPosition:
                    if position.HasIndication != "yes":
                        continue
                    status = VOTE if position.NumberVotes >= 1 else NOT_A_VOTE
                    if pending and status == VOTE:
                        status = AMBIGUOUS  # flagged for adjudication and not yet decided
                    marks.append((c, k, position.Rank, status))
        return fields, on, marks, NO_BALLOT, self._sheet(where, cvr)
