"""The published audits: every audit as the log records it (its commitment, seed, audit
boards, rounds, every risk measured, and every reading read again with why) and each
audit's report for people."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from canvass.audit.workflow import AuditRecord, Reading
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


def render_audits(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    yield "audits/index.json", json_bytes({"audits": [audit_json(a) for a in view.audits]})
    for a in view.audits:
        yield f"audits/{a.name}.txt", audit_report(a).encode()
