"""The published audits: every audit as the log records it (its commitment, seed, audit
boards, rounds, every risk measured, and every reading read again with why) and each
audit's report for people; and every full hand count recorded as an audit, set beside the
certificate it audits — its sums counted again from its report, so a sum recorded that
the report does not give stops the rendering (and the verifier names it)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from canvass.audit.handcount import (
    hand_count_document,
    hand_count_text,
    hand_count_totals,
    read_arlo_report,
)
from canvass.audit.workflow import AuditRecord, HandCount, Reading
from canvass.errors import CanvassError
from canvass.ingest.names import definition_contests
from canvass.ingest.results_csv import county_ids
from canvass.publish.files import json_bytes
from canvass.publish.view import ElectionView


def _said(r: Reading) -> str:
    """What a reading found, in words."""
    d = r.data
    if "ballot" in d:
        return str(d.get("finding") or "votes " + (", ".join(d.get("votes") or []) or "none"))
    return ", ".join(f"{c} {n}" for c, n in sorted((d.get("votes") or {}).items())) or "none"


def read_again(audit: AuditRecord) -> list[dict[str, Any]]:
    """Every reading read again: what it said, what replaced it, by whom and why."""
    out = []
    for r in audit.superseded():
        assert r.superseded_by is not None
        later = audit.readings[r.superseded_by]
        out.append(
            {
                "entry": r.entry,
                "item": r.item,
                "contest": r.contest,
                "board": r.board,
                "read": _said(r),
                "superseded_by": later.entry,
                "read_again_by": later.board,
                "read_again": _said(later),
                "reason": later.reason,
            }
        )
    return out


def audit_json(a: AuditRecord) -> dict[str, Any]:
    return {
        "name": a.name,
        "method": a.method,
        "risk_limit": a.risk_limit,
        "contests": a.contests,
        "opened": a.opened,
        "committed": a.committed,
        "seed": a.seed,
        "seeded": a.seeded,
        "ballots": a.ballots,
        "boards": a.boards,
        "rounds": [{"entry": i, "draws": n, "retrieval_list": sha} for i, n, sha in a.rounds],
        "readings": len(a.readings),
        "read_again": read_again(a),
        "measured": a.measured,
    }


def audit_report(audit: AuditRecord) -> str:
    """The audit so far, for people: commitment, seed, boards, rounds, the risk measured,
    and every reading read again."""
    lines = [
        f"Audit {audit.name}: {audit.method}, risk limit {audit.risk_limit}%, contests "
        f"{', '.join(audit.contests)}; {audit.ballots:,} ballots committed at log entry "
        f"{audit.committed}, seed {audit.seed} recorded at log entry {audit.seeded}"
    ]
    for board, members in audit.boards.items():
        lines.append(f"  audit board {board}: {', '.join(members)}")
    for index, size, sha in audit.rounds:
        lines.append(
            f"  round drawn at log entry {index}: {size} draws (retrieval list {sha[:12]})"
        )
    for again in read_again(audit):
        lines.append(
            f"  {again['item']} ({again['contest']}) read again at log entry "
            f"{again['superseded_by']} by {again['read_again_by']}: {again['read_again']}, "
            f"was {again['read']} (log entry {again['entry']}, by {again['board']}); "
            f"reason: {again['reason']}"
        )
    for m in audit.measured:
        state = (
            "risk limit met"
            if m["met"]
            else (
                "full hand count"
                if m["next_size"] >= audit.ballots
                else f"next round: {m['next_size']} draws"
            )
        )
        found = ", ".join(f"{k} {v}" for k, v in m.get("discrepancies", {}).items() if v)
        superseded = m.get("superseded") or []
        lines.append(
            f"  {m['contest']} after round {m['round']} ({m['draws']} draws): "
            f"risk {m['p_value']:.5f}"
            + (f", discrepancies {found}" if found else "")
            + (
                f", {len(superseded)} reading{'s' if len(superseded) != 1 else ''} read again "
                "not counted"
                if superseded
                else ""
            )
            + f" — {state}"
        )
    return "\n".join(lines) + "\n"


def hand_count(view: ElectionView, found: HandCount) -> dict[str, Any]:
    """A hand count beside the certificate it audits, its sums counted again from its
    report."""
    report = read_arlo_report(view.materials.get(found.report), f"artifact {found.report[:12]}")
    choices = {
        " ".join(spelling.split()).casefold(): ch.id
        for info, chs in definition_contests(view.definition)
        if info.name == found.contest
        for ch in chs
        for spelling in (ch.id, ch.name, *ch.aliases)
    }
    again = hand_count_totals(report, choices, county_ids(view.definition), found.report[:12])
    recorded = {k: found.data.get(k) for k in again.to_json()}
    if recorded != again.to_json():
        raise CanvassError(
            f"hand count {found.name} (log entry {found.entry}): its sums are not those of its "
            f"report {found.report[:12]}, counted again"
        )
    certificate = view.materials.document(found.audits)
    counties = {
        county: view.materials.document(sha)["results"].get(found.contest, {})
        for county, sha in certificate.get("counties", {}).items()
    }
    return hand_count_document(
        found.name,
        found.contest,
        found.entry,
        found.data,
        found.audits,
        certificate["results"].get(found.contest, {}),
        counties,
    )


def render_audits(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    counted = [hand_count(view, h) for h in view.state.audits.hand_counts.values()]
    yield (
        "audits/index.json",
        json_bytes({"audits": [audit_json(a) for a in view.audits], "hand_counts": counted}),
    )
    for a in view.audits:
        yield f"audits/{a.name}.txt", audit_report(a).encode()
    for doc in counted:
        names = view.labels | view.names
        yield f"audits/{doc['name']}.txt", hand_count_text(doc, names).encode()
