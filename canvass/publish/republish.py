"""Publishing again, in place, on election night: counties report one after another and
each publication must reach readers at once, through caches, without a moment when what
is served does not check out.

- **Append-only**: a log tile or an artifact already published is never rewritten (its
  path names its bytes: C2SP tlog-tiles' paths name a tile's place and width, an
  artifact's its SHA-256). New bytes under such a path mean a rewritten or forked log,
  and nothing is written.
- **Only what changed**: a file whose bytes are the same is left alone, so its ETag and
  its place in every cache stay.
- **In an order that always checks out**: new tiles and artifacts first, then the signed
  checkpoint, then the pages (each names a publication already inside that checkpoint),
  then the manifest; files no longer part of the bundle (partial tiles now full) go last.
  Each file is replaced atomically (written beside it, then renamed).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from canvass.errors import StoreError

IMMUTABLE = ("log/tile/", "artifacts/")
CHECKPOINTS = ("log/checkpoint", "log/checkpoints.json")
MANIFEST = "manifest.json"


@dataclass
class Republished:
    written: list[str] = field(default_factory=list)
    """Files added or changed, in the order they were written."""
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)


def _phase(path: str) -> int:
    if path.startswith(IMMUTABLE):
        return 0
    if path in CHECKPOINTS:
        return 1
    if path == MANIFEST:
        return 3
    return 2


def _replace(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    before = int(target.stat().st_mtime) if target.exists() else None
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    # Web servers derive Last-Modified and ETags (nginx: seconds and size) from the file:
    # a file changed within the second it was last written, to the same length, would
    # look unchanged to every cache. Its time moves on by a second at least.
    if before is not None and int(target.stat().st_mtime) <= before:
        os.utime(target, (before + 1, before + 1))


def republish(out: Path, files: Mapping[str, bytes]) -> Republished:
    """Make the bundle at ``out`` hold exactly ``files`` (bundle path → bytes)."""
    done = Republished()
    for path in sorted(files):
        target = out / path
        if path.startswith(IMMUTABLE) and target.is_file() and target.read_bytes() != files[path]:
            raise StoreError(
                f"{target}: already published with other bytes; a log tile or an "
                "artifact never changes, so this log was rewritten or forked: nothing "
                "was written"
            )
    for path in sorted(files, key=lambda p: (_phase(p), p)):
        target = out / path
        if target.is_file() and target.read_bytes() == files[path]:
            done.unchanged += 1
            continue
        _replace(target, files[path])
        done.written.append(path)
    for found in sorted(out.rglob("*")):
        path = found.relative_to(out).as_posix()
        if found.is_file() and path not in files:
            found.unlink()
            done.removed.append(path)
    for folder in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return done
