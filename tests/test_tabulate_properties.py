"""Counting over the ballot table agrees with a naive count, card by card, for random ballots."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.ingest.ballots import (
    AMBIGUOUS,
    NOT_A_VOTE,
    SCHEMA,
    VOTE,
    ChoiceInfo,
    ContestInfo,
    batches,
)
from canvass.tabulate.plurality import tabulate

CONTESTS = [
    ContestInfo("mayor", 1, 0, [ChoiceInfo("a"), ChoiceInfo("b"), ChoiceInfo("w", "write_in")]),
    ContestInfo("council", 2, 0, [ChoiceInfo("c"), ChoiceInfo("d"), ChoiceInfo("e")]),
    ContestInfo("rcv", 1, 3, [ChoiceInfo("x"), ChoiceInfo("y"), ChoiceInfo("z")]),
]

mark = st.tuples(
    st.integers(0, 2), st.integers(1, 3), st.sampled_from([VOTE, VOTE, VOTE, NOT_A_VOTE, AMBIGUOUS])
)
card = st.tuples(
    st.sampled_from(["north", "south"]),
    st.lists(st.integers(0, 2), unique=True),
    st.dictionaries(st.integers(0, 2), st.lists(mark, max_size=4)),
)


def naive(
    cards: list[tuple[str, list[int], dict[int, list[tuple[int, int, int]]]]],
) -> dict[str, dict[str, object]]:
    out = {}
    for c, info in enumerate(CONTESTS):
        votes: Counter[str] = Counter()
        ballots = over = under = 0
        for _, on, marks in cards:
            if c not in on:
                continue
            ballots += 1
            mine = [m for m in marks.get(c, []) if m[2] == VOTE]
            if info.ranks:
                best = min((m[1] for m in mine), default=None)
                mine = [m for m in mine if m[1] == best]
            if len(mine) > info.votes_allowed:
                over += 1
                continue
            under += info.votes_allowed - len(mine)
            votes.update(info.choices[m[0]].name for m in mine)
        out[info.name] = {
            "ballots": ballots,
            "over": over,
            "under": under,
            "votes": {ch.name: votes[ch.name] for ch in info.choices},
        }
    return out


@settings(max_examples=150)
@given(st.lists(card, max_size=40))
def test_tabulation_matches_a_naive_count(
    cards: list[tuple[str, list[int], dict[int, list[tuple[int, int, int]]]]],
) -> None:
    table_cards = [
        (
            (county, "t1", "b1", "1", "", "s", "p", "pp", "g", "election_day"),
            on,
            [  # marks only for contests on the card, as every reader produces
                (contest, choice, rank if CONTESTS[contest].ranks else 1, status)
                for contest in on
                for choice, rank, status in marks.get(contest, [])
            ],
        )
        for county, on, marks in cards
    ]
    cleaned = [
        (
            county,
            on,
            {
                c: [(ch, r if CONTESTS[c].ranks else 1, s) for ch, r, s in ms]
                for c, ms in marks.items()
                if c in on
            },
        )
        for county, on, marks in cards
    ]
    table = pa.Table.from_batches(list(batches(table_cards, batch_size=7)), schema=SCHEMA)
    results = tabulate(table, CONTESTS)
    want = naive(cleaned)
    for t in results.contests:
        w = want[t.contest]
        assert (t.ballots, t.overvoted_ballots, t.undervotes, t.votes) == (
            w["ballots"],
            w["over"],
            w["under"],
            w["votes"],
        )
        assert t.total_votes + t.undervotes + t.overvotes == t.votes_allowed * t.ballots
    by_county = tabulate(table, CONTESTS, by="county")
    for c, t in enumerate(results.contests):
        assert sum(g[c].ballots for g in by_county.groups.values()) == t.ballots
        assert sum(g[c].total_votes for g in by_county.groups.values()) == t.total_votes
