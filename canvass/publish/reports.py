"""Reports for people, as text: what the command line prints and the bundle publishes."""

from __future__ import annotations

from canvass.audit.workflow import AuditRecord


def audit_report(audit: AuditRecord) -> str:
    """An audit so far: its commitment, seed, rounds and every risk measured."""
    lines = [
        f"Audit {audit.name}: {audit.method}, risk limit {audit.risk_limit}%, contests "
        f"{', '.join(audit.contests)}; {audit.ballots:,} ballots committed at log entry "
        f"{audit.committed}, seed {audit.seed} recorded at log entry {audit.seeded}"
    ]
    for index, size, sha in audit.rounds:
        lines.append(
            f"  round drawn at log entry {index}: {size} draws (retrieval list {sha[:12]})"
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
        lines.append(
            f"  {m['contest']} after round {m['round']} ({m['draws']} draws): "
            f"risk {m['p_value']:.5f}"
            + (f", discrepancies {found}" if found else "")
            + f" — {state}"
        )
    return "\n".join(lines) + "\n"
