"""Where the canvass stands, for a dashboard: a county's imports, results, ballot
accounting and the checklist before its board can certify; every county's status for the
state. All of it read on one snapshot, as data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from canvass.app.boards import county_of
from canvass.app.folds import canvass
from canvass.app.reconcile import reconcile
from canvass.app.results import definition, imports_in_force, manifest_check, results
from canvass.app.snapshot import Source, viewing
from canvass.certify.canvass import STATE, Canvass, Motion, county_board
from canvass.domain.model import JurisdictionKind
from canvass.errors import CanvassError
from canvass.reconcile.balance import UnitBalance
from canvass.store.cache import ContentCache
from canvass.store.log import LogReader, LogWriter
from canvass.tabulate.election import labels as names_of


@dataclass(frozen=True)
class Step:
    what: str
    done: bool


def unit_json(u: UnitBalance) -> dict[str, Any]:
    return {
        "county": u.county,
        "precinct": u.precinct,
        "vote_type": u.vote_type,
        "voters": u.voters,
        "tabulated": u.tabulated,
        "difference": u.difference,
        "stock_difference": u.stock_difference,
        "in_pollbook": u.in_pollbook,
        "balanced": u.balanced,
        "explanations": [{"reason": r, "text": t} for r, t in u.explanations],
    }


def contest_results(view: LogReader, county: str | None) -> list[dict[str, Any]]:
    """Each contest's totals (of one county, or all), with the names people read."""
    try:
        counted, labels = results(view, "county" if county else None)
    except CanvassError:
        return []
    totals = counted.groups.get(county, []) if county else counted.contests
    return [
        {
            "contest": t.contest,
            "name": labels.get(t.contest, t.contest),
            "ballots": t.ballots,
            "overvotes": t.overvotes,
            "undervotes": t.undervotes,
            "choices": [
                {"choice": c, "name": labels.get(f"{t.contest}/{c}", c), "votes": v}
                for c, v in t.votes.items()
            ],
        }
        for t in totals
    ]


def motion_json(m: Motion, state: Canvass) -> dict[str, Any]:
    board = state.boards.get(m.board)
    return {
        "index": m.index,
        "board": m.board,
        "kind": m.kind,
        "certificate": m.certificate,
        "mover": m.mover,
        "text": m.text,
        "time": m.time,
        "outcome": m.outcome,
        "yes": m.count("yes"),
        "no": m.count("no"),
        "abstain": m.count("abstain"),
        "needed": board.needed if board else None,
        "votes": [{"member": v.member, "vote": v.vote} for v in m.votes.values()],
    }


def board_state(source: Source, board: str) -> dict[str, Any]:
    """A board's members, meetings, motions and votes, and its certificates."""
    with viewing(source) as view:
        state = canvass(view)
        found = state.boards.get(board)
        scope = STATE if board == STATE else board.removeprefix("county:")
        certificates = [
            {
                "sha256": c.sha256,
                "status": c.status,
                "proposed": c.proposed,
                "issued": c.issued,
                "superseded_by": c.superseded_by,
                "in_force": state.current.get(scope) == c.sha256,
            }
            for c in state.certificates.values()
            if c.board == board
        ]
        meetings = state.meetings.get(board, [])
        return {
            "board": board,
            "constituted": found is not None,
            "profile": found.profile.key if found else None,
            "needed": found.needed if found else None,
            "members": [m.__dict__ for m in found.members] if found else [],
            "in_session": bool(meetings) and meetings[-1][2] == "opened",
            "meetings": [
                {"entry": e, "time": t, "action": a, "present": p, "text": x}
                for e, t, a, p, x in meetings
            ],
            "motions": [motion_json(m, state) for m in state.motions.values() if m.board == board],
            "certificates": certificates,
            "log_size": view.size,
        }


_KEPT: ContentCache[tuple[str, int, bytes, str], dict[str, Any]] = ContentCache(64)
"""Dashboards already made, by the log's identity, size and root and what they show: a
dashboard is a function of the log, so one made at a position is never stale there.
Callers share them and must not change them."""


def _kept(view: LogReader, what: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    if isinstance(view, LogWriter):  # it may hold entries not yet committed
        return make()
    position = (view.identity, view.size, view.root() if view.size else b"", what)
    return _KEPT.get(position, make)


def county_overview(source: Source, county: str) -> dict[str, Any]:
    """A county's dashboard: imports, results, manifest check, units, checklist."""
    with viewing(source) as view:
        return _kept(view, f"county:{county}", lambda: _county_overview(view, county))


def _county_overview(view: LogReader, county: str) -> dict[str, Any]:
    county = county_of(view, county)
    election = definition(view)
    name = next(j.name for j in election.jurisdictions if j.id == county)
    imports = [
        {
            "entry": r["entry"],
            "kind": r["kind"],
            "format": r["format"],
            "cards": r["cards"],
            "table_sha256": r["table_sha256"],
        }
        for kind in ("ballots", "manifest", "results")
        for r in imports_in_force(view, kind)
        if r["county"] in (county, "")
    ]
    try:
        batches, manifest_problems = manifest_check(view, county)
        manifest: dict[str, Any] | None = {"batches": batches, "problems": manifest_problems}
    except CanvassError:
        manifest = None
    units = reconcile(view, county)
    state = canvass(view)
    board = board_state(view, county_board(county))
    out = [u for u in units if not u.balanced]
    unexplained = [u for u in out if not u.explanations]
    certificate = state.certificate_of(county)
    checklist = [
        Step(
            "Cast vote records or results imported",
            any(i["kind"] != "manifest" for i in imports),
        ),
        Step(
            "Ballot manifest imported and matching the CVRs",
            manifest is not None and not manifest["problems"],
        ),
        Step("Poll book imported", bool(units) and any(u.in_pollbook for u in units)),
        Step(
            f"Every imbalance explained ({len(out) - len(unexplained)} of {len(out)})",
            bool(units) and not unexplained,
        ),
        Step("Board of canvassers seated", board["constituted"]),
        Step(
            "Certificate proposed",
            any(c["issued"] is None for c in board["certificates"]) or certificate is not None,
        ),
        Step(
            "Certificate issued by the board's vote",
            certificate is not None and certificate.issued is not None,
        ),
    ]
    return {
        "county": county,
        "name": name,
        "imports": imports,
        "results": contest_results(view, county),
        "manifest": manifest,
        "units": [unit_json(u) for u in units],
        "out_of_balance": len(out),
        "unexplained": len(unexplained),
        "checklist": checklist,
        "board": board,
        "reopened": county in state.reopened,
        "escalated": county in state.escalated,
        "log_size": view.size,
    }


def state_overview(source: Source) -> dict[str, Any]:
    """Every county's status, and the state's certificates."""
    with viewing(source) as view:
        return _kept(view, "state", lambda: _state_overview(view))


def _state_overview(view: LogReader) -> dict[str, Any]:
    election = definition(view)
    state = canvass(view)
    counted = {str(r["county"]) for r in imports_in_force(view, "ballots")}
    counted |= {str(r["county"]) for r in imports_in_force(view, "results")}
    counties = []
    for j in election.jurisdictions:
        if j.kind != JurisdictionKind.COUNTY:
            continue
        cert = state.certificate_of(j.id)
        counties.append(
            {
                "county": j.id,
                "name": j.name,
                "imported": j.id in counted or "" in counted,
                "certified": cert is not None and cert.issued is not None,
                "certificate": cert.sha256 if cert else None,
                "escalated": j.id in state.escalated,
                "reopened": state.reopened.get(j.id, (None, "", ""))[2] or None,
                "corrected": bool(cert and cert.status in ("correction", "recount")),
            }
        )
    cert = state.certificate_of(STATE)
    return {
        "election": {
            "id": election.election.id,
            "name": election.election.name,
            "state": election.election.state,
        },
        "counties": counties,
        "state_certificate": cert.sha256 if cert else None,
        "state_certified": cert is not None and cert.issued is not None,
        "ascertainments": [{"entry": e, "sha256": s} for e, s in state.ascertainments],
        "board": board_state(view, STATE),
        "log_size": view.size,
    }


def labels(source: Source) -> dict[str, str]:
    """The names people read for contest ids (``contest``) and choices
    (``contest/choice``)."""
    return names_of(definition(source))
