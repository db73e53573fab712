"""The columnar ranked-choice count gives, for any ballots under any rules, exactly the
rounds of the count written one ballot group at a time (``tests/rcv_reference.py``, which
passed RCTab's conformance suite first): every tally, inactive count, threshold, transfer
(in the same order) and decimal place, for the contest and for each precinct."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.errors import TabulationError
from canvass.tabulate.rcv import (
    OVERVOTE_LABEL,
    UNDECLARED_WRITE_INS,
    Ballot,
    Round,
    Rules,
    Tabulation,
    group,
    tabulate_passes,
)
from canvass.tabulate.rcv_ballots import concatenate, from_ballots
from tests import rcv_reference

NAMES = ("Ann", "Bo", "Cy", "Di", "Ed", UNDECLARED_WRITE_INS)


@st.composite
def contests(draw: st.DrawFn) -> tuple[list[Ballot], Rules, tuple[str, ...]]:
    n = draw(st.integers(2, 6))
    names = NAMES[-n - 1 :] if draw(st.booleans()) else NAMES[:n]  # with write-ins or not
    declared = [c for c in names if c != UNDECLARED_WRITE_INS]
    pick = st.sampled_from([*names, OVERVOTE_LABEL])
    ballots = []
    for _ in range(draw(st.integers(0, 30))):
        ranks = draw(st.lists(st.integers(1, 5), max_size=5, unique=True))
        rankings = []
        for rank in sorted(ranks):
            marked = draw(st.lists(pick, min_size=1, max_size=3, unique=True))
            if OVERVOTE_LABEL in marked:
                marked = [OVERVOTE_LABEL]
            rankings.append((rank, tuple(marked)))
        precinct = draw(st.sampled_from(["p1", "p2", "p3"]))
        ballots.append(Ballot(tuple(rankings), draw(st.integers(1, 4)), precinct, "b1"))
    mode = draw(
        st.sampled_from(
            [
                "singleWinnerMajority",
                "multiWinnerAllowOnlyOneWinnerPerRound",
                "multiWinnerAllowMultipleWinnersPerRound",
                "bottomsUp",
                "bottomsUpUsingPercentageThreshold",
                "multiPassIrv",
            ]
        )
    )
    single = mode == "singleWinnerMajority"
    winners = 1 if single else draw(st.integers(2, max(2, len(declared))))
    tiebreak = draw(
        st.sampled_from(
            ["useCandidateOrder", "random", "generatePermutation", "previousRoundCountsThenRandom"]
        )
    )
    rules = Rules(
        candidates=names,
        excluded=frozenset(
            draw(st.lists(st.sampled_from(declared), max_size=1 if len(declared) > 2 else 0))
        ),
        winner_mode=mode,
        number_of_winners=winners,
        overvote_rule=draw(
            st.sampled_from(
                ["alwaysSkipToNextRank", "exhaustImmediately", "exhaustIfMultipleContinuing"]
            )
        ),
        tiebreak_mode=tiebreak,
        random_seed=draw(st.integers(-1000, 1000)),
        max_skipped_ranks=draw(st.sampled_from([None, 0, 1, 2])),
        exhaust_on_duplicate=draw(st.booleans()),
        batch_elimination=draw(st.booleans()),
        continue_until_two=single and draw(st.booleans()),
        minimum_vote_threshold=Decimal(draw(st.sampled_from([0, 0, 2]))),
        decimal_places=draw(st.sampled_from([1, 4, 9, 12])),
        non_integer_threshold=draw(st.booleans()),
        hare_quota=draw(st.booleans()),
        first_round_determines_threshold=draw(st.booleans()),
        bottoms_up_percentage=Decimal("0.25")
        if mode == "bottomsUpUsingPercentageThreshold"
        else None,
        cutoff_elimination=draw(st.booleans()),
    )
    slices = draw(st.sampled_from([(), ("precinct",), ("precinct", "batch")]))
    return ballots, rules, slices


def _round(r: Round) -> Any:
    """Everything a round holds, numbers as the decimal strings reports print, dictionaries
    in their order."""
    return (
        r.number,
        [(c, str(v)) for c, v in r.tally.items()],
        [(s, str(v)) for s, v in r.inactive.items()],
        str(r.active),
        str(r.threshold),
        r.elected,
        r.eliminated,
        [(c, [(to, str(v)) for to, v in t.items()]) for c, t in r.transfers.items()],
        str(r.residual_surplus),
    )


def _everything(passes: list[Tabulation]) -> Any:
    return [
        (
            [_round(r) for r in t.rounds],
            t.winners,
            str(t.ballots),
            t.undervotes,
            t.tiebreaks,
            sorted(t.decided_by_tie),
            {k: {s: [_round(r) for r in rs] for s, rs in v.items()} for k, v in t.slices.items()},
        )
        for t in passes
    ]


def _outcome(count: Any, *args: Any) -> Any:
    try:
        return _everything(count(*args))
    except TabulationError as e:
        return str(e)


def _reference_passes(ballots: list[Ballot], rules: Rules, slices: tuple[str, ...]) -> Any:
    return rcv_reference.tabulate_passes(ballots, rules, slices)


@settings(max_examples=400, deadline=None)
@given(contests())
def test_the_columnar_count_is_the_reference_count(
    contest: tuple[list[Ballot], Rules, tuple[str, ...]],
) -> None:
    ballots, rules, slices = contest
    want = _outcome(_reference_passes, ballots, rules, slices)
    assert _outcome(tabulate_passes, ballots, rules, slices) == want


@settings(max_examples=100, deadline=None)
@given(contests(), st.integers(1, 4))
def test_sources_joined_count_as_their_ballots_together(
    contest: tuple[list[Ballot], Rules, tuple[str, ...]], parts: int
) -> None:
    ballots, rules, slices = contest
    if not ballots:
        return
    pieces = [ballots[i::parts] for i in range(parts)]
    joined = concatenate([from_ballots(p, rules.candidates) for p in pieces if p])
    grouped = group([b for p in pieces for b in p])
    assert joined.total == sum(b.count for b in ballots)
    assert _outcome(tabulate_passes, joined, rules, slices) == _outcome(
        _reference_passes, grouped, rules, slices
    )


def test_an_unknown_candidate_is_named() -> None:
    ballots = [Ballot(((1, ("Zed",)),))]
    try:
        from_ballots(ballots, ("Ann", "Bo"))
    except TabulationError as e:
        assert str(e) == "a ballot ranks 'Zed', who is not a candidate"
    else:
        raise AssertionError("no error")


def test_wide_decimal_places_stay_exact() -> None:
    # 3 seats, 12 decimal places: products beyond 64 bits are summed as Python integers.
    names = ("A", "B", "C", "D")
    ballots = [
        Ballot(((1, ("A",)), (2, ("B",))), 700_001),
        Ballot(((1, ("B",)), (2, ("C",))), 200_000),
        Ballot(((1, ("C",)),), 100_000),
        Ballot(((1, ("D",)), (2, ("A",))), 50_003),
    ]
    rules = Rules(
        candidates=names,
        winner_mode="multiWinnerAllowMultipleWinnersPerRound",
        number_of_winners=3,
        decimal_places=12,
    )
    ours = tabulate_passes(ballots, rules)
    assert _everything(ours) == _everything(rcv_reference.tabulate_passes(ballots, rules))
    assert ours[0].rounds[0].transfers  # a surplus was passed on
    assert any(len(str(v).partition(".")[2]) == 12 for v in ours[0].rounds[1].tally.values())


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from([0, 1, 2, 1 << 40, 1 << 63, (1 << 64) - 1]), min_size=6, max_size=6
        ),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([1 << 62, 8]),
)
def test_distinct_rows_are_numpys(rows: list[list[int]], limit: int) -> None:
    """Rows grouped by hashing each column and joining the numbers come out as
    ``np.unique(axis=0)`` sorts them, with the same counts; also when the joined numbers
    must be numbered again on the way (a limit of 8 forces it)."""
    from canvass.tabulate.rctab import _distinct_rows

    keys = np.array(rows, np.uint64)
    unique, counts = _distinct_rows(keys, limit)
    want, want_counts = np.unique(keys, axis=0, return_counts=True)
    assert unique.tolist() == want.tolist()
    assert counts.tolist() == want_counts.tolist()
