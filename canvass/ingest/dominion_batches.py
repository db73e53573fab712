"""A Dominion export's cards, turned into the ballot table's record batches.

A worker reads a CVR file into a :class:`Part`: each card's ids and marks as the export's
own numbers, in NumPy and Arrow arrays (the least to send between processes).
:class:`Columns` gathers the parts in the export's order and cuts them into record batches
every ``batch_size`` cards, however the files were read, working out the names and the
mark fields a whole batch at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from canvass.ingest.ballots import AMBIGUOUS, MARK_TYPE, NO_BALLOT, NOT_A_VOTE, SCHEMA, VOTE

if TYPE_CHECKING:
    from canvass.ingest.dominion import DominionExport


# Mark status by [ranked contest][IsVote][IsAmbiguous]. In a ranked contest every mark that
# is not ambiguous is a ranking; elsewhere IsVote decides, ambiguity only naming the reason.
_STATUS = np.array(
    [
        [[NOT_A_VOTE, AMBIGUOUS], [VOTE, VOTE]],
        [[VOTE, AMBIGUOUS], [VOTE, AMBIGUOUS]],
    ],
    np.int8,
).reshape(-1)
"""Flattened: the status of a mark is at ``4 * ranked + 2 * IsVote + ambiguous``."""


@dataclass
class Part:
    """The cards of one CVR file, as the export's own numbers (see :class:`Columns`)."""

    tabulator: npt.NDArray[np.int64]
    batch: npt.NDArray[np.int64]
    record: pa.Array
    """Each card's record, as text."""
    group: pa.Array
    portion: pa.Array
    ballot_type: pa.Array
    """int64, null where the session gives none."""
    session: npt.NDArray[np.int32]
    """Each card's session, numbered from 0 in the file."""
    sessions: int
    sheet: pa.Array
    """int8, null where the card gives none."""
    contest_counts: npt.NDArray[np.int32]
    contests: npt.NDArray[np.int16]
    """Each card's contests, as the table numbers them."""
    mark_counts: npt.NDArray[np.int32]
    marks: npt.NDArray[np.signedinteger[Any]]
    """Each card's marks, each as one integer (see :class:`Columns`): 32 bits where the
    export's (contest, choice) pairs fit, so that less is sent between processes."""

    def __len__(self) -> int:
        return len(self.tabulator)


class Columns:
    """Cards read but not yet handed out, kept as the export's own numbers, file by file.

    Per card: the session's ids (tabulator, batch, record, counting group, precinct
    portion, ballot type) and its number in the export (the ballot), its sheet, its
    contests, and each mark as one integer,
    ``pair << 10 | rank << 2 | IsVote << 1 | ambiguous``, where ``pair`` numbers the
    (contest, choice) pairs of the manifests and ``rank`` is at most 127. The names and the
    mark fields are worked out a whole record batch at a time, in NumPy and Arrow; record
    batches are cut every ``batch_size`` cards across files, however the files were read."""

    def __init__(self, export: DominionExport, county: str) -> None:
        self.export = export
        self.county = county
        self.pair_contest = np.array(export.pair_contest, np.int16)
        self.pair_choice = np.array(export.pair_choice, np.int16)
        # Where a pair's statuses start in the flattened _STATUS: 4 for a ranked contest.
        self.pair_ranked = 4 * np.array(export.ranked, np.int64)[self.pair_contest]
        self.parts: deque[tuple[Part, int]] = deque()
        """Files read, each with the number of its sessions read before it."""
        self.start = 0
        """Cards of the first part already handed out."""
        self.cards = 0
        self.sessions = 0
        """Sessions read so far: each session's number is its ``ballot``."""

    def __len__(self) -> int:
        return self.cards

    def add(self, part: Part) -> None:
        self.parts.append((part, self.sessions))
        self.sessions += part.sessions
        self.cards += len(part)

    def _take(self, cards: int) -> list[tuple[Part, int, slice]]:
        """The next ``cards`` cards: (part, sessions before it, its cards taken)."""
        taken = []
        while cards:
            part, before = self.parts[0]
            end = min(len(part), self.start + cards)
            taken.append((part, before, slice(self.start, end)))
            cards -= end - self.start
            self.cards -= end - self.start
            if end == len(part):
                self.parts.popleft()
                self.start = 0
            else:
                self.start = end
        return taken

    def flush(self, cards: int) -> pa.RecordBatch:
        export = self.export
        taken = self._take(cards)

        def joined(name: str) -> Any:
            pieces = [getattr(p, name)[at] for p, _, at in taken]
            if isinstance(pieces[0], np.ndarray):
                return np.concatenate(pieces)
            return pa.concat_arrays(pieces)

        def flat(counts: str, values: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[Any]]:
            """Each card's count of values, and the values, for the cards taken."""
            pieces, numbers = [], []
            for p, _, at in taken:
                every = getattr(p, counts)
                ends = np.cumsum(every)
                first = int(ends[at.start - 1]) if at.start else 0
                pieces.append(getattr(p, values)[first : int(ends[at.stop - 1]) if at.stop else 0])
                numbers.append(every[at])
            return np.concatenate(numbers), np.concatenate(pieces)

        tabulators = pa.array(joined("tabulator")).cast(pa.string())
        batch_names = pa.array(joined("batch")).cast(pa.string())
        records = joined("record")
        groups = _ids(joined("group"))
        portions = _ids(joined("portion"))
        ballot = np.concatenate(
            [p.session[at].astype(np.int64) + before for p, before, at in taken]
        )
        contest_counts, contests = flat("contest_counts", "contests")
        mark_counts, codes = flat("mark_counts", "marks")
        arrays = [
            pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(cards, np.int32)), pa.array([self.county], pa.string())
            ),
            tabulators.dictionary_encode(),
            batch_names.dictionary_encode(),
            records,
            pc.binary_join_element_wise(tabulators, batch_names, records, "-"),
            _named(
                _ids(joined("ballot_type")),
                lambda i: export.ballot_types.get(i or -1, str(i or "")),
            ),
            _named(portions, lambda i: export.portion_precinct.get(i or -1, "")),
            _named(portions, lambda i: export.portions.get(i or -1, str(i or ""))),
            _named(groups, lambda i: export.counting_groups.get(i or -1, "")),
            _named(groups, lambda i: vote_type_of(export.counting_groups.get(i or -1, ""))),
            pa.array(ballot, pa.int64()),
            joined("sheet").fill_null(NO_BALLOT),
            pa.ListArray.from_arrays(pa.array(_offsets(contest_counts)), pa.array(contests)),
        ]
        pair = codes >> 10
        marks = pa.StructArray.from_arrays(
            [
                pa.array(self.pair_contest[pair], pa.int16()),
                pa.array(self.pair_choice[pair], pa.int16()),
                pa.array(((codes >> 2) & 0xFF).astype(np.int8)),
                pa.array(_STATUS[self.pair_ranked[pair] + (codes & 3)]),
            ],
            fields=list(MARK_TYPE),
        )
        arrays.append(pa.ListArray.from_arrays(pa.array(_offsets(mark_counts)), marks))
        return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _offsets(counts: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    offsets = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return offsets


def _ids(values: pa.Array) -> pa.DictionaryArray:
    """Ids, each distinct one once in the dictionary; a missing id is read as 0, which the
    lookups read as no id at all."""
    encoded: pa.DictionaryArray = values.fill_null(0).dictionary_encode()
    return encoded


def _named(ids: pa.DictionaryArray, name: Callable[[int], str]) -> pa.DictionaryArray:
    """A dictionary column of each id's name, each distinct name once in the dictionary."""
    names: pa.DictionaryArray = pa.array(
        [name(i) for i in ids.dictionary.to_pylist()], pa.string()
    ).dictionary_encode()
    indices = names.indices.to_numpy()[ids.indices.to_numpy()]
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), names.dictionary)


def vote_type_of(counting_group: str) -> str:
    """The vote type a counting group's name implies ('' when it does not say)."""
    name = counting_group.lower()
    for words, vote_type in (
        (("provisional",), "provisional"),
        (("uocava", "overseas", "military"), "uocava"),
        (("mail", "absentee", "vbm", "by mail"), "absentee"),
        (("early", "advance"), "early"),
        (("election day", "in person", "in-person", "polling", "precinct"), "election_day"),
    ):
        if any(w in name for w in words):
            return vote_type
    return ""
