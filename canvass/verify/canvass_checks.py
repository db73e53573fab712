"""The checks of the canvass: the log folded under the canvass rules (every signature), the
certificates counted and reconciled again, the certificates of ascertainment, and every
published file rendered again; the audits' checks run as the fold goes."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from canvass.certify import documents
from canvass.certify.canvass import STATE
from canvass.certify.fold import ElectionState, Snapshot
from canvass.errors import SignatureError
from canvass.reconcile.balance import Key, balance
from canvass.reconcile.places import tabulated_units
from canvass.tabulate.election import ranked_choice
from canvass.verify.artifacts import Artifacts
from canvass.verify.audit_checks import check_audits, check_measured, check_round
from canvass.verify.log_checks import Log
from canvass.verify.published import Counted, Rendered, check_published, last_publication
from canvass.verify.report import Check, Report, attempt, describe
from canvass.verify.source import Source

SIGNED = (
    "board.motion",
    "board.vote",
    "certificate.issued",
    "ascertainment.issued",
    "audit.interpreted",
    "audit.batch_tallied",
)
"""Entries that carry a person's signature."""


def check_canvass(source: Source, v: Artifacts, log: Log, report: Report) -> set[str]:
    """Fold the log (every signature checked), check the certificates, the audits and the
    certificates of ascertainment, and render every published file again; returns every
    path the log gives."""
    signatures = report.check(
        "signatures", "motions, votes, readings and certificates signed by registered keys"
    )
    certificates = report.check(
        "certificates", "certificates re-counted from their ballot tables and reconciled"
    )
    published = report.check(
        "published", "every file people read, rendered again from the log, byte for byte"
    )
    audit_check = report.check(
        "audits",
        "commitments before seeds, samples drawn again, risks measured again, hand counts "
        "summed again from their reports",
    )
    entries = log.entries
    state = ElectionState()
    for entry in entries:
        name, size = entry.data.get("audit"), entry.data.get("size")
        if entry.type == "audit.round" and isinstance(name, str) and isinstance(size, int):
            v.largest_round[name] = max(size, v.largest_round.get(name, 0))
    at = last_publication(entries)
    rendered = Rendered()
    for index, entry in enumerate(entries):
        if index == at:
            rendered.render(state, v, log, index)
        if entry.type in ("audit.measured", "audit.round"):
            step = check_measured if entry.type == "audit.measured" else check_round
            attempt(
                audit_check,
                f"log entry {index} ({entry.type})",
                partial(step, v, state, index, entry),
            )
        signatures.checked += entry.type in SIGNED
        for part, error in state.apply_all(index, entry):
            signed = isinstance(error, SignatureError)
            into = audit_check if part == "audits" and not signed else signatures
            into.problems.append(
                f"log entry {index} ({entry.type} by {entry.actor}): {describe(error)}"
            )
    if at is None:
        rendered.render(state, v, log, len(entries))
    _certificates(v, state, certificates, rendered.counted)
    check_audits(state.audits, report.signed_sizes, audit_check)
    _hand_counts(state, v, log, audit_check)
    paths = check_published(source, v, log, rendered, at, published)
    asc = report.check("ascertainment", "certificates of ascertainment against the state's")
    for index, sha in state.canvass.ascertainments:
        asc.checked += 1

        def one(index: int = index, sha: str = sha) -> list[str]:
            doc = documents.read_document(v.get, sha)
            problems = []
            if doc.get("state_certificate") != state.ascertained_on.get(index):
                problems.append(
                    f"certificate of ascertainment of log entry {index}: rests on state "
                    f"certificate {doc.get('state_certificate')}, not the one in force"
                )
            documents.check_ascertainment(v.get, doc)
            return problems

        attempt(asc, f"certificate of ascertainment of log entry {index}", one)
    return paths


def _hand_counts(state: ElectionState, v: Artifacts, log: Log, check: Check) -> None:
    """Each full hand count's sums counted again from the report the log keeps, beside the
    certificate it audits."""
    from canvass.publish.audits import hand_count
    from canvass.publish.view import ElectionView

    view = ElectionView(state, v, log.tree.root(len(log.entries)))
    for found in state.audits.hand_counts.values():
        check.checked += 1

        def one(found: Any = found) -> list[str]:
            hand_count(view, found)
            return []

        attempt(check, f"hand count {found.name} (log entry {found.entry})", one)


def _certificates(
    v: Artifacts, fold: ElectionState, check: Check, rendering: Counted | None
) -> None:
    for sha, cert in fold.canvass.certificates.items():
        if cert.issued is None:
            continue
        check.checked += 1
        where = f"{cert.county or 'state'} certificate {sha[:12]} (log entry {cert.issued})"
        snap = fold.snapshots.get(sha)
        if snap is None:
            check.problems.append(f"{where}: no log entry proposed it")
            continue
        if cert.county_change is not None:
            change = cert.county_change
            check.notes.append(
                f"{where}: no longer in force: {change['county']} certified again at log entry "
                f"{change['entry']} (certificate {str(change['certificate'])[:12]})"
            )
        if cert.unexplained:
            check.notes.append(
                f"{where}: certified with {cert.unexplained} unit"
                f"{'s' if cert.unexplained != 1 else ''} out of balance unexplained, shown to "
                "the board in its vote"
            )

        def one(sha: str = sha, where: str = where, snap: Snapshot = snap) -> list[str]:
            doc = v.document(sha)
            problems = []
            if doc.get("definition") != snap.definition:
                problems.append(f"{where}: not counted under the definition then in force")
            election = v.definition(doc["definition"])
            if doc["document"] == "county-certificate":
                imported = [
                    fold.imports.all[int(source["entry"])]
                    for source in doc["rests_on"]
                    if source["kind"] == "ballots" and int(source["entry"]) in fold.imports.all
                ]
                said = documents.left_out(
                    {"skipped_contests": i.skipped_contests} for i in imported
                )
                if doc.get("left_out", {}) != said:
                    problems.append(
                        f"{where}: says its imports leave out {doc.get('left_out', {})}; they "
                        f"leave out {said}"
                    )
                said_votes = documents.left_out_votes(
                    {"skipped_contest_votes": fold.imports.all[int(source["entry"])].skipped_votes}
                    for source in doc["rests_on"]
                    if source["kind"] == "results" and int(source["entry"]) in fold.imports.all
                )
                if doc.get("left_out_votes", {}) != said_votes:
                    problems.append(
                        f"{where}: says its results-only imports leave out "
                        f"{doc.get('left_out_votes', {})}; they leave out {said_votes}"
                    )
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
                problems += [
                    f"{where}: {p}"
                    for p in documents.check_county(election, v.get, doc, v.table, v.results_table)
                ]
                problems += _reconciliation(v, doc, snap, where)
                unexplained = len(doc["reconciliation"].get("unexplained", []))
                if unexplained != fold.canvass.certificates[sha].unexplained:
                    problems.append(
                        f"{where}: its proposal put {fold.canvass.certificates[sha].unexplained} "
                        f"unexplained imbalances before the board; it lists {unexplained}"
                    )
            else:
                problems += [f"{where}: {p}" for p in documents.check_state(v.get, doc)]
                expected = {c: s for c, s in snap.current.items() if c != STATE}
                if doc["counties"] != expected:
                    problems.append(f"{where}: does not name the county certificates in force")
                if rendering is not None and sorted(snap.ballots) == rendering.tables:
                    counted = rendering.ranked  # the same tables: counted once, for both
                else:
                    counted = ranked_choice(
                        election,
                        [v.table(t) for t in snap.ballots],
                        decisions=fold.canvass.tie_decisions,
                    )
                again = {
                    contest: {"winners": passes[-1].winners, "rounds": len(passes[-1].rounds)}
                    for contest, passes in counted.items()
                }
                if json.loads(json.dumps(again)) != doc.get("ranked_choice"):
                    problems.append(
                        f"{where}: ranked-choice outcome {doc.get('ranked_choice')}; counted "
                        f"again {again}"
                    )
            return problems

        attempt(check, where, one)


def _reconciliation(v: Artifacts, doc: dict[str, Any], snap: Snapshot, where: str) -> list[str]:
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
    out: dict[str, Any] = {
        "units": rec["units"],
        "unexplained": rec.get("unexplained"),
        "not recountable": rec["not_recountable"],
    }
    for u in rec["out_of_balance"]:
        out[f"{u['precinct']}/{u['vote_type']}"] = {
            "difference": u["difference"],
            "stock difference": u["stock_difference"],
            "explanations": len(u["explanations"]),
        }
    return out
