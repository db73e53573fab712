"""Ranked ballots as columns, and the walk down each ballot's rankings done for every ballot
group at once.

A contest of a million ballots is a few thousand to a few tens of thousands of distinct
ballots. :class:`RankedBallots` holds them grouped, as rows of small integers: for each
group its rankings from first to last (one candidate code per ranking, skipped rankings
left out), the rank of each, and how many ballots are in the group. A round of the count
then looks at every group through NumPy arrays (:class:`Walk`) instead of a Python object
per group.

Codes: ``0 .. n-1`` are the candidates (``candidates[c]``), ``n`` a ranking the voting
system reports only as overvoted (:data:`~canvass.tabulate.rcv_model.OVERVOTE_LABEL`),
``n + 1 + s`` the several candidates of ``sets[s]`` marked at one ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from canvass.errors import TabulationError
from canvass.tabulate.rcv_model import OVERVOTE_LABEL, Ballot, Status

Array = np.ndarray[Any, Any]

STATUSES = tuple(Status)
"""Status codes in the count's arrays: the index of a :class:`Status` in this tuple."""
ACTIVE = STATUSES.index(Status.ACTIVE)
UNDERVOTE = STATUSES.index(Status.UNDERVOTE)
OVERVOTE = STATUSES.index(Status.OVERVOTE)
SKIPPED = STATUSES.index(Status.SKIPPED)
EXHAUSTED = STATUSES.index(Status.EXHAUSTED)
REPEATED = STATUSES.index(Status.REPEATED)
FINAL_ROUND_SURPLUS = STATUSES.index(Status.FINAL_ROUND_SURPLUS)


@dataclass(frozen=True)
class RankedBallots:
    """Ballots grouped: identical rankings (and precinct and batch, when counted by them)
    once, with their number."""

    candidates: tuple[str, ...]
    """The names codes stand for."""
    choices: Array
    """int32, one row per group: the code marked at each ranking the ballots have, first to
    last; -1 after the last."""
    ranks: Array
    """int16, the same shape: the rank of each ranking (1 for the first choice)."""
    counts: Array
    """int64: ballots in each group."""
    sets: tuple[tuple[int, ...], ...] = ()
    """Candidates marked together at one ranking (an overvote), for codes above ``n``."""
    slices: dict[str, tuple[Array, tuple[str, ...]]] = field(default_factory=dict)
    """For ``"precinct"`` and ``"batch"`` when known: each group's index into the names."""

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def total(self) -> int:
        return int(self.counts.sum())


def from_ballots(ballots: Sequence[Ballot], candidates: Sequence[str]) -> RankedBallots:
    """:class:`Ballot` objects as columns, group by group in the order given. A ranking
    that names a candidate not in ``candidates`` is an error."""
    code = {c: k for k, c in enumerate(candidates)}
    n = len(candidates)
    code[OVERVOTE_LABEL] = n
    sets: dict[tuple[int, ...], int] = {}
    width = max((len(b.rankings) for b in ballots), default=0)
    choices = np.full((len(ballots), max(width, 1)), -1, np.int32)
    ranks = np.zeros((len(ballots), max(width, 1)), np.int16)
    for g, b in enumerate(ballots):
        for j, (rank, marked) in enumerate(b.rankings):
            unknown = [c for c in marked if c not in code]
            if unknown:
                raise TabulationError(f"a ballot ranks {unknown[0]!r}, who is not a candidate")
            if len(marked) == 1:
                choices[g, j] = code[marked[0]]
            else:
                if OVERVOTE_LABEL in marked:
                    raise TabulationError(
                        "a ranking names candidates and is also marked as an overvote"
                    )
                members = tuple(code[c] for c in marked)
                choices[g, j] = n + 1 + sets.setdefault(members, len(sets))
            ranks[g, j] = rank
    slices: dict[str, tuple[Array, tuple[str, ...]]] = {}
    for kind in ("precinct", "batch"):
        values = [getattr(b, kind) for b in ballots]
        if ballots and all(v is not None for v in values):
            names = tuple(sorted(set(values)))
            index = {s: k for k, s in enumerate(names)}
            slices[kind] = (np.array([index[v] for v in values], np.int32), names)
    return RankedBallots(
        tuple(candidates),
        choices,
        ranks,
        np.array([b.count for b in ballots], np.int64),
        tuple(sets),
        slices,
    )


def concatenate(parts: Sequence[RankedBallots]) -> RankedBallots:
    """Several sources' ballots as one, identical groups merged, in the order first seen.
    Every part must name the same candidates (and sets are renumbered)."""
    if len(parts) == 1:
        return parts[0]
    candidates = parts[0].candidates
    n = len(candidates)
    sets: dict[tuple[int, ...], int] = {}
    width = max(p.choices.shape[1] for p in parts)
    kinds = [k for k in ("precinct", "batch") if all(k in p.slices for p in parts)]
    names = {k: tuple(sorted({s for p in parts for s in p.slices[k][1]})) for k in kinds}
    rows = []
    for p in parts:
        if p.candidates != candidates:
            raise ValueError("ballots of several sources must name the same candidates")
        renumber = np.arange(n + 1 + len(p.sets), dtype=np.int32)
        for s, members in enumerate(p.sets):
            renumber[n + 1 + s] = n + 1 + sets.setdefault(members, len(sets))
        choices = np.full((len(p), width), -1, np.int32)
        ranks = np.zeros((len(p), width), np.int16)
        here = p.choices.shape[1]
        choices[:, :here] = np.where(p.choices >= 0, renumber[p.choices], -1)
        ranks[:, :here] = p.ranks
        columns = [choices, ranks.astype(np.int32)]
        for k in kinds:
            index, own = p.slices[k]
            at = {s: i for i, s in enumerate(names[k])}
            lookup = np.array([at[s] for s in own] or [0], np.int32)
            columns.append(lookup[index][:, None])
        rows.append((np.hstack(columns), p.counts))
    keys = np.vstack([r for r, _ in rows])
    counts = np.concatenate([c for _, c in rows])
    group, size = row_groups(keys)
    first = np.full(size, len(keys), np.int64)
    np.minimum.at(first, group, np.arange(len(keys)))
    order = np.argsort(first, kind="stable")  # the groups in the order first seen
    seen_as = np.empty_like(order)
    seen_as[order] = np.arange(len(order))
    merged = np.zeros(size, np.int64)
    np.add.at(merged, seen_as[group], counts)
    unique = keys[first[order]]
    slices = {k: (unique[:, 2 * width + i].astype(np.int32), names[k]) for i, k in enumerate(kinds)}
    return RankedBallots(
        candidates,
        np.ascontiguousarray(unique[:, :width]),
        unique[:, width : 2 * width].astype(np.int16),
        merged,
        tuple(sets),
        slices,
    )


def row_groups(keys: Array, limit: int = 1 << 62) -> tuple[Array, int]:
    """For each row of ``keys`` (integers), the number of its distinct row among all, in
    the order ``np.unique(keys, axis=0)`` sorts them, and how many distinct rows there are.
    Each column is numbered by the rank of its value, and the numbers are joined into one
    integer per row (numbered again before the joined numbers would pass ``limit``);
    numbering is by hashing (Arrow), then sorting only the distinct values. On a million
    rows this is tens of times faster than sorting them as records."""
    joined = np.zeros(len(keys), np.int64)
    span = 1
    for column in keys.T:
        codes, size = ranked(column)
        if span * size >= limit:
            joined, span = ranked(joined)
        joined = joined * size + codes
        span *= size
    return ranked(joined)


def ranked(values: Array) -> tuple[Array, int]:
    """Each value's rank among the distinct values, and how many there are."""
    import pyarrow as pa

    encoded = pa.array(values).dictionary_encode()
    order = np.argsort(encoded.dictionary.to_numpy())
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank[encoded.indices.to_numpy()], len(order)


class Walk:
    """Walks down the rankings of many ballot groups at once, as RCTab walks down one
    ballot's: the first ranking that settles the ballot decides whether it counts for a
    candidate or becomes inactive, and why.

    Everything that depends on the ballot alone is worked out once: where a ballot has
    skipped more rankings than allowed, and where it ranks a candidate it ranked before.
    What depends on the round (who is continuing) is looked up per code."""

    def __init__(
        self,
        ballots: RankedBallots,
        overvote_rule: str,
        max_skipped_ranks: int | None,
        exhaust_on_duplicate: bool,
    ) -> None:
        self.ballots = ballots
        n = len(ballots.candidates)
        self.n = n
        choices, ranks = ballots.choices, ballots.ranks.astype(np.int32)
        present = choices >= 0
        self.length = present.sum(axis=1)
        rows = np.arange(len(ballots))
        self.last_rank = np.where(
            self.length > 0, ranks[rows, np.maximum(self.length - 1, 0)], 0
        ).astype(np.int32)
        self.choices = choices
        self.ranks = ranks
        self.skipped: Array | None = None
        if max_skipped_ranks is not None:
            previous = np.zeros_like(ranks)
            previous[:, 1:] = ranks[:, :-1]
            self.skipped = present & (ranks - previous > max_skipped_ranks + 1)
        self.repeated: Array | None = None
        if exhaust_on_duplicate:
            self.repeated = self._repeated(choices, present)
        kinds = 1 + n + len(ballots.sets)
        label = np.zeros(kinds, bool)
        label[n] = True
        several = np.zeros(kinds, bool)
        several[n + 1 :] = True
        # What a ranking of several candidates (or the overvote label) does, whoever is
        # continuing; exhaustIfMultipleContinuing decides per round (:meth:`walk`).
        if overvote_rule == "exhaustImmediately":
            self.exhaust, self.skip = label | several, np.zeros(kinds, bool)
        elif overvote_rule == "alwaysSkipToNextRank":
            self.exhaust, self.skip = np.zeros(kinds, bool), label | several
        else:
            self.exhaust, self.skip = np.zeros(kinds, bool), label.copy()
        self.per_round = overvote_rule == "exhaustIfMultipleContinuing" and bool(ballots.sets)
        self.members = [np.array(m, np.int64) for m in ballots.sets]

    def _repeated(self, choices: Array, present: Array) -> Array:
        """Rankings that name a candidate (or the overvote label) named at an earlier one."""
        n = self.n
        repeated = np.zeros(choices.shape, bool)
        for j in range(1, choices.shape[1]):
            for i in range(j):
                repeated[:, j] |= present[:, j] & (choices[:, i] == choices[:, j])
        with_sets = np.flatnonzero((choices > n).any(axis=1))
        for g in with_sets.tolist():  # rare: a ballot with an overvoted ranking
            seen: set[int] = set()
            for j in range(int(self.length[g])):
                code = int(choices[g, j])
                marked = self.ballots.sets[code - n - 1] if code > n else (code,)
                repeated[g, j] = any(c in seen for c in marked)
                seen.update(marked)
        return repeated

    def walk(
        self, groups: Array, continuing: Array, final_round_surplus: bool
    ) -> tuple[Array, Array]:
        """For the groups at ``groups`` (indices), the candidate each now counts for (-1:
        none) and its status; ``continuing`` says for each candidate code whether the
        candidate is continuing; ``final_round_surplus``: every seat is filled."""
        n = self.n
        to = np.full(len(groups), -1, np.int64)
        status = np.full(len(groups), ACTIVE, np.int8)
        length = self.length[groups]
        status[length == 0] = UNDERVOTE
        unsettled = length > 0
        if final_round_surplus:
            status[unsettled] = FINAL_ROUND_SURPLUS
            return to, status
        pick = np.full(1 + n + len(self.members), -1, np.int64)
        pick[:n] = np.where(continuing[:n], np.arange(n), -1)
        exhaust = self.exhaust
        if self.per_round:
            exhaust = exhaust.copy()
            for s, members in enumerate(self.members):
                live = members[continuing[members]]
                if len(live) > 1:
                    exhaust[n + 1 + s] = True
                elif len(live) == 1:
                    pick[n + 1 + s] = live[0]
        for j in range(self.choices.shape[1]):
            at = np.flatnonzero(unsettled & (length > j))
            if not len(at):
                break
            g = groups[at]
            settled = np.zeros(len(at), bool)
            for flags, why in ((self.skipped, SKIPPED), (self.repeated, REPEATED)):
                if flags is not None:
                    hit = flags[g, j] & ~settled
                    status[at[hit]] = why
                    settled |= hit
            code = self.choices[g, j]
            last = self.ranks[g, j] == self.last_rank[g]
            out = exhaust[code] & ~settled
            status[at[out]] = OVERVOTE
            settled |= out
            chosen = np.where(self.skip[code], -1, pick[code])
            counts_for = (chosen >= 0) & ~settled
            to[at[counts_for]] = chosen[counts_for]
            settled |= counts_for
            spent = last & ~settled
            status[at[spent]] = EXHAUSTED
            settled |= spent
            unsettled[at[settled]] = False
        return to, status
