"""Hart InterCivic Verity CVR exports: one XML document per ballot card, in a folder or a
zip archive.

Each ``<Cvr>`` names its card (``CvrGuid``), batch (``BatchNumber``, ``BatchSequence``),
sheet and precinct split, and lists its contests, each with the options marked::

    <Contest><Name>MAYOR</Name><Id>…</Id>
      <Options><Option><Name>Ann Adams</Name><Id>…</Id><Value>1</Value></Option></Options>
      <Undervotes>1</Undervotes></Contest>

An option's ``Value`` is ``1`` for a vote, or in a ranked contest a string of 0s and 1s,
one per ranking (``010000``: ranked second). An option without a ``Name`` but with
``WriteInData`` is a write-in line. The export does not state how many votes a contest
allows: it is read as the marks plus ``Undervotes`` of the cards that were not overvoted.
Choices are known by their option ``Id`` (what RCTab's aliases name).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from canvass.errors import IngestError, SignatureError
from canvass.guard.archive import Archive
from canvass.guard.documents import xml_root
from canvass.guard.text import read_file, whole_number
from canvass.ingest.ballots import (
    MAX_CHOICES,
    MAX_RANK,
    VOTE,
    Card,
    ChoiceInfo,
    ContestInfo,
    Mark,
    batches,
    check_contests,
)
from canvass.ingest.files import files_in
from canvass.ingest.xmldsig import verify_detached

NS = {"h": "http://tempuri.org/CVRDesign.xsd"}


def _documents(
    paths: Sequence[Path], key: rsa.RSAPublicKey | None = None
) -> Iterator[tuple[str, bytes]]:
    """Each CVR document's name and bytes, its detached signature (``NAME.sig.xml``, when
    there is one) checked first: against ``key`` when given, when every document must be
    signed; otherwise against the key the signature names, which finds damage but cannot
    tell who signed."""
    for path in files_in(paths, (".xml", ".zip")):
        if path.name.lower().endswith(".sig.xml"):
            continue
        if path.suffix.lower() == ".zip":
            with Archive(path) as archive:
                members = set(archive.names())
                for member in sorted(members):
                    lowered = member.lower()
                    if lowered.endswith(".xml") and not lowered.endswith(".sig.xml"):
                        data = archive.read(member)
                        signature_member = f"{member}.sig.xml"
                        _check(
                            f"{path}:{member}",
                            data,
                            archive.read(signature_member) if signature_member in members else None,
                            key,
                        )
                        yield f"{path}:{member}", data
        else:
            try:
                data = path.read_bytes()
                signature = path.with_name(f"{path.name}.sig.xml")
                signed = read_file(signature) if signature.exists() else None
            except OSError as e:
                raise IngestError(f"{path}: cannot read ({e.strerror})") from None
            _check(str(path), data, signed, key)
            yield str(path), data


def _check(name: str, data: bytes, signature: bytes | None, key: rsa.RSAPublicKey | None) -> None:
    if signature is not None:
        verify_detached(name, data, signature, key)
    elif key is not None:
        raise SignatureError(f"{name}: no signature ({name}.sig.xml) to check against the key")


def _parse(name: str, data: bytes) -> etree._Element:
    root = xml_root(data, name, "a Hart CVR")
    if etree.QName(root).localname != "Cvr":
        found = etree.QName(root).localname
        raise IngestError(f"{name}: expected a <Cvr> document; found <{found}>")
    return root


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


class HartExport:
    def __init__(self, paths: Sequence[Path], key: rsa.RSAPublicKey | None = None) -> None:
        self.paths = list(paths)
        self.key = key
        """Hart's public key: when given, every CVR file must carry a signature by it."""
        self.contests: list[ContestInfo] = []
        self.contest_index: dict[str, int] = {}
        self.choice_index: dict[tuple[int, str], int] = {}
        self.choice_ids: list[list[str]] = []
        """For each contest, its choices' option ids, in choice order."""
        allowed: dict[int, int] = {}
        for name, data in _documents(self.paths, self.key):
            for c, marks, undervotes, overvoted in self._contests(name, _parse(name, data)):
                if not overvoted:
                    allowed[c] = max(allowed.get(c, 1), len(marks) + undervotes)
        for c, n in allowed.items():
            if not self.contests[c].ranks:
                self.contests[c].votes_allowed = n

    def _contests(
        self, name: str, root: etree._Element
    ) -> Iterator[tuple[int, list[tuple[int, int]], int, bool]]:
        """Each contest of a card: its index, its marks (choice, rank), undervotes, and
        whether the scanner flagged it overvoted."""
        for contest in root.iterfind("h:Contests/h:Contest", NS):
            cid = _text(contest, "h:Id")
            if not cid:
                raise IngestError(f"{name}: a contest has no Id")
            c = self.contest_index.get(cid)
            if c is None:
                c = self.contest_index[cid] = len(self.contests)
                self.contests.append(ContestInfo(_text(contest, "h:Name") or cid))
                self.choice_ids.append([])
                check_contests(self.contests, name)
            marks: list[tuple[int, int]] = []
            for option in contest.iterfind("h:Options/h:Option", NS):
                oid = _text(option, "h:Id")
                value = _text(option, "h:Value")
                if not value or set(value) - {"0", "1"} or len(value) > MAX_RANK:
                    raise IngestError(
                        f"{name}: contest {cid!r}, option {oid!r}: expected a Value of 0s and 1s "
                        f"(at most {MAX_RANK}); found {value[:200]!r}"
                    )
                k = self._choice(c, oid, _text(option, "h:Name"), option.find("h:WriteInData", NS))
                if len(value) > 1:
                    self.contests[c].ranks = max(self.contests[c].ranks, len(value))
                    marks += [(k, rank) for rank, bit in enumerate(value, start=1) if bit == "1"]
                elif value == "1":
                    marks.append((k, 1))
            undervotes = whole_number(_text(contest, "h:Undervotes") or "0", MAX_CHOICES)
            if undervotes is None:
                raise IngestError(
                    f"{name}: contest {cid!r}: Undervotes: expected a whole number up to "
                    f"{MAX_CHOICES:,}; found {_text(contest, 'h:Undervotes')[:200]!r}"
                )
            yield c, marks, undervotes, contest.find("h:Overvoted", NS) is not None

    def _choice(self, c: int, oid: str, name: str, write_in: etree._Element | None) -> int:
        key = (c, oid)
        if key not in self.choice_index:
            check_contests(self.contests, oid, c)
            contest = self.contests[c]
            kind = "candidate"
            if not name and write_in is not None:
                lines = sum(ch.kind == "write_in" for ch in contest.choices)
                name, kind = "Write-in" + (f" {lines + 1}" if lines else ""), "write_in"
            self.choice_index[key] = len(contest.choices)
            contest.choices.append(ChoiceInfo(name or oid, kind))
            self.choice_ids[c].append(oid)
        return self.choice_index[key]

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[Card]:
        for name, data in _documents(self.paths, self.key):
            root = _parse(name, data)
            batch = _text(root, "h:BatchNumber")
            card = _text(root, "h:CvrGuid")
            split = _text(root, "h:PrecinctSplit/h:Name")
            fields = (
                county,
                "",
                batch,
                _text(root, "h:BatchSequence"),
                card,
                "",
                split,
                split,
                "",
                "",
            )
            on: list[int] = []
            marks: list[Mark] = []
            for c, contest_marks, _, _ in self._contests(name, root):
                on.append(c)
                for choice, rank in contest_marks:
                    marks.append((c, choice, rank, VOTE))
            yield fields, on, marks
