"""Where every ballot group's vote is during a ranked-choice count, and the sums a round
reports, over NumPy arrays.

Votes are whole numbers of *units* of ``10^-decimal_places``. RCTab's arithmetic is
``BigDecimal``'s: sums and differences exact, and a surplus's share and each ballot's part
of it cut down to ``decimal_places`` decimals; so every value is a whole number of units,
and integer sums are exact. Up to 9 decimal places every product fits in 64 bits; beyond,
the arrays hold Python integers.

A sum is handed back as the ``Decimal`` RCTab's would be, to the digit: ``8`` while only
whole ballots went into it, ``8.0000`` once a ballot whose value a surplus cut did (a
``BigDecimal`` sum keeps the larger scale of its terms).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from canvass.errors import TabulationError
from canvass.tabulate.rcv_ballots import ACTIVE, STATUSES, Array, RankedBallots
from canvass.tabulate.rcv_model import Round

Sums = list[tuple[int, Decimal]]


class Votes:
    """Each group's status, the candidate it counts for, and its value per ballot."""

    def __init__(self, ballots: RankedBallots, places: int, slice_kinds: Sequence[str]) -> None:
        self.places = places
        self.unit = 10**places
        self.n = len(ballots.candidates)
        dtype: Any = np.int64 if places <= 9 else object
        groups = len(ballots)
        self.counts = ballots.counts.astype(dtype)
        self.value = np.full(groups, self.unit, dtype)
        """Per ballot: the part of its vote still to count."""
        self.weight = self.counts * self.unit
        """``value × count``."""
        self.cut = np.zeros(groups, bool)
        """Groups whose value a surplus has cut (their votes carry decimals)."""
        self.status = np.full(groups, ACTIVE, np.int8)
        self.recipient = np.full(groups, -1, np.int64)
        """The candidate (code) each group counts for; -1: none."""
        self.kept: dict[int, Array] = {}
        """Per winner (code), per ballot of each group: the part of its vote the winner
        keeps (where ``keeps`` says the winner took part of it)."""
        self.keeps: dict[int, Array] = {}
        self.slice_index: list[Array] = []
        self.slice_ids: list[list[str]] = []
        """For each kind of slice counted: each group's slice, and the slices' names,
        sorted."""
        for kind in slice_kinds:
            if kind not in ballots.slices:
                if groups:
                    raise TabulationError(f"a ballot does not say its {kind}")
                self.slice_ids.append([])
                self.slice_index.append(np.zeros(0, np.int64))
                continue
            index, names = ballots.slices[kind]
            used = np.unique(index)
            ids = sorted(names[int(i)] for i in used)
            position = np.zeros(len(names), np.int64)
            position[used] = [ids.index(names[int(i)]) for i in used]
            self.slice_ids.append(ids)
            self.slice_index.append(position[index])

    def decimal(self, units: Any, cut: Any) -> Decimal:
        if cut:
            return Decimal(int(units)).scaleb(-self.places)
        return Decimal(int(units) // self.unit)

    def to_walk(self, continuing: Array) -> Array:
        """The groups whose candidate is no longer continuing (or who have none yet): the
        others stay where they are. ``continuing`` has one more entry, False, for -1."""
        active = self.status == ACTIVE
        return np.flatnonzero(active & ~continuing[self.recipient])

    def moves(self, walking: Array, to: Array) -> tuple[Sums, list[Sums]]:
        """Votes that move from where ``walking`` counted to ``to`` (-1: inactive), summed by
        (source, target) keyed ``source × (n + 2) + target`` with ``n`` for nowhere before
        and ``n + 1`` for inactive after; for the contest and for each kind of slice (there
        keyed ``slice × (n + 2)² + pair``). Each key in the order the groups first made that
        move. A group whose value is 0 moves nothing."""
        moving = self.value[walking] > 0
        walking, to = walking[moving], to[moving]
        names = self.n + 2
        source = self.recipient[walking]
        pair = np.where(source >= 0, source, self.n) * names + np.where(to >= 0, to, self.n + 1)
        per_slice = [
            self._sums(index[walking] * names * names + pair, walking) for index in self.slice_index
        ]
        return self._sums(pair, walking), per_slice

    def move(self, walking: Array, to: Array, status: Array) -> None:
        self.recipient[walking] = to
        self.status[walking] = status

    def _sums(self, keys: Array, groups: Array) -> Sums:
        if not len(keys):
            return []
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        totals = _sum_by(inverse, self.weight[groups], len(unique))
        cut = np.bincount(inverse, self.cut[groups], len(unique)) > 0
        return [
            (int(unique[i]), self.decimal(totals[i], cut[i]))
            for i in np.argsort(first, kind="stable").tolist()
        ]

    def fill(self, current: Round, slices: Sequence[Sequence[Round]], code: dict[str, int]) -> None:
        """The tallies and inactive ballots of the round for the contest, and for each kind of
        slice (one round per slice, in the order of ``slice_ids``)."""
        bins = self.n + len(STATUSES)
        where = np.where(
            self.status == ACTIVE, self.recipient, self.n + self.status.astype(np.int64)
        )
        self._fill([current], where, bins, code)
        for index, rounds in zip(self.slice_index, slices, strict=True):
            self._fill(rounds, index * bins + where, bins, code)

    def _fill(self, rounds: Sequence[Round], index: Array, bins: int, code: dict[str, int]) -> None:
        n = self.n
        totals = _sum_by(index, self.weight, bins * len(rounds)).reshape(-1, bins)
        cut = np.bincount(index, self.cut, bins * len(rounds)).reshape(-1, bins) > 0
        for rnd, sums, marked in zip(rounds, totals, cut, strict=True):
            for c in rnd.tally:
                k = code[c]
                rnd.tally[c] = self.decimal(sums[k], marked[k])
            rnd.active = self.decimal(sums[:n].sum(), marked[:n].any())
            for status in range(1, len(STATUSES)):
                rnd.inactive[STATUSES[status]] = self.decimal(sums[n + status], marked[n + status])

    def pass_surplus(self, winner: int, share: Decimal) -> None:
        """The ballots counting for ``winner`` go on at the ``share`` of their value the
        winner does not need (cut down to ``decimal_places``, as RCTab cuts it); the winner
        keeps the rest."""
        fraction = int(share.scaleb(self.places))  # exact: share has decimal_places digits
        at = np.flatnonzero(self.recipient == winner)
        moved = self.value[at] * fraction // self.unit
        dtype = self.value.dtype
        kept = self.kept.setdefault(winner, np.zeros(len(self.value), dtype))
        keeps = self.keeps.setdefault(winner, np.zeros(len(self.value), bool))
        kept[at] = self.value[at] - moved
        keeps[at] = True
        held = sum((k[at] for k in self.kept.values()), np.zeros(len(at), dtype))
        self.value[at] = self.unit - held
        self.weight[at] = self.value[at] * self.counts[at]
        self.cut[at] = True

    def kept_by(self, winner: int) -> tuple[Decimal, list[dict[int, Decimal]]] | None:
        """The votes ``winner`` keeps from the ballots whose surplus it passed on, for the
        contest and by slice; None if it kept none."""
        keeps = self.keeps.get(winner)
        if keeps is None or not keeps.any():
            return None
        at = np.flatnonzero(keeps)
        amounts = self.kept[winner][at] * self.counts[at]
        per_slice = []
        for index, ids in zip(self.slice_index, self.slice_ids, strict=True):
            where = index[at]
            totals = _sum_by(where, amounts, len(ids))
            per_slice.append({s: self.decimal(totals[s], True) for s in np.unique(where).tolist()})
        return self.decimal(amounts.sum(), True), per_slice


def _sum_by(index: Array, values: Array, size: int) -> Array:
    """``values`` summed by ``index`` exactly (``bincount`` would sum in floating point)."""
    out = np.zeros(size, values.dtype)
    np.add.at(out, index, values)
    return out
