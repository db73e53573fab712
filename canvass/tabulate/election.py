"""Counting an election's ballot tables under its definition: the plurality results and
the names to show for them, and every ranked-choice contest round by round under its
rules profile. Pure: the election directory and the verifier count with the same
functions, each from its own copy of the tables."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pyarrow as pa

from canvass.domain.model import Contest, ContestType, ElectionDefinition, RankedChoiceRules
from canvass.ingest.ballots import SCHEMA
from canvass.ingest.names import definition_contests
from canvass.tabulate.plurality import Results, add_results_only, tabulate
from canvass.tabulate.rctab import table_ballots
from canvass.tabulate.rcv import UNDECLARED_WRITE_INS, Rules, Tabulation, tabulate_passes


def count(
    election: ElectionDefinition,
    tables: Sequence[pa.Table],
    results_only: Sequence[pa.Table] = (),
    by: str | None = None,
) -> Results:
    """Every contest counted over the ballot tables, with the results-only counts added."""
    contests = [info for info, _ in definition_contests(election)]
    combined = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    counted = tabulate(combined, contests, by)
    for rows in results_only:
        add_results_only(counted, rows, contests)
    return counted


def labels(election: ElectionDefinition) -> dict[str, str]:
    """The names to show for contest ids (``contest``) and choice ids (``contest/choice``)."""
    pairs = definition_contests(election)
    names = {info.name: c.name for (info, _), c in zip(pairs, election.contests, strict=True)}
    names.update({f"{info.name}/{ch.id}": ch.name for info, choices in pairs for ch in choices})
    return names


def ranked_choice(
    election: ElectionDefinition, tables: Sequence[pa.Table], contest: str | None = None
) -> dict[str, list[Tabulation]]:
    """Count every ranked-choice contest (or only ``contest``) round by round under its
    rules; candidates are named by their ids. Results-only counts carry no rankings and are
    not part of these counts."""
    combined = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    counted: dict[str, list[Tabulation]] = {}
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
        counted[c.id] = tabulate_passes(ballots, ranked_choice_rules(c, candidates))
    return counted


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
