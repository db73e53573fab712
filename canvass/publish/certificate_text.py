"""A certificate as a person reads it: what a board member signs, in words, before they
sign it — every total, every unit still out of balance with its explanation or
"unexplained", what it supersedes and why, what it rests on, and where it stands. The
command line prints it (``canvass certify show``); the bundle publishes one per
certificate (``certificates/<sha256>.txt``), which the verifier renders again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from canvass.certify.canvass import STATE, Certificate
from canvass.domain.model import ElectionDefinition
from canvass.publish.view import ElectionView
from canvass.tabulate.election import labels


def standing(cert: Certificate) -> str:
    """Where a certificate stands, in words."""
    if cert.issued is None:
        return f"proposed at log entry {cert.proposed}; not issued"
    signed = ", ".join(s["member"] for s in cert.signatures)
    issued = f"issued at log entry {cert.issued} on motion {cert.motion}, signed by {signed}"
    if cert.superseded_by is not None:
        return f"superseded by {cert.superseded_by[:12]}; was {issued}"
    if cert.county_change is not None:
        change = cert.county_change
        return (
            f"NO LONGER IN FORCE: {change['county']} certified again at log entry "
            f"{change['entry']} (certificate {str(change['certificate'])[:12]}), and this "
            f"certificate rests on its earlier one; the state board must certify again. Was "
            f"{issued}"
        )
    return f"in force: {issued}"


def certificate_text(
    doc: dict[str, Any], cert: Certificate | None, election: ElectionDefinition
) -> str:
    """``doc`` (a county or state certificate document) in words; ``cert`` is where the
    log has it (None: never proposed)."""
    names = {j.id: j.name for j in election.jurisdictions}
    label = labels(election)
    scope = doc.get("county") or STATE
    kind = "State certificate" if scope == STATE else "County certificate"
    where = "the state" if scope == STATE else f"{names.get(scope, scope)} ({scope})"
    lines = [f"{kind} of {where}, {election.election.name}"]
    if cert is not None:
        lines.append(f"  SHA-256 {cert.sha256}")
    lines.append(f"  counted under the election definition {str(doc.get('definition'))[:12]}")
    status = str(doc.get("status"))
    if doc.get("supersedes"):
        status += f", superseding {str(doc['supersedes'])[:12]}"
    if doc.get("reason"):
        status += f": {doc['reason']}"
    lines.append(f"Status: {status}")
    if cert is not None:
        lines.append(f"Standing: {standing(cert)}")
    lines += ["", "Results"]
    # In the definition's order (the document's keys are in canonical, sorted order).
    order = {key: n for n, key in enumerate(label)}
    results = doc.get("results", {})
    for contest in sorted(results, key=lambda c: order.get(c, len(order))):
        t = results[contest]
        lines.append(f"  {label.get(contest, contest)}")
        votes = t.get("votes", {})
        for choice in sorted(votes, key=lambda c: order.get(f"{contest}/{c}", len(order))):
            name = label.get(f"{contest}/{choice}", choice)
            lines.append(f"    {name:<40} {votes[choice]:>12,}")
        marks = (t.get("overvotes", 0), t.get("undervotes", 0), t.get("ballots", 0))
        if marks == (0, 0, 0) and any(votes.values()):
            # A results-only count (a precinct file, a NIST report) gives votes alone.
            lines.append("    counted from results alone: no ballots, overvotes or undervotes")
        else:
            lines.append(
                f"    overvotes {marks[0]:,}, undervotes {marks[1]:,}, "
                f"ballots with the contest {marks[2]:,}"
            )
    for contest, outcome in (doc.get("ranked_choice") or {}).items():
        winners = ", ".join(label.get(f"{contest}/{w}", w) for w in outcome.get("winners", []))
        lines.append(
            f"  {label.get(contest, contest)}: ranked choice, elected {winners} after "
            f"{outcome.get('rounds')} rounds"
        )
    for contest in doc.get("within_recount_margin") or []:
        lines.append(f"  {label.get(contest, contest)}: within the recount margin")
    if doc.get("left_out") or doc.get("left_out_votes"):
        lines += ["", "Left out of its imports (contests the election definition does not have)"]
        lines += [f"  {name}: {cards:,} cards" for name, cards in doc.get("left_out", {}).items()]
        lines += [
            f"  {name}: {votes:,} votes" for name, votes in doc.get("left_out_votes", {}).items()
        ]
    if "reconciliation" in doc:
        lines += ["", *_reconciliation(doc["reconciliation"])]
    lines += ["", "Rests on"]
    for county, sha in (doc.get("counties") or {}).items():
        lines.append(f"  {names.get(county, county)} ({county}): county certificate {sha[:12]}")
    for source in doc.get("rests_on") or []:
        entry = f" (log entry {source['entry']})" if source.get("entry") else ""
        what = {"ballots": "ballot table", "results": "results-only table"}.get(
            source["kind"], "poll book"
        )
        lines.append(f"  {what} {source['sha256'][:12]}{entry}")
    return "\n".join(lines) + "\n"


def _reconciliation(rec: dict[str, Any]) -> list[str]:
    out = rec.get("out_of_balance", [])
    unexplained = rec.get("unexplained", [])
    lines = [
        f"Reconciliation: {rec.get('units', 0):,} units, {len(out)} out of balance, "
        f"{len(unexplained)} unexplained"
    ]
    barred = set(rec.get("not_recountable", []))
    for u in out:
        unit = f"{u['precinct']}/{u['vote_type']}"
        said = f"tabulated minus poll book {u['difference']:+d}"
        if u.get("stock_difference"):
            said += f", ballot stock {u['stock_difference']:+d}"
        why = "; ".join(f"{e['reason']}: {e['text']}" for e in u.get("explanations", []))
        lines.append(
            f"  {u['precinct']} / {u['vote_type']}: {said} — {why or 'unexplained'}"
            + (" — not recountable" if unit in barred else "")
        )
    return lines


def render_certificate_texts(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    """``certificates/<sha256>.txt``: every certificate as its board read it."""
    for sha, cert in view.state.canvass.certificates.items():
        doc = view.materials.document(sha)
        election = view.materials.definition(str(doc.get("definition") or view.state.definition))
        yield f"certificates/{sha}.txt", certificate_text(doc, cert, election).encode()
