"""Plurality, vote-for-N and yes/no counting over the normalized ballot table.

For each contest and each card the contest is on (NIST SP 1500-100 conventions):

- the card's votes are its marks in the contest with status ``vote``; in a ranked contest,
  its highest-ranked marks (rank 1, or the first rank marked after skipped ones), which
  gives first-choice counts as round 1 of an instant runoff counts them;
- more votes than ``votes_allowed`` is an **overvote**: none of them count, and the card
  adds ``votes_allowed`` to the contest's overvotes;
- otherwise each vote counts for its choice, and ``votes_allowed - votes`` are
  **undervotes**.

So for every contest ``sum(votes) + undervotes + overvotes = votes_allowed × ballots``.
A **blank** card has no vote and no overvote in any contest. Everything is integer
arithmetic on NumPy arrays built from the table's columns; no Python loop runs per card.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from canvass.ingest.ballots import VOTE, ContestInfo

BY = (
    "county",
    "precinct",
    "precinct_portion",
    "batch",
    "tabulator",
    "vote_type",
    "counting_group",
    "ballot_style",
)


@dataclass
class ContestTotals:
    contest: str
    votes_allowed: int
    ballots: int = 0
    """Cards the contest was on."""
    votes: dict[str, int] = field(default_factory=dict)
    """Votes per choice, in the contest's choice order."""
    overvotes: int = 0
    overvoted_ballots: int = 0
    undervotes: int = 0
    write_ins: int = 0
    """Votes for undeclared write-in lines."""
    declared_write_ins: int = 0

    @property
    def total_votes(self) -> int:
        return sum(self.votes.values())

    def to_json(self) -> dict[str, object]:
        return {
            "contest": self.contest,
            "votes_allowed": self.votes_allowed,
            "ballots": self.ballots,
            "votes": self.votes,
            "total_votes": self.total_votes,
            "overvotes": self.overvotes,
            "overvoted_ballots": self.overvoted_ballots,
            "undervotes": self.undervotes,
            "write_ins": self.write_ins,
            "declared_write_ins": self.declared_write_ins,
        }


@dataclass
class Results:
    cards: int
    blank_ballots: int
    contests: list[ContestTotals]
    by: str | None = None
    groups: dict[str, list[ContestTotals]] = field(default_factory=dict)
    """With ``by``: the same totals for each value of that column."""


class _Columns:
    """The table flattened once into NumPy arrays shared by every contest's count."""

    def __init__(self, table: pa.Table) -> None:
        self.cards = table.num_rows
        marks = table.column("marks").combine_chunks()
        flat = pc.list_flatten(marks)
        self.mark_card = _np(pc.list_parent_indices(marks))
        self.mark_contest = _np(flat.field("contest"))
        self.mark_choice = _np(flat.field("choice"))
        self.mark_vote = _np(flat.field("status")) == VOTE
        self.mark_rank = _np(flat.field("rank"))
        contests = table.column("contests").combine_chunks()
        self.on_card = _np(pc.list_parent_indices(contests))
        self.on_contest = _np(pc.list_flatten(contests))


def _np(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.int64)


def _group_codes(table: pa.Table, by: str) -> tuple[list[str], npt.NDArray[np.int64]]:
    column = table.column(by).combine_chunks()
    if by == "batch":  # batch ids are unique only within their tabulator
        tabulator = table.column("tabulator").combine_chunks().cast(pa.string())
        column = pc.binary_join_element_wise(tabulator, column.cast(pa.string()), "/")
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    names = [str(v) for v in column.dictionary.to_pylist()]
    return names, _np(column.indices.fill_null(0))


def tabulate(table: pa.Table, contests: list[ContestInfo], by: str | None = None) -> Results:
    """Count every contest of a ballot table, optionally broken down by a card column."""
    table = table.unify_dictionaries()
    cols = _Columns(table)
    if by is None:
        names, codes = ["all"], np.zeros(cols.cards, dtype=np.int64)
    else:
        if by not in BY:
            raise ValueError(f"cannot break results down by {by!r}; choose one of {', '.join(BY)}")
        names, codes = _group_codes(table, by)
    groups = len(names)
    per_group: list[list[ContestTotals]] = [[] for _ in range(groups)]
    for c, info in enumerate(contests):
        for g, totals in enumerate(_count_contest(cols, c, info, codes, groups)):
            per_group[g].append(totals)
    voted_cards = np.zeros(cols.cards, dtype=bool)
    voted_cards[cols.mark_card[cols.mark_vote]] = True  # a vote or an overvote somewhere
    overall = per_group[0] if by is None else _sum_groups(per_group, contests)
    results = Results(cols.cards, int(cols.cards - voted_cards.sum()), overall, by)
    if by is not None:
        results.groups = dict(zip(names, per_group, strict=True))
    return results


def _count_contest(
    cols: _Columns, c: int, info: ContestInfo, codes: npt.NDArray[np.int64], groups: int
) -> list[ContestTotals]:
    allowed = info.votes_allowed
    choices = len(info.choices)
    on = cols.on_card[cols.on_contest == c]
    ballots = np.bincount(codes[on], minlength=groups)
    in_contest = (cols.mark_contest == c) & cols.mark_vote
    if info.ranks > 0:
        in_contest &= _first_ranked(cols, in_contest)
    vote_cards = cols.mark_card[in_contest]
    votes_per_card = np.bincount(vote_cards, minlength=cols.cards)
    over = votes_per_card > allowed
    overvoted = np.bincount(codes[on[over[on]]], minlength=groups)
    counted = ~over[vote_cards]
    cards_counted = vote_cards[counted]
    choice_counts = np.bincount(
        codes[cards_counted] * choices + cols.mark_choice[in_contest][counted],
        minlength=groups * choices,
    ).reshape(groups, choices)
    out = []
    for g in range(groups):
        votes = {ch.name: int(choice_counts[g, k]) for k, ch in enumerate(info.choices)}
        total = sum(votes.values())
        t = ContestTotals(
            info.name,
            allowed,
            int(ballots[g]),
            votes,
            overvotes=int(overvoted[g]) * allowed,
            overvoted_ballots=int(overvoted[g]),
            undervotes=int(ballots[g] - overvoted[g]) * allowed - total,
            write_ins=sum(
                int(choice_counts[g, k])
                for k, ch in enumerate(info.choices)
                if ch.kind == "write_in"
            ),
            declared_write_ins=sum(
                int(choice_counts[g, k])
                for k, ch in enumerate(info.choices)
                if ch.kind == "declared_write_in"
            ),
        )
        out.append(t)
    return out


def _first_ranked(cols: _Columns, marks: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Marks at the best (lowest) rank each card gives in the contest."""
    best = np.full(cols.cards, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, cols.mark_card[marks], cols.mark_rank[marks])
    first: npt.NDArray[np.bool_] = cols.mark_rank == best[cols.mark_card]
    return first


def _sum_groups(
    per_group: list[list[ContestTotals]], contests: Iterable[ContestInfo]
) -> list[ContestTotals]:
    overall = []
    for c, info in enumerate(contests):
        parts = [group[c] for group in per_group]
        t = ContestTotals(info.name, info.votes_allowed)
        t.votes = {ch.name: sum(p.votes[ch.name] for p in parts) for ch in info.choices}
        for name in (
            "ballots",
            "overvotes",
            "overvoted_ballots",
            "undervotes",
            "write_ins",
            "declared_write_ins",
        ):
            setattr(t, name, sum(getattr(p, name) for p in parts))
        overall.append(t)
    return overall
