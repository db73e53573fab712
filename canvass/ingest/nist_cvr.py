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
from typing import Any

import jsonschema
import msgspec
import pyarrow as pa
from lxml import etree

from canvass.errors import IngestError
from canvass.ingest.ballots import (
    AMBIGUOUS,
    NOT_A_VOTE,
    VOTE,
    Card,
    ChoiceInfo,
    ContestInfo,
    Mark,
    batches,
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
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(f"{path}: cannot read ({e.strerror})") from None
    if path.suffix.lower() == ".xml" or data.lstrip().startswith(b"<"):
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as e:
            raise IngestError(f"{path}: expected a NIST SP 1500-103 report in XML; {e}") from None
        doc = _from_xml(root)
        doc["@type"] = "CVR." + etree.QName(root).localname
    else:
        try:
            doc = msgspec.json.decode(data)
        except msgspec.DecodeError as e:
            raise IngestError(f"{path}: expected a NIST SP 1500-103 report in JSON; {e}") from None
    if not isinstance(doc, dict) or not str(doc.get("@type", "")).endswith("CastVoteRecordReport"):
        raise IngestError(
            f'{path}: expected "@type": "CVR.CastVoteRecordReport"; found '
            f"{doc.get('@type') if isinstance(doc, dict) else type(doc).__name__!r}"
        )
    return doc


def _writes_in(selection: dict[str, Any]) -> bool:
    return any("CVRWriteIn" in p for p in selection.get("SelectionPosition", []))


def schema_validator(path: Path) -> jsonschema.protocols.Validator:
    """A validator for NIST's JSON Schema of SP 1500-103 (``NIST_V0_cast_vote_records.json``)."""
    try:
        schema = msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError) as e:
        raise IngestError(f"{path}: cannot read it as a JSON Schema ({e})") from None
    validator_class = jsonschema.validators.validator_for(schema)
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
        elections = first.get("Election") or []
        if not elections:
            raise IngestError(f"{files[0]}: Election: expected the election's contests; found none")
        election = elections[0]
        names = {c["@id"]: c.get("Name", c["@id"]) for c in election.get("Candidate", [])}
        parties = {p["@id"]: p.get("Name", p["@id"]) for p in first.get("Party", [])}
        self.contests: list[ContestInfo] = []
        self.contest_index: dict[str, int] = {}
        self.selection_index: dict[tuple[str, str], int] = {}
        for n, contest in enumerate(election.get("Contest", [])):
            cid = contest.get("@id")
            if not isinstance(cid, str):
                raise IngestError(f"{files[0]}: Election[0].Contest[{n}].@id: expected text")
            info = ContestInfo(
                str(contest.get("Name", cid)),
                int(contest.get("VotesAllowed", 1) or 1),
                int(contest.get("NumberOfRanks", 0) or 0),
                party=str(contest.get("PrimaryPartyId", "") or ""),
            )
            self.contest_index[cid] = len(self.contests)
            for selection in contest.get("ContestSelection", []):
                sid = selection["@id"]
                if selection.get("IsWriteIn"):
                    lines = sum(ch.kind == "write_in" for ch in info.choices)
                    name, kind = "Write-in" + (f" {lines + 1}" if lines else ""), "write_in"
                elif "CandidateIds" in selection:
                    name = " / ".join(names.get(c, c) for c in selection["CandidateIds"])
                    kind = "candidate"
                elif "PartyIds" in selection:
                    name = " / ".join(parties.get(p, p) for p in selection["PartyIds"])
                    kind = "candidate"
                else:
                    name, kind = str(selection.get("Selection", sid)), "candidate"
                self.selection_index[(cid, sid)] = len(info.choices)
                info.choices.append(ChoiceInfo(name, kind))
            self.contests.append(info)
        # A write-in that names no selection counts for the contest's write-in line; give
        # the contests such write-ins reach one now, so the choice list is whole up front.
        for cvr in first.get("CVR", []):
            for snapshot in cvr.get("CVRSnapshot", []):
                for contest in snapshot.get("CVRContest", []):
                    c = self.contest_index.get(contest.get("ContestId"))
                    if c is not None and any(
                        s.get("ContestSelectionId") is None and _writes_in(s)
                        for s in contest.get("CVRContestSelection", [])
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
        choices.append(ChoiceInfo("Write-in", "write_in"))
        return len(choices) - 1

    def _load(self, path: Path) -> dict[str, Any]:
        doc = _load(path)
        if self.validator is not None and path.suffix.lower() == ".json":
            _check_schema(path, doc, self.validator)
        return doc

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[Card]:
        for path in self.files:
            doc = self._load(path)
            for n, cvr in enumerate(doc.get("CVR", [])):
                yield self._card(county, f"{path}: CVR[{n}]", cvr)

    def _card(self, county: str, where: str, cvr: dict[str, Any]) -> Card:
        snapshots = {s.get("@id"): s for s in cvr.get("CVRSnapshot", [])}
        snapshot = snapshots.get(cvr.get("CurrentSnapshotId"))
        if snapshot is None:
            raise IngestError(
                f"{where}: CurrentSnapshotId {cvr.get('CurrentSnapshotId')!r} names none of its "
                f"snapshots ({', '.join(map(str, snapshots))})"
            )
        unit = str(cvr.get("BallotStyleUnitId", ""))
        fields = (
            county,
            str(cvr.get("CreatingDeviceId", "")),
            str(cvr.get("BatchId", "")),
            str(cvr.get("UniqueId", cvr.get("BatchSequenceId", ""))),
            str(cvr.get("BallotPrePrintedId", "")),
            str(cvr.get("BallotStyleId", "")),
            unit,
            unit,
            "",
            "",
        )
        on: list[int] = []
        marks: list[Mark] = []
        for contest in snapshot.get("CVRContest", []):
            cid = contest.get("ContestId")
            c = self.contest_index.get(cid)
            if c is None:
                raise IngestError(f"{where}: ContestId {cid!r} is not a contest of the election")
            on.append(c)
            for selection in contest.get("CVRContestSelection", []):
                sid = selection.get("ContestSelectionId")
                k = self.selection_index.get((cid, sid))
                if k is None and sid is None and _writes_in(selection):
                    k = self._write_in(c)
                if k is None:
                    raise IngestError(
                        f"{where}: contest {cid!r}: ContestSelectionId {sid!r} is not one of its "
                        "selections"
                    )
                pending = "needs-adjudication" in selection.get("Status", [])
                for position in selection.get("SelectionPosition", []):
                    if position.get("HasIndication", "yes") != "yes":
                        continue
                    status = VOTE if int(position.get("NumberVotes", 0)) >= 1 else NOT_A_VOTE
                    if pending and status == VOTE:
                        status = AMBIGUOUS  # flagged for adjudication and not yet decided
                    marks.append((c, k, int(position.get("Rank", 1)), status))
        return fields, on, marks
