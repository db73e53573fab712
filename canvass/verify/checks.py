"""Every check of a published bundle, from the bytes up.

1. **files**: every file the manifest lists, against its SHA-256;
2. **log**: the entries (from the tiles) against the signed checkpoints, the hash tiles
   against the entries, witness cosignatures, the checkpoints this user saw before (a
   split view or a rollback fails), and entry times never going backwards;
3. **artifacts**: every artifact the log names is in the bundle with those bytes (or
   withheld by county policy, as the manifest declares), and every artifact in the bundle
   is named by the log;
4. **ballots**: every published CVR export read again, by the same reader under the same
   definition, gives the ballot table the log holds, card for card;
5. **signatures**: the log folded under the canvass rules: every motion, vote,
   certificate and certificate of ascertainment signed by a registered key, every
   certificate with enough signatures under its board's rule;
6. **certificates**: every county certificate re-counted from the ballot tables it rests
   on, which must be the county's imports at the time; its reconciliation recomputed;
   every state certificate the sum of its counties' and its ranked-choice winners
   re-counted; the published certificate index as the log has it;
7. **results**: the published results re-counted from the ballot tables in force;
8. **audits**: the commitment signed before the seed, every retrieval list drawn again
   from the seed, every risk measurement recomputed from the audit boards' readings;
9. **ascertainment**: every certificate of ascertainment against the state certificate
   in force when it was issued.

A check that cannot be made (an artifact missing or altered) is a failure, with why.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from canvass.audit import rounds
from canvass.audit.sampler import Ticket, weighted_sample
from canvass.audit.stats import Outcome
from canvass.audit.workflow import AuditRecord, Audits
from canvass.certify import documents
from canvass.certify.canvass import STATE, Canvass
from canvass.domain.definition import load_definition
from canvass.domain.model import ElectionDefinition, KeyRole
from canvass.errors import CanvassError, LogIntegrityError, VerificationError
from canvass.ingest import open_export
from canvass.ingest.ballots import MEDIA_TYPE as BALLOT_TABLE
from canvass.ingest.ballots import read_table, to_parquet
from canvass.ingest.manifest import parse_ballot_manifest
from canvass.ingest.names import NameMap, definition_contests
from canvass.ingest.results_csv import MEDIA_TYPE as RESULTS_TABLE
from canvass.log.entry import ArtifactRef, Entry
from canvass.log.note import (
    COSIGNATURE_V1,
    VerifierKey,
    parse_checkpoint_text,
    parse_note,
    verify_cosignature,
)
from canvass.log.tiles import check_tiles, read_entries
from canvass.log.verify import verify_log
from canvass.reconcile.balance import Key, balance
from canvass.reconcile.places import Places, places, resolve, tabulated_units
from canvass.reconcile.pollbook import PollbookRow, read_pollbook
from canvass.tabulate.election import count, ranked_choice
from canvass.verify.source import Source
from canvass.verify.trust import TrustStore

SIGNED = ("board.motion", "board.vote", "certificate.issued", "ascertainment.issued")
"""Entries that carry a person's signature."""

SHOWN = 20
"""Problems shown per check in the text report (the JSON report has every one)."""


@dataclass
class Check:
    name: str
    what: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Report:
    where: str
    checks: list[Check] = field(default_factory=list)
    checkpoint: str = ""
    origin: str = ""
    operator: str = ""
    log_size: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def check(self, name: str, what: str) -> Check:
        c = Check(name, what)
        self.checks.append(c)
        return c

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": self.where,
            "ok": self.ok,
            "origin": self.origin,
            "log_size": self.log_size,
            "checks": [
                {
                    "check": c.name,
                    "what": c.what,
                    "checked": c.checked,
                    "ok": c.ok,
                    "problems": c.problems,
                    "notes": c.notes,
                }
                for c in self.checks
            ],
        }

    def text(self) -> str:
        lines = [f"Bundle {self.where}: log {self.origin}, {self.log_size:,} entries"]
        for c in self.checks:
            mark = "ok  " if c.ok else "FAIL"
            lines.append(f"{mark} {c.name:<14} {c.checked:>9,} checked: {c.what}")
            lines += [f"       note: {n}" for n in c.notes]
            lines += [f"       {p}" for p in c.problems[:SHOWN]]
            if len(c.problems) > SHOWN:
                lines.append(f"       … and {len(c.problems) - SHOWN:,} more (all of them: --json)")
        failed = sum(len(c.problems) for c in self.checks)
        lines.append(
            "Everything holds."
            if self.ok
            else f"{failed} problem{'s' if failed != 1 else ''} found: do not rely on this bundle."
        )
        return "\n".join(lines) + "\n"


@dataclass
class _Import:
    index: int
    kind: str
    county: str
    table: str
    definition: str
    replaced_by: int | None = None


class _Imports:
    """The imports in force as the log goes, as the verifier reads them itself."""

    def __init__(self) -> None:
        self.definition = ""
        self.election = ""
        self.all: dict[int, _Import] = {}

    def apply(self, index: int, entry: Entry) -> None:
        d = entry.data
        if entry.type == "election.defined":
            self.definition, self.election = entry.artifacts[0].sha256, d["election"]
        elif entry.type in ("ballots.imported", "results.imported"):
            kind = "ballots" if entry.type == "ballots.imported" else "results"
            media = BALLOT_TABLE if kind == "ballots" else RESULTS_TABLE
            table = next(r.sha256 for r in entry.artifacts if r.media_type == media)
            self.all[index] = _Import(
                index, kind, d.get("county") or "", table, d["definition_sha256"]
            )
            for old in d.get("replaces") or []:
                if old in self.all:
                    self.all[old].replaced_by = index

    def current(self, kind: str, county: str | None = None) -> list[_Import]:
        return [
            i
            for i in self.all.values()
            if i.kind == kind
            and i.replaced_by is None
            and i.definition == self.definition
            and county in (None, i.county)
        ]


@dataclass
class _Snapshot:
    """What a certificate was proposed (or a certificate of ascertainment issued) against."""

    definition: str
    ballots: list[str]
    results: list[str]
    pollbooks: list[str]
    explanations: dict[Key, list[tuple[str, str]]]
    current: dict[str, str]


class _Verifier:
    def __init__(self, source: Source, report: Report) -> None:
        self.source = source
        self.report = report
        self._definitions: dict[str, ElectionDefinition] = {}
        self._tables: dict[str, pa.Table] = {}
        self._places: dict[str, Places] = {}
        self._pollbooks: dict[tuple[str, str], list[PollbookRow]] = {}
        self._frames: dict[Any, tuple[list[str], dict[str, rounds.Spot]]] = {}
        self._draws: dict[str, list[Ticket]] = {}
        self._batches: dict[Any, tuple[rounds.BatchFrame, dict[str, Outcome]]] = {}
        self.largest_round: dict[str, int] = {}
        """Each audit's largest round: drawn once, every round checked against its slice."""

    # --- artifacts --------------------------------------------------------------------

    def get(self, sha256: str) -> bytes:
        return self.source.artifact(sha256)

    def definition(self, sha256: str) -> ElectionDefinition:
        found = self._definitions.get(sha256)
        if found is None:
            found = self._definitions[sha256] = load_definition(self.get(sha256), sha256[:12])
        return found

    def table(self, sha256: str) -> pa.Table:
        found = self._tables.get(sha256)
        if found is None:
            found = self._tables[sha256] = read_table(self.get(sha256))[0]
        return found

    def places(self, definition: str) -> Places:
        found = self._places.get(definition)
        if found is None:
            found = self._places[definition] = places(self.definition(definition))
        return found

    def pollbook(self, definition: str, sha256: str) -> list[PollbookRow]:
        """A poll book's rows, with the definition's county and precinct ids."""
        found = self._pollbooks.get((definition, sha256))
        if found is None:
            rows = read_pollbook(self.get(sha256), sha256[:12])
            found = resolve(self.places(definition), rows, sha256[:12])
            self._pollbooks[(definition, sha256)] = found
        return found

    def frame(self, audit: AuditRecord) -> tuple[list[str], dict[str, rounds.Spot]]:
        """An audit's frame, from its committed tables and ballot manifests."""
        key = (tuple(sorted(audit.tables.items())), tuple(sorted(audit.manifests.items())))
        found = self._frames.get(key)
        if found is None:
            kept = rounds.containers(
                {
                    county: parse_ballot_manifest(self.get(sha), f"{county} manifest")
                    for county, sha in audit.manifests.items()
                }
            )
            tables = {c: self.table(sha) for c, sha in audit.tables.items()}
            found = self._frames[key] = rounds.frame(tables, kept)
        return found

    def draws(self, audit: str, ids: list[str], seed: str, size: int) -> list[Ticket]:
        """An audit's first ``size`` draws; every round's are a slice of them."""
        found = self._draws.get(audit, [])
        if len(found) < size:
            found = self._draws[audit] = rounds.draw(
                ids, seed, 0, self.largest_round.get(audit, size)
            )
        return found

    def batches(
        self, definition: str, audit: AuditRecord
    ) -> tuple[rounds.BatchFrame, dict[str, Outcome]]:
        """A batch-comparison audit's batches (from its committed tables) and outcomes."""
        key = (definition, tuple(sorted(audit.tables.items())), tuple(audit.contests))
        found = self._batches.get(key)
        if found is None:
            contests = [info for info, _ in definition_contests(self.definition(definition))]
            tables = {c: self.table(sha) for c, sha in audit.tables.items()}
            found = self._batches[key] = rounds.batch_audit(contests, tables, audit.contests)
        return found

    def results_table(self, sha256: str) -> pa.Table:
        return pq.read_table(pa.BufferReader(self.get(sha256)))


def _attempt(check: Check, where: str, step: Callable[[], list[str]]) -> None:
    """Run one step of a check; what stops it is a problem too."""
    try:
        check.problems += step()
    except (CanvassError, KeyError, ValueError, TypeError, pa.ArrowException) as e:
        check.problems.append(f"{where}: cannot be checked: {e}")


def verify_bundle(
    source: Source,
    trust: TrustStore | None = None,
    operator: str | None = None,
    reingest: bool = True,
) -> Report:
    """Check everything in the bundle (see the module's description). ``operator`` is the
    log operator's key as the user obtained it; without it, the trust store's, and failing
    that, the bundle's own (trusted on first use, and said so). ``reingest``: read every
    published CVR export again and compare it with its ballot table."""
    report = Report(source.where)
    v = _Verifier(source, report)
    manifest = source.manifest()
    _files(source, manifest, report.check("files", "files against the manifest's SHA-256"))

    log = report.check("log", "entries, tiles, checkpoints, witnesses, times")
    origin = str(manifest.get("origin", ""))
    report.origin = origin
    key_text = operator or (trust.operator(origin) if trust else None)
    if key_text is None:
        key_text = str(manifest.get("operator", ""))
        log.notes.append(
            f"operator key taken from the bundle itself (first use): {key_text}; "
            "compare it with one published elsewhere"
        )
    try:
        key = VerifierKey.decode(key_text)
    except VerificationError as e:
        log.problems.append(f"operator key: {e}")
        return report
    if manifest.get("operator") != key_text:
        log.problems.append(
            f"the bundle names operator key {manifest.get('operator')!r}, not the trusted "
            f"{key_text!r}"
        )
    report.operator = key_text
    entries = _log(source, key, trust.checkpoints(origin) if trust else [], log, report)
    if entries is None:
        return report
    _artifacts(source, manifest, entries, report.check("artifacts", "artifacts the log names"))
    if reingest:
        _reingest(
            v,
            manifest.get("withheld") or {},
            entries,
            report.check("ballots", "ballot tables read again from the original CVR files"),
        )
    _canvass(v, entries, report)
    return report


def _files(source: Source, manifest: dict[str, Any], check: Check) -> None:
    for path, meta in manifest["files"].items():
        check.checked += 1
        try:
            data = source.read(path)
        except VerificationError as e:
            check.problems.append(str(e))
            continue
        found = hashlib.sha256(data).hexdigest()
        if found != meta.get("sha256"):
            check.problems.append(
                f"{path}: its SHA-256 is {found}; the manifest lists {meta.get('sha256')}"
            )


def _log(
    source: Source, key: VerifierKey, trusted: list[str], check: Check, report: Report
) -> list[Entry] | None:
    try:
        note_text = source.read("log/checkpoint").decode()
        note = parse_note(note_text, "log/checkpoint")
        size = parse_checkpoint_text(note.text, "log/checkpoint").size
        published = json.loads(source.read("log/checkpoints.json"))
    except (VerificationError, ValueError) as e:
        check.problems.append(str(e))
        return None
    report.checkpoint, report.log_size = note_text, size

    def in_log(path: str) -> bytes:
        return source.read(f"log/{path}")

    try:
        raw = read_entries(in_log, size)
    except VerificationError as e:
        problems = e.problems if isinstance(e, LogIntegrityError) else [str(e)]
        check.problems += [
            f"the entries do not match the checkpoint of size {size}: {p}" for p in problems
        ]
        return None
    result = verify_log(raw, [note_text, *published], key, trusted)
    check.checked = len(raw)
    check.problems += result.problems
    check.problems += check_tiles(in_log, result.tree)
    entries = result.entries
    witnesses = {
        e.data["name"]: e.data["vkey"]
        for e in entries
        if e.type == "key.registered" and e.data.get("role") == KeyRole.WITNESS.value
    }
    for name, vkey in witnesses.items():
        wkey = VerifierKey.decode(vkey)
        try:
            verify_cosignature(
                note, VerifierKey(wkey.name, COSIGNATURE_V1, wkey.public_key), "log/checkpoint"
            )
            check.notes.append(f"cosigned by witness {name}")
        except VerificationError as e:
            check.problems.append(f"{e}: the witness has not vouched for this log")
    if not witnesses:
        check.notes.append("no witness is registered in this log")
    for i in range(1, len(entries)):
        if entries[i].time < entries[i - 1].time:
            check.problems.append(
                f"log entry {i} ({entries[i].type} by {entries[i].actor}) is dated "
                f"{entries[i].time}, before entry {i - 1} ({entries[i - 1].time}): back-dated"
            )
    return entries


def _artifacts(
    source: Source, manifest: dict[str, Any], entries: list[Entry], check: Check
) -> None:
    withheld = manifest.get("withheld") or {}
    named: dict[str, tuple[int, Entry]] = {}
    for index, entry in enumerate(entries):
        for ref in entry.artifacts:
            named.setdefault(ref.sha256, (index, entry))
    for sha, (index, entry) in named.items():
        check.checked += 1
        if sha in withheld:
            ref = next(r for r in entry.artifacts if r.sha256 == sha)
            if entry.type != "ballots.imported" or ref.media_type == BALLOT_TABLE:
                check.problems.append(
                    f"the manifest withholds artifact {sha} of log entry {index} "
                    f"({entry.type}); only original CVR files may be withheld"
                )
            continue
        try:
            source.artifact(sha)
        except VerificationError as e:
            check.problems.append(f"log entry {index} ({entry.type}): {e}")
    if withheld:
        check.notes.append(
            f"{len(withheld)} original CVR files withheld by county policy; their normalized "
            "ballot tables are published and checked"
        )
    listed = [p for p in manifest["files"] if p.startswith("artifacts/")]
    on_disk = source.listing("artifacts") or []
    for path in sorted(set(listed) | set(on_disk)):
        if path.removeprefix("artifacts/") not in named:
            check.problems.append(f"{path}: not named by any log entry")


def _reingest(v: _Verifier, withheld: dict[str, Any], entries: list[Entry], check: Check) -> None:
    """Read every published CVR export again, with the same reader and under the same
    definition, and compare what it gives with the ballot table the log holds."""
    for index, entry in enumerate(entries):
        if entry.type != "ballots.imported":
            continue
        d = entry.data
        key = d.get("signature_key_sha256")
        table_ref = next(r for r in entry.artifacts if r.media_type == BALLOT_TABLE)
        sources = [r for r in entry.artifacts if r is not table_ref and r.sha256 != key]
        if any(r.sha256 in withheld for r in sources):
            continue
        check.checked += 1
        where = f"log entry {index} ({d['county']}, {d['format']})"
        _attempt(check, where, partial(_read_again, v, where, d, sources, table_ref.sha256, key))


def _read_again(
    v: _Verifier,
    where: str,
    data: dict[str, Any],
    sources: list[ArtifactRef],
    table: str,
    key: str | None,
) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="canvass-verify-") as tmp:
        folder = Path(tmp) / "export"
        for n, ref in enumerate(sources):
            target = folder / ref.name
            if target.exists():  # two files of one name, from different folders
                target = folder / f"{n}" / ref.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(v.get(ref.sha256))
        hart_key = None
        if key is not None:
            hart_key = Path(tmp) / "signing-key.xml"
            hart_key.write_bytes(v.get(key))
        election = v.definition(data["definition_sha256"])
        export = open_export(data["format"], [folder], None, hart_key)
        names = NameMap(export.contests, election, where)
        batches = (names.remap(b) for b in export.read(data["county"]))
        again, _ = to_parquet(batches, names.contests)
    found, found_contests = read_table(again)
    held, held_contests = read_table(v.get(table))
    if [c.to_json() for c in found_contests] != [c.to_json() for c in held_contests]:
        return [f"{where}: its ballot table's contests are not those its CVR files give"]
    if found.num_rows != held.num_rows:
        return [
            f"{where}: its ballot table holds {held.num_rows:,} cards; its CVR files give "
            f"{found.num_rows:,}"
        ]
    if not found.equals(held):
        return [f"{where}: its ballot table is not what its CVR files give, card for card"]
    return []


def _canvass(v: _Verifier, entries: list[Entry], report: Report) -> None:
    signatures = report.check(
        "signatures", "motions, votes and certificates signed by registered keys under the rules"
    )
    certificates = report.check(
        "certificates", "certificates re-counted from their ballot tables and reconciled"
    )
    imports = _Imports()
    audits = Audits()
    audit_check = report.check(
        "audits", "commitments before seeds, samples drawn again, risks measured again"
    )
    election = next((e.data["election"] for e in entries if e.type == "election.defined"), "")
    state = Canvass(election)
    for entry in entries:
        if entry.type == "audit.round":
            name, size = entry.data["audit"], entry.data["size"]
            v.largest_round[name] = max(size, v.largest_round.get(name, 0))
    snapshots: dict[str, _Snapshot] = {}
    asc_snapshots: dict[int, str | None] = {}
    for index, entry in enumerate(entries):
        imports.apply(index, entry)
        if entry.type in ("audit.measured", "audit.round"):
            step = _measured if entry.type == "audit.measured" else _round
            _attempt(
                audit_check,
                f"log entry {index} ({entry.type})",
                partial(step, v, imports, audits, index, entry),
            )
        try:
            audits.apply(index, entry)
        except CanvassError as e:
            audit_check.problems.append(f"log entry {index} ({entry.type}): {e}")
        signatures.checked += entry.type in SIGNED
        try:
            state.apply(index, entry)
        except CanvassError as e:
            signatures.problems.append(f"log entry {index} ({entry.type} by {entry.actor}): {e}")
        if entry.type == "certificate.proposed":
            snapshots[entry.data["certificate"]] = _Snapshot(
                imports.definition,
                [i.table for i in imports.current("ballots", entry.data.get("county"))],
                [i.table for i in imports.current("results")],
                list(state.pollbooks),
                {k: list(x) for k, x in state.explanations.items()},
                dict(state.current),
            )
        if entry.type == "ascertainment.issued":
            asc_snapshots[index] = state.current.get(STATE)
    _certificates(v, state, snapshots, certificates)
    _published_index(v, state, certificates)
    _audits(v, audits, audit_check, report)
    _results(v, imports, report.check("results", "published results re-counted"))
    asc = report.check("ascertainment", "certificates of ascertainment against the state's")
    for index, sha in state.ascertainments:
        asc.checked += 1

        def one(index: int = index, sha: str = sha) -> list[str]:
            doc = documents.read_document(v.get, sha)
            problems = []
            if doc.get("state_certificate") != asc_snapshots.get(index):
                problems.append(
                    f"certificate of ascertainment of log entry {index}: rests on state "
                    f"certificate {doc.get('state_certificate')}, not the one in force"
                )
            documents.check_ascertainment(v.get, doc)
            return problems

        _attempt(asc, f"certificate of ascertainment of log entry {index}", one)


def _certificates(
    v: _Verifier, state: Canvass, snapshots: dict[str, _Snapshot], check: Check
) -> None:
    for sha, cert in state.certificates.items():
        if cert.issued is None:
            continue
        check.checked += 1
        where = f"{cert.county or 'state'} certificate {sha[:12]} (log entry {cert.issued})"
        snap = snapshots[sha]

        def one(sha: str = sha, where: str = where, snap: _Snapshot = snap) -> list[str]:
            doc = documents.read_document(v.get, sha)
            problems = []
            if doc.get("definition") != snap.definition:
                problems.append(f"{where}: not counted under the definition then in force")
            election = v.definition(doc["definition"])
            if doc["document"] == "county-certificate":
                for kind, label, then in (
                    ("ballots", "ballot", snap.ballots),
                    ("results", "results-only", snap.results),
                ):
                    rests = sorted(x["sha256"] for x in doc["rests_on"] if x["kind"] == kind)
                    if rests != sorted(then):
                        problems.append(
                            f"{where}: rests on {label} tables "
                            f"{', '.join(t[:12] for t in rests) or 'none'}; the imports in "
                            f"force were {', '.join(t[:12] for t in then) or 'none'}"
                        )
                problems += [f"{where}: {p}" for p in documents.check_county(election, v.get, doc)]
                problems += _reconciliation(v, doc, snap, where)
            else:
                problems += [f"{where}: {p}" for p in documents.check_state(v.get, doc)]
                expected = {c: s for c, s in snap.current.items() if c != STATE}
                if doc["counties"] != expected:
                    problems.append(f"{where}: does not name the county certificates in force")
                tables = [v.table(t) for t in snap.ballots]
                again = {
                    contest: {"winners": passes[-1].winners, "rounds": len(passes[-1].rounds)}
                    for contest, passes in ranked_choice(election, tables).items()
                }
                if json.loads(json.dumps(again)) != doc.get("ranked_choice"):
                    problems.append(
                        f"{where}: ranked-choice outcome {doc.get('ranked_choice')}; counted "
                        f"again {again}"
                    )
            return problems

        _attempt(check, where, one)


def _reconciliation(v: _Verifier, doc: dict[str, Any], snap: _Snapshot, where: str) -> list[str]:
    county = doc["county"]
    at = v.places(doc["definition"])
    rows: dict[Key, Any] = {}
    for sha in snap.pollbooks:
        for row in v.pollbook(doc["definition"], sha):
            if row.county == county:
                rows[(row.county, row.precinct, row.vote_type)] = row
    tables = [(county, v.table(s["sha256"])) for s in doc["rests_on"] if s["kind"] == "ballots"]
    units = balance(rows.values(), tabulated_units(at, tables), snap.explanations)
    again = documents.reconciliation(units)
    if again != doc["reconciliation"]:
        return [
            f"{where}: reconciliation: {p}"
            for p in documents.differences(
                "", _flatten(doc["reconciliation"]), _flatten(again), "recomputed"
            )
        ] or [f"{where}: its reconciliation differs from the one recomputed"]
    return []


def _flatten(rec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"units": rec["units"], "not recountable": rec["not_recountable"]}
    for u in rec["out_of_balance"]:
        out[f"{u['precinct']}/{u['vote_type']}"] = {
            "difference": u["difference"],
            "stock difference": u["stock_difference"],
            "explanations": len(u["explanations"]),
        }
    return out


def _published_index(v: _Verifier, state: Canvass, check: Check) -> None:
    def one() -> list[str]:
        doc = json.loads(v.source.read("certificates/index.json"))
        published = {c["sha256"]: c for c in doc["certificates"]}
        problems = []
        for sha, cert in state.certificates.items():
            p = published.get(sha)
            if p is None:
                problems.append(f"certificates/index.json: leaves out certificate {sha[:12]}")
                continue
            for name, value in (
                ("scope", cert.county or STATE),
                ("status", cert.status),
                ("issued", cert.issued),
                ("supersedes", cert.supersedes),
                ("superseded_by", cert.superseded_by),
                ("signatures", cert.signatures),
            ):
                if p.get(name) != value:
                    problems.append(
                        f"certificates/index.json: certificate {sha[:12]} {name} is "
                        f"{p.get(name)!r}; the log says {value!r}"
                    )
        for sha in published.keys() - state.certificates.keys():
            problems.append(f"certificates/index.json: certificate {sha[:12]} is not in the log")
        return problems

    _attempt(check, "certificates/index.json", one)


def _results(v: _Verifier, imports: _Imports, check: Check) -> None:
    def one() -> list[str]:
        election = v.definition(imports.definition)
        tables = [v.table(i.table) for i in imports.current("ballots")]
        results_only = [v.results_table(i.table) for i in imports.current("results")]
        published = json.loads(v.source.read("results/results.json"))
        problems = []
        overall = documents.results_json(count(election, tables, results_only).contests)
        shown = {
            c: {k: t[k] for k in ("votes", "ballots", "overvotes", "undervotes")}
            for c, t in published["contests"].items()
        }
        check.checked += len(overall)
        problems += documents.differences(
            "results/results.json", shown, overall, "counted from the ballot tables"
        )
        by_county = count(election, tables, results_only, "county")
        for county, totals in sorted(by_county.groups.items()):
            check.checked += len(totals)
            problems += documents.differences(
                f"results/results.json {county}",
                published["counties"].get(county, {}),
                documents.results_json(totals),
                "counted from the ballot tables",
            )
        return [p.replace(": certified ", ": published ", 1) for p in problems]

    _attempt(check, "results/results.json", one)


def _round(v: _Verifier, imports: _Imports, audits: Audits, index: int, entry: Entry) -> list[str]:
    audit = audits.audit(entry.data["audit"])
    if audit.seed is None:
        return []  # the fold says so
    already = audit.rounds[-1][1] if audit.rounds else 0
    size = entry.data["size"]
    if audit.method == "batch-comparison":
        frame, outcome = v.batches(imports.definition, audit)
        weights = rounds.batch_bounds(frame, outcome)
        draws = weighted_sample(weights, audit.seed, already, size - already)
        expected = rounds.batch_retrieval_list(draws, frame)
    else:
        ids, where = v.frame(audit)
        expected = rounds.retrieval_list(
            v.draws(audit.name, ids, audit.seed, size)[already:size], where
        )
    found = v.get(entry.artifacts[0].sha256).decode()
    if found != expected:
        return [
            f"log entry {index}: audit {audit.name} round {entry.data['round']}: the "
            "retrieval list is not the sample the seed draws from the committed ballots"
        ]
    return []


def _measured(
    v: _Verifier, imports: _Imports, audits: Audits, index: int, entry: Entry
) -> list[str]:
    d = entry.data
    audit = audits.audit(d["audit"])
    lists = [v.get(sha).decode() for _, _, sha in audit.rounds]
    if audit.method == "batch-comparison":
        frame, outcome = v.batches(imports.definition, audit)
        measured = rounds.measure_batches(audit, outcome, frame, rounds.drawn_batches(lists))
        again = {**measured, "contest": d["contest"]}
    else:
        election = v.definition(imports.definition)
        contests = [info for info, _ in definition_contests(election)]
        tables = {c: v.table(sha) for c, sha in audit.tables.items()}
        reported = {t.contest: t.votes for t in count(election, list(tables.values())).contests}
        sampled = rounds.drawn(lists)
        _, where = v.frame(audit)
        cvrs = rounds.cvr_votes(contests, tables, where, sampled)
        seats = next(c.votes_allowed for c in contests if c.name == d["contest"])
        again = rounds.measure_contest(
            audit, d["contest"], reported[d["contest"]], sampled, cvrs, seats
        )
    if json.loads(json.dumps(again)) != d:
        differ = documents.differences("", d, again, "recomputed")
        return [
            f"log entry {index}: audit {audit.name} {d['contest']} round {d['round']}:"
            + p.replace(": certified ", ": recorded ", 1)
            for p in differ
        ]
    return []


def _audits(v: _Verifier, audits: Audits, check: Check, report: Report) -> None:
    sizes = []
    try:
        notes = json.loads(v.source.read("log/checkpoints.json"))
        sizes = [parse_checkpoint_text(parse_note(n).text).size for n in notes]
    except (VerificationError, ValueError) as e:
        check.problems.append(f"log/checkpoints.json: {e}")
    for audit in audits.audits.values():
        check.checked += 1 + len(audit.rounds) + len(audit.measured)
        if audit.committed is not None and audit.seeded is not None:
            between = [s for s in sizes if audit.committed < s <= audit.seeded]
            if not between:
                check.problems.append(
                    f"audit {audit.name}: no signed checkpoint holds its commitment (log entry "
                    f"{audit.committed}) without its seed (log entry {audit.seeded})"
                )
            else:
                check.notes.append(
                    f"audit {audit.name}: frame committed at entry {audit.committed} and signed "
                    f"in the checkpoint of size {min(between)}, before the seed (entry "
                    f"{audit.seeded})"
                )
        for contest in audit.contests:
            last = [m for m in audit.measured if m["contest"] == contest]
            if last:
                m = last[-1]
                state = "met" if m["met"] else "not met"
                check.notes.append(
                    f"audit {audit.name} {contest}: risk {m['p_value']:.4f} after {m['draws']} "
                    f"draws, limit {audit.risk_limit}% {state}"
                )
