"""The content-addressed artifact store.

Every file an entry rests on (CVR exports, definitions, reports, certificates) is kept
under the lower-case hex SHA-256 of its bytes. :class:`ArtifactStore` is what the rest of
Canvass relies on; :class:`FileArtifactStore` keeps artifacts in a directory,
``artifacts/ab/abcdef…``. A write goes to a temporary file in the same directory, is
fsynced, renamed into place, and then the directory is fsynced, so after a crash an
artifact is either whole or absent. Artifacts are written before the log entry that names
them commits; one left behind by a transaction that never committed is harmless and
reported as unreferenced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from canvass.errors import ArtifactError

CHUNK = 1 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArtifactStore(Protocol):
    """Where artifacts live. Storing the same bytes twice is a no-op; reading checks the
    bytes against their name."""

    def put(self, data: bytes) -> str:
        """Store ``data`` durably; return its SHA-256."""
        ...

    def put_file(self, path: Path) -> tuple[str, int]:
        """Store the file at ``path`` durably, reading it a piece at a time; return its
        SHA-256 and size."""
        ...

    def get(self, sha256: str) -> bytes:
        """The artifact's bytes, checked against its name."""
        ...

    def __iter__(self) -> Iterator[str]:
        """Every artifact stored, by SHA-256."""
        ...


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileArtifactStore:
    """Artifacts in a directory of a local or shared file system."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        if not self.path(digest).exists():
            self._write(digest, lambda f: f.write(data))
        return digest

    def put_file(self, path: Path) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        name = digest.hexdigest()
        if not self.path(name).exists():

            def copy(out: BinaryIO) -> None:
                check = hashlib.sha256()
                with path.open("rb") as f:
                    while chunk := f.read(CHUNK):
                        check.update(chunk)
                        out.write(chunk)
                if check.hexdigest() != name:
                    raise ArtifactError(f"{path}: the file changed while it was being stored")

            self._write(name, copy)
        return name, size

    def _write(self, digest: str, write: Callable[[BinaryIO], object]) -> None:
        final = self.path(digest)
        folder = final.parent
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if created:
            _fsync_dir(self.root)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(folder)

    def get(self, sha256: str) -> bytes:
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise ArtifactError(f"artifact {sha256} is missing from {self.root}") from None
        if sha256_hex(data) != sha256:
            raise ArtifactError(
                f"artifact {sha256} is damaged: its bytes hash to {sha256_hex(data)}"
            )
        return data

    def __iter__(self) -> Iterator[str]:
        if not self.root.exists():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir():
                for f in sorted(folder.iterdir()):
                    if not f.name.startswith(".tmp-"):
                        yield f.name
