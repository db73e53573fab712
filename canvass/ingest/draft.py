"""Election definitions drafted from a voting system's own files, for the clerk to review.

An export already names the election's contests, their choices and how many votes each
allows, its precincts and their portions, its ballot styles, counting groups and
tabulators. :mod:`canvass.ingest.draft_sources` reads what each format carries into
:class:`Elements`; :func:`draft` turns the elements of one or more counties into an
election definition (docs/election-definition.md), and :func:`to_yaml` writes it with
what the clerk must check first.

How the draft is made:

- every name is kept as the export spells it, so the same export imports under the
  definition with no alias; ids are made from names (lower case, letters and digits
  joined by ``-``), made unique by a number where two names would give one id;
- a contest whose two choices say yes and no (``YES``, ``BONDS - NO``) is a measure, its
  choices named as the export names them; a contest with rankings is ranked
  choice (its seats the export's vote-for); every other contest is a candidate contest;
  an undeclared write-in line is a ``write_ins`` line, a declared (qualified) write-in a
  candidate with ``write_in: true``;
- the same contest or choice in several counties' exports is one, when their names agree
  but for case, spaces and punctuation; the other spellings become ``aliases``;
- a contest is voted in the district the export names for it, else in its county (or the
  state, when several counties vote on it);
- a counting group's vote type is told from its name (``Vote by Mail``: absentee); a name
  that does not tell is listed for review, with ``election_day`` written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml

from canvass.domain.definition import load_definition
from canvass.errors import DefinitionError, IngestError
from canvass.ingest.dominion_batches import vote_type_of
from canvass.ingest.names import norm

MAX_ID = 100
"""The longest id a definition takes."""


@dataclass
class DraftChoice:
    name: str
    kind: str = "candidate"
    """``candidate``, ``write_in`` (an undeclared write-in line) or ``declared_write_in``."""
    party: str = ""


@dataclass
class DraftContest:
    name: str
    votes_allowed: int = 1
    ranks: int = 0
    choices: list[DraftChoice] = field(default_factory=list)
    district: str = ""
    """The district the export says the contest is voted in, if it says."""
    party: str = ""
    """The party whose primary this is."""
    voted: bool = True
    """Whether the county's ballots carry the contest: an export may list a contest no card
    of the county has (Arlo's fixture counties all list every contest)."""


@dataclass
class Elements:
    """What one county's export says of its election."""

    county: str
    """The county's name."""
    source: str
    """The format and files read, for the draft's header."""
    election_name: str = ""
    date: str = ""
    """YYYY-MM-DD, when the export says."""
    contests: list[DraftContest] = field(default_factory=list)
    precincts: dict[str, list[str]] = field(default_factory=dict)
    """Precinct name → the names of its portions (empty: none named apart)."""
    districts: list[str] = field(default_factory=list)
    ballot_styles: dict[str, list[str]] = field(default_factory=dict)
    """Ballot style name → the names of the contests on it."""
    counting_groups: list[str] = field(default_factory=list)
    tabulators: dict[str, str] = field(default_factory=dict)
    """Tabulator id as the CVRs give it → its name."""
    parties: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)
    """What the clerk must check, in words."""


def slug(name: str) -> str:
    """An id made from a name: ``PRESIDENT AND VICE PRESIDENT`` → ``president-and-vice-
    president``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return text[:MAX_ID].rstrip("-") or "x"


def key(name: str) -> str:
    """Names that differ only in case, spaces and punctuation have the same key."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", name)).casefold()


class _Ids:
    """Unique ids across one kind of thing (or several sharing one space)."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def new(self, name: str, prefix: str = "") -> str:
        base = slug(f"{prefix} {name}" if prefix else name)
        found, n = base, 1
        while found in self.used:
            n += 1
            suffix = f"-{n}"
            found = base[: MAX_ID - len(suffix)].rstrip("-") + suffix
        self.used.add(found)
        return found


_YES = {"yes", "si", "for", "approve", "approved"}
_NO = {"no", "against", "reject", "rejected"}


def _measure(contest: DraftContest) -> bool:
    """Two choices, one saying yes and one no in its last word (``YES``, ``BONDS - NO``)."""
    last = {(re.findall(r"\w+", c.name.casefold()) or [""])[-1] for c in contest.choices}
    return (
        contest.ranks == 0
        and len(contest.choices) == 2
        and all(c.kind == "candidate" for c in contest.choices)
        and len(last & _YES) == 1
        and len(last & _NO) == 1
    )


@dataclass
class _Merged:
    contest: DraftContest
    counties: list[str]
    """The counties whose ballots carry it (every county listing it, if none does)."""
    spellings: list[str]
    choices: dict[str, tuple[DraftChoice, list[str]]]
    """Choice key → the choice and its other spellings."""


def draft(
    elements: list[Elements],
    state: str,
    election_id: str | None = None,
    name: str | None = None,
    date: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The definition document drafted from every county's elements, and what the clerk
    must review (in words). Refused when a field the export does not give is not given."""
    if not elements:
        raise IngestError("nothing to draft a definition from")
    first = elements[0]
    name = name or first.election_name
    date = date or first.date
    if not name:
        raise IngestError(f"{first.source}: the export does not name the election; give --name")
    if not date:
        raise IngestError(
            f"{first.source}: the export does not give the election's date; give --date YYYY-MM-DD"
        )
    review = [note for e in elements for note in e.review]
    if not state:
        review.append("election.state is empty: give the state's postal code (e.g. CA)")
    place_ids = _Ids()  # jurisdictions and portions share one space of ids
    state_id = place_ids.new(state or "state")
    jurisdictions: list[dict[str, Any]] = [
        {"id": state_id, "name": state or "State", "kind": "state"}
    ]
    several = len(elements) > 1
    county_ids: dict[str, str] = {}
    district_ids: dict[tuple[str, str], str] = {}
    for e in elements:
        county_id = county_ids[e.county] = place_ids.new(e.county)
        jurisdictions.append(
            {"id": county_id, "name": e.county, "kind": "county", "parent": state_id}
        )
        for district in e.districts:
            district_ids[(e.county, district)] = place_ids.new(district)
            jurisdictions.append(
                {
                    "id": district_ids[(e.county, district)],
                    "name": district,
                    "kind": "district",
                    "parent": county_id,
                }
            )
        for precinct, portions in e.precincts.items():
            precinct_id = place_ids.new(precinct)
            j: dict[str, Any] = {
                "id": precinct_id,
                "name": precinct,
                "kind": "precinct",
                "parent": county_id,
            }
            if portions:
                j["portions"] = [
                    {"id": place_ids.new(str(n), precinct_id), "name": p}
                    for n, p in enumerate(portions, start=1)
                ]
            jurisdictions.append(j)
    merged = _merge(elements)
    parties = sorted({p for e in elements for p in e.parties} | _choice_parties(merged))
    party_space = _Ids()
    party_ids = {p: party_space.new(p) for p in parties}
    candidate_ids = _Ids()
    contest_ids = _Ids()
    candidates: list[dict[str, Any]] = []
    contests: list[dict[str, Any]] = []
    contest_id_of: dict[tuple[str, str], str] = {}
    for m in merged:
        c = m.contest
        cid = contest_ids.new(c.name)
        for county in m.counties:
            contest_id_of[(county, key(c.name))] = cid
        if len(m.counties) > 1:
            where = state_id
        else:
            where = district_ids.get((m.counties[0], c.district), county_ids[m.counties[0]])
        doc: dict[str, Any] = {"id": cid, "name": c.name}
        if m.spellings:
            doc["aliases"] = m.spellings
        lines = [ch for ch, _ in m.choices.values() if ch.kind == "write_in"]
        named = [(ch, other) for ch, other in m.choices.values() if ch.kind != "write_in"]
        if _measure(c):
            doc |= {"type": "measure", "jurisdiction": where}
            doc["choices"] = [
                {"id": slug(ch.name), "name": ch.name, **({"aliases": other} if other else {})}
                for ch, other in named
            ]
        else:
            ids = []
            for ch, other in named:
                candidate: dict[str, Any] = {"id": candidate_ids.new(ch.name), "name": ch.name}
                if ch.party:
                    candidate["party"] = party_ids[ch.party]
                if ch.kind == "declared_write_in":
                    candidate["write_in"] = True
                if other:
                    candidate["aliases"] = other
                candidates.append(candidate)
                ids.append(candidate["id"])
            if not ids:
                review.append(
                    f"contest {c.name!r} has no candidates in the export, only write-in lines; "
                    f"it is left out (import with --skip-contest {c.name!r})"
                )
                continue
            doc |= {
                "type": "ranked_choice" if c.ranks else "candidate",
                "jurisdiction": where,
                "candidates": ids,
            }
            if c.votes_allowed != 1:
                doc["votes_allowed"] = c.votes_allowed
            if c.ranks:
                doc["ranks"] = c.ranks
                doc["seats"] = min(c.votes_allowed, len(ids))
            if lines:
                doc["write_ins"] = len(lines)
            if c.party:
                doc["primary_party"] = party_ids[c.party]
        contests.append(doc)
    ballot_style_ids = _Ids()
    styles = [
        {
            "id": ballot_style_ids.new(style, slug(e.county) if several else ""),
            "name": style,
            "precincts": [],
            "contests": [
                contest_id_of[(e.county, key(c))] for c in on if (e.county, key(c)) in contest_id_of
            ],
        }
        for e in elements
        for style, on in e.ballot_styles.items()
    ]
    group_ids = _Ids()
    groups = []
    for e in elements:
        for group in e.counting_groups:
            vote_type = vote_type_of(group)
            if not vote_type:
                review.append(
                    f"counting group {group!r} of {e.county}: its name does not say how its "
                    "ballots were cast; election_day is written"
                )
            groups.append(
                {
                    "id": group_ids.new(group, slug(e.county) if several else ""),
                    "name": group,
                    "vote_type": vote_type or "election_day",
                    "county": county_ids[e.county],
                }
            )
    tabulator_ids = _Ids()
    tabulators = [
        {
            "id": tabulator_ids.new(number, slug(e.county) if several else ""),
            "county": county_ids[e.county],
            "name": tabulator_name,
        }
        for e in elements
        for number, tabulator_name in e.tabulators.items()
    ]
    definition: dict[str, Any] = {
        "election": {
            "id": slug(election_id or name),
            "name": name,
            "date": date,
            "state": state,
        },
        "jurisdictions": jurisdictions,
        "parties": [{"id": party_ids[p], "name": p} for p in parties],
        "candidates": candidates,
        "contests": contests,
        "ballot_styles": styles,
        "counting_groups": groups,
        "tabulators": tabulators,
    }
    definition = {k: v for k, v in definition.items() if v != []}
    return definition, review


def _choice_parties(merged: list[_Merged]) -> set[str]:
    return {
        p
        for m in merged
        for p in [m.contest.party, *(ch.party for ch, _ in m.choices.values())]
        if p
    }


def _merge(elements: list[Elements]) -> list[_Merged]:
    """The contests of every county, one per name (see the module's docstring)."""
    merged: dict[str, _Merged] = {}
    listed: dict[str, list[str]] = {}
    for e in elements:
        for c in e.contests:
            found = merged.get(key(c.name))
            if found is None:
                found = merged[key(c.name)] = _Merged(c, [], [], {})
            elif norm(c.name) != norm(found.contest.name) and c.name not in found.spellings:
                found.spellings.append(c.name)
            if (found.contest.votes_allowed, found.contest.ranks) != (c.votes_allowed, c.ranks):
                raise IngestError(
                    f"{e.source}: contest {c.name!r} allows {c.votes_allowed} votes and "
                    f"{c.ranks} rankings in {e.county}, but {found.contest.votes_allowed} and "
                    f"{found.contest.ranks} in {listed[key(c.name)][0]}; draft them apart"
                )
            if e.county not in found.counties and c.voted:
                found.counties.append(e.county)
            listed.setdefault(key(c.name), []).append(e.county)
            write_ins = 0
            for ch in c.choices:
                if ch.kind == "write_in":  # each county's lines, not one per county
                    write_ins += 1
                    k = f"\0write-in {write_ins}"
                else:
                    k = key(ch.name)
                known = found.choices.get(k)
                if known is None:
                    found.choices[k] = (ch, [])
                elif norm(ch.name) != norm(known[0].name) and ch.name not in known[1]:
                    known[1].append(ch.name)
    for k, m in merged.items():
        m.counties = m.counties or listed[k]
    return list(merged.values())


HEADER = """\
# Election definition drafted by Canvass from {source}.
# Review it before recording it (canvass define DIR FILE); see docs/election-definition.md.
"""


def to_yaml(definition: dict[str, Any], review: list[str], source: str) -> str:
    """The draft as YAML, headed by where it came from and what to review; checked by the
    same loader that records a definition, so a draft that would be refused is never
    written."""
    text = yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=100)
    try:
        load_definition(text.encode(), "the drafted definition")
    except DefinitionError as e:
        raise IngestError(f"{source}: the drafted definition does not hold: {e}") from None
    lines = [HEADER.format(source=source)]
    if review:
        lines.append("# To review:\n")
        lines += [f"# - {note}\n" for note in review]
    return "".join(lines) + text
