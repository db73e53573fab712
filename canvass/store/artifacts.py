"""The content-addressed artifact store.

Every file an entry rests on (CVR exports, definitions, reports, certificates) is kept
under the lower-case hex SHA-256 of its bytes, in ``artifacts/ab/abcdef…``. A write goes
to a temporary file in the same directory, is fsynced, renamed into place, and then the
directory is fsynced, so after a crash an artifact is either whole or absent. Artifacts
are written before the log entry that names them commits; one left behind by a
transaction that never committed is harmless and reported as unreferenced.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from canvass.errors import ArtifactError


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` durably; return its SHA-256. Storing the same bytes twice is a no-op."""
        digest = sha256_hex(data)
        final = self.path(digest)
        if final.exists():
            return digest
        folder = final.parent
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if created:
            _fsync_dir(self.root)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(folder)
        return digest

    def get(self, sha256: str) -> bytes:
        """The artifact's bytes, checked against its name."""
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
