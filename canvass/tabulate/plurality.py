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

Partisan primaries on one ballot (an open primary: the card carries contests of several
parties): the voter's party is the one whose contests they voted in. The contests of the
other parties are not counted on that card (no ballot, no undervotes). A card with votes
in the contests of two or more parties has crossed over: each partisan contest it voted in
is overvoted and none of its votes count there. A card that voted in no party's contests
counts for none of them. (NIST's PRIM-01 and PRIM-02 test elections count this way.)
A **blank** card has no vote and no overvote in any contest. Everything is integer
arithmetic on NumPy arrays built from the table's columns; no Python loop runs per card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from canvass.ingest.ballots import OVERVOTE, VOTE, ContestInfo, ballot_weights

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
    """Cards with no vote (nor overvote) in any contest."""
    contests: list[ContestTotals]
    by: str | None = None
    groups: dict[str, list[ContestTotals]] = field(default_factory=dict)
    """With ``by``: the same totals for each value of that column."""
    ballots: int = 0
    """Ballots the cards form (:func:`~canvass.ingest.ballots.ballot_weights`)."""
    group_ballots: dict[str, tuple[int, int]] = field(default_factory=dict)
    """With ``by``: the ballots and the cards of each group."""


class _Columns:
    """The table's marks and contests flattened once into NumPy arrays, kept at their
    stored widths (int16 contests and choices): on large tables the cost is memory
    traffic, not arithmetic."""

    def __init__(self, batch: pa.RecordBatch) -> None:
        self.cards = batch.num_rows
        marks = batch.column("marks")
        flat = pc.list_flatten(marks)
        self.mark_card = _parents(marks)
        self.mark_contest = _np(flat.field("contest"))
        self.mark_choice = _np(flat.field("choice"))
        status = _np(flat.field("status"))
        self.mark_vote = status == VOTE
        self.mark_overvote = status == OVERVOTE
        self.mark_rank = _np(flat.field("rank"))
        contests = batch.column("contests")
        self.on_card = _parents(contests)
        self.on_contest = _np(pc.list_flatten(contests))


def _parents(lists: pa.ListArray) -> npt.NDArray[np.int32]:
    """For each element of the flattened lists, the index of its list (its card)."""
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    sizes = np.diff(offsets)
    return np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)


def _np(array: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return np.asarray(array.to_numpy(zero_copy_only=False))


def breakdown(by: str) -> list[str]:
    """The card columns a breakdown names: one (``precinct``) or several, comma-separated
    (``county,batch``); refused with the columns there are when one is not."""
    columns = [b.strip() for b in by.split(",")]
    for column in columns:
        if column not in BY:
            raise ValueError(
                f"cannot break results down by {column!r}; choose one of {', '.join(BY)}, "
                "or several separated by commas"
            )
    return columns


def _group_codes(table: pa.Table, by: str) -> tuple[list[str], npt.NDArray[np.int64]]:
    """Each card's group: its values of the breakdown's columns, joined by ``/``."""
    parts: list[pa.Array] = []
    for name in breakdown(by):
        if name == "batch":  # batch ids are unique only within their tabulator
            parts.append(table.column("tabulator").combine_chunks().cast(pa.string()))
        parts.append(table.column(name).combine_chunks().cast(pa.string()))
    column = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "/")
    encoded = column.dictionary_encode()
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    return names, _np(encoded.indices.fill_null(0))


CHUNK = 16_384
"""Cards counted at a time: small enough that the working arrays stay in cache."""


@dataclass
class _Counts:
    """Running totals, added up chunk by chunk."""

    votes: npt.NDArray[np.int64]
    """[group, contest's choice offset + choice]"""
    ballots: npt.NDArray[np.int64]
    """[group, contest]"""
    overvoted: npt.NDArray[np.int64]
    """[group, contest]"""
    voted_cards: int = 0


def tabulate(
    table: pa.Table,
    contests: list[ContestInfo],
    by: str | None = None,
    weights: npt.NDArray[np.int8] | None = None,
) -> Results:
    """Count every contest of a ballot table, optionally broken down by a card column.
    ``weights``: which cards count as ballots (:func:`~canvass.ingest.ballots.ballot_weights`
    of the table, unless tables were put together after each was weighed).

    The table is counted in chunks of cards (a card's contests never straddle two), each
    in one pass for all contests: votes are keyed by (card, contest) to find overvotes,
    then by (group, contest, choice) to count."""
    if weights is None:
        weights = ballot_weights(table)
    if by is None:
        names, codes = ["all"], np.zeros(table.num_rows, dtype=np.int64)
    else:
        names, codes = _group_codes(table, by)
    n_groups, n_contests = len(names), len(contests)
    offsets = np.cumsum([0, *(len(c.choices) for c in contests)])
    counts = _Counts(
        np.zeros((n_groups, int(offsets[-1])), np.int64),
        np.zeros((n_groups, n_contests), np.int64),
        np.zeros((n_groups, n_contests), np.int64),
    )
    start = 0
    for batch in table.to_batches(max_chunksize=CHUNK):
        _count_chunk(
            _Columns(batch), contests, offsets, codes[start : start + batch.num_rows], counts
        )
        start += batch.num_rows

    overall = _contest_totals(
        contests, offsets, counts.votes.sum(0), counts.ballots.sum(0), counts.overvoted.sum(0)
    )
    results = Results(
        table.num_rows, table.num_rows - counts.voted_cards, overall, by, ballots=int(weights.sum())
    )
    if by is not None:
        ballots = np.bincount(codes, weights=weights, minlength=n_groups)
        cards = np.bincount(codes, minlength=n_groups)
        results.group_ballots = {
            name: (int(ballots[g]), int(cards[g])) for g, name in enumerate(names)
        }
        results.groups = {
            name: _contest_totals(
                contests, offsets, counts.votes[g], counts.ballots[g], counts.overvoted[g]
            )
            for g, name in enumerate(names)
        }
    return results


def _contest_totals(
    contests: list[ContestInfo],
    offsets: npt.NDArray[np.int64],
    votes: npt.NDArray[np.int64],
    ballots: npt.NDArray[np.int64],
    overvoted: npt.NDArray[np.int64],
) -> list[ContestTotals]:
    """Totals per contest from votes per choice (all contests' choices end to end),
    ballots and overvoted ballots per contest."""
    out = []
    for c, info in enumerate(contests):
        row = votes[offsets[c] : offsets[c + 1]]
        by_kind = {kind: 0 for kind in ("candidate", "write_in", "declared_write_in")}
        for k, ch in enumerate(info.choices):
            by_kind[ch.kind] = by_kind.get(ch.kind, 0) + int(row[k])
        n, over = int(ballots[c]), int(overvoted[c])
        out.append(
            ContestTotals(
                info.name,
                info.votes_allowed,
                n,
                {ch.name: int(row[k]) for k, ch in enumerate(info.choices)},
                overvotes=over * info.votes_allowed,
                overvoted_ballots=over,
                undervotes=(n - over) * info.votes_allowed - int(row.sum()),
                write_ins=by_kind["write_in"],
                declared_write_ins=by_kind["declared_write_in"],
            )
        )
    return out


def _count_chunk(
    cols: _Columns,
    contests: list[ContestInfo],
    offsets: npt.NDArray[np.int64],
    codes: npt.NDArray[np.int64],
    counts: _Counts,
) -> None:
    # Marks that are not counted go to one extra bin past the end of each bincount, which
    # is then dropped: cheaper than copying every mark array without them.
    n_groups, n_choices = counts.votes.shape
    n_contests = len(contests)
    cells = cols.cards * n_contests
    allowed = np.array([c.votes_allowed for c in contests], dtype=np.int64)
    vote = cols.mark_vote | cols.mark_overvote
    ranked = np.array([c.ranks > 0 for c in contests], dtype=bool)
    key = cols.mark_card * n_contests + cols.mark_contest  # the mark's (card, contest)
    if ranked.any():
        in_ranked = vote & ranked[cols.mark_contest]
        vote = vote & (~ranked[cols.mark_contest] | _first_ranked(cols, in_ranked, n_contests))
    every_mark_votes = bool(vote.all())
    voting_key = key if every_mark_votes else np.where(vote, key, cells)
    per_card_contest = np.bincount(voting_key, minlength=cells + 1)[:cells]
    reported = cols.mark_overvote & vote
    if reported.any():  # a reported overvote: more than the contest allows
        per_card_contest += np.bincount(key[reported], minlength=cells) * (
            max(c.votes_allowed for c in contests) + 1
        )
    per_card_contest = per_card_contest.reshape(cols.cards, n_contests)
    over = per_card_contest > allowed
    off = _open_primary(cols, contests, per_card_contest, over)
    over, off = over.ravel(), off.ravel()
    any_off = bool(off.any())
    counted = vote & ~(over | off)[key] if over.any() or any_off else vote
    choice = offsets.astype(np.int32)[cols.mark_contest] + cols.mark_choice
    if n_groups > 1:
        choice = codes[cols.mark_card] * n_choices + choice
    if counted is not vote or not every_mark_votes:
        choice = np.where(counted, choice, n_groups * n_choices)
    counts.votes += np.bincount(choice, minlength=n_groups * n_choices + 1)[:-1].reshape(
        n_groups, n_choices
    )
    on_cell = cols.on_card * n_contests + cols.on_contest
    on_contest = (
        cols.on_contest if n_groups == 1 else codes[cols.on_card] * n_contests + cols.on_contest
    )
    if any_off:
        on_contest = np.where(off[on_cell], n_groups * n_contests, on_contest)
    counts.ballots += np.bincount(on_contest, minlength=n_groups * n_contests + 1)[:-1].reshape(
        n_groups, n_contests
    )
    over_at = np.flatnonzero(over & ~off)
    counts.overvoted += np.bincount(
        codes[over_at // n_contests] * n_contests + over_at % n_contests,
        minlength=n_groups * n_contests,
    ).reshape(n_groups, n_contests)
    voted = np.zeros(cols.cards, dtype=bool)
    any_vote = cols.mark_vote | cols.mark_overvote  # a vote or overvote, ranked or not
    voted[cols.mark_card if any_vote.all() else cols.mark_card[any_vote]] = True
    counts.voted_cards += int(voted.sum())


def _open_primary(
    cols: _Columns,
    contests: list[ContestInfo],
    votes: npt.NDArray[np.int64],
    over: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Apply the open-primary rule (see the module's docstring) to a chunk: marks crossed-over
    contests in ``over`` and returns the (card, contest) pairs not to count at all."""
    off = np.zeros(votes.shape, dtype=bool)
    parties = sorted({c.party for c in contests if c.party})
    if not parties:
        return off
    party = np.array([parties.index(c.party) if c.party else -1 for c in contests])
    partisan = party >= 0
    on = np.zeros(votes.shape, dtype=bool)
    on[cols.on_card, cols.on_contest] = True
    on_parties = np.zeros((cols.cards, len(parties)), dtype=bool)
    voted_parties = np.zeros((cols.cards, len(parties)), dtype=bool)
    for p in range(len(parties)):
        on_parties[:, p] = on[:, party == p].any(axis=1)
        voted_parties[:, p] = (votes[:, party == p] > 0).any(axis=1)
    open_card = on_parties.sum(axis=1) >= 2
    n_voted = voted_parties.sum(axis=1)
    chosen = voted_parties.argmax(axis=1)
    crossed = (open_card & (n_voted >= 2))[:, None] & partisan[None, :] & (votes > 0)
    over |= crossed
    keep = ((n_voted == 1)[:, None] & (party[None, :] == chosen[:, None])) | crossed
    off[:] = open_card[:, None] & partisan[None, :] & ~keep
    return off


def _first_ranked(
    cols: _Columns, marks: npt.NDArray[np.bool_], n_contests: int
) -> npt.NDArray[np.bool_]:
    """Marks at the best (lowest) rank each card gives in their contest."""
    key = cols.mark_card.astype(np.int64) * n_contests + cols.mark_contest
    best = np.full(cols.cards * n_contests, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, key[marks], cols.mark_rank[marks])
    first: npt.NDArray[np.bool_] = cols.mark_rank == best[key]
    return first


RESULTS_BY = ("county", "precinct", "vote_type")


def add_results_only(results: Results, rows: pa.Table, contests: list[ContestInfo]) -> Results:
    """Add results-only counts (county, precinct, vote type, contest, choice, votes) to
    tabulated results. They carry votes only: no ballots, overvotes or undervotes are
    known for them. Broken down by a column they do not have, they form one group,
    ``(results only)``."""
    if rows.num_rows == 0:
        return results
    offsets = np.cumsum([0, *(len(c.choices) for c in contests)])
    n_choices = int(offsets[-1])
    if results.by is not None and all(b in RESULTS_BY for b in breakdown(results.by)):
        names, codes = _group_codes(rows, results.by)
    else:
        names, codes = ["(results only)"], np.zeros(rows.num_rows, dtype=np.int64)
    choice = offsets[_np(rows.column("contest")).astype(np.int64)] + _np(rows.column("choice"))
    votes = (
        np.bincount(
            codes * n_choices + choice,
            weights=_np(rows.column("votes")),
            minlength=len(names) * n_choices,
        )
        .astype(np.int64)
        .reshape(len(names), n_choices)
    )

    def add(totals: list[ContestTotals], row: npt.NDArray[np.int64]) -> None:
        for c, (info, t) in enumerate(zip(contests, totals, strict=True)):
            for k, ch in enumerate(info.choices):
                t.votes[ch.name] += int(row[offsets[c] + k])
                if ch.kind == "write_in":
                    t.write_ins += int(row[offsets[c] + k])
                elif ch.kind == "declared_write_in":
                    t.declared_write_ins += int(row[offsets[c] + k])

    add(results.contests, votes.sum(axis=0))
    if results.by is not None:
        for g, name in enumerate(names):
            group = results.groups.setdefault(
                name,
                [
                    ContestTotals(c.name, c.votes_allowed, votes={ch.name: 0 for ch in c.choices})
                    for c in contests
                ],
            )
            add(group, votes[g])
    return results
