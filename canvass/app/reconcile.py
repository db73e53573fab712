"""Reconciliation: poll books imported (one log entry each, the CSV kept as an artifact),
the clerk's explanations recorded (one entry each), and every precinct and vote type
balanced against the ballots tabulated, as data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from canvass.app.actor import Actor
from canvass.app.folds import canvass
from canvass.app.results import (
    ballot_tables,
    definition,
    definition_sha256,
    results_tables,
)
from canvass.app.snapshot import Source, viewing
from canvass.certify.profiles import Profile, profile_for_state
from canvass.errors import IngestError, StoreError
from canvass.guard.text import read_file
from canvass.ingest.names import norm
from canvass.log.entry import new_entry
from canvass.reconcile.balance import ALL_PRECINCTS, REASONS, Key, UnitBalance, balance
from canvass.reconcile.balance import report as balance_report
from canvass.reconcile.places import Places, places, resolve, tabulated_units
from canvass.reconcile.pollbook import MEDIA_TYPE, PollbookRow, read_pollbook
from canvass.store.cache import ContentCache
from canvass.store.election import ElectionDirectory
from canvass.store.log import LogReader
from canvass.tabulate.election import count

_PLACES: ContentCache[str, Places] = ContentCache(8)
"""The places of a definition, by the definition's SHA-256."""
_BOOKS: ContentCache[tuple[str, str], list[PollbookRow]] = ContentCache(64)
"""A poll book's rows resolved to a definition's places, by both SHA-256."""


def _places(view: LogReader) -> Places:
    return _PLACES.get(definition_sha256(view), lambda: places(definition(view)))


def import_pollbook(
    election: ElectionDirectory, actor: Actor, path: Path, county: str | None = None
) -> int:
    """Record a poll-book file; its rows replace earlier ones for the same precincts.
    ``county``: the file must hold only that county's rows (a county clerk's import)."""
    data = read_file(path, IngestError)
    book = read_pollbook(data, str(path))
    with election.writing() as w:
        rows = resolve(_places(w), book, str(path))
        others = sorted({r.county for r in rows} - {county}) if county is not None else []
        if others:
            raise IngestError(
                f"{path.name}: rows for {', '.join(others)}; this import is for {county} only"
            )
        ref = election.store_artifact(data, path.name, MEDIA_TYPE)
        counties = sorted({r.county for r in rows})
        data_ = {"counties": counties, "rows": len(rows)}
        return w.append(new_entry("pollbook.imported", actor.name, data_, (ref,)))


def explain(
    election: ElectionDirectory,
    actor: Actor,
    county: str,
    precinct: str,
    vote_type: str,
    reason: str,
    text: str,
) -> int:
    """Record the clerk's explanation of a unit's imbalance."""
    if reason not in REASONS:
        raise StoreError(f"reason {reason!r} is not one of {', '.join(REASONS)}")
    if reason == "other" and not text.strip():
        raise StoreError("reason 'other' needs the explanation in words (--text)")
    with election.writing() as w:
        at = _places(w)
        county_id = at.counties.get(norm(county))
        if county_id is not None and norm(precinct) == ALL_PRECINCTS:
            found: tuple[str, str] | None = (county_id, ALL_PRECINCTS)
        else:
            found = at.precincts.get(norm(precinct))
        if county_id is None or found is None or found[0] != county_id:
            raise StoreError(f"{precinct!r} is not a precinct of county {county!r}")
        units = {u.key: u for u in reconcile(w, county_id)}
        key = (county_id, found[1], vote_type)
        if key not in units:
            raise StoreError(f"{county_id} / {found[1]} / {vote_type} has no poll book or ballots")
        if units[key].balanced:
            raise StoreError(
                f"{county_id} / {found[1]} / {vote_type} balances; there is nothing to explain"
            )
        data = {
            "county": county_id,
            "precinct": found[1],
            "vote_type": vote_type,
            "reason": reason,
            "text": text,
        }
        return w.append(new_entry("reconciliation.explained", actor.name, data))


def pollbook_rows(source: Source, county: str | None = None) -> list[PollbookRow]:
    """The poll-book rows in force (a later file's row replaces an earlier one for the same
    unit), of one county or all."""
    with viewing(source) as view:
        rows: dict[Key, PollbookRow] = {}
        at = definition_sha256(view)
        for sha in canvass(view).pollbooks:

            def read(sha: str = sha) -> list[PollbookRow]:
                data = view.artifacts.get(sha)
                return resolve(_places(view), read_pollbook(data, sha[:12]), sha[:12])

            for row in _BOOKS.get((at, sha), read):
                if county is None or row.county == county:
                    rows[(row.county, row.precinct, row.vote_type)] = row
        return list(rows.values())


def tabulated(source: Source, county: str | None = None) -> dict[Key, int]:
    """Ballot cards tabulated, by county, precinct (id) and vote type."""
    with viewing(source) as view:
        return tabulated_units(_places(view), ballot_tables(view, county))


def reconcile(source: Source, county: str | None = None) -> list[UnitBalance]:
    """Every unit (of one county, or all) balanced, with the clerk's explanations."""
    with viewing(source) as view:
        return balance(
            pollbook_rows(view, county), tabulated(view, county), canvass(view).explanations
        )


@dataclass(frozen=True)
class ContestIdentity:
    """In one precinct and contest: votes + undervotes + overvotes should equal ballots
    with the contest × votes allowed."""

    precinct: str
    contest: str
    votes: int
    undervotes: int
    overvotes: int
    ballots: int
    votes_allowed: int

    @property
    def holds(self) -> bool:
        return self.votes + self.undervotes + self.overvotes == self.ballots * self.votes_allowed


def contest_identities(source: Source) -> list[ContestIdentity]:
    """The identity of every precinct contest with ballots or votes, counted from the
    ballot tables: a results-only import gives votes but no ballots, undervotes or
    overvotes, so its counts hold no identity to check (see :func:`results_only_counted`)."""
    with viewing(source) as view:
        tables = [t for _, t in ballot_tables(view)]
        counted = count(definition(view), tables, (), "precinct")
    return [
        ContestIdentity(
            precinct,
            t.contest,
            sum(t.votes.values()),
            t.undervotes,
            t.overvotes,
            t.ballots,
            t.votes_allowed,
        )
        for precinct, totals in counted.groups.items()
        for t in totals
        if t.ballots != 0 or t.votes
    ]


def results_only_counted(source: Source) -> bool:
    """Whether any results-only import (counts without ballots) is in force."""
    return bool(results_tables(source))


def election_profile(source: Source) -> Profile:
    """The state profile the election's boards were seated under; before any is, the one
    for the definition's state (the generic profile for a state without one)."""
    with viewing(source) as view:
        seated = canvass(view).profile
        return seated or profile_for_state(definition(view).election.state)


def reconciliation_report(source: Source, layout: str | None = None) -> tuple[str, str]:
    """The reconciliation report the election's state profile chooses (or ``layout``:
    ``summary`` or ``georgia``), naming the law its profile cites: the layout and the
    text."""
    with viewing(source) as view:
        chosen = election_profile(view)
        names = {j.id: j.name for j in definition(view).jurisdictions}
        units = reconcile(view)
    layout = layout or chosen.reconciliation_report
    try:
        return layout, balance_report(layout, units, names, chosen.not_recountable)
    except ValueError as e:
        raise StoreError(str(e)) from None
