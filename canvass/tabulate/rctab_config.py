"""RCTab contest configurations: read one and check it.

An RCTab configuration (``*_config.json``) names the contest, its candidates (with aliases,
and whether each is excluded), the CVR files (``cvrFileSources``, paths relative to the
configuration file) and the rules. Every problem in a configuration is reported at once,
each naming the field and what it must be; nothing is counted from an invalid one.
:mod:`canvass.tabulate.rctab` reads the sources it names into ranked ballots.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from canvass.errors import RulesError
from canvass.guard.documents import json_value
from canvass.guard.text import read_file
from canvass.tabulate.rcv import (
    OVERVOTE_LABEL,
    OVERVOTE_RULES,
    RANDOM_TIEBREAKS,
    TIEBREAK_MODES,
    UNDECLARED_WRITE_INS,
    WINNER_MODES,
    Rules,
)
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
    data = read_file(path, RulesError)
    doc = json_value(data, str(path), RulesError, unique=True)
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
