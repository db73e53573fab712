"""State profiles: the rules of the canvass a state's law sets, kept as data
(``profiles.yaml``) so that a state is added by writing down its rules, not its code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from canvass.errors import RulesError


@dataclass(frozen=True)
class BoardRule:
    members: int | None = None
    """Seats on the board; ``None``: as many as the roster names."""
    per_party: int | None = None
    """At most this many members of one party (Michigan: two of each major party)."""
    certify_votes: int | None = None
    """Affirmative votes a motion needs; ``None``: a majority of the members seated."""

    def needed(self, seated: int) -> int:
        return self.certify_votes if self.certify_votes is not None else seated // 2 + 1


@dataclass(frozen=True)
class Profile:
    key: str
    name: str
    county_board: BoardRule
    county_deadline_days: int
    escalation: str
    """Who certifies a county that has not by its deadline."""
    state_board: BoardRule
    state_deadline_days: int
    recount_margin_votes: int | None
    recount_margin_share: Decimal | None
    sources: tuple[str, ...]
    states: tuple[str, ...] = ()
    """The ``election.state`` values of definitions this profile is for."""
    reconciliation_report: str = "summary"
    """The reconciliation report the state's law asks for (``summary`` or ``georgia``; see
    :func:`canvass.reconcile.balance.report`)."""
    not_recountable: str | None = None
    """The law under which an unexplained imbalance bars a recount of the precinct, named
    in the report; ``None`` where there is no such rule."""

    def county_deadline(self, election_day: dt.date) -> str:
        """The end of the county deadline day, as entries write times (UTC)."""
        day = election_day + dt.timedelta(days=self.county_deadline_days)
        return f"{day.isoformat()}T23:59:59.999999Z"

    def state_deadline(self, election_day: dt.date) -> str:
        day = election_day + dt.timedelta(days=self.state_deadline_days)
        return f"{day.isoformat()}T23:59:59.999999Z"

    def within_recount_margin(self, margin: int, votes: int) -> bool:
        """Whether a contest decided by ``margin`` votes of ``votes`` is due a recount."""
        if self.recount_margin_votes is not None and margin <= self.recount_margin_votes:
            return True
        share = self.recount_margin_share
        return share is not None and votes > 0 and Decimal(margin) <= share * votes


def _board(data: dict[str, Any]) -> BoardRule:
    votes = data.get("certify_votes", "majority")
    return BoardRule(
        members=data.get("members"),
        per_party=data.get("per_party"),
        certify_votes=None if votes == "majority" else int(votes),
    )


def _load() -> dict[str, Profile]:
    text = resources.files("canvass.certify").joinpath("profiles.yaml").read_text()
    profiles = {}
    for key, p in yaml.safe_load(text).items():
        recount = p.get("recount") or {}
        reports = p.get("reports") or {}
        share = recount.get("margin_share")
        profiles[key] = Profile(
            key=key,
            name=p["name"],
            county_board=_board(p["county_board"]),
            county_deadline_days=int(p["county_deadline_days"]),
            escalation=p["escalation"],
            state_board=_board(p["state_board"]),
            state_deadline_days=int(p["state_deadline_days"]),
            recount_margin_votes=recount.get("margin_votes"),
            recount_margin_share=Decimal(share) if share is not None else None,
            sources=tuple(p.get("sources") or ()),
            states=tuple(p.get("states") or ()),
            reconciliation_report=reports.get("reconciliation", "summary"),
            not_recountable=reports.get("not_recountable"),
        )
    return profiles


PROFILES = _load()


def profile(key: str) -> Profile:
    try:
        return PROFILES[key]
    except KeyError:
        raise RulesError(
            f"no state profile {key!r}; the profiles are {', '.join(sorted(PROFILES))}"
        ) from None


GENERIC = "generic"


def profile_for_state(state: str) -> Profile:
    """The profile for an election in ``state`` (postal code or name, ignoring case), or
    the generic one when no profile names the state."""
    wanted = state.strip().casefold()
    for p in PROFILES.values():
        if wanted in (s.casefold() for s in p.states):
            return p
    return PROFILES[GENERIC]
