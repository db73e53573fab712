"""Results as text a person reads, JSON a program reads, or CSV a spreadsheet reads."""

from __future__ import annotations

import csv
import io
import json

from canvass.tabulate.plurality import ContestTotals, Results

FORMATS = ("table", "json", "csv")


def _select(totals: list[ContestTotals], contest: str | None) -> list[ContestTotals]:
    if contest is None:
        return totals
    chosen = [t for t in totals if t.contest == contest]
    if not chosen:
        known = ", ".join(t.contest for t in totals)
        raise ValueError(f"no contest {contest!r}; the contests are: {known}")
    return chosen


def render(
    results: Results,
    fmt: str = "table",
    contest: str | None = None,
    labels: dict[str, str] | None = None,
) -> str:
    """``labels`` gives the names a person reads for contest ids (``contest``) and choice ids
    (``contest/choice``) in the table format; JSON and CSV keep the ids."""
    labels = labels or {}
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    groups = results.groups if results.by else {"": results.contests}
    if fmt == "json":
        doc = {
            "cards": results.cards,
            "blank_ballots": results.blank_ballots,
            "contests": [t.to_json() for t in _select(results.contests, contest)],
        }
        if results.by:
            doc["by"] = results.by
            doc["groups"] = {
                g: [t.to_json() for t in _select(ts, contest)] for g, ts in groups.items()
            }
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([results.by or "scope", "contest", "choice", "votes"])
        for group, totals in groups.items():
            for t in _select(totals, contest):
                rows = [
                    *t.votes.items(),
                    ("overvotes", t.overvotes),
                    ("undervotes", t.undervotes),
                    ("ballots", t.ballots),
                ]
                for choice, votes in rows:
                    writer.writerow([group or "all", t.contest, choice, votes])
        return out.getvalue()
    lines = [f"{results.cards:,} cards, {results.blank_ballots:,} blank"]
    for group, totals in groups.items():
        if group:
            lines += ["", f"== {results.by}: {group}"]
        for t in _select(totals, contest):
            title = labels.get(t.contest, t.contest)
            lines += ["", f"{title} (vote for {t.votes_allowed}; {t.ballots:,} ballots)"]
            total = t.total_votes or 1
            names = {c: labels.get(f"{t.contest}/{c}", c) for c in t.votes}
            width = max([len(n) for n in names.values()] + [10])
            for choice, votes in sorted(t.votes.items(), key=lambda kv: -kv[1]):
                share = 100 * votes / total
                lines.append(f"  {names[choice]:<{width}}  {votes:>12,}  {share:6.2f}%")
            lines.append(f"  {'overvotes':<{width}}  {t.overvotes:>12,}")
            lines.append(f"  {'undervotes':<{width}}  {t.undervotes:>12,}")
    return "\n".join(lines) + "\n"
