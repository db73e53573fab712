"""The ranked-choice count's vocabulary: its rules (named as RCTab names them), the
ballots it counts, and the rounds it produces (see :mod:`canvass.tabulate.rcv`)."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from canvass.errors import TabulationError

OVERVOTE_LABEL = "overvote"
"""Stands for a ranking the voting system reports only as overvoted."""
UNDECLARED_WRITE_INS = "Undeclared Write-ins"
"""Stands for every undeclared write-in; eliminated first, never elected."""
EXHAUSTED = "exhausted"
RESIDUAL_SURPLUS = "residual surplus"
_UNCOUNTED = "uncounted"

ZERO = Decimal(0)
ONE = Decimal(1)
_CONTEXT = decimal.Context(prec=200, rounding=decimal.ROUND_DOWN)
"""Wide enough that sums and differences are exact, as ``BigDecimal``'s are; divisions and
products cut to a scale go through :func:`_cut`."""


class Status(Enum):
    """Why a ballot counts or does not, in a round."""

    ACTIVE = "active"
    UNDERVOTE = "undervotes"
    """Ranked no candidate at all (counted once, reported apart)."""
    OVERVOTE = "overvotes"
    SKIPPED = "skippedRankings"
    EXHAUSTED = "exhaustedChoices"
    REPEATED = "repeatedRankings"
    FINAL_ROUND_SURPLUS = "finalRoundSurplus"


INACTIVE_REPORTED = (Status.OVERVOTE, Status.SKIPPED, Status.EXHAUSTED, Status.REPEATED)

WINNER_MODES = (
    "singleWinnerMajority",
    "multiWinnerAllowOnlyOneWinnerPerRound",
    "multiWinnerAllowMultipleWinnersPerRound",
    "bottomsUp",
    "bottomsUpUsingPercentageThreshold",
    "multiPassIrv",
)
OVERVOTE_RULES = ("alwaysSkipToNextRank", "exhaustImmediately", "exhaustIfMultipleContinuing")
TIEBREAK_MODES = (
    "random",
    "stopCountingAndAsk",
    "previousRoundCountsThenRandom",
    "previousRoundCountsThenAsk",
    "useCandidateOrder",
    "generatePermutation",
)
RANDOM_TIEBREAKS = ("random", "previousRoundCountsThenRandom", "generatePermutation")


@dataclass(frozen=True)
class Rules:
    """A contest's ranked-choice rules, named as RCTab's configuration names them."""

    candidates: tuple[str, ...]
    """Every candidate, in the order the configuration lists them (the permutation used by
    ``useCandidateOrder``), with :data:`UNDECLARED_WRITE_INS` last when the contest has
    undeclared write-ins."""
    excluded: frozenset[str] = frozenset()
    winner_mode: str = "singleWinnerMajority"
    number_of_winners: int = 1
    overvote_rule: str = "alwaysSkipToNextRank"
    tiebreak_mode: str = "useCandidateOrder"
    random_seed: int | None = None
    max_skipped_ranks: int | None = 1
    """``None``: any number of rankings may be skipped."""
    max_rankings: int | None = None
    """The most rankings a ballot may have (a ballot with more is an error when read);
    ``None``: any number."""
    exhaust_on_duplicate: bool = False
    batch_elimination: bool = False
    continue_until_two: bool = False
    minimum_vote_threshold: Decimal = ZERO
    decimal_places: int = 4
    non_integer_threshold: bool = False
    hare_quota: bool = False
    first_round_determines_threshold: bool = False
    stop_after_round: int | None = None
    bottoms_up_percentage: Decimal | None = None
    """For ``bottomsUpUsingPercentageThreshold``: the share (e.g. ``0.15``) every winner
    must exceed."""
    cutoff_elimination: bool = False
    """For ``bottomsUpUsingPercentageThreshold``: eliminate at once everyone below the
    threshold."""

    @property
    def declared(self) -> int:
        return len(self.candidates) - (UNDECLARED_WRITE_INS in self.candidates)

    @property
    def in_count(self) -> int:
        """Candidates not excluded from the count."""
        return len(self.candidates) - len(self.excluded)

    @property
    def bottoms_up_threshold(self) -> bool:
        return self.winner_mode == "bottomsUpUsingPercentageThreshold"

    @property
    def uses_surpluses(self) -> bool:
        return self.number_of_winners > 1 and self.winner_mode != "bottomsUp"


@dataclass(frozen=True)
class Ballot:
    """Identical ballots: their rankings, where they were cast, how many there are."""

    rankings: tuple[tuple[int, tuple[str, ...]], ...]
    """(rank, candidates marked at that rank), by rank; skipped ranks are absent."""
    count: int = 1
    precinct: str | None = None
    batch: str | None = None


def group(ballots: Iterable[Ballot]) -> list[Ballot]:
    """Identical ballots as one, counted; in the order each was first seen."""
    counts: dict[tuple[object, ...], int] = {}
    for b in ballots:
        key = (b.rankings, b.precinct, b.batch)
        counts[key] = counts.get(key, 0) + b.count
    return [Ballot(k[0], n, k[1], k[2]) for k, n in counts.items()]  # type: ignore[arg-type]


@dataclass
class Round:
    """One round of the count, for the whole contest or one precinct or batch."""

    number: int
    tally: dict[str, Decimal]
    """Votes of every continuing candidate (and, in a multi-winner contest, of every
    candidate elected in an earlier round, at the threshold)."""
    inactive: dict[Status, Decimal]
    active: Decimal = ZERO
    threshold: Decimal = ZERO
    elected: list[str] = field(default_factory=list)
    eliminated: list[str] = field(default_factory=list)
    transfers: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """Votes that left each candidate elected or eliminated in this round, by where they
    went (a candidate, ``exhausted``, ``residual surplus``), counted in the next round."""
    residual_surplus: Decimal = ZERO
    """Surplus lost to rounding, so far."""

    def continuing_and_elected(self) -> Decimal:
        return sum(self.tally.values(), ZERO)


@dataclass
class Tabulation:
    rules: Rules
    rounds: list[Round]
    winners: list[str]
    """In the order they were elected."""
    ballots: Decimal
    undervotes: int
    """Ballots that ranked no candidate."""
    slices: dict[str, dict[str, list[Round]]] = field(default_factory=dict)
    """Round by round per precinct (``"precinct"``) and per batch (``"batch"``)."""
    tiebreaks: list[str] = field(default_factory=list)
    """How each tie was broken, in words."""
    decided_by_tie: set[str] = field(default_factory=set)
    """Candidates elected or eliminated by breaking a tie."""

    @property
    def final_threshold(self) -> Decimal:
        return self.rounds[-1].threshold


Ask = Callable[[int, list[str], bool], str]
"""Decides a tie for ``stopCountingAndAsk``: (round, tied candidates, selecting a winner?) →
the candidate chosen."""


def _no_one_to_ask(round_number: int, tied: list[str], winner: bool) -> str:
    raise TabulationError(
        f"round {round_number}: {', '.join(tied)} are tied to be "
        f"{'elected' if winner else 'eliminated'}, and the rules say to stop counting and ask; "
        "run the count where an operator can answer"
    )
