"""Risk-limiting audit statistics, as pure functions.

Ballot comparison, "super-simple" (Kaplan–Markov): P. B. Stark, *Super-Simple Simultaneous
Single-Ballot Risk-Limiting Audits*, EVT/WOTE 2010 (``gamma`` the error inflation,
``U = 2·gamma/margin``):

- :func:`km_nmin` — the sample size that confirms the outcome if the sample shows the
  given numbers of 1- and 2-vote overstatements and understatements;
- :func:`km_p_value` — the risk measured after ``n`` ballots with those discrepancies;
- :func:`arlo_supersimple_sample_size` — the initial (or next) sample size as Arlo computes
  it, from expected or observed discrepancy rates.

Batch comparison, MACRO (P. B. Stark, *A Sharper Discrepancy Measure for Post-Election
Audits*, Annals of Applied Statistics 2008, and *Efficient Post-Election Audits of Multiple
Contests*, 2009): :func:`macro_bound`, :func:`macro_overstatement`, :func:`macro_risk`,
:func:`macro_sample_size`, for batches drawn with probability proportional to their error
bounds (:func:`canvass.audit.sampler.weighted_sample`).

Ballot polling, BRAVO: M. Lindeman, P. B. Stark, V. S. Yates, *BRAVO: Ballot-polling
Risk-limiting Audits to Verify Outcomes*, EVT/WOTE 2012:

- :func:`bravo_asn` — the average sample number for a two-candidate margin;
- :func:`bravo_p_value` — the risk measured by Wald's SPRT after a sample.

ALPHA: P. B. Stark, *ALPHA: Audit that Learns from Previously Hand-Audited Ballots*,
Annals of Applied Statistics 2023 (SHANGRLA's ``NonnegMean.alpha_mart``), with a fixed
alternative mean ``eta``, for sampling without replacement from ``N`` ballots, and the
SHANGRLA assorters it tests (P. B. Stark, *Sets of Half-Average Nulls Generate
Risk-Limiting Audits: SHANGRLA*, Financial Cryptography 2020).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from itertools import repeat

import numpy as np

# SciPy (a third of a second to load) only in the functions that need it: a command that
# opens an audit without sizing a round never loads it.

GAMMA = 1.03905
"""The error inflation factor of Stark's tools, Arlo and ColoradoRLA."""


def _discrepancies(o1: float, o2: float, u1: float, u2: float, gamma: float) -> float:
    """The log of the Kaplan–Markov factors of the discrepancies (negative for
    overstatements, which make the bound weaker)."""
    return (
        o1 * math.log(1 - 1 / (2 * gamma))
        + o2 * math.log(1 - 1 / gamma)
        + u1 * math.log(1 + 1 / (2 * gamma))
        + u2 * math.log(1 + 1 / gamma)
    )


def km_nmin(
    alpha: float,
    margin: float,
    o1: float = 0,
    o2: float = 0,
    u1: float = 0,
    u2: float = 0,
    gamma: float = GAMMA,
) -> int:
    """Stark (2010), eq. 9's sample size: the least n whose Kaplan–Markov bound is below
    ``alpha`` with the given discrepancy counts."""
    bound = -2 * gamma * (math.log(alpha) + _discrepancies(o1, o2, u1, u2, gamma))
    return int(max(o1 + o2 + u1 + u2, math.ceil(bound / margin)))


def km_p_value(
    n: int,
    margin: float,
    o1: int = 0,
    o2: int = 0,
    u1: int = 0,
    u2: int = 0,
    gamma: float = GAMMA,
) -> float:
    """The Kaplan–Markov P-value after ``n`` ballots with the given discrepancies."""
    big_u = 2 * gamma / margin
    log_p = n * math.log(1 - 1 / big_u) - _discrepancies(o1, o2, u1, u2, gamma)
    return 1.0 if log_p >= 0 else math.exp(log_p)


# Arlo's constants, kept as Arlo writes them: Decimals made from the binary floats.
_A_GAMMA = Decimal.from_float(1.03905)
_A_O1 = _A_U1 = Decimal.from_float(0.001)
_A_O2 = _A_U2 = Decimal.from_float(0.0001)


def _arlo_nmin(
    alpha: Decimal, margin: Decimal, o1: Decimal, o2: Decimal, u1: Decimal, u2: Decimal
) -> int:
    g = _A_GAMMA
    bound = (
        -2
        * g
        * (
            alpha.ln()
            + o1 * (1 - 1 / (2 * g)).ln()
            + o2 * (1 - 1 / g).ln()
            + u1 * (1 + 1 / (2 * g)).ln()
            + u2 * (1 + 1 / g).ln()
        )
    )
    return int((o1 + o2 + u1 + u2).max(Decimal(math.ceil(bound / margin))))


def arlo_supersimple_sample_size(
    risk_limit_percent: int,
    margin: float,
    ballots: int,
    sampled: int = 0,
    o1: int = 0,
    o2: int = 0,
    u1: int = 0,
    u2: int = 0,
) -> int:
    """Arlo's ballot-comparison sample size (the total, at most every ballot): from the
    default discrepancy rates (1 in 1,000 one-vote, 1 in 10,000 two-vote) before any
    sample, else from the rates observed in the ``sampled`` ballots; every ballot when the
    rates make the outcome unconfirmable."""
    alpha = Decimal(risk_limit_percent) / 100
    m = Decimal(margin)
    g = _A_GAMMA
    if sampled:
        r1, r2, s1, s2 = (Decimal(x) / sampled for x in (o1, o2, u1, u2))
    else:
        r1, r2, s1, s2 = _A_O1, _A_O2, _A_U1, _A_U2
    denom = (
        (1 - m / (2 * g)).ln()
        - r1 * (1 - 1 / (2 * g)).ln()
        - r2 * (1 - 1 / g).ln()
        - s1 * (1 + 1 / (2 * g)).ln()
        - s2 * (1 + 1 / g).ln()
    )
    if denom >= 0:
        return ballots
    n0 = math.ceil(alpha.ln() / denom)

    def up(rate: Decimal) -> Decimal:
        return (rate * n0).quantize(Decimal(1), ROUND_CEILING)

    # Discrepancies expected in n0 ballots, as whole numbers: the one-vote ones always; the
    # two-vote ones when they were observed (as Arlo's published tests expect).
    o1n, u1n = up(r1), up(s1)
    o2n, u2n = (up(r2), up(s2)) if sampled else (r2, s2)
    return min(ballots, _arlo_nmin(alpha, m, o1n, o2n, u1n, u2n))


def bravo_asn(alpha: float, winner_share: float, loser_share: float) -> int:
    """BRAVO's average sample number (Lindeman, Stark & Yates 2012, eq. 5) for a winner
    and loser with these shares of the ballots."""
    s_w = winner_share / (winner_share + loser_share)
    s_l = 1 - s_w
    z_w, z_l = math.log(2 * s_w), math.log(2 * s_l)
    return math.ceil((math.log(1 / alpha) + z_w / 2) / (winner_share * z_w + loser_share * z_l))


def bravo_p_value(
    winner_share: float, loser_share: float, winner_votes: int, loser_votes: int
) -> float:
    """The risk measured by BRAVO's sequential probability ratio test after a sample with
    these votes for the reported winner and loser: 1 / the likelihood ratio."""
    s_w = winner_share / (winner_share + loser_share)
    log_t = winner_votes * math.log(2 * s_w) + loser_votes * math.log(2 * (1 - s_w))
    return 1.0 if log_t <= 0 else math.exp(-log_t)


def bravo_sample_size(
    alpha: float,
    winner_share: float,
    loser_share: float,
    p_completion: float,
    winner_sampled: int = 0,
    loser_sampled: int = 0,
) -> int:
    """The sample that completes a BRAVO audit in one round with chance ``p_completion``
    when the reported outcome is right (M. Lindeman's calculation, as Arlo makes it): the
    normal approximation to the winner's two-way votes set against the votes the test
    needs, a quadratic in the sample size; then the exact binomial quantile checked, the
    size raised until it suffices; then scaled up for ballots voting for neither.
    ``winner_sampled``/``loser_sampled``: votes already in the sample."""
    d = _bravo_terms(alpha, winner_share, loser_share, winner_sampled, loser_sampled)
    if d is None:
        return 0
    from scipy.stats import binom, norm  # type: ignore[import-untyped]

    s_w, plus, minus, threshold, both = d
    s_l = 1 - s_w
    z = Decimal(-norm.ppf(p_completion))
    f = threshold / (plus - minus)
    g = minus / (plus - minus) + s_w
    a, b, c = g**2, -(z**2 * s_w * s_l + 2 * f * g), f**2
    radical = max(Decimal(0), b**2 - 4 * a * c).sqrt()
    size = math.floor((-b + (radical if p_completion > 0.5 else -radical)) / (2 * a))

    # The estimate is close but not sure: the winner's votes at the 1 - p_completion
    # quantile (exact binomial) must pass the threshold. The size goes up one at a time from
    # the estimate, as Lindeman's calculation does (the condition is not monotone in the
    # size, so the first size that passes is the answer).
    while True:
        x = Decimal(binom.ppf(1.0 - p_completion, size, float(s_w)))
        if x * plus + (size - x) * minus > threshold:
            break
        size += 1
    return math.ceil(size / both)


def bravo_completion_chance(
    alpha: float,
    winner_share: float,
    loser_share: float,
    size: int,
    winner_sampled: int = 0,
    loser_sampled: int = 0,
) -> float:
    """The chance (to two places, as Arlo shows it) that a BRAVO round of ``size`` ballots
    completes the audit when the reported outcome is right; the inverse of
    :func:`bravo_sample_size`'s normal approximation."""
    d = _bravo_terms(alpha, winner_share, loser_share, winner_sampled, loser_sampled)
    if d is None:
        return 0.0
    from scipy.stats import norm

    s_w, plus, minus, threshold, both = d
    n = size * both
    needed = (threshold - minus * n) / (plus - minus)
    z = (needed - n * s_w) / (n * s_w * (1 - s_w)).sqrt()
    return round(float(norm.cdf(float(-z))), 2)


def _bravo_terms(
    alpha: float, winner_share: float, loser_share: float, winner_sampled: int, loser_sampled: int
) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal] | None:
    """(two-way winner share, log-ratio per winner vote, per loser vote, log threshold still
    to go, winner + loser share), or None when the sample already meets the risk limit."""
    p_w, p_l = Decimal(winner_share), Decimal(loser_share)
    both = p_w + p_l
    s_w = p_w / both
    plus = (2 * s_w).ln()
    minus = (2 * (1 - s_w)).ln()
    threshold = (1 / Decimal(alpha)).ln() - (winner_sampled * plus + loser_sampled * minus)
    if threshold <= 0:
        return None
    return s_w, plus, minus, threshold, both


# --- Minerva ------------------------------------------------------------------------------


@dataclass
class MinervaRound:
    draws: int
    """Ballots for the winner or the loser drawn so far (cumulative)."""
    winner: int
    """Of which for the winner (cumulative)."""
    kmin: int | None
    """The winner votes that would have stopped the audit at this round (None: none can)."""
    p_value: float
    stopped: bool


def minerva(
    alpha: float, winner_share: float, rounds: Sequence[tuple[int, int]]
) -> list[MinervaRound]:
    """Minerva (F. Zagórski, G. McClearn, S. Morin, N. McBurnett, P. L. Vora, *Minerva: The
    Curious Case of Two Round Tail-Based Risk-Limiting Audits*, 2021), as r2b2 computes it,
    for one winner–loser pair over cumulative rounds ``(draws, winner votes)``: at each
    round, the distribution of winner votes under a tie and under the reported two-way
    share ``winner_share``, each convolved from the last round's (with the outcomes that
    would have stopped it removed); the risk is the ratio of their tails at the observed
    votes, and the audit stops when ``alpha`` × the reported tail reaches the tie's tail."""
    from scipy.stats import binom

    out: list[MinervaRound] = []
    tie, reported = np.array([1.0]), np.array([1.0])
    last = 0
    for draws, won in rounds:
        if draws < last or not 0 <= won <= draws:
            raise ValueError(f"round of {draws} draws with {won} for the winner: not cumulative")
        new = np.arange(draws - last + 1)
        tie = np.convolve(tie, binom.pmf(new, draws - last, 0.5))
        reported = np.convolve(reported, binom.pmf(new, draws - last, winner_share))
        tie_tail = np.cumsum(tie[::-1])[::-1]
        reported_tail = np.cumsum(reported[::-1])[::-1]
        met = np.flatnonzero(
            (alpha * reported_tail >= tie_tail) & (np.arange(draws + 1) > draws / 2)
        )
        kmin = int(met[0]) if len(met) else None
        p = float(tie_tail[won] / reported_tail[won]) if reported_tail[won] > 0 else 1.0
        out.append(MinervaRound(draws, won, kmin, min(p, 1.0), kmin is not None and won >= kmin))
        if out[-1].stopped:
            break
        if kmin is not None:  # the outcomes that would have stopped this round
            tie[kmin:] = 0.0
            reported[kmin:] = 0.0
        last = draws
    return out


# --- MACRO: batch comparison -------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A contest's reported outcome: its winners and losers, and every choice's votes."""

    votes: dict[str, int]
    winners: tuple[str, ...]
    losers: tuple[str, ...]

    @classmethod
    def of(cls, votes: Mapping[str, int], seats: int = 1) -> Outcome:
        ranked = sorted(votes, key=lambda c: (-votes[c], c))
        return cls(dict(votes), tuple(ranked[:seats]), tuple(ranked[seats:]))


def _pairs(outcome: Outcome) -> Iterator[tuple[str, str, int]]:
    for w in outcome.winners:
        for loser in outcome.losers:
            yield w, loser, outcome.votes[w] - outcome.votes[loser]


def macro_bound(
    outcomes: Mapping[str, Outcome],
    reported: Mapping[str, Mapping[str, int]],
    ballots: Mapping[str, int],
) -> Fraction | None:
    """A batch's largest possible relative overstatement (P. B. Stark, *Efficient
    Post-Election Audits of Multiple Contests: 2009 California Tests*, 2009, the MACRO
    bound): over its audited contests and every winner–loser pair,
    ``(v_w − v_l + b) / V_wl`` with the batch's reported votes ``v``, its ballots ``b`` and
    the contest's reported margin ``V_wl``. None when a margin is zero: no sample can
    confirm a tie."""
    bound = Fraction(0)
    for contest, outcome in outcomes.items():
        if contest not in reported:
            continue
        votes = reported[contest]
        for w, loser, margin in _pairs(outcome):
            if margin <= 0:
                return None
            u = Fraction(votes.get(w, 0) - votes.get(loser, 0) + ballots[contest], margin)
            bound = max(bound, u)
    return bound


def macro_overstatement(
    outcomes: Mapping[str, Outcome],
    reported: Mapping[str, Mapping[str, int]],
    audited: Mapping[str, Mapping[str, int]],
) -> Fraction:
    """A batch's relative overstatement found by hand: over its audited contests and every
    winner–loser pair, ``((v_w − v_l) − (a_w − a_l)) / V_wl``, the largest, and never below
    zero (an error in the winner's favour is counted as none, to stay conservative)."""
    worst = Fraction(0)
    for contest, outcome in outcomes.items():
        if contest not in reported:
            continue
        votes, counted = reported[contest], audited.get(contest, {})
        for w, loser, margin in _pairs(outcome):
            error = (votes.get(w, 0) - votes.get(loser, 0)) - (
                counted.get(w, 0) - counted.get(loser, 0)
            )
            worst = max(worst, Fraction(error, margin))
    return worst


def macro_risk(
    draws: Iterable[tuple[Fraction, Fraction]], total_bound: Fraction, alpha: float
) -> tuple[float, bool]:
    """The risk after batches drawn with probability proportional to their error bounds,
    in draw order, each ``(overstatement, bound)``: the product of
    ``(1 − 1/U) / (1 − e/u)`` over the draws (``U`` the sum of every batch's bound),
    stopping at the first draw where it reaches ``alpha``."""
    p = 1.0
    step = 1 - 1 / float(total_bound)
    for e, u in draws:
        if u == 0:
            continue
        taint = float(e / u)
        if taint >= 1:
            return 1.0, False
        p *= step / (1 - taint)
        if p <= alpha:
            return p, True
    return min(p, 1.0), p <= alpha


def macro_sample_size(total_bound: Fraction, alpha: float) -> int:
    """Batches to draw so that, if none holds an error, the risk falls to ``alpha``: the
    least ``n`` with ``(1 − 1/U)ⁿ ≤ alpha``."""
    if total_bound <= 1:
        return 1
    return math.ceil(math.log(alpha) / math.log(1 - 1 / float(total_bound)))


# --- SHANGRLA -------------------------------------------------------------------------


def plurality_assorter(vote: str | None, winner: str, loser: str) -> float:
    """1 for the winner, 0 for the loser, 1/2 for anything else."""
    return 1.0 if vote == winner else 0.0 if vote == loser else 0.5


def overstatement_assorter(overstatement: float, margin: float, upper: float = 1.0) -> float:
    """SHANGRLA's comparison assorter: ``(1 - o/u) / (2 - v/u)`` for an overstatement ``o``
    of the assorter's value, assorter margin ``v`` and upper bound ``u``."""
    return (1 - overstatement / upper) / (2 - margin / upper)


def _alpha_steps(
    x: Iterable[float], population: int, eta: float, upper: float, t: float
) -> Iterator[float]:
    """The ALPHA P-value after each sampled value."""
    log_t, total = 0.0, 0.0
    for j, value in enumerate(x):
        mu = (population * t - total) / (population - j)
        total += value
        if mu <= 0:  # the values so far already exceed the null's total
            yield 0.0
            continue
        if mu >= upper:  # the null is certain
            yield 1.0
            continue
        factor = (value * eta / mu + (upper - value) * (upper - eta) / (upper - mu)) / upper
        log_t += math.log(factor) if factor > 0 else -math.inf
        yield min(1.0, math.exp(-log_t)) if log_t > 0 else 1.0


def alpha_p_value(
    x: Sequence[float], population: int, eta: float, upper: float = 1.0, t: float = 0.5
) -> float:
    """The ALPHA supermartingale's P-value for the hypothesis that the population mean of
    ``x`` is at most ``t``, sampling without replacement from ``population`` items bounded
    by ``upper``, with the fixed alternative mean ``eta`` (the least P-value seen)."""
    return min(_alpha_steps(x, population, eta, upper, t), default=1.0)


def alpha_sample_size(
    value: float, alpha: float, population: int, eta: float, upper: float = 1.0, t: float = 0.5
) -> int:
    """Ballots ALPHA needs when every sampled assorter value is ``value``."""
    for n, p in enumerate(_alpha_steps(repeat(value, population), population, eta, upper, t), 1):
        if p <= alpha:
            return n
    return population
