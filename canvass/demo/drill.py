"""The tamper drill: "find 11,780 votes", and every other way to change a count after the
fact, each tried on a copy of a published bundle; the verifier must catch every one and
name it.

The tamperer here is an insider who holds the log operator's private key and so can
re-sign a rewritten log. What they cannot do is sign as a board member, a state official
or a witness, or change what an observer saw before: those are what catch them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import rfc8785
from sqlalchemy import update

from canvass import keys
from canvass.certify.canvass import ascertainment_statement
from canvass.certify.statements import sign
from canvass.ingest.ballots import VOTE, read_table, to_parquet
from canvass.log.entry import ArtifactRef, Entry, parse_entry
from canvass.log.merkle import MerkleTree
from canvass.log.note import Checkpoint, Signer, parse_checkpoint_text, parse_note, sign_note
from canvass.log.tiles import read_entries, write_tiles
from canvass.publish.bundle import MANIFEST, publish
from canvass.store import schema as s
from canvass.store.election import ARTIFACTS_DIR, DB_FILE, OPERATOR_KEY, ElectionDirectory
from canvass.verify import Report, TrustStore, open_source, verify_bundle

VOTES = 11_780


@dataclass(frozen=True)
class Tamper:
    name: str
    what: str
    expect: str
    """Words the verifier's report must contain: the reason it names."""


TAMPERS = (
    Tamper(
        "certified-total",
        f"add {VOTES:,} votes to the runner-up's published statewide total (manifest "
        "re-hashed to match)",
        "counted from the ballot tables",
    ),
    Tamper(
        "ballot-table",
        f"add {VOTES:,} ballots for the runner-up to a county's ballot table and point the "
        "log at it, re-signing the log",
        "rests on ballot tables",
    ),
    Tamper(
        "county-certificate",
        f"add {VOTES:,} votes to the runner-up in a county certificate",
        "the artifact was altered",
    ),
    Tamper(
        "database",
        f"point a county's import, in the database, at a ballot table with {VOTES:,} more "
        "votes for the runner-up, then publish",
        "counted from the ballot tables",
    ),
    Tamper(
        "forged-signature",
        "replace a board member's vote with one signed by a key of the same name, re-signing "
        "the log",
        "the signature is not",
    ),
    Tamper(
        "back-dated-vote",
        "date a board member's vote a day earlier, re-signing the log",
        "back-dated",
    ),
    Tamper(
        "removed-entry",
        "remove a clerk's explanation of an imbalance from the log, re-signing it",
        "rolled back",
    ),
    Tamper(
        "split-view",
        "show this observer a log of the same size with one audit reading changed",
        "forked",
    ),
    Tamper(
        "swapped-electors",
        "swap in the runner-up's slate of electors, signed by an unregistered key",
        "over this certificate-of-ascertainment",
    ),
)


# --- rewriting a bundle ------------------------------------------------------------------


def _manifest(bundle: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((bundle / MANIFEST).read_text())
    return doc


def _rehash(bundle: Path, *paths: str) -> None:
    """Make the manifest agree with files the tamperer changed."""
    manifest = _manifest(bundle)
    files = manifest["files"]
    assert isinstance(files, dict)
    for path in paths:
        data = (bundle / path).read_bytes()
        files[path] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def _entries(bundle: Path) -> list[bytes]:
    note = parse_note((bundle / "log" / "checkpoint").read_text())
    size = parse_checkpoint_text(note.text).size
    return read_entries(lambda p: (bundle / "log" / p).read_bytes(), size)


def _resign(bundle: Path, entries: list[bytes], operator: Signer) -> None:
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
    manifest = _manifest(bundle)
    files = manifest["files"]
    assert isinstance(files, dict)
    for path in [p for p in files if str(p).startswith("log/")]:
        del files[path]
    manifest["log_size"] = tree.size
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    _rehash(bundle, *written)


def _rewrite(
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


def _find(bundle: Path, kind: str, last: bool = False) -> tuple[list[bytes], int, Entry]:
    """The bundle's entries, and the first (or last) of type ``kind`` with its index."""
    raw = _entries(bundle)
    found = [i for i, r in enumerate(raw) if parse_entry(r).type == kind]
    index = found[-1] if last else found[0]
    return raw, index, parse_entry(raw[index])


def _put_artifact(bundle: Path, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    (bundle / "artifacts" / sha).write_bytes(data)
    _rehash(bundle, f"artifacts/{sha}")
    return sha


def _runner_up(bundle: Path) -> tuple[str, str]:
    """The presidential contest's winner and runner-up (choice ids)."""
    votes = json.loads((bundle / "results" / "results.json").read_text())["contests"]["president"][
        "votes"
    ]
    ranked = sorted(votes, key=lambda c: -votes[c])
    return ranked[0], ranked[1]


def _stuffed_table(data: bytes, runner_up: str) -> bytes:
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


def _county_certificate(entries: list[Entry]) -> tuple[int, Entry]:
    return next(
        (i, e)
        for i, e in enumerate(entries)
        if e.type == "certificate.proposed" and e.data.get("county")
    )


# --- the tampers ---------------------------------------------------------------------------


def _certified_total(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = _runner_up(bundle)
    path = bundle / "results" / "results.json"
    doc = json.loads(path.read_text())
    doc["contests"]["president"]["votes"][runner_up] += VOTES
    path.write_text(json.dumps(doc, indent=1))
    _rehash(bundle, "results/results.json")


def _ballot_table(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = _runner_up(bundle)
    raw, index, entry = _find(bundle, "ballots.imported")
    old = next(r for r in entry.artifacts if r.name.endswith(".parquet"))
    data = _stuffed_table((bundle / "artifacts" / old.sha256).read_bytes(), runner_up)
    sha = _put_artifact(bundle, data)
    refs = [
        ArtifactRef(sha, r.name, r.media_type, len(data)) if r == old else r
        for r in entry.artifacts
    ]
    raw[index] = _rewrite(
        entry, artifacts=refs, data={**entry.data, "cards": entry.data.get("cards", 0) + VOTES}
    )
    _resign(bundle, raw, operator)


def _county_certificate_total(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = _runner_up(bundle)
    _, entry = _county_certificate([parse_entry(r) for r in _entries(bundle)])
    path = bundle / "artifacts" / entry.data["certificate"]
    doc = json.loads(path.read_bytes())
    doc["results"]["president"]["votes"][runner_up] += VOTES
    path.write_bytes(bytes(rfc8785.dumps(doc)))
    _rehash(bundle, f"artifacts/{entry.data['certificate']}")


def _database(bundle: Path, election: Path, operator: Signer) -> None:
    _, runner_up = _runner_up(bundle)
    store = ElectionDirectory.open(election)
    with store.engine.connect() as conn:
        row = conn.execute(
            s.ballot_import.select().where(s.ballot_import.c.kind == "ballots").limit(1)
        ).first()
    assert row is not None
    forged = _stuffed_table(store.artifacts.get(row.table_sha256), runner_up)
    sha = store.artifacts.put(forged)
    with store.engine.begin() as conn:
        conn.execute(
            update(s.ballot_import)
            .where(s.ballot_import.c.entry == row.entry)
            .values(table_sha256=sha)
        )
    publish(store, bundle, replace=True)
    store.close()


def _forged_signature(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = _find(bundle, "board.vote")
    impostor = keys.new_signer(entry.data["member"])
    forged = sign(impostor, {"statement": "vote", "forged": True})
    raw[index] = _rewrite(entry, data={**entry.data, "signature": forged})
    _resign(bundle, raw, operator)


def _back_dated_vote(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = _find(bundle, "board.vote", last=True)
    when = dt.datetime.fromisoformat(entry.time.replace("Z", "+00:00")) - dt.timedelta(days=1)
    earlier = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raw[index] = _rewrite(entry, time=earlier)
    _resign(bundle, raw, operator)


def _removed_entry(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, _ = _find(bundle, "reconciliation.explained")
    _resign(bundle, raw[:index] + raw[index + 1 :], operator)


def _split_view(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = _find(bundle, "audit.interpreted")
    raw[index] = _rewrite(entry, data={**entry.data, "votes": []})
    _resign(bundle, raw, operator)


def _swapped_electors(bundle: Path, election: Path, operator: Signer) -> None:
    raw, index, entry = _find(bundle, "ascertainment.issued")
    old = entry.artifacts[0]
    doc = json.loads((bundle / "artifacts" / old.sha256).read_bytes())
    _, runner_up = _runner_up(bundle)
    doc["appointed"] = doc["electors"][runner_up]
    data = bytes(rfc8785.dumps(doc))
    sha = _put_artifact(bundle, data)
    impostor = keys.new_signer(entry.data["official"])
    election_id = _find(bundle, "election.defined")[2].data["election"]
    signature = sign(impostor, ascertainment_statement(election_id, sha))
    ref = ArtifactRef(sha, old.name, old.media_type, len(data))
    raw[index] = _rewrite(
        entry, data={**entry.data, "certificate": sha, "signature": signature}, artifacts=[ref]
    )
    _resign(bundle, raw, operator)


_DO: dict[str, Callable[[Path, Path, Signer], None]] = {
    "certified-total": _certified_total,
    "ballot-table": _ballot_table,
    "county-certificate": _county_certificate_total,
    "database": _database,
    "forged-signature": _forged_signature,
    "back-dated-vote": _back_dated_vote,
    "removed-entry": _removed_entry,
    "split-view": _split_view,
    "swapped-electors": _swapped_electors,
}


def tamper(name: str, bundle: Path, election: Path) -> None:
    """Apply one tamper to ``bundle`` (a copy), as an insider holding the operator key of
    the election directory at ``election`` (also a copy: the database tamper changes it)."""
    _DO[name](bundle, election, keys.read_key(election / OPERATOR_KEY))


@dataclass
class Outcome:
    tamper: Tamper
    report: Report

    @property
    def caught(self) -> bool:
        text = self.report.text()
        return not self.report.ok and self.tamper.expect in text

    def reasons(self) -> list[str]:
        return [f"{c.name}: {p}" for c in self.report.checks for p in c.problems]


def copy_election(source: Path, to: Path) -> None:
    """The database, artifacts and operator key of an election directory (not the demo's
    generated files, nor bundles or drills kept beside them)."""
    to.mkdir(parents=True)
    for name in (DB_FILE, f"{DB_FILE}-wal", f"{DB_FILE}-shm"):
        if (source / name).exists():
            shutil.copy2(source / name, to / name)
    shutil.copytree(source / ARTIFACTS_DIR, to / ARTIFACTS_DIR)
    shutil.copytree(source / OPERATOR_KEY.parent, to / OPERATOR_KEY.parent)


def run_drill(election: Path, bundle: Path, work: Path) -> list[Outcome]:
    """Verify the honest bundle (the observer remembers its checkpoint), then each tamper
    on a fresh copy of the bundle (and of the election directory, for the database)."""
    trust_path = work / "trust.json"
    honest = verify_bundle(open_source(str(bundle)), TrustStore(trust_path))
    if not honest.ok:
        raise AssertionError("the honest bundle does not verify:\n" + honest.text())
    TrustStore(trust_path).remember(honest.origin, honest.operator, honest.checkpoint)
    outcomes = []
    for t in TAMPERS:
        case = work / t.name
        shutil.copytree(bundle, case / "bundle")
        changed = election
        if t.name == "database":  # the only tamper that changes the election directory
            changed = case / "election"
            copy_election(election, changed)
        tamper(t.name, case / "bundle", changed)
        report = verify_bundle(open_source(str(case / "bundle")), TrustStore(trust_path))
        outcomes.append(Outcome(t, report))
    return outcomes
