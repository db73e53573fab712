"""RCTab's cast vote records read into ranked ballots, as a configuration
(:mod:`canvass.tabulate.rctab_config`) names them.

Sources are read with Canvass's own readers into the normalized ballot table, then each
card that carries the contest becomes a ranked ballot: its marks by rank, named by
candidate (a choice is matched to a candidate by name, alias, or the vendor's id), the
undeclared write-in line as :data:`~canvass.tabulate.rcv.UNDECLARED_WRITE_INS`, a rank the
system reports only as overvoted as :data:`~canvass.tabulate.rcv.OVERVOTE_LABEL`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from canvass.errors import IngestError, RulesError, TabulationError
from canvass.ingest.ballots import OVERVOTE, SCHEMA, VOTE, ContestInfo
from canvass.parallel import process_map, worth_it
from canvass.tabulate.rctab_config import MISSING, MISSING_CSV, ContestConfig, Source
from canvass.tabulate.rcv import UNDECLARED_WRITE_INS
from canvass.tabulate.rcv_ballots import RankedBallots, concatenate, row_groups

# --- reading the sources ------------------------------------------------------------------


@dataclass
class SourceTable:
    """A source read into the ballot table, and where its contest is in it."""

    table: pa.Table | Iterable[pa.RecordBatch]
    """The cards, or their record batches as they are read (to be gone through once)."""
    contests: list[ContestInfo]
    contest: int
    keys: list[list[str]]
    """For each choice of the contest, the labels it may be matched by (name, vendor ids)."""


def read_ballots(config: ContestConfig) -> RankedBallots:
    """Every ballot of every source that carries the contest, grouped (identical ballots
    counted once with their number). Sources are read side by side, one process a core."""
    sizes = (s.path.stat().st_size if s.path.is_file() else 0 for s in config.sources)
    ballots = concatenate(
        list(process_map(_source_ballots, config, config.sources, worth_it(sizes)))
    )
    precincts = ballots.slices.get("precinct")
    if precincts is not None and all(
        precincts[1][i] in (MISSING["precinct"], MISSING_CSV["precinct"])
        for i in np.unique(precincts[0]).tolist()
    ):
        raise RulesError(
            f"{config.path}: outputSettings.tabulateByPrecinct is on, but the cast vote "
            "records give no precincts"
        )
    return ballots


def _source_ballots(config: ContestConfig, source: Source) -> RankedBallots:
    return ranked_ballots(config, source, read_source(source))


def read_source(source: Source) -> SourceTable:
    """Read one source with the reader for its provider."""
    return _READERS[source.provider](source)


def ranked_ballots(config: ContestConfig, source: Source, read: SourceTable) -> RankedBallots:
    """The ballots of a source's table that carry the contest, as ranked ballots, grouped."""
    contest = read.contests[read.contest]
    candidates = list(config.rules.candidates)
    codes: list[int] = []
    for k, choice in enumerate(contest.choices):
        labels = read.keys[k]
        name = next((config.names[x] for x in labels if x in config.names), None)
        if name is None and (choice.kind == "write_in" or source.write_in_label in labels):
            name = UNDECLARED_WRITE_INS
        codes.append(candidates.index(name) if name in candidates else -1)
    unknown_hint = ""
    if any(c < 0 and ch.kind == "write_in" for c, ch in zip(codes, contest.choices, strict=True)):
        unknown_hint = "; give the source an undeclaredWriteInLabel to count undeclared write-ins"
    return table_ballots(
        read.table,
        read.contest,
        codes,
        candidates,
        max_rankings=config.rules.max_rankings,
        slices=config.slices,
        missing=MISSING_CSV if source.provider == "genericCsv" else MISSING,
        where=f"{source.path}: contest {contest.name!r}",
        unknown=f"is not a candidate or alias in {config.path.name}{unknown_hint}",
        choice_names=[ch.name for ch in contest.choices],
    )


def table_ballots(
    table: pa.Table | Iterable[pa.RecordBatch],
    contest: int,
    codes: list[int],
    candidates: list[str],
    *,
    max_rankings: int | None = None,
    slices: Sequence[str] = (),
    missing: dict[str, str] = MISSING,
    where: str = "",
    unknown: str = "is not a candidate",
    choice_names: list[str] | None = None,
) -> RankedBallots:
    """The cards of a ballot table (or of its record batches, read one at a time) that
    carry ``contest``, as ranked ballots grouped (identical rankings, precinct and batch
    counted once). ``codes[k]`` is the candidate (an index into ``candidates``) choice
    ``k`` stands for, or -1 if none: a ballot marking it is an error. No Python loop runs
    per card: each card becomes a row of bit masks (one 64-bit word per 64 candidates per
    rank), and identical rows are counted together record batch by record batch, so only
    one batch's cards and the distinct rows so far are held at once."""
    lookup = np.array([*codes, 0], np.int64)
    limit = max_rankings or 127
    width = (len(candidates) + 1 + 63) // 64
    names: list[dict[str, int]] = [{} for _ in slices]
    found: list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], int]] = []
    for batch in table.to_batches() if isinstance(table, pa.Table) else table:
        rows = batch.num_rows
        on = batch.column("contests")
        on_card = np.zeros(rows, dtype=bool)
        on_card[
            pc.list_parent_indices(on).to_numpy()[
                pc.equal(pc.list_flatten(on), contest).to_numpy(zero_copy_only=False)
            ]
        ] = True
        marks = batch.column("marks")
        flat = pc.list_flatten(marks)
        contest_of = flat.field("contest").to_numpy()
        status = flat.field("status").to_numpy()
        keep = (contest_of == contest) & ((status == VOTE) | (status == OVERVOTE))
        card = pc.list_parent_indices(marks).to_numpy()[keep]
        choice = flat.field("choice").to_numpy()[keep].astype(np.int64)
        rank = np.maximum(flat.field("rank").to_numpy()[keep], 1).astype(np.int64)
        explicit = status[keep] == OVERVOTE
        code = np.where(explicit, len(candidates), lookup[np.where(explicit, -1, choice)])
        del flat, contest_of, status, keep
        strays = np.flatnonzero(code < 0)
        if len(strays):
            names_of = choice_names or [str(k) for k in range(len(codes))]
            which = sorted({names_of[int(choice[i])] for i in strays})
            raise IngestError(
                f"{where}: {', '.join(map(repr, which))} (first on ballot "
                f"{_card_id(batch, int(card[strays[0]]))}) {unknown}"
            )
        bad = np.flatnonzero(rank > limit)
        if len(bad):
            raise IngestError(
                f"{where}: ballot {_card_id(batch, int(card[bad[0]]))} ranks a candidate at "
                f"rank {int(rank[bad[0]])}; maxRankingsAllowed is {limit}"
            )
        top = int(rank.max()) if len(rank) else 1
        keys = np.zeros((rows, top * width + len(slices)), dtype=np.uint64)
        np.bitwise_or.at(
            keys.reshape(-1),
            card * keys.shape[1] + (rank - 1) * width + code // 64,
            np.left_shift(np.uint64(1), (code % 64).astype(np.uint64)),
        )
        del card, choice, rank, code
        for n, kind in enumerate(slices):
            values = pc.fill_null(batch.column(kind).cast(pa.string()), "")
            encoded = pc.if_else(pc.equal(values, ""), missing[kind], values).dictionary_encode()
            seen = names[n]
            # Numbered in the order first met over the whole table, as one encoding would.
            number = np.array(
                [seen.setdefault(s, len(seen)) for s in encoded.dictionary.to_pylist()] or [0],
                np.uint64,
            )
            keys[:, top * width + n] = number[encoded.indices.to_numpy(zero_copy_only=False)]
        if not on_card.all():
            keys = keys[on_card]
        if len(keys):
            found.append((*_distinct_rows(keys), top))
    top = max((t for _, _, t in found), default=1)
    parts = []
    for unique, _, t in found:  # a batch whose rankings stop sooner: empty words after them
        wide = np.zeros((len(unique), top * width + len(slices)), np.uint64)
        wide[:, : t * width] = unique[:, : t * width]
        wide[:, top * width :] = unique[:, t * width :]
        parts.append(wide)
    every = np.concatenate(parts) if parts else np.zeros((0, top * width + len(slices)), np.uint64)
    weights = np.concatenate([c for _, c, _ in found]) if found else np.zeros(0, np.int64)
    del found, parts
    unique, counts = _distinct_rows(every, weights=weights)
    choices, ranked, sets = _rankings(unique[:, : top * width], top, width, len(candidates))
    return RankedBallots(
        tuple(candidates),
        choices,
        ranked,
        counts.astype(np.int64),
        sets=tuple(sets),
        slices={
            kind: (unique[:, top * width + n].astype(np.int32), tuple(names[n]))
            for n, kind in enumerate(slices)
        },
    )


def _distinct_rows(
    keys: np.ndarray[Any, Any],
    limit: int = 1 << 62,
    weights: np.ndarray[Any, Any] | None = None,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The distinct rows of ``keys``, sorted as ``np.unique(keys, axis=0)`` sorts them, and
    how many times each occurs (the sum of its rows' ``weights``, if given); see
    :func:`~canvass.tabulate.rcv_ballots.row_groups`."""
    codes, size = row_groups(keys, limit)
    one_of_each = np.empty(size, np.int64)
    one_of_each[codes] = np.arange(len(codes))  # any row of a group: they are the same
    if weights is None:
        return keys[one_of_each], np.bincount(codes, minlength=size)
    total = np.zeros(size, np.int64)
    np.add.at(total, codes, weights)
    return keys[one_of_each], total


def _rankings(
    masks: np.ndarray[Any, Any], top: int, width: int, n: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any], list[tuple[int, ...]]]:
    """Each distinct ballot's rankings from its bit masks (``width`` 64-bit words per rank,
    bit ``c`` for candidate code ``c``, bit ``n`` for a rank reported only as overvoted):
    the code marked at each rank present, first to last, the rank of each, and the sets of
    candidates marked together at one rank (codes ``n + 1 + s``)."""
    rows = len(masks)
    words = masks.reshape(rows, top, width)
    marks = np.bitwise_count(words).sum(axis=2, dtype=np.int64)
    codes = np.full((rows, top), -1, np.int32)
    # One mark: its word's index × 64 + its bit's position (2^k − 1 has k bits set).
    word_at = np.argmax(words != 0, axis=2)
    word = np.take_along_axis(words, word_at[..., None], axis=2)[..., 0]
    position = np.bitwise_count(word - np.uint64(1)).astype(np.int64)
    one = marks == 1
    codes[one] = (word_at * 64 + position)[one]
    sets: dict[tuple[int, ...], int] = {}
    for g, r in zip(*np.nonzero(marks > 1), strict=True):  # rare: an overvoted rank
        marked = tuple(
            w * 64 + b
            for w, value in enumerate(words[g, r].tolist())
            for b in range(64)
            if value >> b & 1
        )
        if n in marked:
            raise TabulationError("a ranking names candidates and is also marked as an overvote")
        codes[g, r] = n + 1 + sets.setdefault(marked, len(sets))
    order = np.argsort(marks == 0, axis=1, kind="stable")  # the ranks present, in order
    choices = np.take_along_axis(codes, order, axis=1)
    ranks = np.take_along_axis(
        np.broadcast_to(np.arange(1, top + 1, dtype=np.int16), (rows, top)), order, axis=1
    )
    ranks[choices < 0] = 0
    return choices, ranks, list(sets)


def _card_id(batch: pa.RecordBatch, row: int) -> str:
    return str(batch.column("imprinted_id")[row].as_py() or batch.column("record")[row].as_py())


# --- one reader per provider --------------------------------------------------------------


def _contest(found: int | None, source: Source, contests: list[ContestInfo]) -> int:
    if found is None:
        raise IngestError(
            f"{source.path}: no contest {source.contest_id!r}; the files have "
            + ", ".join(repr(c.name) for c in contests)
        )
    return found


def _table(reader: Any) -> pa.Table:
    return pa.Table.from_batches(list(reader.read("")), schema=SCHEMA)


def _ess(source: Source) -> SourceTable:
    from canvass.ingest.ess import EssOptions, EssWorkbooks

    reader = EssWorkbooks(
        [source.path],
        EssOptions(
            first_vote_column=source.first_vote_column or 2,
            first_vote_row=source.first_vote_row or 2,
            id_column=source.id_column,
            precinct_column=source.precinct_column,
            batch_column=source.batch_column,
            overvote_label=source.overvote_label or "\0",
            skipped_rank_label=source.skipped_rank_label or "\0",
            write_in_label=source.write_in_label or "\0",
            overvote_delimiter=source.overvote_delimiter,
            blank_is_write_in=source.blank_is_write_in,
        ),
    )
    table = _table(reader)
    return SourceTable(table, reader.contests, 0, [[c.name] for c in reader.contests[0].choices])


def _generic_csv(source: Source) -> SourceTable:
    from canvass.ingest.rctab_csv import RctabCsv, RctabCsvOptions

    reader = RctabCsv(
        [source.path],
        RctabCsvOptions(
            first_vote_column=source.first_vote_column or 2,
            first_vote_row=source.first_vote_row or 2,
            id_column=source.id_column,
            precinct_column=source.precinct_column,
            batch_column=source.batch_column,
            write_in_label=source.write_in_label,
        ),
    )
    batches = reader.read("")  # counted as they are read, never held all at once
    return SourceTable(batches, reader.contests, 0, [[c.name] for c in reader.contests[0].choices])


def _dominion(source: Source) -> SourceTable:
    from canvass.ingest.dominion import DominionExport

    export = DominionExport([source.path])
    try:
        wanted = int(source.contest_id)
    except ValueError:
        wanted = -1
    c = _contest(export.contest_index.get(wanted), source, export.contests)
    keys: list[list[str]] = [[ch.name] for ch in export.contests[c].choices]
    for cid, (contest, k) in export.choice_index.items():
        if contest == c:
            keys[k].insert(0, str(cid))
    return SourceTable(_table(export), export.contests, c, keys)


def _cdf(source: Source) -> SourceTable:
    from canvass.ingest.nist_cvr import NistCvrReport

    report = NistCvrReport([source.path])
    found = report.contest_index.get(source.contest_id)
    if found is None and not source.contest_id and len(report.contests) == 1:
        found = 0
    if found is None:
        found = next(
            (i for i, c in enumerate(report.contests) if c.name == source.contest_id), None
        )
    c = _contest(found, source, report.contests)
    keys: list[list[str]] = [[ch.name] for ch in report.contests[c].choices]
    for (cid, sid), k in report.selection_index.items():
        if report.contest_index[cid] == c:
            keys[k].append(sid)
    return SourceTable(_table(report), report.contests, c, keys)


def _clear_ballot(source: Source) -> SourceTable:
    from canvass.ingest.clear_ballot import ClearBallotCsv

    reader = ClearBallotCsv([source.path])
    names = [c.name for c in reader.contests]
    c = _contest(
        names.index(source.contest_id) if source.contest_id in names else None,
        source,
        reader.contests,
    )
    return SourceTable(
        _table(reader), reader.contests, c, [[ch.name] for ch in reader.contests[c].choices]
    )


def _hart(source: Source) -> SourceTable:
    from canvass.ingest.hart import HartExport

    export = HartExport([source.path])
    c = _contest(export.contest_index.get(source.contest_id), source, export.contests)
    keys = [
        [oid, ch.name]
        for oid, ch in zip(export.choice_ids[c], export.contests[c].choices, strict=True)
    ]
    return SourceTable(_table(export), export.contests, c, keys)


_READERS: dict[str, Callable[[Source], SourceTable]] = {
    "ess": _ess,
    "genericCsv": _generic_csv,
    "dominion": _dominion,
    "cdf": _cdf,
    "clearBallot": _clear_ballot,
    "hart": _hart,
}
