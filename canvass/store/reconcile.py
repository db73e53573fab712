"""Reconciliation in an election directory: poll books imported (one log entry each, the
CSV kept as an artifact), the clerk's explanations recorded (one entry each), and every
precinct and vote type balanced against the ballots tabulated."""

from __future__ import annotations

from pathlib import Path

from canvass.errors import IngestError, StoreError
from canvass.ingest.names import norm
from canvass.log.entry import new_entry
from canvass.reconcile.balance import REASONS, Key, UnitBalance, balance
from canvass.reconcile.places import Places, places, resolve, tabulated_units
from canvass.reconcile.pollbook import MEDIA_TYPE, PollbookRow, read_pollbook
from canvass.store.ballots import ballot_tables, definition
from canvass.store.election import ElectionDirectory

_PLACES: dict[int, Places] = {}
_BOOKS: dict[tuple[int, str], list[PollbookRow]] = {}


def _places(store: ElectionDirectory) -> Places:
    election = definition(store)
    cached = _PLACES.get(id(election))
    if cached is None:
        cached = _PLACES[id(election)] = places(election)
    return cached


def _resolve(store: ElectionDirectory, rows: list[PollbookRow], where: str) -> list[PollbookRow]:
    return resolve(_places(store), rows, where)


def import_pollbook(store: ElectionDirectory, path: Path, actor: str) -> int:
    """Record a poll-book file; its rows replace earlier ones for the same precincts."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise IngestError(f"{path}: cannot read ({e.strerror})") from None
    rows = _resolve(store, read_pollbook(data, str(path)), str(path))
    ref = store.store_artifact(data, path.name, MEDIA_TYPE)
    counties = sorted({r.county for r in rows})
    entry = new_entry("pollbook.imported", actor, {"counties": counties, "rows": len(rows)}, (ref,))
    with store.writing() as w:
        return w.append(entry)


def explain(
    store: ElectionDirectory,
    county: str,
    precinct: str,
    vote_type: str,
    reason: str,
    text: str,
    actor: str,
) -> int:
    """Record the clerk's explanation of a unit's imbalance."""
    if reason not in REASONS:
        raise StoreError(f"reason {reason!r} is not one of {', '.join(REASONS)}")
    if reason == "other" and not text.strip():
        raise StoreError("reason 'other' needs the explanation in words (--text)")
    at = _places(store)
    county_id = at.counties.get(norm(county))
    found = at.precincts.get(norm(precinct))
    if county_id is None or found is None or found[0] != county_id:
        raise StoreError(f"{precinct!r} is not a precinct of county {county!r}")
    units = {u.key: u for u in reconcile(store, county_id)}
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
    with store.writing() as w:
        return w.append(new_entry("reconciliation.explained", actor, data))


def pollbook_rows(store: ElectionDirectory, county: str | None = None) -> list[PollbookRow]:
    """The poll-book rows in force (a later file's row replaces an earlier one for the same
    unit), of one county or all."""
    from canvass.store.canvass import load

    rows: dict[Key, PollbookRow] = {}
    election = id(definition(store))
    for sha in load(store).pollbooks:
        book = _BOOKS.get((election, sha))
        if book is None:
            data = store.artifacts.get(sha)
            book = _BOOKS[(election, sha)] = _resolve(
                store, read_pollbook(data, sha[:12]), sha[:12]
            )
        for row in book:
            if county is None or row.county == county:
                rows[(row.county, row.precinct, row.vote_type)] = row
    return list(rows.values())


def tabulated(store: ElectionDirectory, county: str | None = None) -> dict[Key, int]:
    """Ballot cards tabulated, by county, precinct (id) and vote type."""
    return tabulated_units(_places(store), ballot_tables(store, county))


def reconcile(store: ElectionDirectory, county: str | None = None) -> list[UnitBalance]:
    """Every unit (of one county, or all) balanced, with the clerk's explanations."""
    from canvass.store.canvass import load

    return balance(pollbook_rows(store, county), tabulated(store, county), load(store).explanations)


def contest_identities(store: ElectionDirectory) -> tuple[int, list[str]]:
    """In every precinct and contest, votes + undervotes + overvotes = ballots with the
    contest × votes allowed: how many were checked, and each that does not hold."""
    from canvass.store.ballots import results

    counted, _ = results(store, "precinct")
    checked, failures = 0, []
    for precinct, totals in counted.groups.items():
        for t in totals:
            if t.ballots == 0 and not t.votes:
                continue
            checked += 1
            left = sum(t.votes.values()) + t.undervotes + t.overvotes
            right = t.ballots * t.votes_allowed
            if left != right:
                failures.append(
                    f"{precinct} / {t.contest}: {sum(t.votes.values())} votes + {t.undervotes} "
                    f"undervotes + {t.overvotes} overvotes = {left}, but {t.ballots} ballots × "
                    f"{t.votes_allowed} = {right}"
                )
    return checked, failures
