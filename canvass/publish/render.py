"""Publishing as a pure function of the log and its artifacts.

The files a bundle shows people — results in every format, ranked-choice rounds, the
reconciliation, the certificate index, the audits, the pages — are rendered from the
entries before the log's ``bundle.published`` entry (:func:`render_content`). That entry
names the *publication*: a document listing every rendered file with its SHA-256
(:func:`publication_document`), so the log itself says what was published. The bundle's
``manifest.json`` then lists every file: the rendered ones, the log as tiles, the
checkpoints and the artifacts (:func:`manifest_document`).

No clock and no database: times come from the entries, so the same log always gives the
same bytes. The election directory publishes with these functions; the verifier calls the
very same ones on the bundle's log and artifacts and compares what it gets, byte for byte.

A page is added by adding a renderer to :data:`RENDERERS`: a function from the
:class:`~canvass.publish.view.ElectionView` to (path, bytes) pairs. The verifier derives
whatever the renderers render, so a new page is checked the day it is published.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import rfc8785

from canvass.certify.fold import ElectionState
from canvass.certify.materials import Materials
from canvass.errors import CanvassError
from canvass.ingest.ballots import MEDIA_TYPE as BALLOT_TABLE
from canvass.log.entry import ArtifactRef, Entry
from canvass.log.tiles import write_tiles
from canvass.publish.audits import render_audits
from canvass.publish.certificate_text import render_certificate_texts
from canvass.publish.certificates import render_certificates
from canvass.publish.files import inside, json_bytes
from canvass.publish.reconciliation import render_reconciliation
from canvass.publish.results import render_results
from canvass.publish.site.publish import render_site_pages
from canvass.publish.view import ElectionView

FORMAT = "canvass-bundle/2"
"""The bundle's format: which files, rendered how. A verifier derives a bundle of its own
format only."""
MANIFEST = "manifest.json"
CHECKPOINT = "log/checkpoint"
CHECKPOINTS = "log/checkpoints.json"
PUBLICATION = "application/vnd.canvass.publication+json"
PUBLISHED = "bundle.published"
ALL = "all"

Renderer = Callable[[ElectionView], Iterable[tuple[str, bytes]]]

RENDERERS: tuple[Renderer, ...] = (
    render_results,
    render_reconciliation,
    render_certificates,
    render_certificate_texts,
    render_audits,
    render_site_pages,
)
"""Every renderer of the bundle's content, in order."""


def render_content(
    state: ElectionState, materials: Materials, root: bytes, view: ElectionView | None = None
) -> dict[str, bytes]:
    """Every file the renderers make from the log's first ``state.size`` entries (whose
    Merkle root is ``root``), by path. ``view``: the view of that state, where the caller
    keeps it (to use what it counted)."""
    view = view or ElectionView(state, materials, root)
    files: dict[str, bytes] = {}
    for renderer in RENDERERS:
        for path, data in renderer(view):
            if path in files or path == MANIFEST or path.startswith(("log/", "artifacts/")):
                raise CanvassError(f"{path}: rendered twice, or where the bundle keeps the log")
            files[inside(path)] = data
    return dict(sorted(files.items()))


def _listing(files: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    return {
        path: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for path, data in sorted(files.items())
    }


def publication_document(
    election: str, size: int, root: bytes, withhold: Sequence[str], content: Mapping[str, bytes]
) -> bytes:
    """The publication a ``bundle.published`` entry names (RFC 8785 canonical JSON): the
    format, the log it was rendered from, the counties whose original CVR files are
    withheld, and every rendered file with its SHA-256 and size."""
    doc: dict[str, Any] = {
        "document": "publication",
        "format": FORMAT,
        "election": election,
        "log_size": size,
        "root": root.hex(),
        "withhold_originals": sorted(set(withhold)),
        "files": _listing(content),
    }
    return bytes(rfc8785.dumps(doc))


def publication_entry(
    size: int, withhold: Sequence[str], document: bytes
) -> tuple[ArtifactRef, dict[str, Any]]:
    """The artifact and the data of the ``bundle.published`` entry for ``document``."""
    ref = ArtifactRef(
        hashlib.sha256(document).hexdigest(), "publication.json", PUBLICATION, len(document)
    )
    data = {"format": FORMAT, "log_size": size, "withhold_originals": sorted(set(withhold))}
    return ref, data


def withheld(entries: Sequence[Entry], withhold: Sequence[str]) -> dict[str, dict[str, str]]:
    """The original CVR files kept out of the bundle: those of the counties in
    ``withhold`` (or ``all``), by SHA-256. Ballot tables are never withheld."""
    out: dict[str, dict[str, str]] = {}
    for index, entry in enumerate(entries):
        if entry.type != "ballots.imported":
            continue
        county = str(entry.data.get("county") or "")
        if ALL not in withhold and county not in withhold:
            continue
        for ref in entry.artifacts:
            if ref.media_type != BALLOT_TABLE and ref.sha256 not in out:
                out[ref.sha256] = {"name": ref.name, "county": county, "entry": str(index)}
    return out


def artifacts(entries: Sequence[Entry], kept_out: Mapping[str, Any]) -> dict[str, ArtifactRef]:
    """Every artifact the log names and the bundle holds, as the first entry naming it
    describes it."""
    out: dict[str, ArtifactRef] = {}
    for entry in entries:
        for ref in entry.artifacts:
            if ref.sha256 not in kept_out:
                out.setdefault(ref.sha256, ref)
    return out


def log_files(entry_bytes: Sequence[bytes]) -> dict[str, bytes]:
    """The log as C2SP tlog tiles, under ``log/``."""
    return {f"log/{path}": data for path, data in write_tiles(entry_bytes)}


def manifest_document(
    entries: Sequence[Entry],
    publication: int,
    content: Mapping[str, bytes],
    log: Mapping[str, bytes],
    kept_out: Mapping[str, dict[str, str]],
) -> bytes:
    """``manifest.json``: the election, the log (origin, operator key, size), the
    publication entry and its time, every file with its SHA-256 and size, and the original
    CVR files withheld. ``log`` holds the tiles and both checkpoint files."""
    opened, published = entries[0], entries[publication]
    election = next(e for e in entries if e.type == "election.defined")
    files = _listing({**content, **log})
    for sha, ref in artifacts(entries, kept_out).items():
        files[f"artifacts/{sha}"] = {"sha256": sha, "size": ref.size}
    doc = {
        "bundle": FORMAT,
        "election": election.data["election"],
        "origin": opened.data["origin"],
        "operator": opened.data["operator"],
        "log_size": len(entries),
        "publication": publication,
        "published": published.time,
        "files": dict(sorted(files.items())),
        "withheld": kept_out,
    }
    return json_bytes(doc)
