"""The results site as one of the bundle's renderers: its data taken from the
:class:`~canvass.publish.view.ElectionView` every renderer shares, so the verifier renders
the site again from the bundle's own log and compares every page byte for byte."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from canvass.publish.audits import audit_json, hand_count
from canvass.publish.results import (
    breakdowns_document,
    ranked_document,
    results_document,
    totals_json,
)
from canvass.publish.site.check import LogClaim, Witness
from canvass.publish.site.model import SiteData
from canvass.publish.site.pages import render_site
from canvass.publish.view import ElectionView


def unit_rows(units: Sequence[Any]) -> list[dict[str, Any]]:
    """Reconciliation units (:class:`canvass.reconcile.balance.UnitBalance`) as the rows
    :class:`SiteData` takes."""
    return [
        {
            "county": u.county,
            "precinct": u.precinct,
            "vote_type": u.vote_type,
            "voters": u.voters,
            "tabulated": u.tabulated,
            "balanced": u.balanced,
            "explanations": [list(e) for e in u.explanations],
        }
        for u in units
    ]


def site_data(view: ElectionView) -> SiteData:
    keys = view.state.canvass.keys.keys
    operator = next(key.encode() for role, key in keys.values() if role == "operator")
    witnesses = tuple(
        Witness(name, key.encode())
        for name, (role, key) in sorted(keys.items())
        if role == "witness"
    )
    return SiteData(
        definition=view.definition,
        results=results_document(view),
        ranked=ranked_document(view),
        certificates=view.certificates,
        reopened=view.reopened,
        breakdowns=breakdowns_document(view),
        audits=[audit_json(a) for a in view.audits],
        hand_counts=[hand_count(view, h) for h in view.state.audits.hand_counts.values()],
        units=unit_rows(view.units),
        # The publication is recorded right after the entries the site is rendered from.
        claim=LogClaim(view.log_size, view.root, view.log_size, operator, witnesses),
        as_of=view.as_of,
        by_vote_type={
            group: {t.contest: totals_json(t) for t in totals}
            for group, totals in sorted(view.by_vote_type.groups.items())
        },
    )


def render_site_pages(view: ElectionView) -> Iterator[tuple[str, bytes]]:
    """Every page of the results site, its JSON twin and CSV, the checker and the
    stylesheet."""
    yield from render_site(site_data(view))
