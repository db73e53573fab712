"""The normalized ballot table: one row per ballot card, whatever system scanned it.

Every reader in ``canvass.ingest`` produces this table, so tabulation, reconciliation and
audits never see a vendor format. Columns:

==================  ==============================  =========================================
column              type                            meaning
==================  ==============================  =========================================
county              dictionary<string>              county (or the import's jurisdiction)
tabulator           dictionary<string>              scanner that read the card
batch               dictionary<string>              batch, unique within the tabulator
record              string                          record within the batch (may be "X")
imprinted_id        string                          id printed on the card, when there is one
ballot_style        dictionary<string>              ballot style (ballot type)
precinct            dictionary<string>              precinct
precinct_portion    dictionary<string>              precinct portion (split)
counting_group      dictionary<string>              vendor's counting group
vote_type           dictionary<string>              election_day, early, absentee, ...
ballot              int64                           the ballot the card is a sheet of (below)
sheet               int8                            the card's sheet on its ballot, from 0;
                                                    -1 when the export does not say
contests            list<int16>                     contests on the card (index, see below)
marks               list<struct<contest: int16,     every mark on the card
                    choice: int16, rank: int8,
                    status: int8>>
==================  ==============================  =========================================

``contest`` and ``choice`` are small integers into the table's *contest list*, kept in the
Parquet schema metadata under ``canvass.contests`` as JSON::

    [{"name": "PRESIDENT", "votes_allowed": 1, "ranks": 0,
      "choices": [{"name": "HARRIS", "kind": "candidate"}, ...]}, ...]

so counting is integer arithmetic over columns. ``kind`` is ``candidate``,
``write_in`` (an undeclared write-in line) or ``declared_write_in``. A contest of a
partisan primary also names its ``party``.

A mark's ``status`` says whether the voting system counted the mark as a vote; whether the
contest was overvoted is decided by tabulation, from the votes a card has in the contest
and the contest's ``votes_allowed``, the same way for every vendor.

**Ballots, not cards.** A ballot of several sheets is several cards. Poll books count
voters, and a voter casts one ballot, so the table also says which cards form one ballot,
as far as the export says it (:func:`ballot_weights` counts them):

- cards of one table that share a ``ballot`` number (other than -1) are the sheets of one
  ballot: a Dominion session that lists several ``Cards``;
- a card alone under its ``ballot`` number (or under -1) that carries a ``sheet`` is a
  sheet scanned as a record of its own (San Francisco's Dominion export holds one card per
  session, each with its ``PaperIndex``; NIST SP 1500-103 CVRs are usually one per sheet,
  with a ``BallotSheetId``). Such sheets are counted by *unit* — the cards alike in county,
  tabulator, batch, precinct, portion, ballot style, counting group and vote type, all of
  which one ballot's sheets share: the unit holds as many ballots as it holds cards of its
  most frequent sheet (a ballot returned without some of its sheets still counts once);
- any other card is a ballot on its own, unless the import gave a *card count per ballot*
  for a format that says nothing of sheets (``canvass import --cards-per-ballot N``, kept
  in the table's metadata under ``canvass.cards_per_ballot``): then each such unit holds
  its cards ÷ N ballots, rounded up.

Tables written before these two columns existed are read as one ballot per card
(:func:`read_table` adds ``ballot`` and ``sheet`` as -1); their bytes, and so their
SHA-256 in the log, never change.
"""

from __future__ import annotations

import bisect
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from canvass.errors import IngestError

# Mark status codes.
VOTE = 0
"""The system counted the mark as a vote (before any overvote rule)."""
NOT_A_VOTE = 1
"""A mark the system did not count (too faint, or adjudicated away)."""
AMBIGUOUS = 2
"""A mark the system flagged as ambiguous and did not count."""

OVERVOTE = 3
"""The voting system reports this rank (or contest) as overvoted without naming the choices
(ES&S's ``overvote`` label); the mark's choice is -1."""

STATUS_NAMES = {
    VOTE: "vote",
    NOT_A_VOTE: "not_a_vote",
    AMBIGUOUS: "ambiguous",
    OVERVOTE: "overvote",
}

CARD_FIELDS = (
    "county",
    "tabulator",
    "batch",
    "record",
    "imprinted_id",
    "ballot_style",
    "precinct",
    "precinct_portion",
    "counting_group",
    "vote_type",
)
_PLAIN_STRINGS = {"record", "imprinted_id"}
NO_BALLOT = -1
"""``ballot`` and ``sheet`` when the export does not say."""
MARK_TYPE = pa.struct(
    [("contest", pa.int16()), ("choice", pa.int16()), ("rank", pa.int8()), ("status", pa.int8())]
)
SCHEMA = pa.schema(
    [
        *(
            (
                name,
                pa.string() if name in _PLAIN_STRINGS else pa.dictionary(pa.int32(), pa.string()),
            )
            for name in CARD_FIELDS
        ),
        ("ballot", pa.int64()),
        ("sheet", pa.int8()),
        ("contests", pa.list_(pa.int16())),
        ("marks", pa.list_(MARK_TYPE)),
    ]
)
MAX_RANK = 127
"""The highest rank the table holds (``rank`` is an int8)."""
MAX_CONTESTS = MAX_CHOICES = 32_767
"""The most contests a table, and choices a contest, may have (``contest`` and ``choice``
are int16)."""
METADATA_KEY = b"canvass.contests"
CARDS_PER_BALLOT_KEY = b"canvass.cards_per_ballot"
MEDIA_TYPE = "application/vnd.apache.parquet"


@dataclass
class ChoiceInfo:
    name: str
    kind: str = "candidate"
    """``candidate``, ``write_in`` (undeclared write-in line) or ``declared_write_in``."""


@dataclass
class ContestInfo:
    name: str
    votes_allowed: int = 1
    ranks: int = 0
    """Rankings allowed; 0 for a contest that is not ranked."""
    choices: list[ChoiceInfo] = field(default_factory=list)
    party: str = ""
    """The party whose primary this contest is; empty for a contest open to every voter."""

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "votes_allowed": self.votes_allowed,
            "ranks": self.ranks,
            "choices": [{"name": c.name, "kind": c.kind} for c in self.choices],
        }
        if self.party:
            doc["party"] = self.party
        return doc


def check_contests(contests: list[ContestInfo], where: str, grown: int | None = None) -> None:
    """Refuse a contest list that has outgrown the table's int16 indices: call it when a
    contest is added, or (with ``grown``) before a choice is added to that contest."""
    if len(contests) > MAX_CONTESTS:
        raise IngestError(
            f"{where}: expected at most {MAX_CONTESTS:,} contests in one import; found more"
        )
    if grown is not None and len(contests[grown].choices) >= MAX_CHOICES:
        raise IngestError(
            f"{where}: expected at most {MAX_CHOICES:,} choices in contest "
            f"{contests[grown].name!r}; found more"
        )


def contests_from_metadata(schema: pa.Schema) -> list[ContestInfo]:
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ValueError("not a Canvass ballot table: no contest list in its metadata")
    return [
        ContestInfo(
            c["name"],
            c["votes_allowed"],
            c["ranks"],
            [ChoiceInfo(ch["name"], ch["kind"]) for ch in c["choices"]],
            c.get("party", ""),
        )
        for c in json.loads(raw)
    ]


Mark = tuple[int, int, int, int]
"""A mark as readers produce it: contest, choice, rank, status."""

Card = tuple[tuple[str, ...], list[int], list[Mark]]
"""A card as readers produce it: its fields in :data:`CARD_FIELDS` order, the contests on
it, and its marks."""

SheetCard = tuple[tuple[str, ...], list[int], list[Mark], int, int]
"""A card of a reader that knows its ballot: a :data:`Card`, then its ``ballot`` number and
its ``sheet`` (see the module's docstring)."""


class BallotTableBuilder:
    """Collects cards column by column and hands out Arrow record batches.

    Readers yield cards to :func:`batches`, which adds them here and flushes a record batch
    every ``batch_size`` cards."""

    def __init__(self, batch_size: int = 65_536) -> None:
        self.batch_size = batch_size
        self._reset()

    def _reset(self) -> None:
        self.card_fields: list[tuple[str, ...]] = []
        self.ballots: list[int] = []
        self.sheets: list[int] = []
        self.contest_offsets = [0]
        self.contest_values: list[int] = []
        self.mark_offsets = [0]
        self.mark_values: list[Mark] = []

    def __len__(self) -> int:
        return len(self.card_fields)

    def add_card(
        self,
        fields: tuple[str, ...],
        contests: list[int],
        ballot: int = NO_BALLOT,
        sheet: int = NO_BALLOT,
    ) -> None:
        """Start a card: ``fields`` in :data:`CARD_FIELDS` order, the ballot it is a sheet of
        and its sheet when the export says; its marks follow with :meth:`add_marks`."""
        self.card_fields.append(fields)
        self.ballots.append(ballot)
        self.sheets.append(sheet)
        self.contest_values.extend(contests)
        self.contest_offsets.append(len(self.contest_values))
        self.mark_offsets.append(self.mark_offsets[-1])

    def add_marks(self, marks: Iterable[Mark]) -> None:
        """Marks of the current card."""
        self.mark_values.extend(marks)
        self.mark_offsets[-1] = len(self.mark_values)

    def full(self) -> bool:
        return len(self.card_fields) >= self.batch_size

    def flush(self) -> pa.RecordBatch:
        arrays: list[pa.Array] = []
        # One column at a time: zip(*rows) over tens of thousands of rows is far slower.
        rows = self.card_fields
        columns = [[row[i] for row in rows] for i in range(len(CARD_FIELDS))]
        for name, values in zip(CARD_FIELDS, columns, strict=True):
            array = pa.array(values, pa.string())
            arrays.append(array if name in _PLAIN_STRINGS else array.dictionary_encode())
        arrays.append(pa.array(self.ballots, pa.int64()))
        try:
            arrays.append(pa.array(self.sheets, pa.int8()))
        except (OverflowError, pa.ArrowInvalid):
            raise IngestError(
                f"a card's sheet number is beyond what the ballot table holds (0 to {MAX_RANK})"
            ) from None
        arrays.append(
            pa.ListArray.from_arrays(
                pa.array(self.contest_offsets, pa.int32()),
                pa.array(self.contest_values, pa.int16()),
            )
        )
        try:
            flat = np.fromiter(
                chain.from_iterable(self.mark_values), np.int16, 4 * len(self.mark_values)
            ).reshape(-1, 4)
        except (OverflowError, ValueError, TypeError):
            flat = np.zeros((0, 4), np.int16)
        if len(flat) != len(self.mark_values) or (flat[:, 2] > MAX_RANK).any():
            self._refuse_mark()
        marks = pa.StructArray.from_arrays(
            [
                pa.array(flat[:, 0]),
                pa.array(flat[:, 1]),
                pa.array(flat[:, 2].astype(np.int8)),
                pa.array(flat[:, 3].astype(np.int8)),
            ],
            fields=list(MARK_TYPE),
        )
        arrays.append(pa.ListArray.from_arrays(pa.array(self.mark_offsets, pa.int32()), marks))
        batch = pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)
        self._reset()
        return batch

    def _refuse_mark(self) -> NoReturn:
        """Name the first card with a mark the table cannot hold (readers check their
        numbers; this is the last line of defence, never reached by a reader that does)."""
        for i, (contest, choice, rank, status) in enumerate(self.mark_values):
            if not (
                0 <= contest <= MAX_CONTESTS
                and -1 <= choice <= MAX_CHOICES
                and 0 <= rank <= MAX_RANK
                and 0 <= status <= OVERVOTE
            ):
                card = bisect.bisect_right(self.mark_offsets, i) - 1
                fields = dict(zip(CARD_FIELDS, self.card_fields[card], strict=True))
                raise IngestError(
                    f"card {fields['record']!r} of batch {fields['batch']!r}: a mark "
                    f"(contest {contest}, choice {choice}, rank {rank}) is beyond what the "
                    f"ballot table holds (ranks up to {MAX_RANK}, {MAX_CHOICES:,} choices)"
                )
        raise IngestError("a mark is beyond what the ballot table holds")


def batches(
    cards: Iterable[Card] | Iterable[SheetCard], batch_size: int = 65_536
) -> Iterator[pa.RecordBatch]:
    """The cards as record batches of at most about ``batch_size`` cards."""
    builder = BallotTableBuilder(batch_size)
    for card in cards:
        builder.add_card(*card[:2], *card[3:])
        builder.add_marks(card[2])
        if builder.full():
            yield builder.flush()
    if len(builder):
        yield builder.flush()


def with_contests(schema: pa.Schema, contests: list[ContestInfo]) -> pa.Schema:
    return schema.with_metadata({METADATA_KEY: json.dumps([c.to_json() for c in contests])})


def to_parquet(
    batches: Iterable[pa.RecordBatch],
    contests: list[ContestInfo],
    cards_per_ballot: int | None = None,
) -> tuple[bytes, int]:
    """Write a ballot table as Parquet bytes (zstd), its contest list (and the card count per
    ballot the import was given, if any) in the metadata, consuming the batches as they
    come; returns the bytes and the number of cards."""
    sink = io.BytesIO()
    schema = with_contests(SCHEMA, contests)
    if cards_per_ballot is not None:
        schema = schema.with_metadata(
            {**(schema.metadata or {}), CARDS_PER_BALLOT_KEY: str(cards_per_ballot).encode()}
        )
    cards = 0
    # Dictionary pages only for the columns that are dictionaries: for the per-card strings
    # (record, imprinted id) and the mark integers they cost time and save nothing.
    dictionaries = [name for name in CARD_FIELDS if name not in _PLAIN_STRINGS]
    with pq.ParquetWriter(sink, schema, compression="zstd", use_dictionary=dictionaries) as writer:
        for batch in batches:
            writer.write_batch(batch.replace_schema_metadata(schema.metadata))
            cards += batch.num_rows
        if not cards:
            writer.write_table(schema.empty_table())
    return sink.getvalue(), cards


THREADED_READ = 4 << 20
"""Bytes of Parquet from which reading it is spread over threads; below, a thread pool
costs more than it saves."""


def read_parquet(data: bytes | pa.Buffer) -> pa.Table:
    """A Parquet file held in memory, read as ``pq.read_table`` reads it, without its
    dataset layer: an election of a hundred counties reads a hundred small tables, each
    in about half the time ``read_table`` takes."""
    return pq.ParquetFile(pa.BufferReader(data)).read(use_threads=len(data) >= THREADED_READ)


def read_table(data: bytes | pa.Buffer) -> tuple[pa.Table, list[ContestInfo]]:
    """A stored ballot table and its contest list; a table written before the ``ballot``
    and ``sheet`` columns is given them (-1: one ballot per card), in memory only."""
    table = read_parquet(data)
    contests = contests_from_metadata(table.schema)
    for name, kind in (("ballot", pa.int64()), ("sheet", pa.int8())):
        if name not in table.column_names:
            table = table.add_column(
                SCHEMA.get_field_index(name),
                pa.field(name, kind),
                pa.array(np.full(table.num_rows, NO_BALLOT), kind),
            )
    return table, contests


def cards_per_ballot(table: pa.Table) -> int | None:
    """The card count per ballot an import was given (see the module's docstring)."""
    raw = (table.schema.metadata or {}).get(CARDS_PER_BALLOT_KEY)
    return int(raw) if raw else None


UNIT_FIELDS = (
    "county",
    "tabulator",
    "batch",
    "precinct",
    "precinct_portion",
    "ballot_style",
    "counting_group",
    "vote_type",
)
"""What every sheet of one ballot has in common: cards alike in these are one *unit*."""


def ballot_weights(table: pa.Table) -> npt.NDArray[np.int8]:
    """For each card, 1 if it counts as a ballot, else 0, by the rules of the module's
    docstring: summed over any cards a breakdown groups (a precinct, a vote type, a
    batch), the ballots among them."""
    n = table.num_rows
    weights = np.ones(n, np.int8)
    if n == 0 or "ballot" not in table.column_names:  # a table of one ballot per card
        return weights
    ballot = np.asarray(table.column("ballot").to_numpy(), np.int64)
    sheet = np.asarray(table.column("sheet").to_numpy(), np.int64)
    shared = _shared(ballot)
    if shared.any():
        # The first card of each ballot of several sheets counts; the others do not.
        order = np.argsort(ballot, kind="stable")
        first = np.ones(n, bool)
        first[order[1:]] = ballot[order[1:]] != ballot[order[:-1]]
        weights[shared & ~first] = 0
    loose = ~shared & (sheet >= 0)
    per_ballot = cards_per_ballot(table)
    if (loose & (sheet > 0)).any():
        _count_units(table, loose, sheet, weights)
    if per_ballot is not None and per_ballot > 1:
        rest = ~shared & (sheet < 0)
        _count_units(table, rest, np.zeros(n, np.int64), weights, per_ballot)
    return weights


def _shared(ballot: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether each card shares its ballot number (other than -1) with another card.
    Readers write a ballot's cards one after another, so neighbours are compared first;
    any other order is sorted."""
    n = len(ballot)
    numbered = ballot != NO_BALLOT
    if not numbered.any():
        return np.zeros(n, bool)
    if n > 1 and (np.diff(ballot) >= 0).all():
        same_as_next = np.zeros(n, bool)
        same_as_next[:-1] = ballot[1:] == ballot[:-1]
        same_as_previous = np.zeros(n, bool)
        same_as_previous[1:] = same_as_next[:-1]
        shared: npt.NDArray[np.bool_] = (same_as_next | same_as_previous) & numbered
        return shared
    _, inverse, counts = np.unique(ballot, return_inverse=True, return_counts=True)
    repeated: npt.NDArray[np.bool_] = (counts[inverse.reshape(-1)] > 1) & numbered
    return repeated


def _count_units(
    table: pa.Table,
    cards: npt.NDArray[np.bool_],
    sheet: npt.NDArray[np.int64],
    weights: npt.NDArray[np.int8],
    per_ballot: int | None = None,
) -> None:
    """Weigh ``cards`` unit by unit: with ``per_ballot``, one card in each ``per_ballot`` of
    a unit counts (its cards ÷ N, rounded up); else the cards of the unit's most frequent
    sheet count (the lowest such sheet on a tie), and no other."""
    at = np.flatnonzero(cards)
    if not at.size:
        return
    codes = []
    for name in UNIT_FIELDS:
        # As text: each record batch of a large table has a dictionary of its own.
        column = table.column(name).take(pa.array(at)).cast(pa.string()).combine_chunks()
        encoded = column.dictionary_encode()
        codes.append(np.asarray(encoded.indices.fill_null(0).to_numpy(), np.int64))
    _, unit = np.unique(np.stack(codes), axis=1, return_inverse=True)
    unit = unit.reshape(-1)
    weights[at] = 0
    if per_ballot is not None:
        order = np.argsort(unit, kind="stable")
        starts = np.r_[0, np.flatnonzero(np.diff(unit[order])) + 1]
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        weights[at[order[rank % per_ballot == 0]]] = 1
        return
    sheets = sheet[at]
    width = int(sheets.max()) + 1
    per_sheet = np.bincount(unit * width + sheets, minlength=(int(unit.max()) + 1) * width)
    most = per_sheet.reshape(-1, width).argmax(axis=1)  # the lowest sheet on a tie
    weights[at[sheets == most[unit]]] = 1
