"""Zip archives opened so that no archive can exhaust memory or crash the reader.

Before ``zipfile`` builds its list of members, the archive's end record is read for how
many members it claims; before a member is read, its declared size and its compression
ratio are checked (:mod:`canvass.guard.limits`). ``zipfile`` never hands out more than a
member's declared size, and checks the CRC-32 at the end, so a member that lies about its
size fails rather than grows. Every way a damaged archive fails (``BadZipFile``,
``zlib.error``, an unsupported compression method, an encrypted member, a truncated file)
becomes one :class:`IngestError` naming the archive and the member.
"""

from __future__ import annotations

import lzma
import struct
import zipfile
import zlib
from pathlib import Path
from typing import IO

from canvass.errors import IngestError
from canvass.guard import limits

_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
    EOFError,
    RuntimeError,  # an encrypted member
    ValueError,
    OSError,
    struct.error,
    OverflowError,
    UnicodeDecodeError,
)
RATIO_FROM = 1 << 20
"""Members that expand to less than this are not held to the compression ratio: small
files of repeated text compress very well and cost nothing."""


def is_zip(path: Path) -> bool:
    """Whether the file begins as a zip archive does (its first four bytes, read alone)."""
    try:
        with path.open("rb", buffering=0) as f:
            return f.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


class Archive:
    """A zip archive whose members are read one at a time, each within the limits."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self.name = name or str(path)
        try:
            self._file: IO[bytes] = path.open("rb")
        except OSError as e:
            raise IngestError(f"{self.name}: cannot read ({e.strerror})") from None
        try:
            self._zip = self._open()
        except BaseException:
            self._file.close()
            raise

    def _open(self) -> zipfile.ZipFile:
        try:
            # zipfile's own reading of the end record (zip64 too), so that the member count is
            # known before the central directory is turned into one object per member.
            end = zipfile._EndRecData(self._file)  # type: ignore[attr-defined]
        except _DAMAGE as e:
            raise IngestError(f"{self.name}: expected a zip archive; {_problem(e)}") from None
        if end is None:
            raise IngestError(f"{self.name}: expected a zip archive; found no end record")
        limits.check(
            limits.ARCHIVE_MEMBERS,
            end[zipfile._ECD_ENTRIES_TOTAL],  # type: ignore[attr-defined]
            self.name,
            "the archive claims",
        )
        try:
            archive = zipfile.ZipFile(self._file)
        except _DAMAGE as e:
            raise IngestError(f"{self.name}: expected a zip archive; {_problem(e)}") from None
        members = archive.infolist()
        limits.check(limits.ARCHIVE_MEMBERS, len(members), self.name, "the archive holds")
        total = sum(m.file_size for m in members)
        limits.check(limits.ARCHIVE_BYTES, total, self.name, "the members would expand to")
        return archive

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def names(self) -> list[str]:
        """The members' names, folders left out, in the order the archive lists them."""
        return [m.filename for m in self._zip.infolist() if not m.is_dir()]

    def read(self, member: str) -> bytes:
        """A member's bytes, refused before it is decompressed when it would expand past a
        limit."""
        where = f"{self.name}:{member}"
        try:
            info = self._zip.getinfo(member)
        except KeyError:
            raise IngestError(f"{where}: no such member in the archive") from None
        limits.check(limits.MEMBER_BYTES, info.file_size, where, "the member would expand to")
        if info.file_size >= RATIO_FROM:
            ratio = info.file_size // max(info.compress_size, 1)
            limits.check(limits.COMPRESSION_RATIO, ratio, where, "the member would expand to")
        try:
            with self._zip.open(info) as f:
                data = f.read(info.file_size + 1)
        except _DAMAGE as e:
            raise IngestError(f"{where}: cannot read the member; {_problem(e)}") from None
        if len(data) != info.file_size:
            raise IngestError(
                f"{where}: cannot read the member; expected {info.file_size:,} bytes as the "
                f"archive declares; found {len(data):,}"
            )
        return data


def _problem(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    return text[:1].lower() + text[1:]
