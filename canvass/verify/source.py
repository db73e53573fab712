"""Reading a published bundle, from a folder or over HTTP(S), file by file."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from canvass.errors import VerificationError
from canvass.guard.documents import json_value
from canvass.guard.text import decode_text

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
        return json_value(self.read(path), path, VerificationError)

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
        raise VerificationError(f"{path!r}: not a path inside the bundle")
    return path


class Folder(Source):
    def __init__(self, root: Path) -> None:
        super().__init__(str(root))
        self.root = root

    def read(self, path: str) -> bytes:
        target = self.root / inside(path)
        try:
            return target.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise Missing(f"{path}: missing from the bundle") from None

    def listing(self, folder: str) -> list[str] | None:
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())


class Web(Source):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.base = url if url.endswith("/") else url + "/"

    def read(self, path: str) -> bytes:
        try:
            with urllib.request.urlopen(self.base + inside(path), timeout=60) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise Missing(f"{path}: missing from the bundle (HTTP 404)") from None
            raise VerificationError(f"{self.base}{path}: HTTP {e.code}") from None
        except (urllib.error.URLError, OSError) as e:
            raise VerificationError(f"{self.base}{path}: cannot fetch ({e})") from None


def open_source(where: str) -> Source:
    if where.startswith(("http://", "https://")):
        return Web(where)
    root = Path(where)
    if not root.is_dir():
        raise VerificationError(f"{where}: no such folder (nor an http(s) address)")
    return Folder(root)
