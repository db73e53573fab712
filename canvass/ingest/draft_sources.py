"""What each format's files say of their election, read into
:class:`~canvass.ingest.draft.Elements` for drafting a definition.

- **Dominion** (``dominion``): the export's manifests — ``ElectionEventManifest`` (name,
  date), ``ContestManifest`` (vote-for, rankings, district), ``CandidateManifest``
  (choices; ``WriteIn`` lines, ``QualifiedWriteIn`` declared write-ins),
  ``DistrictManifest``, ``PrecinctManifest`` and ``PrecinctPortionManifest``,
  ``BallotTypeManifest`` with ``BallotTypeContestManifest``, ``CountingGroupManifest``,
  ``TabulatorManifest`` and ``PartyManifest``. No CVR file is read.
- **NIST SP 1500-100** election results reports (``nist-err``): the election's name and
  date, reporting units (counties, precincts, split precincts), parties, candidates and
  their parties, and contests (candidate, ranked, measure and retention).
- **Any CVR format** (``dominion-csv``, ``nist-cvr``, ``ess``, ``hart``, ``clear-ballot``,
  ``generic-csv``): the reader's contest list, and every card read for the precincts and
  portions, ballot styles (the contests on their cards), counting groups and tabulators
  the cards name.

Every file is read through the same guarded decoding as an import
(:mod:`canvass.guard`): a broken file ends in one line naming it and what is wrong.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from canvass.errors import IngestError
from canvass.guard.documents import json_value, typed
from canvass.guard.text import read_file
from canvass.ingest.ballots import MAX_CHOICES, MAX_RANK, SCHEMA
from canvass.ingest.draft import DraftChoice, DraftContest, Elements, key
from canvass.ingest.files import files_in
from canvass.ingest.nist_err import qualified_contest_name
from canvass.ingest.openelections import openelections_elements

DRAFT_FORMATS = (
    "dominion",
    "nist-err",
    "openelections",
    "dominion-csv",
    "nist-cvr",
    "ess",
    "hart",
    "clear-ballot",
    "generic-csv",
)
_KINDS = {"writein": "write_in", "qualifiedwritein": "declared_write_in"}


def elements(fmt: str, paths: Sequence[Path], county: str, schema: Path | None = None) -> Elements:
    """What the files of one county's export say of the election."""
    source = f"{fmt} export {', '.join(str(p) for p in paths)}"
    if fmt == "dominion":
        return dominion_elements(paths, county, source)
    if fmt == "nist-err":
        return err_elements(paths, county, source)
    if fmt == "openelections":
        return openelections_elements(paths, county, source)
    if fmt not in DRAFT_FORMATS:
        raise IngestError(
            f"a definition cannot be drafted from {fmt!r}; choose one of {', '.join(DRAFT_FORMATS)}"
        )
    return cvr_elements(fmt, paths, county, source, schema)


# --- Dominion's manifests -------------------------------------------------------------


class _Entry(msgspec.Struct):
    """An entry of a Dominion manifest: the fields drafting reads, typed; any other field
    is passed over."""

    Id: int | str | None = None
    Description: str | int | None = None
    VoteFor: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHOICES)] | None = None
    NumOfRanks: Annotated[int, msgspec.Meta(ge=0, le=MAX_RANK)] | None = None
    ContestId: int | None = None
    PrecinctId: int | None = None
    DistrictId: int | None = None
    BallotTypeId: int | None = None
    PartyId: int | None = None
    Type: str | None = None
    Jurisdiction: str | None = None
    ElectionDate: str | int | None = None

    def name(self) -> str:
        return str(self.Id if self.Description is None else self.Description)


class _Manifest(msgspec.Struct):
    List: list[_Entry]


def _manifests(paths: Sequence[Path]) -> tuple[dict[str, list[_Entry]], dict[str, str]]:
    from canvass.ingest.dominion import MANIFESTS, _base, _sources

    wanted = {
        *MANIFESTS,
        "ElectionEventManifest",
        "DistrictManifest",
        "BallotTypeContestManifest",
    }
    found: dict[str, list[_Entry]] = {}
    names: dict[str, str] = {}
    for source in _sources(paths):
        stem = _base(source.name).removesuffix(".json")
        if stem in wanted:
            doc = json_value(source.read(), source.name, unique=True)
            found[stem] = typed(doc, _Manifest, source.name).List
            names[stem] = source.name
    return found, names


def dominion_elements(paths: Sequence[Path], county: str, source: str) -> Elements:
    manifests, files = _manifests(paths)
    for required in ("ContestManifest", "CandidateManifest"):
        if required not in manifests:
            raise IngestError(
                f"{', '.join(str(p) for p in paths)}: no {required}.json among the files; "
                "a Dominion definition is drafted from the export's manifests"
            )

    def by_id(manifest: str) -> dict[object, _Entry]:
        return {e.Id: e for e in manifests.get(manifest, [])}

    event = (manifests.get("ElectionEventManifest") or [_Entry()])[0]
    found = Elements(county or str(event.Jurisdiction or ""), source)
    if not found.county:
        raise IngestError(f"{source}: the export does not name its county; give --county")
    found.election_name = str(event.Description or "")
    date = str(event.ElectionDate or "")
    if re.fullmatch(r"\d{8}", date):
        found.date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    districts = by_id("DistrictManifest")
    contests: dict[object, DraftContest] = {}
    for entry in manifests["ContestManifest"]:
        district = districts.get(entry.DistrictId)
        contests[entry.Id] = DraftContest(
            entry.name(),
            entry.VoteFor or 1,
            entry.NumOfRanks or 0,
            district=district.name() if district else "",
        )
    parties = by_id("PartyManifest")
    for n, entry in enumerate(manifests["CandidateManifest"]):
        contest = contests.get(entry.ContestId)
        if contest is None:
            raise IngestError(
                f"{files['CandidateManifest']}: List[{n}].ContestId: expected a contest of "
                f"ContestManifest.json; found {entry.ContestId!r}"
            )
        kind = _KINDS.get((entry.Type or "").replace(" ", "").lower(), "candidate")
        party = parties.get(entry.PartyId) if entry.PartyId else None
        contest.choices.append(DraftChoice(entry.name(), kind, party.name() if party else ""))
    found.contests = list(contests.values())
    used = {c.district for c in found.contests if c.district}
    found.districts = [d.name() for d in districts.values() if d.name() in used]
    precincts = by_id("PrecinctManifest")
    for entry in precincts.values():
        found.precincts[entry.name()] = []
    for entry in manifests.get("PrecinctPortionManifest", []):
        precinct = precincts.get(entry.PrecinctId)
        if precinct is None:  # a portion of no listed precinct: a precinct of its own
            found.precincts.setdefault(entry.name(), [])
        else:
            found.precincts[precinct.name()].append(entry.name())
    styles = by_id("BallotTypeManifest")
    for entry in styles.values():
        found.ballot_styles[entry.name()] = []
    for link in manifests.get("BallotTypeContestManifest", []):
        style, on = styles.get(link.BallotTypeId), contests.get(link.ContestId)
        if style is not None and on is not None:
            found.ballot_styles[style.name()].append(on.name)
    found.counting_groups = [e.name() for e in manifests.get("CountingGroupManifest", [])]
    found.tabulators = {str(e.Id): e.name() for e in manifests.get("TabulatorManifest", [])}
    found.parties = [e.name() for e in parties.values()]
    return found


# --- NIST SP 1500-100 election results reports ----------------------------------------


class _Text(msgspec.Struct):
    class _String(msgspec.Struct):
        Content: str = ""

    Text: list[_String] = []


_Name = str | _Text | None


def _text(value: _Name) -> str:
    if isinstance(value, _Text):
        return value.Text[0].Content if value.Text else ""
    return value or ""


class _Unit(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    Name: _Name = None
    Type: str = ""
    ComposingGpUnitIds: list[str] = []


class _Named(msgspec.Struct):
    id: str = msgspec.field(name="@id")
    Name: _Name = None
    BallotName: _Name = None
    PartyId: str | None = None


class _Selection(msgspec.Struct):
    type: str = msgspec.field(name="@type", default="")
    IsWriteIn: bool = False
    CandidateIds: list[str] = []
    Selection: _Name = None


class _Contest(msgspec.Struct):
    type: str = msgspec.field(name="@type", default="")
    Name: _Name = None
    ElectionDistrictId: str | None = None
    VotesAllowed: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHOICES)] | None = None
    NumberElected: Annotated[int, msgspec.Meta(ge=0, le=MAX_CHOICES)] | None = None
    VoteVariation: str = ""
    PrimaryPartyIds: list[str] = []
    ContestSelection: list[_Selection] = []


class _Election(msgspec.Struct):
    Name: _Name = None
    StartDate: str = ""
    ElectionScopeId: str = ""
    Candidate: list[_Named] = []
    Contest: list[_Contest] = []


class _Report(msgspec.Struct):
    GpUnit: list[_Unit] = []
    Party: list[_Named] = []
    Election: list[_Election] = []


PRECINCTS = {"precinct", "combined-precinct", "polling-place", "vote-center"}


LOCAL_SCOPES = {"county", "city", "town", "township", "village", "borough", "municipality"}
"""Reporting unit types (SP 1500-100 v2) of a report's scope that canvass their own results."""


def err_elements(paths: Sequence[Path], county: str, source: str) -> Elements:
    files = files_in(paths, (".json",))
    if len(files) != 1:
        raise IngestError(f"a nist-err definition is drafted from one report; found {len(files)}")
    data = read_file(files[0], IngestError)
    doc = json_value(data, str(files[0]), unique=True)
    if not isinstance(doc, dict) or doc.get("@type") != "ElectionResults.ElectionReport":
        raise IngestError(f'{files[0]}: expected "@type": "ElectionResults.ElectionReport"')
    report = typed(doc, _Report, str(files[0]))
    if not report.Election:
        raise IngestError(f"{files[0]}: Election: expected an election; found none")
    election = report.Election[0]
    units = {u.id: u for u in report.GpUnit}
    counties = [u for u in report.GpUnit if u.Type == "county"]
    scope = units.get(election.ElectionScopeId)
    if scope is not None and scope.Type in LOCAL_SCOPES:
        # A county's or a city's report (Cambridge, Massachusetts): the scope reports, and a
        # county it lies in is a district of some of its contests.
        name = county or _text(scope.Name)
    elif len(counties) == 1:
        name = county or _text(counties[0].Name)
    else:  # no county named as such: the election's own scope is the county reporting
        name = county or (_text(scope.Name) if scope is not None else "")
    if not name:
        raise IngestError(f"{source}: the report does not name one county; give --county")
    found = Elements(name, source, _text(election.Name), election.StartDate[:10])
    parties = {p.id: _text(p.Name) or p.id for p in report.Party}
    found.parties = list(parties.values())
    candidates = {c.id: c for c in election.Candidate}
    splits = {
        part
        for u in report.GpUnit
        if u.Type in PRECINCTS
        for part in u.ComposingGpUnitIds
        if part in units and units[part].Type == "split-precinct"
    }
    for u in report.GpUnit:
        if u.Type in PRECINCTS:
            found.precincts[_text(u.Name) or u.id] = [
                _text(units[p].Name) or p for p in u.ComposingGpUnitIds if p in splits
            ]
        elif u.Type == "split-precinct" and u.id not in splits:
            found.precincts[_text(u.Name) or u.id] = []
    districts: dict[str, set[str]] = defaultdict(set)
    primaries: dict[str, set[str]] = defaultdict(set)
    for contest in election.Contest:
        districts[key(_text(contest.Name))].add(contest.ElectionDistrictId or "")
        primaries[key(_text(contest.Name))].update(contest.PrimaryPartyIds[:1])
    for n, contest in enumerate(election.Contest):
        kind = contest.type.rpartition(".")[2]
        if kind == "PartyContest":
            found.review.append(
                f"Election[0].Contest[{n}] ({_text(contest.Name)!r}): a straight-party "
                "contest is not a contest of the definition; left out"
            )
            continue
        district = units.get(contest.ElectionDistrictId or "")
        if district is scope:
            district = None
        ranked = contest.VoteVariation in ("irv", "rcv", "stv")
        title = _text(contest.Name) or f"Contest {n + 1}"
        party = parties.get(contest.PrimaryPartyIds[0], "") if contest.PrimaryPartyIds else ""
        # One office voted in several districts (Representative in Congress, Fifth and
        # Seventh), or in several parties' primaries, is a contest each, named with its
        # district and party as the import matches it.
        k = key(title)
        apart = qualified_contest_name(
            title,
            _text(district.Name) if district is not None and len(districts[k]) > 1 else "",
            party if len(primaries[k]) > 1 else "",
        )
        if apart != title:
            found.review.append(
                f"Election[0].Contest[{n}] ({title!r}) is one of several contests of that "
                f"name: drafted as {apart!r}"
            )
            title = apart
        draft = DraftContest(
            title,
            contest.NumberElected
            if ranked and contest.NumberElected
            else contest.VotesAllowed or 1,
            MAX_RANK if ranked else 0,
            district=_text(district.Name) if district and _text(district.Name) != name else "",
            party=party,
        )
        if ranked:
            found.review.append(
                f"contest {draft.name!r} is ranked: the report does not give its number of "
                f"rankings; {MAX_RANK} is written"
            )
        for selection in contest.ContestSelection:
            if selection.IsWriteIn:
                draft.choices.append(DraftChoice("Write-in", "write_in"))
            elif selection.CandidateIds:
                named = [candidates[c] for c in selection.CandidateIds if c in candidates]
                label = " / ".join(_text(c.BallotName) or c.id for c in named)
                party = parties.get(named[0].PartyId or "", "") if named else ""
                draft.choices.append(DraftChoice(label or selection.CandidateIds[0], party=party))
            else:
                draft.choices.append(DraftChoice(_text(selection.Selection) or "?"))
        if draft.district and draft.district not in found.districts:
            found.districts.append(draft.district)
        found.contests.append(draft)
    return found


# --- any CVR export: its contests and what its cards name -------------------------------


def cvr_elements(
    fmt: str, paths: Sequence[Path], county: str, source: str, schema: Path | None = None
) -> Elements:
    from canvass.ingest import open_export

    if not county:
        raise IngestError(f"a {fmt} export names no county; give --county")
    export = open_export(fmt, list(paths), schema)
    table = pa.Table.from_batches(list(export.read(county)), schema=SCHEMA).unify_dictionaries()
    contests = export.contests
    found = Elements(county, source)
    on_cards = set(pc.unique(pc.list_flatten(table.column("contests"))).to_pylist())
    for n, c in enumerate(contests):
        found.contests.append(
            DraftContest(
                c.name,
                c.votes_allowed,
                c.ranks,
                [DraftChoice(ch.name, ch.kind) for ch in c.choices],
                party=c.party,
                voted=n in on_cards,
            )
        )
    found.review += list(getattr(export, "notes", []))
    pairs = (
        table.select(["precinct", "precinct_portion"])
        .group_by(["precinct", "precinct_portion"])
        .aggregate([])
    )
    for precinct, portion in zip(
        pairs.column("precinct").to_pylist(),
        pairs.column("precinct_portion").to_pylist(),
        strict=True,
    ):
        if not precinct and not portion:
            continue
        portions = found.precincts.setdefault(str(precinct or portion), [])
        if portion and portion != precinct and portion not in portions:
            portions.append(str(portion))
    for precinct in found.precincts.values():
        precinct.sort()
    found.precincts = dict(sorted(found.precincts.items()))
    styles = table.select(["ballot_style", "contests"])
    flat = pc.list_flatten(styles.column("contests"))
    parents = pc.list_parent_indices(styles.column("contests"))
    style_of = pc.take(styles.column("ballot_style"), parents)
    pairs = (
        pa.table({"style": style_of, "contest": flat}).group_by(["style", "contest"]).aggregate([])
    )
    on: dict[str, set[int]] = {}
    for style, contest in zip(
        pairs.column("style").to_pylist(), pairs.column("contest").to_pylist(), strict=True
    ):
        if style:
            on.setdefault(str(style), set()).add(int(contest))
    found.ballot_styles = {
        style: [contests[c].name for c in sorted(found_on)]
        for style, found_on in sorted(on.items())
    }
    found.counting_groups = sorted(
        str(g) for g in pc.unique(table.column("counting_group")).to_pylist() if g
    )
    found.tabulators = {
        str(t): str(t) for t in sorted(pc.unique(table.column("tabulator")).to_pylist()) if t
    }
    return found


def draft_definition(
    fmt: str,
    counties: Sequence[tuple[str, Sequence[Path]]],
    state: str = "",
    election_id: str | None = None,
    name: str | None = None,
    date: str | None = None,
    schema: Path | None = None,
) -> tuple[str, list[str]]:
    """A definition drafted from each county's export (``(county name, paths)``; an empty
    name: the name the export gives), as YAML headed by what to review; and that list."""
    from canvass.ingest.draft import draft, to_yaml

    found = [elements(fmt, paths, county, schema) for county, paths in counties]
    doc, review = draft(found, state, election_id, name, date)
    source = "; ".join(e.source for e in found)
    return to_yaml(doc, review, source), review
