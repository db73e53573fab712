"""Text and CSV, decoded as UTF-8 and nothing else.

Voting systems and spreadsheets write UTF-8 (often with a byte-order mark). Any other
encoding, or bytes that are not UTF-8 at all, is refused with the line and byte where
decoding stopped, rather than guessed at: a guessed encoding can turn one candidate's
name into another's.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from canvass.errors import CanvassError, IngestError

_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _other_encoding(head: bytes, name: str, error: type[CanvassError]) -> None:
    for bom, encoding in _OTHER_BOMS:
        if head.startswith(bom):
            raise error(
                f"{name}: expected UTF-8 text; found a {encoding} byte-order mark "
                "(save the file as UTF-8)"
            )


def _not_utf8(data: bytes, start: int, name: str, error: type[CanvassError]) -> CanvassError:
    line = data.count(b"\n", 0, start) + 1
    return error(
        f"{name} line {line}: expected UTF-8 text; found byte 0x{data[start]:02X} "
        f"(byte {start + 1:,} of the file)"
    )


def decode_text(data: bytes, name: str, error: type[CanvassError] = IngestError) -> str:
    """``data`` as text: UTF-8, with or without a byte-order mark."""
    _other_encoding(data[:4], name, error)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        offset = 3 if data.startswith(codecs.BOM_UTF8) else 0
        raise _not_utf8(data, e.start + offset, name, error) from None


def _first_bad_byte(path: Path) -> tuple[bytes, int]:
    """The file's bytes up to and including its first byte that is not UTF-8, and where
    that byte is: read again only once decoding has failed."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen = bytearray()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as e:
                return bytes(seen + chunk), len(seen) + e.start
            seen += chunk
    # Every chunk decoded: the file ends inside a character.
    return bytes(seen), max(0, len(seen) - len(decoder.getstate()[0]))


def csv_rows(path: Path, name: str | None = None) -> Iterator[list[str]]:
    """The rows of a CSV file as the ``csv`` module reads them, decoded as UTF-8, streaming;
    any line ending (``\\n``, ``\\r\\n``, or old Macintosh ``\\r``). Bad bytes or a
    field too long to be a CSV cell end in an :class:`IngestError` naming the line."""
    name = name or str(path)
    try:
        handle = path.open("rb")
    except OSError as e:
        raise IngestError(f"{name}: cannot read ({e.strerror})") from None
    with handle:
        _other_encoding(handle.read(4), name, IngestError)
        handle.seek(0)
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        while True:
            try:
                row = next(reader, None)
            except UnicodeDecodeError:
                data, start = _first_bad_byte(path)
                raise _not_utf8(data, start, name, IngestError) from None
            except csv.Error as e:
                raise IngestError(
                    f"{name} line {reader.line_num}: expected CSV; found {_csv_problem(e)}"
                ) from None
            if row is None:
                return
            yield row


def parse_csv(text: str, name: str) -> Iterator[list[str]]:
    """The rows of CSV text already decoded (see :func:`decode_text`)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            row = next(reader, None)
        except csv.Error as e:
            raise IngestError(
                f"{name} line {reader.line_num}: expected CSV; found {_csv_problem(e)}"
            ) from None
        if row is None:
            return
        yield row


def _csv_problem(e: csv.Error) -> str:
    message = str(e)
    if message.startswith("field larger than field limit"):
        return f"a field longer than {csv.field_size_limit():,} characters"
    return message


def whole_number(text: str, high: int = 2**63 - 1) -> int | None:
    """``text`` as a whole number from 0 to ``high`` written in the digits 0-9, or None.
    (``str.isdigit`` also accepts "²" and "٣", which ``int`` refuses or reads.)"""
    text = text.strip()
    if not text or len(text) > 19 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if number <= high else None


def shown(text: str) -> str:
    """Text that may hold bytes no encoding gave (a file name that is not UTF-8, read by
    Python as lone surrogates), printable: each such byte as ``\\xNN``."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def file_name(path: Path, error: type[CanvassError] = IngestError) -> str:
    """``path``'s name, refused unless it is text (UTF-8): the name is recorded in the
    election log, which holds text and nothing else."""
    name = path.name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        # Python reads each byte that is not UTF-8 as the surrogate U+DC80 + the byte.
        bad = next((ord(c) - 0xDC00 for c in name if "\udc80" <= c <= "\udcff"), 0)
        raise error(
            f"{shown(str(path))}: expected a file name in UTF-8; found byte 0x{bad:02X} "
            "(rename the file)"
        ) from None
    return name


def read_file(path: Path, error: type[CanvassError] = IngestError) -> bytes:
    """The bytes of the regular file at ``path`` (a link to one is followed). Anything
    else is refused by name rather than read: a device (``/dev/zero`` reads for ever), a
    named pipe (reading it waits for a writer), a socket, a folder. The file is opened
    without waiting and checked by what was opened."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise error(f"{shown(str(path))}: cannot read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{shown(str(path))}: expected a file; found {file_kind(mode)}")
        try:
            return f.read()
        except OSError as e:
            raise error(f"{shown(str(path))}: cannot read ({e.strerror})") from None


def file_kind(mode: int) -> str:
    """What a file's mode says it is, in words, when it is not a regular file."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something that is not a file"
