"""The election model: what an election definition file holds.

Values are frozen ``msgspec`` Structs, so the same classes decode a definition file,
check its types, and publish the JSON Schema of the format
(``schema/election-definition.schema.json``).
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from enum import StrEnum
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

Id = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        max_length=100,
        description="Letters, digits, '.', '_' and '-', starting with a letter or digit.",
    ),
]


class JurisdictionKind(StrEnum):
    STATE = "state"
    COUNTY = "county"
    MUNICIPALITY = "municipality"
    DISTRICT = "district"
    PRECINCT = "precinct"


class ContestType(StrEnum):
    CANDIDATE = "candidate"
    """Plurality or vote-for-N among candidates."""
    RANKED_CHOICE = "ranked_choice"
    """Voters rank candidates; tabulated by instant runoff or single transferable vote."""
    MEASURE = "measure"
    """A ballot question: yes/no or a list of options."""
    RETENTION = "retention"
    """Shall the named official be retained: yes/no."""


class VoteType(StrEnum):
    """How a ballot was cast (NIST SP 1500-100 VoteVariation / CountItemType names)."""

    ELECTION_DAY = "election_day"
    EARLY = "early"
    """Advance or early in-person voting."""
    ABSENTEE = "absentee"
    """Absentee by mail."""
    PROVISIONAL = "provisional"
    UOCAVA = "uocava"
    """Uniformed and overseas citizens."""


class KeyRole(StrEnum):
    OPERATOR = "operator"
    CLERK = "clerk"
    BOARD_MEMBER = "board-member"
    STATE_OFFICIAL = "state-official"
    AUDIT_BOARD = "audit-board"
    WITNESS = "witness"


class _Value(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class ElectionInfo(_Value, frozen=True):
    id: Id
    name: str
    date: dt.date
    state: str
    """The state, by postal code or name."""
    vote_types: list[VoteType] = msgspec.field(default_factory=lambda: list(VoteType))


class PrecinctPortion(_Value, frozen=True):
    """A split of a precinct: the part of it inside one combination of districts."""

    id: Id
    name: str = ""


Position = Annotated[list[float], Meta(min_length=2, max_length=3)]
"""A GeoJSON position (RFC 7946 §3.1.1): longitude, latitude (WGS 84, degrees), and an
altitude that maps ignore."""


class Polygon(_Value, frozen=True, tag="Polygon", tag_field="type"):
    """A GeoJSON Polygon (RFC 7946 §3.1.6): an outer ring, then any holes; each ring
    closed (its last position is its first)."""

    coordinates: list[list[Position]]


class MultiPolygon(_Value, frozen=True, tag="MultiPolygon", tag_field="type"):
    """A GeoJSON MultiPolygon (RFC 7946 §3.1.7): a county with islands."""

    coordinates: list[list[list[Position]]]


class Jurisdiction(_Value, frozen=True):
    id: Id
    name: str
    kind: JurisdictionKind
    parent: Id | None = None
    """The enclosing jurisdiction; only the state has none."""
    portions: list[PrecinctPortion] = msgspec.field(default_factory=list)
    """Precinct splits; precincts only."""
    geometry: Polygon | MultiPolygon | None = None
    """Its boundary, as a GeoJSON geometry, for the maps of the results site."""
    registered_voters: Annotated[int, Meta(ge=0)] | None = None
    """The voters registered in it, for the results site's turnout: ballots counted
    against registered voters."""


class CountingGroup(_Value, frozen=True):
    """A group of ballots counted together (e.g. Dominion's "Mail", "Election Day")."""

    id: Id
    name: str
    vote_type: VoteType
    county: Id | None = None


class Tabulator(_Value, frozen=True):
    id: Id
    county: Id
    name: str = ""
    counting_group: Id | None = None


class Party(_Value, frozen=True):
    id: Id
    name: str
    abbreviation: str = ""


class Candidate(_Value, frozen=True):
    id: Id
    name: str
    """As printed on the ballot."""
    party: Id | None = None
    write_in: bool = False
    """A declared (registered) write-in candidate."""
    aliases: list[str] = msgspec.field(default_factory=list)
    """Other spellings voting systems use for this candidate (matched ignoring case)."""


class MeasureChoice(_Value, frozen=True):
    id: Id
    name: str
    aliases: list[str] = msgspec.field(default_factory=list)


class RankedChoiceRules(_Value, frozen=True):
    """How a ranked-choice contest is counted: RCTab's rules, under their RCTab names in
    snake case. The defaults are a single-winner instant runoff in which an overvoted
    ranking exhausts the ballot, one skipped ranking is passed over, and a tie is left to
    the officials (the count stops and says so; give ``tiebreak_mode: random`` with a
    ``random_seed`` drawn in public to break ties by lot)."""

    winner_election_mode: (
        Literal[
            "singleWinnerMajority",
            "multiWinnerAllowOnlyOneWinnerPerRound",
            "multiWinnerAllowMultipleWinnersPerRound",
            "bottomsUp",
            "multiPassIrv",
        ]
        | None
    ) = None
    """By default ``singleWinnerMajority`` for one seat, else single transferable vote
    (``multiWinnerAllowMultipleWinnersPerRound``)."""
    overvote_rule: Literal[
        "alwaysSkipToNextRank", "exhaustImmediately", "exhaustIfMultipleContinuing"
    ] = "exhaustImmediately"
    max_skipped_ranks_allowed: Annotated[int, Meta(ge=0)] | Literal["unlimited"] = 1
    exhaust_on_duplicate_candidate: bool = False
    tiebreak_mode: Literal[
        "random",
        "stopCountingAndAsk",
        "previousRoundCountsThenRandom",
        "previousRoundCountsThenAsk",
        "useCandidateOrder",
        "generatePermutation",
    ] = "stopCountingAndAsk"
    random_seed: int | None = None
    """For the random tiebreak modes: Java's ``java.util.Random`` seed, as RCTab uses it."""
    batch_elimination: bool = False
    continue_until_two_candidates_remain: bool = False
    minimum_vote_threshold: Annotated[int, Meta(ge=0)] = 0
    decimal_places_for_vote_arithmetic: Annotated[int, Meta(ge=1, le=20)] = 4
    non_integer_winning_threshold: bool = False
    hare_quota: bool = False
    does_first_round_determine_threshold: bool = False
    stop_tabulation_early_after_round: Annotated[int, Meta(ge=1)] | None = None


class Contest(_Value, frozen=True):
    id: Id
    name: str
    type: ContestType
    jurisdiction: Id
    """The district the contest is voted in."""
    candidates: list[Id] = msgspec.field(default_factory=list)
    """Candidate ids, in ballot order (candidate and ranked-choice contests)."""
    votes_allowed: Annotated[int, Meta(ge=1, le=32_767)] = 1
    """Vote for N (candidate contests). At most what the ballot table's choice index holds."""
    write_ins: Annotated[int, Meta(ge=0, le=1_000)] = 0
    """Number of write-in lines on the ballot for undeclared write-ins."""
    ranks: Annotated[int, Meta(ge=1, le=127)] | None = None
    """Rankings a voter may mark (ranked-choice contests); the ballot table's rank is an
    int8."""
    seats: Annotated[int, Meta(ge=1, le=32_767)] = 1
    """Seats to fill."""
    rules: RankedChoiceRules | None = None
    """How a ranked-choice contest is counted (ranked-choice contests only)."""
    text: str = ""
    """The question as printed (measures and retention)."""
    candidate: Id | None = None
    """The official whose retention is asked (retention contests)."""
    choices: list[MeasureChoice] = msgspec.field(default_factory=list)
    """Options of a measure; yes and no when left out."""
    aliases: list[str] = msgspec.field(default_factory=list)
    """Other spellings voting systems use for this contest (matched ignoring case)."""
    primary_party: Id | None = None
    """In a partisan primary, the party whose nomination this contest decides."""


class BallotStyle(_Value, frozen=True):
    id: Id
    precincts: list[Id]
    """Precincts or precinct portions that vote this style."""
    contests: list[Id]
    """Contests on the style, in ballot order."""
    name: str = ""


class ElectionDefinition(_Value, frozen=True):
    """An election definition file."""

    election: ElectionInfo
    jurisdictions: list[Jurisdiction]
    contests: list[Contest]
    parties: list[Party] = msgspec.field(default_factory=list)
    candidates: list[Candidate] = msgspec.field(default_factory=list)
    ballot_styles: list[BallotStyle] = msgspec.field(default_factory=list)
    counting_groups: list[CountingGroup] = msgspec.field(default_factory=list)
    tabulators: list[Tabulator] = msgspec.field(default_factory=list)


class Choice(_Value, frozen=True):
    """A line a voter can mark in a contest, as tabulation sees it."""

    id: Id
    contest: Id
    name: str
    candidate: Id | None = None
    write_in: bool = False
    """An undeclared write-in line."""
    declared_write_in: bool = False
    aliases: list[str] = msgspec.field(default_factory=list)


YES_NO = (MeasureChoice(id="yes", name="Yes"), MeasureChoice(id="no", name="No"))


def contest_choices(contest: Contest, candidates: dict[str, Candidate]) -> list[Choice]:
    """Every markable choice of a contest: candidates, measure options, write-in lines."""
    out: list[Choice] = []
    if contest.type in (ContestType.MEASURE, ContestType.RETENTION):
        for option in contest.choices or YES_NO:
            out.append(
                Choice(id=option.id, contest=contest.id, name=option.name, aliases=option.aliases)
            )
        return out
    for cid in contest.candidates:
        c = candidates[cid]
        out.append(
            Choice(
                id=cid,
                contest=contest.id,
                name=c.name,
                candidate=cid,
                declared_write_in=c.write_in,
                aliases=c.aliases,
            )
        )
    for n in range(1, contest.write_ins + 1):
        suffix = "" if contest.write_ins == 1 else f"-{n}"
        out.append(
            Choice(id=f"write-in{suffix}", contest=contest.id, name="Write-in", write_in=True)
        )
    return out


class Batch(_Value, frozen=True):
    """A batch of ballot cards as a ballot manifest lists it (filled in at import)."""

    id: str
    """The batch's name, unique within its tabulator."""
    tabulator: str = ""
    cards: Annotated[int, Meta(ge=0)] = 0
    container: str = ""
    """Where the paper is kept (box, bag), when the manifest says."""


def definition_schema() -> dict[str, object]:
    """The JSON Schema of the election definition format."""
    schema = msgspec.json.schema(ElectionDefinition)
    _normalize(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Canvass election definition"
    return schema


def _normalize(node: object) -> None:
    """Make the schema depend on our text and types alone, not on the msgspec release
    that generated it: every description as :func:`inspect.cleandoc` leaves the docstring
    it came from (0.23 strips the indentation, earlier releases keep it), and the
    alternatives of every ``anyOf`` in one order (releases before 0.22 put ``null`` first)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = inspect.cleandoc(value)
            else:
                _normalize(value)
        if isinstance(node.get("anyOf"), list):
            node["anyOf"].sort(key=lambda option: json.dumps(option, sort_keys=True))
    elif isinstance(node, list):
        for item in node:
            _normalize(item)
