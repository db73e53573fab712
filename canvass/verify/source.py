"""Reading a published bundle, from a folder or over HTTP(S), file by file."""

from __future__ import annotations

import hashlib
import http.client
import os
import stat
import urllib.error
from pathlib import Path
from typing import Any

from canvass.errors import VerificationError
from canvass.guard import limits
from canvass.guard.documents import json_value, one_line
from canvass.guard.text import decode_text, file_kind
from canvass.guard.unique import repeated_key, shown
from canvass.verify.fetch import TooSlow, fetch

MANIFEST = "manifest.json"


class Missing(VerificationError):
    """A file the bundle should hold and does not."""


class Source:
    """A bundle's files by their path in it."""

    def __init__(self, where: str) -> None:
        self.where = where

    def read(self, path: str) -> bytes:
        """A file's bytes, read afresh (a bundle can be larger than memory; what the checks
        reuse, they keep themselves)."""
        raise NotImplementedError

    def listing(self, folder: str) -> list[str] | None:
        """The files under ``folder`` (``""``: every file), where the source can list
        them."""
        return None

    def json(self, path: str) -> Any:
        """A file of the bundle as JSON, through the guarded decoding every reader uses
        (nesting, lone surrogates and numbers past 64 bits refused, by name)."""
        data = self.read(path)
        doc = json_value(data, path, VerificationError)
        repeated = repeated_key(data)
        if repeated is not None:
            raise VerificationError(f"{path}: {repeated}; readers differ on which value they take")
        return doc

    def text(self, path: str) -> str:
        """A file of the bundle as UTF-8 text; other bytes are refused, by line."""
        return decode_text(self.read(path), path, VerificationError)

    def manifest(self) -> dict[str, Any]:
        try:
            doc = json_value(self.read(MANIFEST), f"{self.where}/{MANIFEST}", VerificationError)
        except Missing:
            raise VerificationError(
                f"{self.where}: no {MANIFEST}; this is not a results bundle"
            ) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
            raise VerificationError(f"{self.where}/{MANIFEST}: no 'files' table")
        if not isinstance(doc.get("withheld", {}), dict):
            raise VerificationError(f"{self.where}/{MANIFEST}: 'withheld' is not a table")
        return doc

    def artifact(self, sha256: str) -> bytes:
        """An artifact's bytes, refused unless they hash to its name."""
        data = self.read(f"artifacts/{sha256}")
        found = hashlib.sha256(data).hexdigest()
        if found != sha256:
            raise VerificationError(
                f"artifacts/{sha256}: its bytes hash to {found}: the artifact was altered"
            )
        return data


def inside(path: str) -> str:
    """A path the bundle names, refused unless it stays inside the bundle."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise VerificationError(f"'{shown(path)}': not a path inside the bundle")
    return path


class Folder(Source):
    def __init__(self, root: Path) -> None:
        super().__init__(str(root))
        self.root = root

    def read(self, path: str) -> bytes:
        return _regular_file(self.root, self.root / inside(path), path)

    def listing(self, folder: str) -> list[str] | None:
        base = self.root / folder
        if not base.is_dir():
            return []
        # Everything but folders: a link, a named pipe or a device placed in the bundle is
        # named as a file the election does not give (and never read but by _regular_file).
        return sorted(
            str(p.relative_to(self.root))
            for p in base.rglob("*")
            if p.is_symlink() or not p.is_dir()
        )


def _regular_file(root: Path, target: Path, path: str) -> bytes:
    """The bytes of a regular file inside the bundle, and nothing else: a symbolic link
    that leads out of the bundle, a device (``/dev/zero`` reads for ever), a named pipe
    (whose reading waits for a writer) or a socket is a named problem. The file is opened
    without waiting and checked by what was opened, so nothing can be swapped in between
    the check and the read."""
    try:
        real, base = target.resolve(strict=True), root.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        if target.is_symlink():
            raise VerificationError(
                f"{shown(path)}: a link that leads nowhere; expected a file"
            ) from None
        raise Missing(f"{shown(path)}: missing from the bundle") from None
    except (OSError, RuntimeError) as e:  # a loop of links
        raise VerificationError(f"{shown(path)}: cannot read ({one_line(str(e))})") from None
    if not real.is_relative_to(base):
        raise VerificationError(
            f"{shown(path)}: a link to a file outside the bundle; expected a file of the bundle"
        )
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as e:
        raise VerificationError(f"{shown(path)}: cannot read ({e.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise Missing(f"{shown(path)}: missing from the bundle (a folder is there)")
        if not stat.S_ISREG(mode):
            raise VerificationError(f"{shown(path)}: expected a file; found {file_kind(mode)}")
        size = os.fstat(fd).st_size
        if size > limits.value(limits.BUNDLE_FILE_BYTES):
            raise VerificationError(_too_large(path, size))
        return f.read()


def _too_large(path: str, size: int) -> str:
    return limits.exceeded(limits.BUNDLE_FILE_BYTES, size, shown(path), "a file of")


class Web(Source):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.base = url if url.endswith("/") else url + "/"

    def read(self, path: str) -> bytes:
        url = self.base + inside(path)
        allowed = limits.value(limits.BUNDLE_FILE_BYTES)
        try:
            data = fetch(url, allowed)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise Missing(f"{shown(path)}: missing from the bundle (HTTP 404)") from None
            raise VerificationError(f"{shown(url)}: HTTP {e.code}") from None
        except TooSlow as e:
            raise VerificationError(_too_slow(url, e.received)) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise VerificationError(f"{shown(url)}: cannot fetch ({one_line(str(e))})") from None
        if len(data) > allowed:
            raise VerificationError(_too_large(path, len(data)))
        return data


def _too_slow(url: str, received: int) -> str:
    seconds, rate = limits.FETCH_SECONDS, limits.FETCH_RATE
    return (
        f"{shown(url)}: the server is too slow: expected the file within "
        f"{limits.value(seconds):,} seconds and one more for every {limits.value(rate):,} "
        f"bytes; found {received:,} bytes had come when the time was up (set "
        f"{seconds.variable} or {rate.variable} to allow a slower server)"
    )


def open_source(where: str) -> Source:
    if where.startswith(("http://", "https://")):
        return Web(where)
    root = Path(where)
    if not root.is_dir():
        raise VerificationError(f"{where}: no such folder (nor an http(s) address)")
    return Folder(root)
