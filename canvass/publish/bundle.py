"""The published results bundle: static files any web server or CDN can serve, holding
everything an observer needs to check the count without asking anyone.

=================================  =========================================================
``manifest.json``                  the bundle: election, log origin and operator key, log
                                   size, the publication entry and its time, every file's
                                   SHA-256, the artifacts withheld
``log/checkpoint``                 the latest checkpoint, with witness cosignatures
``log/checkpoints.json``           every checkpoint the operator signed, in order
``log/tile/...``                   the log as C2SP tlog tiles (hashes and entry bundles)
``artifacts/<sha256>``             every artifact the log names: definitions, ballot tables
                                   (Parquet), poll books, certificates, retrieval lists, the
                                   publication and, where the county allows, the original
                                   CVR files
``results/results.json``           every contest, statewide and by county; ballots and cards;
                                   contests left out of imports; ties awaiting the officials
``results/breakdowns.json``        every contest by precinct, by vote type, by batch
``results/<contest>.csv``          one contest by county
``results/nist-1500-100.json``     NIST SP 1500-100 v2 election report
``results/ranked-choice.json``     every ranked-choice contest round by round
``reconciliation/units.csv``       every precinct and vote type balanced
``reconciliation/report.txt``      the report the election's state profile asks for
``certificates/index.json``        every certificate: scope, standing, signatures, supersedes
``audits/index.json``              every audit: method, boards, seed, rounds, risk, re-readings;
                                   full hand counts beside the certificates they audit
``audits/<name>.txt``              each audit's report, for people
``index.html`` and the site        the results for people: a page per contest, county,
                                   ranked-choice count, the certificates, the audits,
                                   how to check, each with a JSON twin and a CSV, and
                                   ``check.js``, which checks each page in the browser
                                   (``docs/results-site.md``)
=================================  =========================================================

Everything but the log, the checkpoints and the artifacts is rendered by
:mod:`canvass.publish.render` from the log alone (the application records the publication
in the log first: :mod:`canvass.app.publishing`). This module writes the files: beside
the destination, then renamed into place, so a reader never sees half of a bundle.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from canvass.errors import StoreError
from canvass.publish.render import MANIFEST

__all__ = ["MANIFEST", "make_room", "write_bundle"]


def make_room(out: Path, replace: bool) -> None:
    """Refuse to write over anything but an earlier bundle (and that only when asked)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not replace:
            raise StoreError(f"{out}: already exists; pass --replace to publish over it")
        if not (out / MANIFEST).is_file():
            raise StoreError(f"{out}: exists and is not a results bundle; not replacing it")


def write_bundle(
    out: Path,
    files: Mapping[str, bytes],
    artifacts: Iterable[str],
    artifact: Callable[[str], bytes],
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write ``files`` (path → bytes) and every artifact in ``artifacts`` (by SHA-256,
    read one at a time through ``artifact``) as the bundle at ``out``, durably, replacing
    any earlier one at once. Returns every path written with its size. ``progress`` is
    told each file written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    written: dict[str, int] = {}
    try:

        def put(path: str, data: bytes) -> None:
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            written[path] = len(data)
            if progress is not None:
                progress(1)

        for path, data in files.items():
            put(path, data)
        for sha in artifacts:
            put(f"artifacts/{sha}", artifact(sha))
        _sync_tree(staging)
        if out.exists():
            old = out.with_name(f".{out.name}-old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written


def _sync_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            fd = os.open(Path(folder) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
