"""The content-addressed artifact store.

Every file an entry rests on (CVR exports, definitions, reports, certificates) is kept
under the lower-case hex SHA-256 of its bytes. :class:`ArtifactStore` is what the rest of
Canvass relies on; :class:`FileArtifactStore` keeps artifacts in a directory,
``artifacts/ab/abcdef…``.

An artifact becomes part of the store only with the log entry that names it. Until then it
is *staged*: written, fsynced, in a staging folder of the process's own beside the store
(``.staging-<random>/``, held with an exclusive lock while the process lives), readable by
this process alone. When the transaction appending the entry has committed, the staged
artifacts it names are renamed into the store (each rename atomic, the directories
fsynced) and the rest are dropped; when it fails, all of them are. So a failed import leaves
the store exactly as it was. A process killed between the commit and the renames leaves a
staging folder no live process holds: opening the election finishes the job
(:meth:`FileArtifactStore.recover`), placing what the log names and dropping the rest.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from canvass.errors import ArtifactError

CHUNK = 1 << 20
STAGING_PREFIX = ".staging-"
LOCK_FILE = ".lock"


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
        """Every artifact stored, by SHA-256 (staged ones are not stored yet)."""
        ...

    def commit_staged(self, named: Collection[str]) -> None:
        """Place the staged artifacts among ``named`` in the store (the entries naming them
        have committed) and drop every other staged one."""
        ...

    def discard_staged(self) -> None:
        """Drop every staged artifact: nothing that names them committed."""
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
        self._staging: Path | None = None
        self._lock: int | None = None
        self._staged: dict[str, Path] = {}

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ArtifactError(f"{sha256[:80]!r}: not a SHA-256 (64 hex digits)")
        return self.root / sha256[:2] / sha256

    def _has(self, digest: str) -> bool:
        return digest in self._staged or self.path(digest).exists()

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        if not self._has(digest):
            self._write(digest, lambda f: f.write(data))
        return digest

    def put_file(self, path: Path) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        name = digest.hexdigest()
        if not self._has(name):

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

    def _staging_folder(self) -> Path:
        if self._staging is None:
            self.root.parent.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(dir=self.root.parent, prefix=STAGING_PREFIX))
            lock = os.open(folder / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._staging, self._lock = folder, lock
        return self._staging

    def _write(self, digest: str, write: Callable[[BinaryIO], object]) -> None:
        """Stage one artifact. The store's own failures (a full disk, a quota, a disk that
        went read-only) are one line naming the store; what was staged is dropped by the
        change that fails (see ``staged_or_nothing``)."""
        try:
            folder = self._staging_folder()
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except OSError as e:
            raise self._cannot(digest, e) from None
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, folder / digest)
            _fsync_dir(folder)
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            if e.filename is not None and not str(e.filename).startswith(str(folder)):
                raise  # the file being stored, not the store, failed: its own words
            raise self._cannot(digest, e) from None
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._staged[digest] = folder / digest

    def _cannot(self, digest: str, e: OSError) -> ArtifactError:
        return ArtifactError(f"{self.root}: cannot store artifact {digest}: {e.strerror or e}")

    def commit_staged(self, named: Collection[str]) -> None:
        for digest, staged in self._staged.items():
            if digest in named:
                self._place(digest, staged)
        self.discard_staged()

    def _place(self, digest: str, staged: Path) -> None:
        final = self.path(digest)
        if final.exists():
            return
        folder = final.parent
        created = not folder.exists()
        folder.mkdir(parents=True, exist_ok=True)
        if created:
            _fsync_dir(self.root)
        os.replace(staged, final)
        _fsync_dir(folder)

    def discard_staged(self) -> None:
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            if self._lock is not None:
                os.close(self._lock)
        self._staging, self._lock = None, None
        self._staged.clear()

    def recover(self, named: Callable[[str], bool]) -> None:
        """Finish what a killed process left staged: place the artifacts the log names
        (``named``) and that the store lacks, drop the rest. Folders a live process holds
        are left alone."""
        for folder in sorted(self.root.parent.glob(STAGING_PREFIX + "*")):
            try:
                lock = os.open(folder / LOCK_FILE, os.O_RDWR)
            except OSError:
                lock = None  # a folder made a moment ago and not yet locked, or damaged
            try:
                if lock is not None:
                    try:
                        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # its process is alive
                elif time.time() - folder.stat().st_mtime < 60:
                    continue
                for staged in folder.iterdir():
                    if len(staged.name) == 64 and named(staged.name):
                        self._place(staged.name, staged)
                shutil.rmtree(folder, ignore_errors=True)
            finally:
                if lock is not None:
                    os.close(lock)

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256)
        if sha256 in self._staged and not path.exists():
            path = self._staged[sha256]
        try:
            data = path.read_bytes()
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
        # Every file under the store: one in its place (``ab/abcd…``) by its SHA-256, any
        # other (a name no SHA-256 has, a folder not its own, a leftover temporary file) by
        # its path in the store, so that a check of the log finds it named by no entry.
        for path in sorted(self.root.rglob("*")):
            if path.is_dir() and not path.is_symlink():
                continue
            relative = path.relative_to(self.root).as_posix()
            name = path.name
            placed = relative == f"{name[:2]}/{name}" and len(name) == 64
            yield name if placed else relative
