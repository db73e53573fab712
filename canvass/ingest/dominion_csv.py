"""Dominion Democracy Suite CVR exports as CSV (the layout Arlo also reads).

Four header rows, then one row per ballot card::

    Small Election,5.2.16.1,,,...                      election name, version
    ,,,,,,,,Mayor (Vote For=1),Mayor (Vote For=1),...  contest of each vote column
    ,,,,,,,,Ann Adams,Bo Baker,...                     choice of each vote column
    CvrNumber,TabulatorNum,BatchId,RecordId,ImprintedId,CountingGroup,PrecinctPortion,BallotType,,,...

In a vote column ``1`` is a vote, ``0`` no vote, and an empty cell means the contest was
not on the card. The card columns before the first vote column are read by name;
``CvrNumber``, ``TabulatorNum`` and ``BatchId`` are required, the others optional.
Rows are read as they stream by; every problem names the file, the row and the column.

Precincts: a ``Precinct`` column, when the layout has one, names the card's precinct and
``PrecinctPortion`` its portion. Arlo's layout (and many exports) has only
``PrecinctPortion``; a portion lies in one precinct, so the portion is then taken as the
card's precinct too, and the import says so (:attr:`DominionCsvSet.notes`): reconciled
against a definition, a portion it lists is counted under its precinct. A file with
neither column has no precincts at all, and the import says that.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from canvass.errors import IngestError
from canvass.guard.text import decode_text, parse_csv, read_file, whole_number
from canvass.ingest.ballots import (
    MAX_CHOICES,
    VOTE,
    Card,
    ChoiceInfo,
    ContestInfo,
    Mark,
    batches,
    check_contests,
)
from canvass.ingest.dominion_batches import vote_type_of
from canvass.ingest.files import data_rows, files_in

_CONTEST = re.compile(r"^(?P<name>.*?)\s*\(Vote For=(?P<n>\d+)\)$")
REQUIRED = ("CvrNumber", "TabulatorNum", "BatchId")


class DominionCsv:
    """One Dominion CSV CVR file: its contests, read from the headers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = read_file(path, IngestError)
        self._text = decode_text(data, str(path))
        rows = parse_csv(self._text, str(path))
        header = [next(rows, None) for _ in range(4)]
        if any(h is None for h in header):
            raise IngestError(f"{path}: expected four header rows; the file is shorter")
        _, contest_row, choice_row, field_row = (h or [] for h in header)
        self.first_vote = next((i for i, f in enumerate(field_row) if not f), len(field_row))
        self.fields = field_row[: self.first_vote]
        for name in REQUIRED:
            if name not in self.fields:
                raise IngestError(
                    f"{path} row 4: expected a column {name!r} among {', '.join(self.fields)}"
                )
        self.width = len(field_row)
        self.notes: list[str] = []
        """What the import must say of this file in its summary."""
        if "Precinct" not in self.fields:
            self.notes.append(
                "no Precinct column: each card's precinct is its PrecinctPortion"
                if "PrecinctPortion" in self.fields
                else "no Precinct or PrecinctPortion column: the cards have no precinct, so "
                "they are reconciled by county and vote type only"
            )
        self.contests: list[ContestInfo] = []
        self.columns: list[tuple[int, int]] = []
        """(contest index, choice index) of each vote column."""
        by_name: dict[str, int] = {}
        for col in range(self.first_vote, self.width):
            header_text = contest_row[col] if col < len(contest_row) else ""
            m = _CONTEST.match(header_text)
            if m is None:
                raise IngestError(
                    f"{path} row 2, column {col + 1}: expected a contest header like "
                    f"'Mayor (Vote For=1)'; found {header_text!r}"
                )
            name = m.group("name")
            where = f"{path} row 2, column {col + 1}"
            if name not in by_name:
                votes = whole_number(m.group("n"), MAX_CHOICES)
                if not votes:
                    raise IngestError(
                        f"{where}: expected Vote For= a whole number from 1 to {MAX_CHOICES:,}; "
                        f"found {m.group('n')!r}"
                    )
                by_name[name] = len(self.contests)
                self.contests.append(ContestInfo(name, votes))
                check_contests(self.contests, where)
            check_contests(self.contests, where, by_name[name])
            contest = self.contests[by_name[name]]
            choice = choice_row[col] if col < len(choice_row) else ""
            kind = (
                "write_in"
                if choice.replace(" ", "").replace("-", "").lower() == "writein"
                else "candidate"
            )
            self.columns.append((by_name[name], len(contest.choices)))
            contest.choices.append(ChoiceInfo(choice, kind))

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        return batches(self._cards(county))

    def _cards(self, county: str) -> Iterator[Card]:
        rows = parse_csv(self._text, str(self.path))
        for _ in range(4):
            next(rows)
        at = {name: self.fields.index(name) for name in self.fields}

        def field(row: list[str], name: str) -> str:
            return row[at[name]].strip() if name in at else ""

        groups: dict[str, str] = {}
        for number, row in data_rows(rows, self.path, self.width, 5):
            tabulator, batch, record = (
                field(row, "TabulatorNum"),
                field(row, "BatchId"),
                field(row, "RecordId"),
            )
            group = field(row, "CountingGroup")
            if group not in groups:
                groups[group] = vote_type_of(group)
            portion = field(row, "PrecinctPortion")
            card_fields = (
                county,
                tabulator,
                batch,
                record or field(row, "CvrNumber"),
                field(row, "ImprintedId"),
                field(row, "BallotType"),
                field(row, "Precinct") if "Precinct" in at else portion,
                portion,
                group,
                groups[group],
            )
            on: list[int] = []
            marks: list[Mark] = []
            for col, (contest, choice) in enumerate(self.columns, start=self.first_vote):
                cell = row[col].strip()
                if cell == "":
                    continue
                if contest not in on:
                    on.append(contest)
                if cell == "1":
                    marks.append((contest, choice, 1, VOTE))
                elif cell != "0":
                    info = self.contests[contest]
                    raise IngestError(
                        f"{self.path} row {number}, column {col + 1} "
                        f"({info.name} / {info.choices[choice].name}): "
                        f"expected 1, 0 or empty; found {cell!r}"
                    )
            yield card_fields, on, marks


class DominionCsvSet:
    """Several Dominion CSV files of one county, with the same columns."""

    def __init__(self, paths: list[Path]) -> None:
        self.files = [DominionCsv(f) for f in files_in(paths, (".csv",))]
        first = self.files[0]
        self.contests = first.contests
        self.notes = sorted({note for f in self.files for note in f.notes})
        for other in self.files[1:]:
            if [c.to_json() for c in other.contests] != [c.to_json() for c in first.contests]:
                raise IngestError(
                    f"{other.path}: its contest columns differ from {first.path}'s; "
                    "import files with different columns separately"
                )

    def read(self, county: str) -> Iterator[pa.RecordBatch]:
        for f in self.files:
            yield from f.read(county)
