"""The published results bundle: static files any web server or CDN can serve, holding
everything an observer needs to check the count without asking anyone.

=================================  =========================================================
``manifest.json``                  the bundle: election, log origin and operator key, log
                                   size, every file's SHA-256, the artifacts withheld
``log/checkpoint``                 the latest checkpoint, with witness cosignatures
``log/checkpoints.json``           every checkpoint the operator signed, in order
``log/tile/...``                   the log as C2SP tlog tiles (hashes and entry bundles)
``artifacts/<sha256>``             every artifact the log names: definitions, ballot tables
                                   (Parquet), poll books, certificates, retrieval lists and,
                                   where the county allows, the original CVR files
``results/results.json``           every contest, statewide and by county
``results/<contest>.csv``          one contest by county
``results/nist-1500-100.json``     NIST SP 1500-100 v2 election report
``results/ranked-choice.json``     every ranked-choice contest round by round
``reconciliation/units.csv``       every precinct and vote type balanced
``reconciliation/report.txt``      the out-of-balance summary as Michigan reports it
``certificates/index.json``        every certificate: scope, status, signatures, supersedes
``audits/index.json``              every audit: method, commitments, seed, rounds, risk
``audits/<name>.txt``              each audit's report, for people
``index.html``                     the results for people, with how to check them
=================================  =========================================================

The bundle is written beside its destination and renamed into place, so a reader never
sees half of one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from canvass.app.audits import load_audits
from canvass.app.folds import canvass as load
from canvass.app.reconcile import reconcile
from canvass.app.results import definition, export_err, ranked_choice_results, results
from canvass.certify.canvass import STATE
from canvass.errors import StoreError
from canvass.ingest.ballots import MEDIA_TYPE as BALLOT_TABLE
from canvass.log.entry import now
from canvass.log.tiles import write_tiles
from canvass.publish.reports import audit_report
from canvass.reconcile.balance import michigan_report
from canvass.store.election import ElectionDirectory
from canvass.tabulate.render import rounds_json

FORMAT = "canvass-bundle/1"
MANIFEST = "manifest.json"
ALL = "all"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("canvass.publish", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


@dataclass
class Published:
    path: Path
    files: int
    bytes: int
    withheld: int
    log_size: int


def publish(
    store: ElectionDirectory,
    out: Path,
    withhold_originals: Sequence[str] = (),
    replace: bool = False,
) -> Published:
    """Write the bundle of ``store`` to ``out``. ``withhold_originals`` names the counties
    (or ``all``) whose original CVR files stay out of it; their normalized ballot tables
    are always published."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not replace:
            raise StoreError(f"{out}: already exists; pass --replace to publish over it")
        if not (out / MANIFEST).is_file():
            raise StoreError(f"{out}: exists and is not a results bundle; not replacing it")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        files, withheld = _write(store, staging, set(withhold_originals))
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
    size = sum(f["size"] for f in files.values())
    return Published(out, len(files), size, len(withheld), store.size())


def _sync_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            fd = os.open(Path(folder) / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


class _Writer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, dict[str, Any]] = {}

    def put(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.files[path] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}

    def json(self, path: str, doc: Any) -> None:
        self.put(path, (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode())


def _write(
    store: ElectionDirectory, root: Path, withhold: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    w = _Writer(root)
    election = definition(store)
    entries = list(store.entry_bytes())
    checkpoint = store.cosigned_checkpoint()
    for path, data in write_tiles(entries):
        w.put(f"log/{path}", data)
    w.put("log/checkpoint", checkpoint.encode())
    w.json("log/checkpoints.json", store.checkpoints())

    withheld: dict[str, dict[str, str]] = {}
    for index, entry in store.entries():
        for ref in entry.artifacts:
            county = str(entry.data.get("county") or "")
            original = entry.type == "ballots.imported" and ref.media_type != BALLOT_TABLE
            if original and (ALL in withhold or county in withhold):
                withheld[ref.sha256] = {"name": ref.name, "county": county, "entry": str(index)}
                continue
            if f"artifacts/{ref.sha256}" not in w.files:
                w.put(f"artifacts/{ref.sha256}", store.artifacts.get(ref.sha256))

    counted, labels = results(store)
    by_county, _ = results(store, "county")
    contests = {c.id: c for c in election.contests}
    results_doc = {
        "election": election.election.id,
        "contests": {
            t.contest: _totals(t) | {"name": labels.get(t.contest, t.contest)}
            for t in counted.contests
        },
        "counties": {
            county: {t.contest: _totals(t) for t in totals}
            for county, totals in sorted(by_county.groups.items())
        },
        "choices": {k: v for k, v in labels.items() if "/" in k},
    }
    w.json("results/results.json", results_doc)
    for t in counted.contests:
        w.put(f"results/{t.contest}.csv", _contest_csv(t.contest, by_county, labels))
    status = "certified" if load(store).certificate_of(STATE) else "unofficial-complete"
    w.json("results/nist-1500-100.json", export_err(store, status, election.election.name))
    ranked = {
        c: [rounds_json(p) for p in passes] for c, passes in ranked_choice_results(store).items()
    }
    w.json("results/ranked-choice.json", ranked)

    units = reconcile(store)
    names = {j.id: j.name for j in election.jurisdictions}
    w.put("reconciliation/units.csv", _units_csv(units))
    w.put("reconciliation/report.txt", michigan_report(units, names).encode())

    state = load(store)
    certificates = [
        {
            "sha256": sha,
            "scope": c.county or STATE,
            "board": c.board,
            "status": c.status,
            "supersedes": c.supersedes,
            "superseded_by": c.superseded_by,
            "proposed": c.proposed,
            "issued": c.issued,
            "motion": c.motion,
            "signatures": c.signatures,
        }
        for sha, c in state.certificates.items()
    ]
    ascertainments = [{"entry": i, "sha256": sha} for i, sha in state.ascertainments]
    w.json(
        "certificates/index.json",
        {"certificates": certificates, "ascertainments": ascertainments},
    )
    audit_records = load_audits(store).audits
    audits = [
        {
            "name": a.name,
            "method": a.method,
            "risk_limit": a.risk_limit,
            "contests": a.contests,
            "opened": a.opened,
            "committed": a.committed,
            "seed": a.seed,
            "seeded": a.seeded,
            "ballots": a.ballots,
            "rounds": [{"entry": i, "draws": n, "retrieval_list": sha} for i, n, sha in a.rounds],
            "measured": a.measured,
        }
        for a in audit_records.values()
    ]
    w.json("audits/index.json", {"audits": audits})
    for name, record in audit_records.items():
        w.put(f"audits/{name}.txt", audit_report(record).encode())

    page = _TEMPLATES.get_template("index.html.j2").render(
        title=election.election.name,
        results=results_doc,
        contest_names={c: contests[c].name for c in results_doc["contests"] if c in contests},
        ranked=ranked,
        certificates=certificates,
        audits=audits,
        checkpoint=checkpoint,
        names=names,
    )
    w.put("index.html", page.encode())
    operator = store.operator_key().encode()
    manifest = {
        "bundle": FORMAT,
        "election": election.election.id,
        "name": election.election.name,
        "origin": store.operator_key().name,
        "operator": operator,
        "log_size": len(entries),
        "published": now(),
        "files": dict(sorted(w.files.items())),
        "withheld": withheld,
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return w.files, withheld


def _totals(t: Any) -> dict[str, Any]:
    return {
        "votes": dict(t.votes),
        "ballots": t.ballots,
        "overvotes": t.overvotes,
        "undervotes": t.undervotes,
    }


def _contest_csv(contest: str, by_county: Any, labels: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    choices: list[str] = []
    for totals in by_county.groups.values():
        for t in totals:
            if t.contest == contest:
                choices += [c for c in t.votes if c not in choices]
    writer.writerow(
        ["county", *(labels.get(f"{contest}/{c}", c) for c in choices), "overvotes", "undervotes"]
    )
    for county, totals in sorted(by_county.groups.items()):
        for t in totals:
            if t.contest == contest:
                writer.writerow(
                    [county, *(t.votes.get(c, 0) for c in choices), t.overvotes, t.undervotes]
                )
    return out.getvalue().encode()


def _units_csv(units: Sequence[Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "county",
            "precinct",
            "vote_type",
            "voters",
            "tabulated",
            "difference",
            "stock_difference",
            "balanced",
            "explanations",
        ]
    )
    for u in units:
        writer.writerow(
            [
                u.county,
                u.precinct,
                u.vote_type,
                u.voters,
                u.tabulated,
                u.difference,
                u.stock_difference,
                "yes" if u.balanced else "no",
                "; ".join(f"{r}: {t}" for r, t in u.explanations),
            ]
        )
    return out.getvalue().encode()
