"""The published reconciliation: every precinct and vote type balanced, as CSV, and the
report the election's state profile asks for (the out-of-balance summary, citing the law
that bars a recount where there is one; Georgia's precinct reconciliation)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

from canvass.publish.view import ElectionView
from canvass.reconcile.balance import UnitBalance, report


def units_csv(units: Sequence[UnitBalance]) -> bytes:
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


def render_reconciliation(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    yield "reconciliation/units.csv", units_csv(view.units)
    profile = view.profile
    text = report(profile.reconciliation_report, view.units, view.names, profile.not_recountable)
    yield "reconciliation/report.txt", text.encode()
