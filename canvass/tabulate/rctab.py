"""RCTab contest configurations: read one, check it, and read its cast vote records into
ranked ballots.

An RCTab configuration (``*_config.json``) names the contest, its candidates (with aliases,
and whether each is excluded), the CVR files (``cvrFileSources``, paths relative to the
configuration file) and the rules. Every problem in a configuration is reported at once,
each naming the field and what it must be; nothing is counted from an invalid one.

Sources are read with Canvass's own readers into the normalized ballot table, then each
card that carries the contest becomes a ranked ballot: its marks by rank, named by
candidate (a choice is matched to a candidate by name, alias, or the vendor's id), the
undeclared write-in line as :data:`~canvass.tabulate.rcv.UNDECLARED_WRITE_INS`, a rank the
system reports only as overvoted as :data:`~canvass.tabulate.rcv.OVERVOTE_LABEL`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from canvass.errors import IngestError, RulesError, TabulationError
from canvass.guard.documents import json_value
from canvass.ingest.ballots import OVERVOTE, SCHEMA, VOTE, ContestInfo
from canvass.tabulate.rcv import (
    OVERVOTE_LABEL,
    OVERVOTE_RULES,
    RANDOM_TIEBREAKS,
    TIEBREAK_MODES,
    UNDECLARED_WRITE_INS,
    WINNER_MODES,
    Rules,
)
from canvass.tabulate.rcv_ballots import RankedBallots, concatenate
from canvass.tabulate.urcvt import ReportHeader

PROVIDERS = ("ess", "dominion", "cdf", "clearBallot", "hart", "genericCsv")
MISSING = {"precinct": "missing_precinct_id", "batch": "missing_batch_id"}
"""The slice a ballot is counted in when its precinct (batch) is blank, as RCTab names it;
for RCTab's generic CSV, :data:`MISSING_CSV`."""
MISSING_CSV = {"precinct": "no precinct id", "batch": "no batch id"}


@dataclass(frozen=True)
class Source:
    path: Path
    provider: str
    contest_id: str = ""
    first_vote_column: int | None = None
    first_vote_row: int | None = None
    id_column: int | None = None
    precinct_column: int | None = None
    batch_column: int | None = None
    overvote_delimiter: str = ""
    overvote_label: str = ""
    skipped_rank_label: str = ""
    write_in_label: str = ""
    blank_is_write_in: bool = False


@dataclass(frozen=True)
class ContestConfig:
    path: Path
    contest: str
    jurisdiction: str
    office: str
    date: str
    slices: tuple[str, ...]
    """``"precinct"`` and/or ``"batch"``: count round by round for each too."""
    sources: tuple[Source, ...]
    names: dict[str, str]
    """Every candidate name and alias → the candidate's name."""
    rules: Rules

    @property
    def header(self) -> ReportHeader:
        return ReportHeader(self.contest, self.jurisdiction, self.office, self.date)

    @property
    def stem(self) -> str:
        """The name the reports are written under: the file's name without ``_config``."""
        return self.path.stem.removesuffix("_config")


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[str] = []

    def add(self, message: str) -> None:
        self.found.append(message)

    def text(self, value: Any) -> str:
        return "" if value is None else str(value).strip()

    def integer(
        self, section: dict[str, Any], key: str, low: int, high: int, required: bool = False
    ) -> int | None:
        value = self.text(section.get(key))
        if not value:
            if required:
                self.add(f"{key}: expected an integer from {low} to {high}; found nothing")
            return None
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.add(f"{key}: expected an integer from {low} to {high}; found {value!r}")
            return None
        return number

    def boolean(self, section: dict[str, Any], key: str) -> bool:
        value = section.get(key, False)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", ""):
            return value.strip().lower() == "true"
        self.add(f"{key}: expected true or false; found {value!r}")
        return False

    def choice(self, section: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
        value = self.text(section.get(key))
        if value not in allowed:
            self.add(f"{key}: expected one of {', '.join(allowed)}; found {value!r}")
        return value


def load_config(path: Path) -> ContestConfig:
    """Read and check an RCTab contest configuration; :class:`RulesError` lists every
    problem found."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RulesError(f"{path}: cannot read ({e.strerror})") from None
    doc = json_value(data, str(path), RulesError)
    if not isinstance(doc, dict):
        raise RulesError(f"{path}: expected a JSON object with outputSettings, rules, ...")
    p = _Problems(path)
    output = _section(doc, "outputSettings", p)
    rules_in = _section(doc, "rules", p)
    contest = p.text(output.get("contestName"))
    if not contest:
        p.add("outputSettings.contestName: expected the contest's name; found nothing")
    slices = tuple(
        kind
        for kind, key in (("precinct", "tabulateByPrecinct"), ("batch", "tabulateByBatch"))
        if p.boolean(output, key)
    )
    sources = _sources(doc, path.parent, p)
    candidates, excluded, names = _candidates(doc, p)
    if any(s.write_in_label for s in sources):
        candidates.append(UNDECLARED_WRITE_INS)
    rules = _rules(rules_in, p, tuple(candidates), frozenset(excluded), sources)
    if p.found:
        raise RulesError(f"{path}: not a valid contest configuration:\n  " + "\n  ".join(p.found))
    assert rules is not None
    return ContestConfig(
        path=path,
        contest=contest,
        jurisdiction=p.text(output.get("contestJurisdiction")),
        office=p.text(output.get("contestOffice")),
        date=p.text(output.get("contestDate")),
        slices=slices,
        sources=tuple(sources),
        names=names,
        rules=rules,
    )


def _section(doc: dict[str, Any], key: str, p: _Problems) -> dict[str, Any]:
    section = doc.get(key)
    if not isinstance(section, dict):
        p.add(f"{key}: expected an object; found {type(section).__name__}")
        return {}
    return section


def _sources(doc: dict[str, Any], folder: Path, p: _Problems) -> list[Source]:
    raw = doc.get("cvrFileSources")
    if not isinstance(raw, list) or not raw:
        p.add("cvrFileSources: expected at least one cast vote record source; found none")
        return []
    sources: list[Source] = []
    seen: set[Path] = set()
    for n, s in enumerate(raw):
        where = f"cvrFileSources[{n}]"
        if not isinstance(s, dict):
            p.add(f"{where}: expected an object")
            continue
        before = len(p.found)
        sub = _Problems(p.path)
        provider = sub.choice(s, "provider", PROVIDERS)
        tabular = provider in ("ess", "genericCsv")
        given = sub.text(s.get("filePath"))
        path = _source_path(folder, given) if given else None
        if not given:
            sub.add("filePath: expected the path of a CVR file or folder; found nothing")
        elif path is None:
            sub.add(f"filePath: expected the path of a CVR file or folder; found {given!r}")
        elif not path.exists():
            sub.add(f"filePath: {path} does not exist")
        elif path in seen:
            sub.add(f"filePath: {path} is already another source")
        if path is not None:
            seen.add(path)
        source = Source(
            path=path or folder,
            provider=provider,
            contest_id=sub.text(s.get("contestId")),
            first_vote_column=sub.integer(s, "firstVoteColumnIndex", 1, 1000, tabular),
            first_vote_row=sub.integer(s, "firstVoteRowIndex", 1, 100000, tabular),
            id_column=sub.integer(s, "idColumnIndex", 1, 1000),
            precinct_column=sub.integer(s, "precinctColumnIndex", 1, 1000),
            batch_column=sub.integer(s, "batchColumnIndex", 1, 1000),
            overvote_delimiter=sub.text(s.get("overvoteDelimiter")),
            overvote_label=sub.text(s.get("overvoteLabel")),
            skipped_rank_label=sub.text(s.get("skippedRankLabel")),
            write_in_label=sub.text(s.get("undeclaredWriteInLabel")),
            blank_is_write_in=sub.boolean(s, "treatBlankAsUndeclaredWriteIn"),
        )
        if provider in ("dominion", "hart", "clearBallot") and not source.contest_id:
            sub.add("contestId: expected the contest's id in the CVR files; found nothing")
        if source.overvote_delimiter and source.overvote_label:
            sub.add("overvoteDelimiter and overvoteLabel: give one or the other, not both")
        p.found += [f"{where}.{m}" for m in sub.found]
        if len(p.found) == before:
            sources.append(source)
    return sources


def _source_path(folder: Path, given: str) -> Path | None:
    """The source's path, or None when no file could have that name (a NUL byte, text
    that is no characters)."""
    try:
        path = (folder / given).resolve()
        path.exists()
    except (OSError, ValueError, UnicodeError):
        return None
    return path


def _candidates(doc: dict[str, Any], p: _Problems) -> tuple[list[str], list[str], dict[str, str]]:
    raw = doc.get("candidates")
    if not isinstance(raw, list) or not raw:
        p.add("candidates: expected at least one candidate; found none")
        return [], [], {}
    candidates: list[str] = []
    excluded: list[str] = []
    names: dict[str, str] = {}
    for n, c in enumerate(raw):
        where = f"candidates[{n}]"
        name = p.text(c.get("name")) if isinstance(c, dict) else ""
        if not name:
            p.add(f"{where}.name: expected the candidate's name; found nothing")
            continue
        given = c.get("aliases") or []
        if not isinstance(given, list):
            p.add(f"{where}.aliases: expected a list of names; found {type(given).__name__}")
            given = []
        aliases = [p.text(a) for a in given if p.text(a)]
        if p.text(c.get("code")):  # configurations before aliases gave one code
            aliases.append(p.text(c.get("code")))
        for label in (name, *aliases):
            if label in (OVERVOTE_LABEL, UNDECLARED_WRITE_INS):
                p.add(f"{where}: {label!r} is reserved and cannot name a candidate")
            elif label in names and names[label] != name:
                p.add(f"{where}: {label!r} already names {names[label]!r}")
            elif label == name and name in candidates:
                p.add(f"{where}.name: {name!r} is listed twice")
            names[label] = name
        if name not in candidates:
            candidates.append(name)
        if p.boolean(c, "excluded"):
            excluded.append(name)
    return candidates, excluded, names


def _rules(
    r: dict[str, Any],
    p: _Problems,
    candidates: tuple[str, ...],
    excluded: frozenset[str],
    sources: list[Source],
) -> Rules | None:
    mode = p.choice(r, "winnerElectionMode", WINNER_MODES)
    tiebreak = p.choice(r, "tiebreakMode", TIEBREAK_MODES)
    overvote = p.choice(r, "overvoteRule", OVERVOTE_RULES)
    bottoms_up = mode == "bottomsUpUsingPercentageThreshold"
    winners = p.integer(r, "numberOfWinners", 0 if bottoms_up else 1, 100, not bottoms_up)
    places = p.integer(r, "decimalPlacesForVoteArithmetic", 1, 20, True)
    seed = None
    if tiebreak in RANDOM_TIEBREAKS:
        seed = p.integer(r, "randomSeed", -140737488355328, 140737488355327, True)
    skipped_text = p.text(r.get("maxSkippedRanksAllowed"))
    max_skipped: int | None = None
    if skipped_text.lower() != "unlimited":
        max_skipped = p.integer(r, "maxSkippedRanksAllowed", 0, 1000, True)
    rankings_text = p.text(r.get("maxRankingsAllowed"))
    max_rankings: int | None = None  # "max": as many as there are candidates, not enforced
    if rankings_text.lower() != "max":
        max_rankings = p.integer(r, "maxRankingsAllowed", 1, 1000, True)
    minimum = _decimal(p, r, "minimumVoteThreshold", Decimal(0), Decimal(1000000))
    percentage = None
    if bottoms_up:
        percentage = _decimal(
            p, r, "multiSeatBottomsUpPercentageThreshold", Decimal(1), Decimal(100), required=True
        )
    stop = p.integer(r, "stopTabulationEarlyAfterRound", 1, 1000)
    if overvote == "exhaustIfMultipleContinuing" and any(s.overvote_label for s in sources):
        p.add(
            "overvoteRule: exhaustIfMultipleContinuing cannot apply to a source that reports "
            "overvotes only by a label (overvoteLabel)"
        )
    if (
        mode
        in (
            "multiWinnerAllowOnlyOneWinnerPerRound",
            "multiWinnerAllowMultipleWinnersPerRound",
            "bottomsUp",
            "multiPassIrv",
        )
        and winners is not None
        and winners < 2
    ):
        p.add(f"numberOfWinners: {mode} needs at least 2; found {winners}")
    if mode == "singleWinnerMajority" and winners is not None and winners != 1:
        p.add(f"numberOfWinners: singleWinnerMajority elects 1; found {winners}")
    flags = {
        key: p.boolean(r, key)
        for key in (
            "exhaustOnDuplicateCandidate",
            "batchElimination",
            "continueUntilTwoCandidatesRemain",
            "nonIntegerWinningThreshold",
            "hareQuota",
            "doesFirstRoundDetermineThreshold",
            "cutoffElimination",
        )
    }
    if p.found or winners is None or places is None or minimum is None:
        return None
    return Rules(
        candidates=candidates,
        excluded=excluded,
        winner_mode=mode,
        number_of_winners=winners,
        overvote_rule=overvote,
        tiebreak_mode=tiebreak,
        random_seed=seed,
        max_skipped_ranks=max_skipped,
        max_rankings=max_rankings,
        exhaust_on_duplicate=flags["exhaustOnDuplicateCandidate"],
        batch_elimination=flags["batchElimination"],
        continue_until_two=flags["continueUntilTwoCandidatesRemain"],
        minimum_vote_threshold=minimum,
        decimal_places=places,
        non_integer_threshold=flags["nonIntegerWinningThreshold"],
        hare_quota=flags["hareQuota"],
        first_round_determines_threshold=flags["doesFirstRoundDetermineThreshold"],
        stop_after_round=stop,
        bottoms_up_percentage=percentage / 100 if percentage is not None else None,
        cutoff_elimination=flags["cutoffElimination"],
    )


def _decimal(
    p: _Problems, r: dict[str, Any], key: str, low: Decimal, high: Decimal, required: bool = False
) -> Decimal | None:
    value = p.text(r.get(key))
    if not value:
        if required:
            p.add(f"{key}: expected a number from {low} to {high}; found nothing")
            return None
        return Decimal(0)
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        p.add(f"{key}: expected a number from {low} to {high}; found {value!r}")
        return None
    return number


# --- reading the sources ------------------------------------------------------------------


@dataclass
class SourceTable:
    """A source read into the ballot table, and where its contest is in it."""

    table: pa.Table
    contests: list[ContestInfo]
    contest: int
    keys: list[list[str]]
    """For each choice of the contest, the labels it may be matched by (name, vendor ids)."""


def read_ballots(config: ContestConfig) -> RankedBallots:
    """Every ballot of every source that carries the contest, grouped (identical ballots
    counted once with their number)."""
    ballots = concatenate(
        [ranked_ballots(config, source, read_source(source)) for source in config.sources]
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
    table: pa.Table,
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
    """The cards of a ballot table that carry ``contest``, as ranked ballots grouped
    (identical rankings, precinct and batch counted once). ``codes[k]`` is the candidate
    (an index into ``candidates``) choice ``k`` stands for, or -1 if none: a ballot marking
    it is an error. No Python loop runs per card: each card becomes a row of bit masks (one
    64-bit word per 64 candidates per rank) and identical rows are counted together."""
    rows = len(table)
    on_card = np.zeros(rows, dtype=bool)
    lookup = np.array([*codes, 0], np.int64)
    limit = max_rankings or 127
    # The marks of the contest, record batch by record batch (a whole million-card column
    # at once would hold several copies of every mark): card, rank and candidate code.
    found: list[tuple[np.ndarray[Any, Any], ...]] = []
    start = 0
    for batch in table.to_batches():
        on = batch.column("contests")
        on_card[
            start
            + pc.list_parent_indices(on).to_numpy()[
                pc.equal(pc.list_flatten(on), contest).to_numpy(zero_copy_only=False)
            ]
        ] = True
        marks = batch.column("marks")
        flat = pc.list_flatten(marks)
        contest_of = flat.field("contest").to_numpy()
        status = flat.field("status").to_numpy()
        keep = (contest_of == contest) & ((status == VOTE) | (status == OVERVOTE))
        card = pc.list_parent_indices(marks).to_numpy()[keep] + start
        choice = flat.field("choice").to_numpy()[keep].astype(np.int64)
        rank = np.maximum(flat.field("rank").to_numpy()[keep], 1)  # unranked: 0 or 1
        explicit = status[keep] == OVERVOTE
        code = np.where(explicit, len(candidates), lookup[np.where(explicit, -1, choice)])
        strays = np.flatnonzero(code < 0)
        if len(strays):
            names = choice_names or [str(k) for k in range(len(codes))]
            which = sorted({names[int(choice[i])] for i in strays})
            raise IngestError(
                f"{where}: {', '.join(map(repr, which))} (first on ballot "
                f"{_card_id(table, int(card[strays[0]]))}) {unknown}"
            )
        bad = np.flatnonzero(rank > limit)
        if len(bad):
            raise IngestError(
                f"{where}: ballot {_card_id(table, int(card[bad[0]]))} ranks a candidate at "
                f"rank {int(rank[bad[0]])}; maxRankingsAllowed is {limit}"
            )
        found.append((card, rank.astype(np.int64), code))
        start += batch.num_rows
    width = (len(candidates) + 1 + 63) // 64
    top = max((int(rank.max()) for _, rank, _ in found if len(rank)), default=1)
    keys = np.zeros((rows, top * width + len(slices)), dtype=np.uint64)
    flat_keys = keys.reshape(-1)
    for card, rank, code in found:
        np.bitwise_or.at(
            flat_keys,
            card * keys.shape[1] + (rank - 1) * width + code // 64,
            np.left_shift(np.uint64(1), (code % 64).astype(np.uint64)),
        )
    del found
    slice_names: list[list[str]] = []
    for n, kind in enumerate(slices):
        values = pc.fill_null(table.column(kind).combine_chunks().cast(pa.string()), "")
        values = pc.if_else(pc.equal(values, ""), missing[kind], values).dictionary_encode()
        slice_names.append(values.dictionary.to_pylist())
        keys[:, top * width + n] = values.indices.to_numpy(zero_copy_only=False)
    if not on_card.all():
        keys = keys[on_card]
    unique, counts = _distinct_rows(keys)
    choices, ranked, sets = _rankings(unique[:, : top * width], top, width, len(candidates))
    return RankedBallots(
        tuple(candidates),
        choices,
        ranked,
        counts.astype(np.int64),
        sets=tuple(sets),
        slices={
            kind: (unique[:, top * width + n].astype(np.int32), tuple(slice_names[n]))
            for n, kind in enumerate(slices)
        },
    )


def _distinct_rows(
    keys: np.ndarray[Any, Any], limit: int = 1 << 62
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The distinct rows of ``keys``, sorted as ``np.unique(keys, axis=0)`` sorts them, and
    how many times each occurs. Each column is numbered by the rank of its value, and the
    numbers are joined into one integer per row (numbered again before the joined numbers
    would pass ``limit``); numbering is by hashing (Arrow), then sorting only the distinct
    values. On a million rows this is tens of times faster than sorting them as records."""
    joined = np.zeros(len(keys), np.int64)
    span = 1
    for column in keys.T:
        codes, size = _ranked(column)
        if span * size >= limit:
            joined, span = _ranked(joined)
        joined = joined * size + codes
        span *= size
    codes, size = _ranked(joined)
    one_of_each = np.empty(size, np.int64)
    one_of_each[codes] = np.arange(len(codes))  # any row of a group: they are the same
    return keys[one_of_each], np.bincount(codes, minlength=size)


def _ranked(values: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], int]:
    """Each value's rank among the distinct values, and how many there are."""
    encoded = pa.array(values).dictionary_encode()
    order = np.argsort(encoded.dictionary.to_numpy())
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return rank[encoded.indices.to_numpy()], len(order)


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


def _card_id(table: pa.Table, row: int) -> str:
    return str(table.column("imprinted_id")[row].as_py() or table.column("record")[row].as_py())


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
    table = _table(reader)
    return SourceTable(table, reader.contests, 0, [[c.name] for c in reader.contests[0].choices])


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
