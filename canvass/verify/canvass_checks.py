"""The checks of the canvass: the log folded under the canvass rules (every signature), the
certificates counted and reconciled again, the published results and certificate index,
and the certificates of ascertainment; the audits' checks run as the fold goes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from canvass.audit.workflow import Audits
from canvass.certify import documents
from canvass.certify.canvass import STATE, Canvass
from canvass.log.entry import Entry
from canvass.reconcile.balance import Key, balance
from canvass.reconcile.places import tabulated_units
from canvass.tabulate.election import count, ranked_choice
from canvass.verify.artifacts import Artifacts
from canvass.verify.audit_checks import check_audits, check_measured, check_round
from canvass.verify.imports import Imports
from canvass.verify.report import MALFORMED, Check, Report, attempt, describe

SIGNED = ("board.motion", "board.vote", "certificate.issued", "ascertainment.issued")
"""Entries that carry a person's signature."""


@dataclass
class _Snapshot:
    """What a certificate was proposed against: the state of the log at that entry."""

    definition: str
    ballots: list[str]
    results: list[str]
    pollbooks: list[str]
    explanations: dict[Key, list[tuple[str, str]]]
    current: dict[str, str]


def check_canvass(v: Artifacts, entries: list[Entry], report: Report) -> None:
    signatures = report.check(
        "signatures", "motions, votes and certificates signed by registered keys under the rules"
    )
    certificates = report.check(
        "certificates", "certificates re-counted from their ballot tables and reconciled"
    )
    imports = Imports()
    audits = Audits()
    audit_check = report.check(
        "audits", "commitments before seeds, samples drawn again, risks measured again"
    )
    election = next(
        (str(e.data.get("election")) for e in entries if e.type == "election.defined"), ""
    )
    state = Canvass(election)
    for entry in entries:
        name, size = entry.data.get("audit"), entry.data.get("size")
        if entry.type == "audit.round" and isinstance(name, str) and isinstance(size, int):
            v.largest_round[name] = max(size, v.largest_round.get(name, 0))
    snapshots: dict[str, _Snapshot] = {}
    asc_snapshots: dict[int, str | None] = {}
    for index, entry in enumerate(entries):
        where = f"log entry {index} ({entry.type} by {entry.actor})"
        try:
            imports.apply(index, entry)
        except MALFORMED as e:
            signatures.problems.append(f"{where}: {describe(e)}")
        if entry.type in ("audit.measured", "audit.round"):
            step = check_measured if entry.type == "audit.measured" else check_round
            attempt(
                audit_check,
                f"log entry {index} ({entry.type})",
                partial(step, v, imports, audits, index, entry),
            )
        try:
            audits.apply(index, entry)
        except MALFORMED as e:
            audit_check.problems.append(f"{where}: {describe(e)}")
        signatures.checked += entry.type in SIGNED
        try:
            state.apply(index, entry)
        except MALFORMED as e:
            signatures.problems.append(f"{where}: {describe(e)}")
        if entry.type == "certificate.proposed" and isinstance(entry.data.get("certificate"), str):
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
    check_audits(audits, report.signed_sizes, audit_check)
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

        attempt(asc, f"certificate of ascertainment of log entry {index}", one)


def _certificates(
    v: Artifacts, state: Canvass, snapshots: dict[str, _Snapshot], check: Check
) -> None:
    for sha, cert in state.certificates.items():
        if cert.issued is None:
            continue
        check.checked += 1
        where = f"{cert.county or 'state'} certificate {sha[:12]} (log entry {cert.issued})"
        snap = snapshots.get(sha)
        if snap is None:
            check.problems.append(f"{where}: no log entry proposed it")
            continue

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

        attempt(check, where, one)


def _reconciliation(v: Artifacts, doc: dict[str, Any], snap: _Snapshot, where: str) -> list[str]:
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


def _published_index(v: Artifacts, state: Canvass, check: Check) -> None:
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

    attempt(check, "certificates/index.json", one)


def _results(v: Artifacts, imports: Imports, check: Check) -> None:
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

    attempt(check, "results/results.json", one)
