"""Rewriting a published bundle as an insider holding the log operator's key would: the
tamper drill's tools (re-hash the manifest, re-sign the log, put in an artifact, stuff a
ballot table), kept apart from the tampers that use them."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import rfc8785

from canvass.ingest.ballots import VOTE, read_table, to_parquet
from canvass.log.entry import ArtifactRef, Entry, parse_entry
from canvass.log.merkle import MerkleTree
from canvass.log.note import Checkpoint, Signer, parse_checkpoint_text, parse_note, sign_note
from canvass.log.tiles import read_entries, write_tiles
from canvass.publish.bundle import MANIFEST
from canvass.store.election import ElectionDirectory

VOTES = 11_780
"""The votes a tamperer adds: the 11,780 Georgia's secretary of state was asked to find."""


def read_manifest(bundle: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((bundle / MANIFEST).read_text())
    return doc


def rehash(bundle: Path, *paths: str) -> None:
    """Make the manifest agree with files the tamperer changed."""
    manifest = read_manifest(bundle)
    files = manifest["files"]
    assert isinstance(files, dict)
    for path in paths:
        data = (bundle / path).read_bytes()
        files[path] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def log_entries(bundle: Path) -> list[bytes]:
    note = parse_note((bundle / "log" / "checkpoint").read_text())
    size = parse_checkpoint_text(note.text).size
    return read_entries(lambda p: (bundle / "log" / p).read_bytes(), size)


def resign(bundle: Path, entries: list[bytes], operator: Signer) -> None:
    """Write ``entries`` as the bundle's log, with every checkpoint signed again by the
    operator (the witnesses' cosignatures cannot be made, so they are dropped)."""
    old_sizes = [
        parse_checkpoint_text(parse_note(n).text).size
        for n in json.loads((bundle / "log" / "checkpoints.json").read_text())
    ]
    shutil.rmtree(bundle / "log" / "tile")
    tree = MerkleTree(entries)
    written = ["log/checkpoint", "log/checkpoints.json"]
    for path, data in write_tiles(entries):
        (bundle / "log" / path).parent.mkdir(parents=True, exist_ok=True)
        (bundle / "log" / path).write_bytes(data)
        written.append(f"log/{path}")
    notes = [
        sign_note(Checkpoint(operator.name, n, tree.root(n)).text(), operator)
        for n in sorted({min(n, tree.size) for n in [*old_sizes, tree.size]})
    ]
    (bundle / "log" / "checkpoint").write_text(notes[-1])
    (bundle / "log" / "checkpoints.json").write_text(json.dumps(notes))
    manifest = read_manifest(bundle)
    files = manifest["files"]
    assert isinstance(files, dict)
    for path in [p for p in files if str(p).startswith("log/")]:
        del files[path]
    manifest["log_size"] = tree.size
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    rehash(bundle, *written)


def rewrite(
    entry: Entry,
    time: str | None = None,
    data: dict[str, Any] | None = None,
    artifacts: Sequence[ArtifactRef] | None = None,
) -> bytes:
    return Entry(
        type=entry.type,
        actor=entry.actor,
        time=time or entry.time,
        data=entry.data if data is None else data,
        artifacts=entry.artifacts if artifacts is None else tuple(artifacts),
    ).canonical()


def find(bundle: Path, kind: str, last: bool = False) -> tuple[list[bytes], int, Entry]:
    """The bundle's entries, and the first (or last) of type ``kind`` with its index."""
    raw = log_entries(bundle)
    found = [i for i, r in enumerate(raw) if parse_entry(r).type == kind]
    index = found[-1] if last else found[0]
    return raw, index, parse_entry(raw[index])


def put_artifact(bundle: Path, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    (bundle / "artifacts" / sha).write_bytes(data)
    rehash(bundle, f"artifacts/{sha}")
    return sha


def runner_up(bundle: Path) -> tuple[str, str]:
    """The presidential contest's winner and runner-up (choice ids)."""
    votes = json.loads((bundle / "results" / "results.json").read_text())["contests"]["president"][
        "votes"
    ]
    ranked = sorted(votes, key=lambda c: -votes[c])
    return ranked[0], ranked[1]


def stuffed_table(data: bytes, runner_up: str) -> bytes:
    """A ballot table with ``VOTES`` more cards, copies of one that voted for the runner-up
    for president (choice ids are the definition's positions)."""
    table, contests = read_table(data)
    president = next(i for i, c in enumerate(contests) if c.name == "president")
    choice = next(i for i, ch in enumerate(contests[president].choices) if ch.name == runner_up)
    for row in range(len(table)):
        marks = table.column("marks")[row].as_py() or []
        said = [(m["choice"], m["status"]) for m in marks if m["contest"] == president]
        if said == [(choice, VOTE)]:
            break
    extra = table.take(pa.array([row] * VOTES))
    records = pa.array([f"stuffed-{n}" for n in range(VOTES)], pa.string())
    extra = extra.set_column(extra.schema.get_field_index("record"), "record", records)
    combined = pa.concat_tables([table, extra]).unify_dictionaries().combine_chunks()
    data, _ = to_parquet(combined.to_batches(), contests)
    return data


def county_certificate(entries: list[Entry]) -> tuple[int, Entry]:
    return next(
        (i, e)
        for i, e in enumerate(entries)
        if e.type == "certificate.proposed" and e.data.get("county")
    )


def edit_json(bundle: Path, path: str, change: Callable[[Any], None]) -> None:
    """Change a published JSON file as the tamperer would, and re-hash the manifest."""
    doc = json.loads((bundle / path).read_text())
    change(doc)
    (bundle / path).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    rehash(bundle, path)


def name_in_publication(bundle: Path, operator: Signer, *paths: str) -> None:
    """Rewrite the log's publication entry so that it names ``paths`` as the bundle now
    holds them, and re-sign the log with the operator's key: what an insider does to make
    a changed file look published."""
    raw, index, entry = find(bundle, "bundle.published", last=True)
    old = entry.artifacts[0]
    publication = json.loads((bundle / "artifacts" / old.sha256).read_bytes())
    for path in paths:
        data = (bundle / path).read_bytes()
        publication["files"][path] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
    document = bytes(rfc8785.dumps(publication))
    sha = put_artifact(bundle, document)
    (bundle / "artifacts" / old.sha256).unlink()
    manifest = read_manifest(bundle)
    files = manifest["files"]
    assert isinstance(files, dict)
    del files[f"artifacts/{old.sha256}"]
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    ref = ArtifactRef(sha, old.name, old.media_type, len(document))
    raw[index] = rewrite(entry, artifacts=[ref])
    resign(bundle, raw, operator)


def corrected_export(store: ElectionDirectory, county: str, folder: Path, cards: int) -> None:
    """The county's CVR export as it was imported (its files are artifacts), less
    ``cards`` cards: the export a correction imports."""
    entry = next(
        e
        for _, e in store.entries()
        if e.type == "ballots.imported" and e.data.get("county") == county
    )
    folder.mkdir(parents=True)
    for ref in entry.artifacts:
        if ref.name.endswith(".json"):
            (folder / ref.name).write_bytes(store.artifacts.get(ref.sha256))
    export = folder / "CvrExport.json"
    doc = json.loads(export.read_bytes())
    dropped = 0
    while dropped < cards:
        session = doc["Sessions"].pop()
        dropped += len(session["Original"]["Cards"])
    export.write_text(json.dumps(doc))
