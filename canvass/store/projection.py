"""Turn log entries into projection rows.

:func:`apply` is the only code that writes projection tables. It runs inside the
transaction that appends the entry, and again, entry by entry, when ``canvass rebuild``
or ``canvass log verify`` replays the log, so the tables can never say anything the log
does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, delete, insert, update

from canvass.domain.definition import load_definition
from canvass.domain.model import contest_choices
from canvass.ingest.ballots import MEDIA_TYPE as BALLOT_TABLE
from canvass.ingest.manifest import parse_ballot_manifest
from canvass.ingest.results_csv import MEDIA_TYPE as RESULTS_TABLE
from canvass.log.entry import Entry
from canvass.store import schema as s

ReadArtifact = Callable[[str], bytes]


def apply(conn: Connection, index: int, entry: Entry, read_artifact: ReadArtifact) -> None:
    for ref in entry.artifacts:
        if conn.execute(s.artifact.select().where(s.artifact.c.sha256 == ref.sha256)).first():
            continue
        conn.execute(
            insert(s.artifact).values(
                sha256=ref.sha256,
                name=ref.name,
                media_type=ref.media_type,
                size=ref.size,
                entry=index,
            )
        )
    handler = _HANDLERS.get(entry.type)
    if handler is not None:
        handler(conn, index, entry, read_artifact)


def _log_opened(conn: Connection, index: int, entry: Entry, _: ReadArtifact) -> None:
    conn.execute(
        insert(s.registered_key).values(
            name=entry.data["operator_name"],
            role="operator",
            vkey=entry.data["operator"],
            entry=index,
        )
    )


def _key_registered(conn: Connection, index: int, entry: Entry, _: ReadArtifact) -> None:
    d = entry.data
    conn.execute(
        insert(s.registered_key).values(name=d["name"], role=d["role"], vkey=d["vkey"], entry=index)
    )


def _election_defined(conn: Connection, index: int, entry: Entry, read: ReadArtifact) -> None:
    ref = entry.artifacts[0]
    d = load_definition(read(ref.sha256), ref.name)
    for table in s.DEFINITION_TABLES:
        conn.execute(delete(table))
    e = d.election
    rows: dict[Any, list[dict[str, Any]]] = {
        s.election: [
            {
                "id": e.id,
                "name": e.name,
                "date": e.date.isoformat(),
                "state": e.state,
                "vote_types": ",".join(v.value for v in e.vote_types),
                "definition_sha256": ref.sha256,
                "entry": index,
            }
        ],
        s.jurisdiction: [
            {"id": j.id, "name": j.name, "kind": j.kind.value, "parent": j.parent, "position": i}
            for i, j in enumerate(d.jurisdictions)
        ],
        s.precinct_portion: [
            {"id": p.id, "precinct": j.id, "name": p.name}
            for j in d.jurisdictions
            for p in j.portions
        ],
        s.party: [{"id": p.id, "name": p.name, "abbreviation": p.abbreviation} for p in d.parties],
        s.candidate: [
            {"id": c.id, "name": c.name, "party": c.party, "write_in": c.write_in}
            for c in d.candidates
        ],
        s.contest: [
            {
                "id": c.id,
                "name": c.name,
                "type": c.type.value,
                "jurisdiction": c.jurisdiction,
                "votes_allowed": c.votes_allowed,
                "write_ins": c.write_ins,
                "ranks": c.ranks,
                "seats": c.seats,
                "text": c.text,
                "position": i,
            }
            for i, c in enumerate(d.contests)
        ],
        s.choice: [],
        s.ballot_style: [{"id": b.id, "name": b.name} for b in d.ballot_styles],
        s.ballot_style_contest: [
            {"ballot_style": b.id, "contest": c, "position": i}
            for b in d.ballot_styles
            for i, c in enumerate(b.contests)
        ],
        s.ballot_style_precinct: [
            {"ballot_style": b.id, "precinct": p} for b in d.ballot_styles for p in b.precincts
        ],
        s.counting_group: [
            {"id": g.id, "name": g.name, "vote_type": g.vote_type.value, "county": g.county}
            for g in d.counting_groups
        ],
        s.tabulator: [
            {"id": t.id, "name": t.name, "county": t.county, "counting_group": t.counting_group}
            for t in d.tabulators
        ],
    }
    candidates = {c.id: c for c in d.candidates}
    for c in d.contests:
        for i, ch in enumerate(contest_choices(c, candidates)):
            rows[s.choice].append(
                {
                    "contest": c.id,
                    "id": ch.id,
                    "name": ch.name,
                    "candidate": ch.candidate,
                    "write_in": ch.write_in,
                    "position": i,
                }
            )
    for table, values in rows.items():
        if values:
            conn.execute(insert(table), values)


def _imported(conn: Connection, index: int, entry: Entry, _: ReadArtifact) -> None:
    kind = "ballots" if entry.type == "ballots.imported" else "results"
    media = BALLOT_TABLE if kind == "ballots" else RESULTS_TABLE
    (table,) = [r for r in entry.artifacts if r.media_type == media]
    d = entry.data
    conn.execute(
        insert(s.ballot_import).values(
            entry=index,
            kind=kind,
            county=d["county"],
            format=d["format"],
            cards=d.get("cards", 0),
            sources_sha256=d["sources_sha256"],
            definition_sha256=d["definition_sha256"],
            table_sha256=table.sha256,
        )
    )
    replaced = d.get("replaces") or []
    if replaced:
        conn.execute(
            update(s.ballot_import)
            .where(s.ballot_import.c.entry.in_(replaced))
            .values(replaced_by=index)
        )


def _manifest_imported(conn: Connection, index: int, entry: Entry, read: ReadArtifact) -> None:
    ref = entry.artifacts[0]
    batches = parse_ballot_manifest(read(ref.sha256), ref.name)
    d = entry.data
    conn.execute(
        insert(s.ballot_import).values(
            entry=index,
            kind="manifest",
            county=d["county"],
            format=d["format"],
            cards=d["cards"],
            sources_sha256=d["sources_sha256"],
            definition_sha256=d["definition_sha256"],
            table_sha256=ref.sha256,
        )
    )
    conn.execute(
        insert(s.manifest_batch),
        [
            {
                "entry": index,
                "county": entry.data["county"],
                "tabulator": b.tabulator,
                "batch": b.id,
                "cards": b.cards,
                "container": b.container,
            }
            for b in batches
        ],
    )


_HANDLERS: dict[str, Callable[[Connection, int, Entry, ReadArtifact], None]] = {
    "log.opened": _log_opened,
    "key.registered": _key_registered,
    "election.defined": _election_defined,
    "ballots.imported": _imported,
    "results.imported": _imported,
    "manifest.imported": _manifest_imported,
}
