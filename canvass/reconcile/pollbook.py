"""Poll-book and ballot-accounting counts, per precinct and vote type, from a CSV.

One row per precinct (or absentee counting board, named as the precinct whose ballots it
counts) and vote type; the header names the columns, in any order:

=======================  =====================================================================
column                   meaning
=======================  =====================================================================
``county``               the county (id or name in the election definition)
``precinct``             the precinct (id or name)
``vote_type``            ``election_day``, ``early``, ``absentee``, ``provisional``, ``uocava``
``checkins``             voters checked in at the poll book (in person)
``absentee_received``    absentee ballots received back
``absentee_accepted``    of those, accepted for counting
``absentee_rejected``    of those, rejected (signature, late, …)
``provisional_issued``   provisional ballots issued
``provisional_accepted`` provisional ballots accepted for counting
``ballots_issued``       ballots issued to voters (stock accounting)
``ballots_spoiled``      ballots spoiled and replaced
``ballots_unused``       ballots left unused
=======================  =====================================================================

A blank count is 0. Counts are whole numbers, not negative. Example::

    county,precinct,vote_type,checkins,absentee_received,absentee_accepted,absentee_rejected,provisional_issued,provisional_accepted,ballots_issued,ballots_spoiled,ballots_unused
    kent,Kent Precinct 1,election_day,412,0,0,0,3,2,420,4,96
    kent,Kent Precinct 1,absentee,0,208,201,7,0,0,0,0,0
"""

from __future__ import annotations

from dataclasses import dataclass

from canvass.errors import IngestError
from canvass.guard.text import decode_text, parse_csv, whole_number

COUNTS = (
    "checkins",
    "absentee_received",
    "absentee_accepted",
    "absentee_rejected",
    "provisional_issued",
    "provisional_accepted",
    "ballots_issued",
    "ballots_spoiled",
    "ballots_unused",
)
KEYS = ("county", "precinct", "vote_type")
VOTE_TYPES = ("election_day", "early", "absentee", "provisional", "uocava")
MEDIA_TYPE = "text/csv"
MAX_COUNT = 10**12
"""More voters than live: a count past it is a mistake in the file (and sums of such counts
stay within 64 bits)."""


@dataclass(frozen=True)
class PollbookRow:
    county: str
    precinct: str
    vote_type: str
    checkins: int = 0
    absentee_received: int = 0
    absentee_accepted: int = 0
    absentee_rejected: int = 0
    provisional_issued: int = 0
    provisional_accepted: int = 0
    ballots_issued: int = 0
    ballots_spoiled: int = 0
    ballots_unused: int = 0

    @property
    def voters(self) -> int:
        """Voters whose ballots should have been tabulated (provisionals apart)."""
        return self.absentee_accepted if self.vote_type in ("absentee", "uocava") else self.checkins


def read_pollbook(data: bytes, where: str) -> list[PollbookRow]:
    """Every row of a poll-book CSV, checked; an error names the row and column."""
    rows = parse_csv(decode_text(data, where), where)
    header = [h.strip().lower() for h in next(rows, [])]
    missing = [c for c in (*KEYS, *COUNTS) if c not in header]
    if missing:
        raise IngestError(f"{where} row 1: expected columns {', '.join(missing)}; not found")
    at = {c: header.index(c) for c in (*KEYS, *COUNTS)}
    out: list[PollbookRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise IngestError(
                f"{where} row {number}: expected {len(header)} columns; found {len(row)}"
            )
        keys = [row[at[k]].strip() for k in KEYS]
        for k, value in zip(KEYS, keys, strict=True):
            if not value:
                raise IngestError(
                    f"{where} row {number}, column {k!r}: expected a value; found nothing"
                )
        if keys[2] not in VOTE_TYPES:
            raise IngestError(
                f"{where} row {number}, column 'vote_type': expected one of "
                f"{', '.join(VOTE_TYPES)}; found {keys[2]!r}"
            )
        key = (keys[0].lower(), keys[1].lower(), keys[2])
        if key in seen:
            raise IngestError(
                f"{where} row {number}: the same county, precinct and vote type as row {seen[key]}"
            )
        seen[key] = number
        counts = {}
        for c in COUNTS:
            cell = row[at[c]].strip()
            count = 0 if not cell else whole_number(cell, MAX_COUNT)
            if count is None:
                raise IngestError(
                    f"{where} row {number}, column {c!r}: expected a whole number from 0 to "
                    f"{MAX_COUNT:,}; found {cell[:40]!r}"
                )
            counts[c] = count
        out.append(PollbookRow(keys[0], keys[1], keys[2], **counts))
    if not out:
        raise IngestError(f"{where}: no rows after the header")
    return out
