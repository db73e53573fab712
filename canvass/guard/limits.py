"""How far a file may expand while it is read, and how to raise each limit.

Compressed archives and spreadsheets can claim (or hide) sizes far beyond the bytes on
disk: a 10 MB zip can expand to terabytes, an xlsx can name row 2,147,483,648. Each such
quantity is checked against a limit *before* anything is allocated for it. A real, very
large county may need more than a default: each limit is raised by an environment
variable, read when the check runs, and the message refusing a file names it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from canvass.errors import IngestError


@dataclass(frozen=True)
class Limit:
    variable: str
    """The environment variable that overrides the default."""
    default: int
    unit: str
    """What is counted, for messages: ``bytes``, ``members``, ``levels``, …"""


ARCHIVE_MEMBERS = Limit("CANVASS_MAX_ARCHIVE_MEMBERS", 200_000, "members")
"""Files in one zip archive (Hart writes one per card: a county of 100,000 cards needs about
200,000 with their signatures)."""
MEMBER_BYTES = Limit("CANVASS_MAX_MEMBER_BYTES", 256 * 2**20, "bytes")
"""Bytes one file of an archive expands to (each is read into memory whole)."""
ARCHIVE_BYTES = Limit("CANVASS_MAX_ARCHIVE_BYTES", 16 * 2**30, "bytes")
"""Bytes all the files of one archive expand to together (read one at a time)."""
COMPRESSION_RATIO = Limit("CANVASS_MAX_COMPRESSION_RATIO", 200, "times its compressed size")
"""How many times larger than its compressed bytes a file of an archive may be: cast vote
records compress about 40 times; a bomb, hundreds to millions of times."""
NESTING = Limit("CANVASS_MAX_NESTING", 100, "levels")
"""How deeply lists and mappings (JSON, YAML) or elements (XML) may nest."""
SHEET_CELLS = Limit("CANVASS_MAX_SHEET_CELLS", 5_000_000, "cells")
"""Cells of a spreadsheet's used range (rows times columns, empty ones too: the
spreadsheet library allocates them all)."""
SHARED_STRINGS = Limit("CANVASS_MAX_SHARED_STRINGS", 10_000_000, "strings")
"""Distinct texts an xlsx workbook may declare."""

YAML_BYTES = Limit("CANVASS_MAX_YAML_BYTES", 8 * 2**20, "bytes")
"""Bytes of one YAML document (an election definition, electors): YAML is read by a
parser written in Python, about a megabyte a second, holding several times the text in
memory; the largest real definition (a state's every precinct, with their shapes left to
JSON) is well under a megabyte."""

BUNDLE_FILE_BYTES = Limit("CANVASS_MAX_BUNDLE_FILE_BYTES", 4 * 2**30, "bytes")
"""Bytes of one file of a published bundle (the verifier reads each into memory whole):
the largest are original CVR exports, a few hundred megabytes for a large county."""

FETCH_SECONDS = Limit("CANVASS_MAX_FETCH_SECONDS", 60, "seconds")
"""Seconds a file of a bundle fetched over HTTP(S) may take to arrive, beyond one second for
each :data:`FETCH_RATE` bytes of it: time for the server to answer at all."""
FETCH_RATE = Limit("CANVASS_MIN_FETCH_RATE", 16_384, "bytes a second")
"""The slowest a server may send a file of a bundle, once :data:`FETCH_SECONDS` have gone:
a 300 MB export may take five hours at this rate; a server trickling a byte at a time is
refused after a minute."""

KEY_ITERATIONS = Limit("CANVASS_MAX_KEY_ITERATIONS", 10_000_000, "iterations")
"""Iterations of PBKDF2 (or an older password-based scheme) an encrypted private key may
ask for: Canvass writes 2,048; guidance for PBKDF2-HMAC-SHA256 is 600,000 (OWASP, 2023);
ten million take a few seconds, and 2⁶⁴ − 1 would take centuries."""
KEY_SCRYPT_BYTES = Limit("CANVASS_MAX_KEY_SCRYPT_BYTES", 2**30, "bytes")
"""Bytes scrypt mixes (128 × N × r × p, RFC 7914) to open an encrypted private key: both
its memory and its time grow with them. OpenSSL's default (N 16,384, r 8, p 1) mixes 16 MiB;
the strongest usual setting (N 2²⁰, r 8), 1 GiB."""

ALL = (
    ARCHIVE_MEMBERS,
    MEMBER_BYTES,
    ARCHIVE_BYTES,
    COMPRESSION_RATIO,
    NESTING,
    SHEET_CELLS,
    SHARED_STRINGS,
    YAML_BYTES,
    BUNDLE_FILE_BYTES,
    FETCH_SECONDS,
    FETCH_RATE,
    KEY_ITERATIONS,
    KEY_SCRYPT_BYTES,
)


def value(limit: Limit) -> int:
    """The limit in force: the environment variable's whole number when it is set."""
    given = os.environ.get(limit.variable, "").strip().replace("_", "")
    if not given:
        return limit.default
    if not given.isdigit() or int(given) < 1:
        raise IngestError(
            f"{limit.variable}: expected a whole number of {limit.unit} above 0; found {given!r}"
        )
    return int(given)


def check(limit: Limit, found: int, where: str, what: str) -> None:
    """Refuse ``found`` (how much ``what`` is at ``where``) when it is over the limit."""
    allowed = value(limit)
    if found > allowed:
        raise IngestError(exceeded(limit, found, where, what))


def exceeded(limit: Limit, found: int, where: str, what: str) -> str:
    return (
        f"{where}: {what} {found:,} {limit.unit}; the limit is {value(limit):,} "
        f"(set {limit.variable} to raise it)"
    )
