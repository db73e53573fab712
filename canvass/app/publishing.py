"""Publishing: record the publication in the log, then write the static results bundle.

The bundle's files are rendered from the log and its artifacts alone
(:mod:`canvass.publish.render`), never from the database's tables. Publishing appends a
``bundle.published`` entry naming every rendered file by SHA-256 — unless the log's last
entry already records this very publication, so publishing twice with nothing changed
appends nothing and writes the same bytes. The witnesses cosign the checkpoint that holds
that entry; a bundle written before they have is written again afterwards (nothing more is
recorded) to carry their cosignatures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from canvass.app.actor import Actor
from canvass.certify.fold import ElectionState
from canvass.certify.materials import Materials
from canvass.errors import StoreError, VerificationError
from canvass.log.entry import Entry, new_entry, parse_entry
from canvass.log.note import COSIGNATURE_V1, VerifierKey, parse_note, verify_cosignature
from canvass.publish.bundle import make_room, write_bundle
from canvass.publish.files import json_bytes
from canvass.publish.render import (
    CHECKPOINT,
    CHECKPOINTS,
    MANIFEST,
    PUBLISHED,
    artifacts,
    log_files,
    manifest_document,
    publication_document,
    publication_entry,
    render_content,
    withheld,
)
from canvass.store.election import ElectionDirectory
from canvass.store.log import LogReader


@dataclass(frozen=True)
class Publication:
    index: int
    """The log entry that records it."""
    content: dict[str, bytes]
    """Every rendered file, by path."""
    recorded: bool
    """Whether it was recorded now (not when the log already ended with it)."""


@dataclass(frozen=True)
class Published:
    path: Path
    files: int
    bytes: int
    withheld: int
    log_size: int
    publication: int
    """The log entry that records this publication."""
    recorded: bool
    """Whether publishing appended that entry (not when the log already ended with it)."""
    not_cosigned: list[str]
    """Registered witnesses that have not yet cosigned the bundle's checkpoint."""


def _entries(view: LogReader) -> tuple[list[bytes], list[Entry]]:
    raw = list(view.entry_bytes())
    return raw, [parse_entry(b, f"entry {i}") for i, b in enumerate(raw)]


def _render(
    view: LogReader, entries: list[Entry], withhold: Sequence[str]
) -> tuple[dict[str, bytes], bytes]:
    state = ElectionState.replay(enumerate(entries))
    root = view.root(len(entries))
    content = render_content(state, Materials(view.artifacts.get), root)
    return content, publication_document(state.election, len(entries), root, withhold, content)


def record_publication(
    election: ElectionDirectory, actor: Actor, withhold_originals: Sequence[str] = ()
) -> Publication:
    """Render the bundle's files from the log and record a ``bundle.published`` entry
    naming them, unless the log's last entry already records the same publication."""
    with election.reading() as view:
        _, entries = _entries(view)
        last = entries[-1]
        if last.type == PUBLISHED and last.artifacts:
            size = len(entries) - 1
            content, document = _render(view, entries[:size], withhold_originals)
            if hashlib.sha256(document).hexdigest() == last.artifacts[0].sha256:
                return Publication(size, content, False)
        content, document = _render(view, entries, withhold_originals)
    ref, data = publication_entry(len(entries), withhold_originals, document)
    election.artifacts.put(document)
    with election.writing() as w:
        if w.size != len(entries):
            raise StoreError("the log moved on while the bundle was being rendered; publish again")
        index = w.append(new_entry(PUBLISHED, actor.name, data, (ref,)))
    return Publication(index, content, True)


def publish(
    election: ElectionDirectory,
    actor: Actor,
    out: Path,
    withhold_originals: Sequence[str] = (),
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Published:
    """Record the publication (:func:`record_publication`) and write the bundle to
    ``out``. ``withhold_originals`` names the counties (or ``all``) whose original CVR
    files stay out of it; their normalized ballot tables are always published.
    ``progress`` is told each file written."""
    make_room(out, replace)
    publication = record_publication(election, actor, withhold_originals)
    with election.reading() as view:
        raw, entries = _entries(view)
        checkpoint = view.cosigned_checkpoint()
        log = log_files(raw)
        log[CHECKPOINT] = checkpoint.encode()
        log[CHECKPOINTS] = json_bytes(view.checkpoints())
        kept_out = withheld(entries, withhold_originals)
        files = {**publication.content, **log}
        files[MANIFEST] = manifest_document(
            entries, publication.index, publication.content, log, kept_out
        )
        written = write_bundle(
            out, files, artifacts(entries, kept_out), view.artifacts.get, progress
        )
        return Published(
            out,
            len(written),
            sum(written.values()),
            len(kept_out),
            view.size,
            publication.index,
            publication.recorded,
            _not_cosigned(view, checkpoint),
        )


def _not_cosigned(view: LogReader, checkpoint: str) -> list[str]:
    """The registered witnesses whose cosignature the checkpoint lacks."""
    missing = []
    note = parse_note(checkpoint)
    for row in view.registered_keys():
        if row["role"] != "witness":
            continue
        key = VerifierKey.decode(row["vkey"])
        try:
            verify_cosignature(note, VerifierKey(key.name, COSIGNATURE_V1, key.public_key))
        except VerificationError:
            missing.append(key.name)
    return missing
