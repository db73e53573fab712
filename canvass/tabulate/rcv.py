"""Ranked-choice tabulation: single-winner instant runoff and multi-winner contests, round by
round, with the rules and the arithmetic of RCTab (the Universal RCV Tabulator).

Each round every ballot counts for its highest-ranked continuing candidate, or becomes
inactive for a reason (an overvote, too many skipped rankings, a repeated ranking, no
continuing candidate left). Then either winners are declared (multi-winner contests pass
their surplus on at a fractional value) or candidates are eliminated, and the next round
is counted. Which rule applies where is decided exactly as RCTab decides it, so that the
same ballots and the same configuration give the same rounds, to the last decimal place.

Vote values are :class:`~decimal.Decimal` with the scale rules of Java's ``BigDecimal``
(sums and differences are exact; the surplus fraction and each ballot's transfer are cut
down to ``decimal_places``), so reports print ``8.0000`` where RCTab prints ``8.0000``.

Identical ballots (same rankings, same precinct and batch) are counted as one group with a
count: every decision RCTab makes about a ballot depends only on those, so a group moves as
its ballots would, and a contest of a million ballots is a few thousand to a few tens of
thousands of groups. The groups are columns (:mod:`~canvass.tabulate.rcv_ballots`): each
round walks down the rankings of every group whose candidate is no longer continuing at
once, and sums the votes with NumPy in exact integer units
(:mod:`~canvass.tabulate.rcv_votes`). This module holds RCTab's rules: thresholds, who is
elected or eliminated, ties.
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

import numpy as np

from canvass.errors import TabulationError
from canvass.tabulate.javaorder import hash_map_order
from canvass.tabulate.javarandom import JavaRandom, java_shuffle
from canvass.tabulate.rcv_ballots import Array, RankedBallots, Walk, from_ballots
from canvass.tabulate.rcv_model import (
    _CONTEXT,
    _UNCOUNTED,
    EXHAUSTED,
    INACTIVE_REPORTED,
    ONE,
    OVERVOTE_LABEL,
    OVERVOTE_RULES,
    RANDOM_TIEBREAKS,
    RESIDUAL_SURPLUS,
    TIEBREAK_MODES,
    UNDECLARED_WRITE_INS,
    WINNER_MODES,
    ZERO,
    Ask,
    Ballot,
    Round,
    Rules,
    Status,
    Tabulation,
    _no_one_to_ask,
    group,
)
from canvass.tabulate.rcv_votes import Sums, Votes

__all__ = [
    "EXHAUSTED",
    "INACTIVE_REPORTED",
    "ONE",
    "OVERVOTE_LABEL",
    "OVERVOTE_RULES",
    "RANDOM_TIEBREAKS",
    "RESIDUAL_SURPLUS",
    "TIEBREAK_MODES",
    "UNDECLARED_WRITE_INS",
    "WINNER_MODES",
    "ZERO",
    "Ask",
    "Ballot",
    "Round",
    "Rules",
    "Status",
    "Tabulation",
    "group",
    "tabulate",
    "tabulate_passes",
]


def _cut(value: Decimal, places: int, rounding: str = decimal.ROUND_DOWN) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=_CONTEXT)


def _divide(a: Decimal, b: Decimal, places: int, rounding: str = decimal.ROUND_DOWN) -> Decimal:
    """``a.divide(b, places, rounding)``: the exact quotient cut to ``places`` decimals."""
    exact = _CONTEXT.divide(a, b)
    down = _cut(exact, places)
    if rounding == decimal.ROUND_UP and down * b != a:
        down += Decimal(1).scaleb(-places)
    return down


def _new_round(number: int, candidates: Iterable[str]) -> Round:
    return Round(number, {c: ZERO for c in candidates}, {s: ZERO for s in Status})


def tabulate(
    ballots: Sequence[Ballot] | RankedBallots,
    rules: Rules,
    slices: Sequence[str] = (),
    ask: Ask = _no_one_to_ask,
) -> Tabulation:
    """Count ``ballots`` under ``rules``, and round by round for each precinct and/or batch
    when ``slices`` names ``"precinct"`` and/or ``"batch"`` (every ballot must then say
    which). A multi-pass IRV contest is counted pass by pass with :func:`tabulate_passes`."""
    with decimal.localcontext(_CONTEXT):
        return _Count(_columns(ballots, rules), rules, slices, ask).run()


def tabulate_passes(
    ballots: Sequence[Ballot] | RankedBallots,
    rules: Rules,
    slices: Sequence[str] = (),
    ask: Ask = _no_one_to_ask,
) -> list[Tabulation]:
    """Every pass of a contest: one for most rules; for ``multiPassIrv``, one single-winner
    count per seat, each leaving out the winners of the passes before it."""
    ballots = _columns(ballots, rules)
    if rules.winner_mode != "multiPassIrv":
        return [tabulate(ballots, rules, slices, ask)]
    passes: list[Tabulation] = []
    excluded = set(rules.excluded)
    for _ in range(rules.number_of_winners):
        one = replace(rules, number_of_winners=1, excluded=frozenset(excluded))
        if all(c in excluded or c == UNDECLARED_WRITE_INS for c in rules.candidates):
            break
        result = tabulate(ballots, one, slices, ask)
        passes.append(result)
        excluded.update(result.winners)
    return passes


class _Count:
    def __init__(
        self, ballots: RankedBallots, rules: Rules, slices: Sequence[str], ask: Ask
    ) -> None:
        self.rules = rules
        self.ask = ask
        self.slice_kinds = list(slices)
        self.code = {c: k for k, c in enumerate(rules.candidates)}
        self.ballots = ballots
        self.walker = Walk(
            ballots, rules.overvote_rule, rules.max_skipped_ranks, rules.exhaust_on_duplicate
        )
        self.votes = Votes(ballots, rules.decimal_places, self.slice_kinds)
        self.slice_ids = dict(zip(self.slice_kinds, self.votes.slice_ids, strict=True))
        self.rounds: list[Round] = []
        self.slice_rounds: dict[str, dict[str, list[Round]]] = {
            kind: {s: [] for s in ids} for kind, ids in self.slice_ids.items()
        }
        self.winner_round: dict[str, int] = {}
        self.eliminated_round: dict[str, int] = {}
        self.residual: dict[int, Decimal] = {}
        self.tiebreaks: list[str] = []
        self.decided_by_tie: set[str] = set()
        self.permutation = list(rules.candidates)
        self.random: JavaRandom | None = None
        if rules.tiebreak_mode in RANDOM_TIEBREAKS:
            if rules.random_seed is None:
                raise TabulationError(f"tiebreak mode {rules.tiebreak_mode} needs a random seed")
            self.random = JavaRandom(rules.random_seed)
            if rules.tiebreak_mode == "generatePermutation":
                self.permutation.sort()
                java_shuffle(self.permutation, self.random)
        self.round = 0

    # --- candidate status -------------------------------------------------------------

    def continuing(self, candidate: str) -> bool:
        if candidate in self.rules.excluded or candidate == OVERVOTE_LABEL:
            return False
        if candidate in self.winner_round:
            return self.rules.continue_until_two
        return candidate not in self.eliminated_round

    def continuing_codes(self) -> Array:
        """For each candidate code, whether the candidate is continuing."""
        return np.array([self.continuing(c) for c in self.rules.candidates] + [False], bool)

    # --- the rounds -----------------------------------------------------------------------

    def run(self) -> Tabulation:
        r = self.rules
        while self.should_continue():
            self.round += 1
            current = self.count_round()
            self.residual[self.round] = self.residual.get(self.round - 1, ZERO)
            if r.number_of_winners > 1:
                recompute = self.round == 1
            else:  # a single winner's threshold follows the count until it is fixed
                recompute = self.round == 1 or not (
                    r.first_round_determines_threshold
                    or (r.continue_until_two and self.winner_round)
                )
            self.set_threshold(
                self.compute_threshold(current) if recompute else self.rounds[-2].threshold
            )
            by_tally = self.by_tally(current)
            winners = self.identify_winners(current, by_tally)
            if winners:
                for w in winners:
                    self.winner_round[w] = self.round
                if r.uses_surpluses:
                    for w in winners:
                        self.pass_surplus(w, current)
            elif (
                len(self.winner_round) < r.number_of_winners
                or (r.continue_until_two and len(self.eliminated_round) < r.in_count - 2)
                or r.bottoms_up_threshold
            ):
                eliminated = (
                    self.drop_write_ins(current)
                    or self.drop_below_minimum(by_tally)
                    or self.drop_below_cutoff(current, by_tally)
                    or self.batch_eliminate(by_tally)
                    or self.eliminate_lowest(by_tally)
                )
                for loser in eliminated:
                    self.eliminated_round[loser] = self.round
            if r.number_of_winners > 1:
                self.update_winner_tallies()
        return self.result()

    def should_continue(self) -> bool:
        r = self.rules
        eliminated, elected = len(self.eliminated_round), len(self.winner_round)
        if r.stop_after_round is not None and self.round >= r.stop_after_round:
            return False
        if (
            self.round
            and elected < r.number_of_winners
            and not any(self.continuing(c) for c in r.candidates)
        ):
            return False  # seats left but no one to fill them (batch elimination took too many)
        if elected == r.declared and r.number_of_winners > r.in_count:
            return False  # more seats than candidates: everyone is elected
        if r.continue_until_two:
            return eliminated + elected + 1 < r.in_count or (
                self.round in self.eliminated_round.values()
            )
        if r.bottoms_up_threshold:
            return elected == 0
        return elected < r.number_of_winners or (
            r.uses_surpluses and self.round in self.winner_round.values()
        )

    def count_round(self) -> Round:
        n = self.round
        live = [c for c in self.rules.candidates if self.continuing(c)]
        current = _new_round(n, live)
        self.rounds.append(current)
        slices = [
            {s: _new_round(n, live) for s in self.slice_ids[kind]} for kind in self.slice_kinds
        ]
        for kind, per_slice in zip(self.slice_kinds, slices, strict=True):
            for s, rnd in per_slice.items():
                self.slice_rounds[kind][s].append(rnd)
        transfers: dict[str, dict[str, Decimal]] = {}
        self._transfers = transfers
        # Ballots still counting for a continuing candidate stay; the others walk down their
        # rankings again.
        continuing = self.continuing_codes()
        walking = self.votes.to_walk(continuing)
        r = self.rules
        filled = r.uses_surpluses and len(self.winner_round) == r.number_of_winners
        to, status = self.walker.walk(walking, continuing, filled)
        if n > 1:  # what moved is reported with the round before
            self.rounds[n - 2].transfers = transfers
            self.record_transfers(*self.votes.moves(walking, to))
        self.votes.move(walking, to, status)
        self.votes.fill(
            current,
            [
                [per_slice[s] for s in self.slice_ids[kind]]
                for kind, per_slice in zip(self.slice_kinds, slices, strict=True)
            ],
            self.code,
        )
        return current

    def record_transfers(self, contest: Sums, per_slice: list[Sums]) -> None:
        names = [*self.rules.candidates, _UNCOUNTED, EXHAUSTED]
        width = len(names)
        for key, amount in contest:
            _add_transfer(self._transfers, names[key // width], names[key % width], amount)
        for kind, sums in zip(self.slice_kinds, per_slice, strict=True):
            by_slice: dict[str, dict[str, dict[str, Decimal]]] = {}
            for key, amount in sums:
                s, pair = divmod(key, width * width)
                to = by_slice.setdefault(self.slice_ids[kind][s], {})
                _add_transfer(to, names[pair // width], names[pair % width], amount)
            for name, moved in by_slice.items():
                self.slice_rounds[kind][name][-2].transfers = moved

    # --- thresholds and winners -------------------------------------------------------------

    def compute_threshold(self, current: Round) -> Decimal:
        r = self.rules
        votes = current.active
        if r.bottoms_up_threshold:
            assert r.bottoms_up_percentage is not None
            threshold = votes * r.bottoms_up_percentage
        else:
            places = r.decimal_places if r.non_integer_threshold else 0
            if r.hare_quota:
                threshold = _divide(votes, Decimal(r.number_of_winners), places, decimal.ROUND_UP)
            else:
                threshold = _divide(votes, Decimal(r.number_of_winners + 1), places) + Decimal(
                    1
                ).scaleb(-places)
        if r.minimum_vote_threshold > 0 and r.minimum_vote_threshold > threshold:
            threshold = r.minimum_vote_threshold
        return threshold

    def set_threshold(self, threshold: Decimal) -> None:
        self.rounds[-1].threshold = threshold
        for per_slice in self.slice_rounds.values():
            for rounds in per_slice.values():
                rounds[-1].threshold = threshold

    def by_tally(self, current: Round) -> dict[Decimal, list[str]]:
        """Candidates by tally, lowest first; within a tally, in RCTab's (hash map) order."""
        groups: dict[Decimal, list[str]] = {}
        for c in hash_map_order(current.tally):
            groups.setdefault(current.tally[c], []).append(c)
        return dict(sorted(groups.items()))

    def identify_winners(self, current: Round, by_tally: dict[Decimal, list[str]]) -> list[str]:
        r = self.rules
        if current.tally.get(UNDECLARED_WRITE_INS, ZERO) != 0:
            return []  # no one is elected while undeclared write-ins hold votes
        live = len(current.tally)
        if r.bottoms_up_threshold:
            above = [c for c in current.tally if current.tally[c] > current.threshold]
            return list(current.tally) if len(above) == live else []
        selected: list[str] = []
        unfilled = r.number_of_winners - len(self.winner_round)
        if unfilled > 0:
            if live <= unfilled:
                selected = hash_map_order(current.tally)
            elif r.first_round_determines_threshold and live - 1 == r.number_of_winners:
                selected = list(by_tally[max(by_tally)])
            elif r.winner_mode != "bottomsUp":
                selected = [
                    c
                    for votes, cs in by_tally.items()
                    if votes >= current.threshold
                    for c in cs
                    if c != UNDECLARED_WRITE_INS
                ]
        several = len(selected) > 1 and (
            r.winner_mode == "multiWinnerAllowOnlyOneWinnerPerRound"
            or r.first_round_determines_threshold
        )
        no_one = (
            r.number_of_winners == 1
            and not selected
            and live == 2
            and unfilled == 1
            and all(v >= r.minimum_vote_threshold for v in by_tally)
        )
        if several or no_one:
            top = max(by_tally)
            selected = list(by_tally[top])
            if len(selected) > 1:
                selected = [self.break_tie(selected, top, winner=True)]
        return selected

    def pass_surplus(self, winner: str, current: Round) -> None:
        r = self.rules
        votes = current.tally[winner]
        extra = votes - current.threshold
        fraction = _divide(extra, votes, r.decimal_places) if extra > 0 else ZERO
        self.votes.pass_surplus(self.code[winner], fraction)

    def update_winner_tallies(self) -> None:
        current = self.rounds[-1]
        previous = self.rounds[-2] if len(self.rounds) > 1 else None
        earlier = [w for w, n in self.winner_round.items() if n != self.round]
        fresh = {w for w in earlier if self.winner_round[w] == self.round - 1}
        slice_pairs = [
            (rounds[-1], rounds[-2] if len(rounds) > 1 else None)
            for per_slice in self.slice_rounds.values()
            for rounds in per_slice.values()
        ]
        for w in earlier:
            current.tally[w] = ZERO if w in fresh else previous.tally[w]  # type: ignore[union-attr]
            for now, before in slice_pairs:
                now.tally[w] = ZERO if w in fresh else before.tally[w]  # type: ignore[union-attr]
        if not fresh:
            return
        for w in fresh:
            kept = self.votes.kept_by(self.code[w])
            if kept is None:
                continue
            current.tally[w] += kept[0]
            for kind, by_slice in zip(self.slice_kinds, kept[1], strict=True):
                for s, amount in by_slice.items():
                    self.slice_rounds[kind][self.slice_ids[kind][s]][-1].tally[w] += amount
        for w in hash_map_order(w for w in self.winner_round if w in fresh):
            residual = current.tally[w] - current.threshold
            if residual > 0:
                self.residual[self.round] += residual
                current.tally[w] = current.threshold
                _add_transfer(self._transfers, w, RESIDUAL_SURPLUS, residual)

    # --- eliminations ---------------------------------------------------------------------

    def drop_write_ins(self, current: Round) -> list[str]:
        return [UNDECLARED_WRITE_INS] if current.tally.get(UNDECLARED_WRITE_INS, ZERO) > 0 else []

    def drop_below_minimum(self, by_tally: dict[Decimal, list[str]]) -> list[str]:
        minimum = self.rules.minimum_vote_threshold
        if minimum <= 0:
            return []
        below = [c for votes, cs in by_tally.items() if votes < minimum for c in cs]
        if below and len(below) == self.rules.declared:
            raise TabulationError(
                f"every declared candidate has fewer votes than the minimum vote threshold "
                f"({minimum}); the count cannot go on"
            )
        return below

    def drop_below_cutoff(self, current: Round, by_tally: dict[Decimal, list[str]]) -> list[str]:
        if not (self.rules.bottoms_up_threshold and self.rules.cutoff_elimination):
            return []
        return [c for votes, cs in by_tally.items() if votes < current.threshold for c in cs]

    def batch_eliminate(self, by_tally: dict[Decimal, list[str]]) -> list[str]:
        """Every candidate who could not overtake the next one up even with all the votes of
        those below, when that is more than one candidate."""
        r = self.rules
        if not r.batch_elimination:
            return []
        running = ZERO
        seen: list[str] = []
        eliminated: list[str] = []
        previous: list[str] = []
        for votes, cs in by_tally.items():
            newly = list(eliminated)
            if running < votes:
                newly += [c for c in seen if c not in eliminated]
            running += _cut(votes * len(cs), r.decimal_places)
            seen += cs
            if len(newly) > len(eliminated):
                previous, eliminated = eliminated, newly
        if r.continue_until_two and len(eliminated) + len(self.eliminated_round) == r.in_count - 1:
            eliminated = previous
        return eliminated if len(eliminated) > 1 else []

    def eliminate_lowest(self, by_tally: dict[Decimal, list[str]]) -> list[str]:
        lowest = min(by_tally)
        tied = by_tally[lowest]
        if len(tied) > 1:
            return [self.break_tie(tied, lowest, winner=False)]
        return [tied[0]]

    # --- ties -----------------------------------------------------------------------------

    def break_tie(self, tied: list[str], votes: Decimal, winner: bool) -> str:
        mode = self.rules.tiebreak_mode
        tied = sorted(tied)
        if mode in ("useCandidateOrder", "generatePermutation"):
            order = self.permutation if winner else self.permutation[::-1]
            chosen = next(c for c in order if c in tied)
            how = "the candidate order"
        elif mode == "random":
            chosen = self.draw(tied)
            how = "a random draw"
        elif mode == "stopCountingAndAsk":
            chosen = self.ask(self.round, tied, winner)
            how = "the operator"
        else:
            chosen, how = self.previous_rounds(tied, winner)
        others = ", ".join(c for c in tied if c != chosen)
        self.decided_by_tie.add(chosen)
        self.tiebreaks.append(
            f"round {self.round}: {chosen} {'won' if winner else 'lost'} a tie with {others} "
            f"at {votes} votes, decided by {how}"
        )
        return chosen

    def draw(self, tied: list[str]) -> str:
        assert self.random is not None
        return tied[math.floor(self.random.next_double() * len(tied))]

    def previous_rounds(self, tied: list[str], winner: bool) -> tuple[str, str]:
        contention = tied
        for n in range(self.round - 1, 0, -1):
            tally = self.rounds[n - 1].tally
            order = hash_map_order(contention)
            target = (max if winner else min)(tally[c] for c in order)
            contention = [c for c in order if tally[c] == target]
            if len(contention) == 1:
                return contention[0], f"the counts of round {n}"
        if self.rules.tiebreak_mode == "previousRoundCountsThenAsk":
            return self.ask(self.round, contention, winner), "the operator"
        return self.draw(contention), "a random draw after earlier rounds were tied too"

    # --- the result -----------------------------------------------------------------------

    def result(self) -> Tabulation:
        for rnd in self.rounds:
            rnd.residual_surplus = self.residual.get(rnd.number, ZERO)
        every = [self.rounds] + [
            rounds for per_slice in self.slice_rounds.values() for rounds in per_slice.values()
        ]
        for mapping, attr in (
            (self.winner_round, "elected"),
            (self.eliminated_round, "eliminated"),
        ):
            for c in sorted(mapping):
                for rounds in every:
                    getattr(rounds[mapping[c] - 1], attr).append(c)
        first = self.rounds[0]
        undervotes = first.inactive[Status.UNDERVOTE]
        return Tabulation(
            rules=self.rules,
            rounds=self.rounds,
            winners=sorted(self.winner_round, key=lambda c: self.winner_round[c]),
            ballots=first.active + sum(first.inactive.values(), ZERO),
            undervotes=int(undervotes),
            slices=self.slice_rounds,
            tiebreaks=self.tiebreaks,
            decided_by_tie=self.decided_by_tie,
        )


def _columns(ballots: Sequence[Ballot] | RankedBallots, rules: Rules) -> RankedBallots:
    if isinstance(ballots, RankedBallots):
        if ballots.candidates != rules.candidates:
            raise TabulationError("the ballots were read for other candidates than the rules'")
        return ballots
    return from_ballots(ballots, rules.candidates)


def _add_transfer(
    transfers: dict[str, dict[str, Decimal]], source: str, target: str, amount: Decimal
) -> None:
    to = transfers.setdefault(source, {})
    to[target] = to.get(target, ZERO) + amount
