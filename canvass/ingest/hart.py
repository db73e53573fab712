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

import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
from lxml import etree

from canvass.errors import IngestError
from canvass.ingest.ballots import VOTE, Card, ChoiceInfo, ContestInfo, batches
from canvass.ingest.files import files_in

NS = {"h": "http://tempuri.org/CVRDesign.xsd"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def _documents(paths: Sequence[Path]) -> Iterator[tuple[str, bytes]]:
    for path in files_in(paths, (".xml", ".zip")):
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in sorted(archive.namelist()):
                    if member.lower().endswith(".xml"):
                        yield f"{path}:{member}", archive.read(member)
        else:
            yield str(path), path.read_bytes()


def _parse(name: str, data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as e:
        raise IngestError(f"{name}: expected a Hart CVR in XML; {e}") from None
    if etree.QName(root).localname != "Cvr":
        found = etree.QName(root).localname
        raise IngestError(f"{name}: expected a <Cvr> document; found <{found}>")
    return root


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    return (found.text or "").strip() if found is not None else ""


class HartExport:
    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self.contests: list[ContestInfo] = []
        self.contest_index: dict[str, int] = {}
        self.choice_index: dict[tuple[int, str], int] = {}
        self.choice_ids: list[list[str]] = []
        """For each contest, its choices' option ids, in choice order."""
        allowed: dict[int, int] = {}
        for name, data in _documents(self.paths):
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
            marks: list[tuple[int, int]] = []
            for option in contest.iterfind("h:Options/h:Option", NS):
                oid = _text(option, "h:Id")
                value = _text(option, "h:Value")
                if not value or set(value) - {"0", "1"}:
                    raise IngestError(
                        f"{name}: contest {cid!r}, option {oid!r}: expected a Value of 0s and 1s; "
                        f"found {value!r}"
                    )
                k = self._choice(c, oid, _text(option, "h:Name"), option.find("h:WriteInData", NS))
                if len(value) > 1:
                    self.contests[c].ranks = max(self.contests[c].ranks, len(value))
                    marks += [(k, rank) for rank, bit in enumerate(value, start=1) if bit == "1"]
                elif value == "1":
                    marks.append((k, 1))
            undervotes = _text(contest, "h:Undervotes")
            yield c, marks, int(undervotes or 0), contest.find("h:Overvoted", NS) is not None

    def _choice(self, c: int, oid: str, name: str, write_in: etree._Element | None) -> int:
        key = (c, oid)
        if key not in self.choice_index:
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
        for name, data in _documents(self.paths):
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
            marks: list[int] = []
            for c, contest_marks, _, _ in self._contests(name, root):
                on.append(c)
                for choice, rank in contest_marks:
                    marks += (c, choice, rank, VOTE)
            yield fields, on, marks
