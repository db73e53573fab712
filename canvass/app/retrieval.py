"""An audit as the people running it see it: its rounds, what is drawn and read, and each
round's retrieval list grouped the way the paper is kept (county, then container), for
printing and for the audit boards' entry screen."""

from __future__ import annotations

import csv
import io
from typing import Any

from canvass.app.audits import drawn, drawn_batches, load_audits, readings_to_sign, tallies_to_sign
from canvass.app.results import definition
from canvass.app.snapshot import Source, viewing
from canvass.audit.workflow import AuditRecord
from canvass.errors import StoreError
from canvass.tabulate.election import labels


def audit_overview(source: Source, name: str) -> dict[str, Any]:
    with viewing(source) as view:
        audit = load_audits(view).audit(name)
        batches = audit.method == "batch-comparison"
        # A batch-comparison audit draws batches, whose hand counts are its readings.
        if not audit.rounds:
            sampled: dict[str, int] = {}
        elif batches:
            sampled = dict.fromkeys(drawn_batches(view, audit), 1)
        else:
            sampled = dict(drawn(view, audit))
        found = audit.tallies if batches else audit.interpretations
        names = labels(definition(view))
        contests = [
            {
                "contest": c,
                "name": names.get(c, c),
                "choices": [
                    {"choice": k.split("/", 1)[1], "name": v}
                    for k, v in names.items()
                    if k.startswith(c + "/")
                ],
                "read": sum(1 for b in sampled if (b, c) in found),
                "done": audit.done(c),
            }
            for c in audit.contests
        ]
        return {
            "name": audit.name,
            "boards": audit.boards,
            "method": audit.method,
            "risk_limit": audit.risk_limit,
            "contests": contests,
            "opened": audit.opened,
            "committed": audit.committed,
            "ballots": audit.ballots,
            "seed": audit.seed,
            "seeded": audit.seeded,
            "rounds": [
                {"round": n + 1, "entry": e, "size": size, "retrieval_sha256": sha}
                for n, (e, size, sha) in enumerate(audit.rounds)
            ],
            "drawn": len(sampled),
            "measured": audit.measured,
            "log_size": view.size,
        }


def audit_names(source: Source) -> list[dict[str, Any]]:
    with viewing(source) as view:
        return [
            {
                "name": a.name,
                "method": a.method,
                "risk_limit": a.risk_limit,
                "rounds": len(a.rounds),
            }
            for a in load_audits(view).audits.values()
        ]


def _round(audit: AuditRecord, number: int) -> tuple[int, int, str]:
    if not 1 <= number <= len(audit.rounds):
        raise StoreError(f"audit {audit.name} has no round {number}")
    return audit.rounds[number - 1]


def retrieval(source: Source, name: str, number: int, county: str | None = None) -> dict[str, Any]:
    """Round ``number``'s retrieval list (of one county, or all), grouped by county and
    container, each group in tabulator, batch and record order; with the list's SHA-256
    and log entry."""
    with viewing(source) as view:
        audit = load_audits(view).audit(name)
        entry, _, sha = _round(audit, number)
        rows = list(csv.DictReader(io.StringIO(view.artifacts.get(sha).decode())))
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        if county is None or row["county"] == county:
            groups.setdefault((row["county"], row["container"]), []).append(row)
    return {
        "audit": name,
        "round": number,
        "entry": entry,
        "sha256": sha,
        "county": county,
        "groups": [
            {
                "county": c,
                "container": k,
                "ballots": sorted(
                    g, key=lambda r: (r["tabulator"], r["batch"], r["record"].zfill(12))
                ),
            }
            for (c, k), g in sorted(groups.items())
        ],
    }


def to_read(source: Source, name: str, county: str) -> list[dict[str, Any]]:
    """The ballots drawn in ``county``, each with the readings recorded for it so far."""
    with viewing(source) as view:
        audit = load_audits(view).audit(name)
        sampled = drawn(view, audit) if audit.rounds else {}
        return [
            {
                "ballot": ballot,
                "times": times,
                "readings": {c: audit.interpretations.get((ballot, c)) for c in audit.contests},
            }
            for ballot, times in sorted(sampled.items())
            if ballot.split("/", 1)[0] == county
        ]


def to_count(source: Source, name: str, county: str) -> list[dict[str, Any]]:
    """The batches drawn in ``county`` (a batch-comparison audit), each with the hand
    counts recorded for it so far."""
    with viewing(source) as view:
        audit = load_audits(view).audit(name)
        return [
            {"batch": batch, "tallies": {c: audit.tallies.get((batch, c)) for c in audit.contests}}
            for batch in drawn_batches(view, audit)
            if batch.split("/", 1)[0] == county
        ]


def tally_to_sign(
    source: Source, name: str, county: str, board: str, count: dict[str, Any], reason: str = ""
) -> dict[str, Any]:
    """The statement an audit board of ``county`` signs for its hand count of one of its
    county's batches, for one contest."""
    if str(count.get("batch", "")).split("/", 1)[0] != county:
        raise StoreError(
            f"batch {count.get('batch')} is not in {county}, this audit board's county"
        )
    return tallies_to_sign(source, name, [count], board, reason)[0]


def _reading_checked(county: str, reading: dict[str, Any]) -> dict[str, Any]:
    if str(reading.get("ballot", "")).split("/", 1)[0] != county:
        raise StoreError(
            f"ballot {reading.get('ballot')} is not in {county}, this audit board's county"
        )
    return reading


def reading_to_sign(
    source: Source, name: str, county: str, board: str, reading: dict[str, Any], reason: str = ""
) -> dict[str, Any]:
    """The statement an audit board of ``county`` signs for one reading of one of its
    county's ballots."""
    return readings_to_sign(source, name, [_reading_checked(county, reading)], board, reason)[0]
