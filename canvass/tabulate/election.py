"""Counting an election's ballot tables under its definition: the plurality results and
the names to show for them, and every ranked-choice contest round by round under its
rules profile. Pure: the election directory and the verifier count with the same
functions, each from its own copy of the tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pyarrow as pa

from canvass.domain.model import Contest, ContestType, ElectionDefinition, RankedChoiceRules
from canvass.errors import TabulationError
from canvass.ingest.ballots import SCHEMA, ballot_weights
from canvass.ingest.names import definition_contests
from canvass.tabulate.plurality import Results, add_results_only, breakdown, tabulate
from canvass.tabulate.rctab import table_ballots
from canvass.tabulate.rcv import UNDECLARED_WRITE_INS, Rules, Tabulation, tabulate_passes

COUNTY_UNITS = (
    "precinct",
    "precinct_portion",
    "batch",
    "tabulator",
    "counting_group",
    "ballot_style",
)
"""Breakdowns whose units belong to one county: a vendor numbers tabulators and batches,
names precincts, portions, styles and counting groups, county by county, so "Tabulator
A/Batch 1" of one county is not another's."""


def county_keyed(by: str) -> str:
    """A breakdown of an election's counties: ``county`` put first when the breakdown
    names a county's unit (``batch`` is counted as ``county,batch``)."""
    columns = breakdown(by)
    if "county" not in columns and any(c in COUNTY_UNITS for c in columns):
        columns = ["county", *columns]
    return ",".join(columns)


def count(
    election: ElectionDefinition,
    tables: Sequence[pa.Table],
    results_only: Sequence[pa.Table] = (),
    by: str | None = None,
) -> Results:
    """Every contest counted over the ballot tables, with the results-only counts added;
    ``by``: a breakdown of one or more card columns (:func:`county_keyed`)."""
    by = county_keyed(by) if by else None
    contests = [info for info, _ in definition_contests(election)]
    combined = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    # Each table numbers its own ballots: they are weighed before they are put together.
    weights = np.concatenate([ballot_weights(t) for t in tables] or [np.zeros(0, np.int8)])
    counted = tabulate(combined, contests, by, weights)
    for rows in results_only:
        add_results_only(counted, rows, contests)
    return counted


def labels(election: ElectionDefinition) -> dict[str, str]:
    """The names to show for contest ids (``contest``) and choice ids (``contest/choice``)."""
    pairs = definition_contests(election)
    names = {info.name: c.name for (info, _), c in zip(pairs, election.contests, strict=True)}
    names.update({f"{info.name}/{ch.id}": ch.name for info, choices in pairs for ch in choices})
    return names


@dataclass(frozen=True)
class TieDecision:
    """The officials' decision of a tie the contest's rules leave to them, as the log
    records it (``rcv.tie_resolved``)."""

    contest: str
    round: int
    tied: tuple[str, ...]
    """The tied candidates (ids), sorted."""
    elected: bool
    """A tie to be elected, or (``False``) to be eliminated."""
    chosen: str
    """The candidate the officials chose to be elected or eliminated. (A multi-pass
    contest's passes each count from round 1; a pass's tie is another set of candidates,
    since each pass leaves out the winners before it.)"""


@dataclass(frozen=True)
class Tie:
    """A tie the contest's rules leave to the officials, not yet decided: the contest's
    count stops there, and only that contest's."""

    contest: str
    round: int
    tied: tuple[str, ...]
    """The tied candidates (ids), sorted."""
    elected: bool
    mode: str
    """The contest's ``tiebreak_mode``."""
    names: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    """The contest's name (under its id) and its candidates' (under theirs), as the
    ballot and the definition show them."""

    def named(self) -> str:
        """The tied candidates as an official reads them, each with the id that
        ``--chosen`` takes: ``Ahsha Safai ('ahsha-safai'), undeclared write-ins
        ('Undeclared Write-ins')``, in the order of their names."""
        named = sorted((self.names.get(c, c).strip(), c) for c in self.tied)
        return ", ".join(f"{name} ({c!r})" if name != c else repr(c) for name, c in named)

    def message(self) -> str:
        way = "elected" if self.elected else "eliminated"
        contest = self.names.get(self.contest)
        where = f"{contest} ({self.contest!r})" if contest else repr(self.contest)
        return (
            f"contest {where}, round {self.round}: {self.named()} are tied to be {way}, and "
            "its rules "
            f"(tiebreak_mode {self.mode}) leave the choice to the officials. Record their "
            f"decision with 'canvass rcv resolve-tie DIR --contest {self.contest} --round "
            f"{self.round} --chosen ID' (the id of the candidate {way}), or give the contest "
            "another tiebreak_mode in the definition (random, with a random_seed drawn in "
            "public)"
        )


class TieUndecided(TabulationError):
    """A count reached a tie its rules leave to the officials, who have not decided it."""

    def __init__(self, tie: Tie) -> None:
        super().__init__(tie.message())
        self.tie = tie


Decisions = Sequence[TieDecision] | Callable[[], Sequence[TieDecision]]
"""The officials' recorded decisions of ties, or how to find them: a count asks only when it
reaches a tie its rules leave to them (finding them means folding the whole log)."""


@dataclass
class RankedChoice:
    """Every ranked-choice contest counted, or stopped at a tie."""

    counted: dict[str, list[Tabulation]] = field(default_factory=dict)
    ties: dict[str, Tie] = field(default_factory=dict)
    """Contests whose count stopped at a tie the officials have not decided."""


def ranked_choice_counts(
    election: ElectionDefinition,
    tables: Sequence[pa.Table],
    contest: str | None = None,
    decisions: Decisions = (),
) -> RankedChoice:
    """Count every ranked-choice contest (or only ``contest``) round by round under its
    rules; candidates are named by their ids. A tie the rules leave to the officials is
    decided as ``decisions`` record; a tie they have not decided stops that contest's
    count (:attr:`RankedChoice.ties`) and no other. Results-only counts carry no rankings
    and are not part of these counts."""
    combined = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    found = RankedChoice()
    for index, ((_, choices), c) in enumerate(
        zip(definition_contests(election), election.contests, strict=True)
    ):
        if c.type != ContestType.RANKED_CHOICE or contest not in (None, c.id):
            continue
        candidates = [ch.id for ch in choices if not ch.write_in]
        if any(ch.write_in for ch in choices):
            candidates.append(UNDECLARED_WRITE_INS)
        codes = [candidates.index(UNDECLARED_WRITE_INS if ch.write_in else ch.id) for ch in choices]
        ballots = table_ballots(
            combined, index, codes, candidates, max_rankings=c.ranks, where=c.id
        )
        rules = ranked_choice_rules(c, candidates)
        names = {ch.id: ch.name for ch in choices if not ch.write_in}
        names[UNDECLARED_WRITE_INS] = "undeclared write-ins"
        names[c.id] = c.name
        asked = _Officials(c.id, rules.tiebreak_mode, decisions, names)
        try:
            found.counted[c.id] = tabulate_passes(ballots, rules, (), asked.ask)
        except TieUndecided as e:
            found.ties[c.id] = e.tie
    return found


def ranked_choice(
    election: ElectionDefinition,
    tables: Sequence[pa.Table],
    contest: str | None = None,
    decisions: Decisions = (),
) -> dict[str, list[Tabulation]]:
    """:func:`ranked_choice_counts`, refusing (:class:`TieUndecided`) when a count stopped at
    a tie: for what needs every contest decided, such as a state certificate."""
    found = ranked_choice_counts(election, tables, contest, decisions)
    for tie in found.ties.values():
        raise TieUndecided(tie)
    return found.counted


class _Officials:
    """Decides a tie for ``stopCountingAndAsk`` and ``previousRoundCountsThenAsk`` as the
    officials' recorded decisions say; a tie they have not decided stops the count."""

    def __init__(
        self, contest: str, mode: str, decisions: Decisions, names: dict[str, str]
    ) -> None:
        self.contest = contest
        self.mode = mode
        self.decisions = decisions
        self.names = names

    def ask(self, round_number: int, tied: list[str], elected: bool) -> str:
        key = (round_number, tuple(sorted(tied)), elected)
        if callable(self.decisions):
            self.decisions = self.decisions()
        for d in self.decisions:
            if d.contest == self.contest and (d.round, d.tied, d.elected) == key:
                return d.chosen
        raise TieUndecided(Tie(self.contest, round_number, key[1], elected, self.mode, self.names))


def ranked_choice_rules(contest: Contest, candidates: list[str]) -> Rules:
    """A contest's rules profile as the rules of the count."""
    r = contest.rules or RankedChoiceRules()
    single = contest.seats == 1
    skipped = r.max_skipped_ranks_allowed
    return Rules(
        candidates=tuple(candidates),
        winner_mode=r.winner_election_mode
        or ("singleWinnerMajority" if single else "multiWinnerAllowMultipleWinnersPerRound"),
        number_of_winners=contest.seats,
        overvote_rule=r.overvote_rule,
        tiebreak_mode=r.tiebreak_mode,
        random_seed=r.random_seed,
        max_skipped_ranks=None if skipped == "unlimited" else skipped,
        max_rankings=contest.ranks,
        exhaust_on_duplicate=r.exhaust_on_duplicate_candidate,
        batch_elimination=r.batch_elimination,
        continue_until_two=r.continue_until_two_candidates_remain,
        minimum_vote_threshold=Decimal(r.minimum_vote_threshold),
        decimal_places=r.decimal_places_for_vote_arithmetic,
        non_integer_threshold=r.non_integer_winning_threshold,
        hare_quota=r.hare_quota,
        first_round_determines_threshold=r.does_first_round_determine_threshold,
        stop_after_round=r.stop_tabulation_early_after_round,
    )
