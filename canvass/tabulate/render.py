"""Results as text a person reads, JSON a program reads, or CSV a spreadsheet reads."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from canvass.tabulate.election import RankedChoice, Tie
from canvass.tabulate.plurality import ContestTotals, Results
from canvass.tabulate.rcv import INACTIVE_REPORTED, Tabulation

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
    ranked: dict[str, list[Tabulation]] | RankedChoice | None = None,
    notes: dict[str, dict[str, Any]] | None = None,
) -> str:
    """``labels`` gives the names a person reads for contest ids (``contest``) and choice ids
    (``contest/choice``) in the table format; JSON and CSV keep the ids. ``ranked`` adds
    the rounds of ranked-choice contests (round 1 is the first choices in ``results``), and
    the ties that stop a contest's count; ``notes`` what each county's imports left out or
    lacked (:func:`canvass.app.results.import_notes`)."""
    labels = labels or {}
    ties: dict[str, Tie] = {}
    if isinstance(ranked, RankedChoice):
        ties = {c: t for c, t in ranked.ties.items() if contest in (None, c)}
        ranked = ranked.counted
    ranked = {c: p for c, p in (ranked or {}).items() if contest in (None, c)}
    notes = notes or {}
    if fmt == "json":  # one document
        doc = json.loads(_render(results, fmt, contest, labels))
        if ranked:
            doc["ranked_choice"] = {c: [rounds_json(t) for t in p] for c, p in ranked.items()}
        if ties:
            doc["ranked_choice_ties"] = {c: tie_json(t) for c, t in ties.items()}
        if notes:
            doc["imports"] = notes
        return json.dumps(doc, indent=2) + "\n"
    text = _render(results, fmt, contest, labels) + render_rounds(ranked, fmt, labels)
    if fmt != "table":
        return text
    lines = [
        f"\n{labels.get(c, c)}: the count stops at a tie. {t.message()}" for c, t in ties.items()
    ]
    for county, said in notes.items():
        where = said.get("name", county)
        for name, cards in (said.get("skipped_contests") or {}).items():
            lines.append(
                f"\n{where}: {name} is left out of its import ({cards:,} cards), not in the "
                "election definition"
            )
        for note in said.get("notes") or []:
            lines.append(f"\n{where}: {note}")
    return text + "".join(line + "\n" for line in lines)


def tie_json(tie: Tie) -> dict[str, object]:
    return {
        "round": tie.round,
        "tied": list(tie.tied),
        "to_be": "elected" if tie.elected else "eliminated",
        "tiebreak_mode": tie.mode,
        "message": tie.message(),
    }


def _render(results: Results, fmt: str, contest: str | None, labels: dict[str, str]) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    groups = results.groups if results.by else {"": results.contests}
    if fmt == "json":
        doc = {
            "ballots": results.ballots,
            "cards": results.cards,
            "blank_ballots": results.blank_ballots,
            "contests": [t.to_json() for t in _select(results.contests, contest)],
        }
        if results.by:
            doc["by"] = results.by
            doc["group_ballots"] = {
                g: {"ballots": b, "cards": c} for g, (b, c) in results.group_ballots.items()
            }
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
    lines = [
        f"{results.ballots:,} ballots on {results.cards:,} cards, "
        f"{results.blank_ballots:,} cards blank"
        if results.cards or not any(t.total_votes for t in results.contests)
        else "Counts of results-only imports (no ballot cards imported)"
    ]
    for group, totals in groups.items():
        if group:
            counted = results.group_ballots.get(group)
            on = f" ({counted[0]:,} ballots on {counted[1]:,} cards)" if counted else ""
            lines += ["", f"== {results.by}: {group}{on}"]
        for t in _select(totals, contest):
            title = labels.get(t.contest, t.contest)
            # A results-only count (a precinct file, a NIST report) gives votes alone.
            alone = t.total_votes and not (t.ballots or t.overvotes or t.undervotes)
            counted_from = "counted from results alone" if alone else f"{t.ballots:,} ballots"
            lines += ["", f"{title} (vote for {t.votes_allowed}; {counted_from})"]
            total = t.total_votes or 1
            names = {c: labels.get(f"{t.contest}/{c}", c) for c in t.votes}
            width = max([len(n) for n in names.values()] + [10])
            for choice, votes in sorted(t.votes.items(), key=lambda kv: -kv[1]):
                share = 100 * votes / total
                lines.append(f"  {names[choice]:<{width}}  {votes:>12,}  {share:6.2f}%")
            if not alone:
                lines.append(f"  {'overvotes':<{width}}  {t.overvotes:>12,}")
                lines.append(f"  {'undervotes':<{width}}  {t.undervotes:>12,}")
    return "\n".join(lines) + "\n"


def _number(value: Decimal) -> str:
    return f"{value:,}" if value == value.to_integral_value() else f"{value:,.4f}"


def rounds_json(tabulation: Tabulation) -> dict[str, object]:
    return {
        "winners": tabulation.winners,
        "ballots": str(tabulation.ballots),
        "undervotes": tabulation.undervotes,
        "tiebreaks": tabulation.tiebreaks,
        "rounds": [
            {
                "round": r.number,
                "threshold": str(r.threshold),
                "tally": {c: str(v) for c, v in r.tally.items()},
                "inactive": {s.value: str(r.inactive[s]) for s in INACTIVE_REPORTED},
                "elected": r.elected,
                "eliminated": r.eliminated,
                "transfers": {
                    c: {to: str(v) for to, v in t.items()} for c, t in r.transfers.items()
                },
            }
            for r in tabulation.rounds
        ],
    }


def render_rounds(ranked: dict[str, list[Tabulation]], fmt: str, labels: dict[str, str]) -> str:
    """The rounds of ranked-choice contests, with eliminations, elections and transfers."""
    if not ranked:
        return ""
    if fmt == "json":
        doc = {"ranked_choice": {c: [rounds_json(t) for t in p] for c, p in ranked.items()}}
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["round", "contest", "choice", "votes"])
        for cid, passes in ranked.items():
            for n, t in enumerate(passes, start=1):
                prefix = f"pass {n} " if len(passes) > 1 else ""
                for r in t.rounds:
                    scope = f"{prefix}round {r.number}"
                    for choice, votes in r.tally.items():
                        writer.writerow([scope, cid, choice, votes])
                    for status in INACTIVE_REPORTED:
                        writer.writerow(
                            [scope, cid, f"inactive:{status.value}", r.inactive[status]]
                        )
                    writer.writerow([scope, cid, "threshold", r.threshold])
        return out.getvalue()
    lines: list[str] = []
    for cid, passes in ranked.items():
        title = labels.get(cid, cid)

        def name(c: str, cid: str = cid) -> str:
            return labels.get(f"{cid}/{c}", c)

        for n, t in enumerate(passes, start=1):
            seat = f", pass {n}" if len(passes) > 1 else ""
            winners = ", ".join(name(w) for w in t.winners) or "no one"
            lines += [
                "",
                f"{title}: ranked choice{seat}, {len(t.rounds)} rounds; elected {winners}",
            ]
            order = list(t.rounds[0].tally)
            order.sort(key=lambda c: -t.rounds[0].tally[c])
            width = max([len(name(c)) for c in order] + [24])
            header = "".join(f"{'round ' + str(r.number):>14}" for r in t.rounds)
            lines.append(f"  {'':<{width}}{header}")
            for c in order:
                cells = "".join(
                    f"{_number(r.tally[c]) if c in r.tally else '':>14}" for r in t.rounds
                )
                lines.append(f"  {name(c):<{width}}{cells}")
            inactive = "".join(
                f"{_number(sum((r.inactive[s] for s in INACTIVE_REPORTED), Decimal(0))):>14}"
                for r in t.rounds
            )
            lines.append(f"  {'inactive ballots':<{width}}{inactive}")
            threshold = "".join(f"{_number(r.threshold):>14}" for r in t.rounds)
            lines.append(f"  {'threshold':<{width}}{threshold}")
            for r in t.rounds:
                for verb, who in (("elected", r.elected), ("eliminated", r.eliminated)):
                    for c in who:
                        moved = ", ".join(
                            f"{name(to)} {_number(v)}" for to, v in r.transfers.get(c, {}).items()
                        )
                        lines.append(
                            f"  round {r.number}: {verb} {name(c)}"
                            + (f"; transferred: {moved}" if moved else "")
                        )
            lines += [f"  tie: {tie}" for tie in t.tiebreaks]
            if t.undervotes:
                lines.append(f"  {t.undervotes:,} ballots ranked no candidate")
    return "\n".join(lines) + "\n"
