"""Generic CSV cast vote records: one row per ballot card, one column per contest.

Columns (header row required; names are matched ignoring case):

- ``card`` (required): the card's id, unique in the file;
- ``county``, ``tabulator``, ``batch``, ``precinct``, ``precinct_portion``,
  ``ballot_style``, ``counting_group``, ``vote_type``, ``imprinted_id`` (optional);
- every other column is a contest. Its header is the contest's name, optionally followed by
  ``(Vote For=N)`` (default 1) or ``(Ranks=N)`` for a ranked contest.

A contest cell lists what the voter marked:

- empty: the contest was on the card and nothing was marked;
- ``-``: the contest was not on the card;
- ``Ann Adams``: one vote; ``Ann Adams|Bo Baker``: two marks (an overvote in a vote-for-1
  contest);
- ranked contests: rankings from first to last separated by ``>``, e.g. ``Adams>Baker``;
  an empty ranking (``Adams>>Baker``) is a skipped rank, ``Adams|Baker>Chen`` an overvote
  at rank 1.

Example::

    card,batch,precinct,vote_type,Mayor,Council (Vote For=2),Judge (Ranks=3)
    1,B1,P1,election_day,Ann Adams,Chen|Diaz,Lee>Kim
    2,B1,P1,absentee,,Chen,-
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa

from canvass.errors import IngestError
from canvass.guard.text import csv_rows, whole_number
from canvass.ingest.ballots import (
    CARD_FIELDS,
    MAX_CHOICES,
    MAX_RANK,
    VOTE,
    Card,
    ChoiceInfo,
    ContestInfo,
    Mark,
    batches,
    check_contests,
)
from canvass.ingest.files import data_rows, files_in

_HEADER = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<kind>Vote For|Ranks)=(?P<n>\d+)\))?$", re.I)
_CARD_COLUMNS = {*CARD_FIELDS, "card"}
_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
"""Line breaks and other control characters: no contest's name holds one."""


def _character(c: str) -> str:
    names = {"\n": "a line break (\\n)", "\r": "a carriage return (\\r)", "\t": "a tab"}
    return names.get(c, f"the control character U+{ord(c):04X}")


class GenericCsv:
    def __init__(self, paths: Sequence[Path]) -> None:
        self.files = files_in(paths, (".csv",))
        self.contests: list[ContestInfo] = []
        self._contest_index: dict[str, int] = {}
        self._choice_index: list[dict[str, int]] = []
        # A first pass learns every contest and choice, so the table's contest list is
        # complete before the first card is written.
        for _ in self._cards(""):
            pass

    def _contest(self, header: str, where: str) -> int:
        if bad := _CONTROL.search(header):
            raise IngestError(
                f"{where}: expected a contest's name on one line; found {_character(bad.group())}"
            )
        m = _HEADER.match(header.strip())
        if m is None:  # the pattern matches any text of one line
            raise IngestError(f"{where}: expected a contest's name; found {header[:60]!r}")
        name = m.group("name")
        if not name:
            raise IngestError(f"{where}: a contest column has no name")
        ranked = (m.group("kind") or "").lower() == "ranks"
        high = MAX_RANK if ranked else MAX_CHOICES
        n = whole_number(m.group("n") or "1", high)
        if n is None or n < 1:
            raise IngestError(
                f"{where}: expected {m.group('kind')}= a whole number from 1 to {high}; "
                f"found {m.group('n')!r}"
            )
        info = ContestInfo(name, 1 if ranked else n, n if ranked else 0)
        if name in self._contest_index:
            known = self.contests[self._contest_index[name]]
            if (known.votes_allowed, known.ranks) != (info.votes_allowed, info.ranks):
                raise IngestError(
                    f"{where}: contest {name!r} is declared differently in another file"
                )
            return self._contest_index[name]
        self._contest_index[name] = len(self.contests)
        self.contests.append(info)
        check_contests(self.contests, where)
        self._choice_index.append({})
        return self._contest_index[name]

    def _choice(self, contest: int, name: str, where: str) -> int:
        index = self._choice_index[contest]
        if name not in index:
            check_contests(self.contests, where, contest)
            index[name] = len(index)
            kind = (
                "write_in"
                if name.replace("-", "").replace(" ", "").lower() == "writein"
                else "candidate"
            )
            self.contests[contest].choices.append(ChoiceInfo(name, kind))
        return index[name]

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[Card]:
        for path in self.files:
            yield from self._read_file(path, csv_rows(path), county)

    def _read_file(self, path: Path, rows: Iterator[list[str]], county: str) -> Iterator[Card]:
        header = next(rows, None)
        if header is None:
            raise IngestError(f"{path}: the file is empty; expected a header row")
        lowered = [h.strip().lower() for h in header]
        if "card" not in lowered:
            raise IngestError(f"{path} row 1: expected a column 'card'; found {', '.join(header)}")
        card_at = {name: lowered.index(name) for name in _CARD_COLUMNS if name in lowered}
        contests = [
            (i, self._contest(h, f"{path} row 1, column {i + 1}"))
            for i, h in enumerate(header)
            if lowered[i] not in _CARD_COLUMNS
        ]
        columns: dict[int, int] = {}
        for i, contest in contests:
            if contest in columns:
                raise IngestError(
                    f"{path} row 1, column {i + 1}: expected each contest in one column; found "
                    f"{self.contests[contest].name!r} again (column {columns[contest] + 1})"
                )
            columns[contest] = i
        seen: dict[str, int] = {}
        for number, row in data_rows(rows, path, len(header), 2):
            card = row[card_at["card"]].strip()
            if not card:
                raise IngestError(
                    f"{path} row {number}, column 'card': expected the card's id; found nothing"
                )
            if card in seen:
                raise IngestError(
                    f"{path} row {number}: card {card!r} is already on row {seen[card]}"
                )
            seen[card] = number

            given = {name: row[i].strip() for name, i in card_at.items()}
            given["county"] = given.get("county") or county
            given["record"] = given.get("record") or card
            fields = tuple(given.get(name, "") for name in CARD_FIELDS)
            on: list[int] = []
            marks: list[Mark] = []
            for i, c in contests:
                cell = row[i].strip()
                if cell == "-":
                    continue
                on.append(c)
                ranks = self.contests[c].ranks
                rankings = cell.split(">") if ranks else [cell]
                if len(rankings) > MAX_RANK:
                    raise IngestError(
                        f"{path} row {number}, column {i + 1}: expected at most {MAX_RANK} "
                        f"rankings; found {len(rankings)}"
                    )
                for rank, ranking in enumerate(rankings, start=1):
                    for name in (n.strip() for n in ranking.split("|")):
                        if name:
                            where = f"{path} row {number}, column {i + 1}"
                            marks.append((c, self._choice(c, name, where), rank, VOTE))
            yield fields, on, marks
