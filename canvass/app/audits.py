"""Risk-limiting audits: open, commit the frame (ballot tables and manifests, in a signed
checkpoint) before the seed, record the seed, draw, record what the audit boards read or
counted, measure the risk, and say what comes next — each a log entry, each checked and
written in one transaction (:func:`~canvass.app.folds.changing_audits`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from canvass.app.actor import Actor
from canvass.app.boards import read_document
from canvass.app.folds import append_audits, audits, canvass, changing_audits
from canvass.app.results import definition, imports_in_force
from canvass.app.snapshot import Source, viewing
from canvass.audit import handcount, rounds
from canvass.audit.sampler import weighted_sample
from canvass.audit.workflow import AuditRecord, AuditRefused, Audits, HandCount, reading_statement
from canvass.certify.canvass import STATE
from canvass.domain.model import ElectionDefinition
from canvass.errors import IngestError, StoreError
from canvass.guard.text import read_file
from canvass.ingest import results_csv
from canvass.ingest.ballots import ContestInfo, read_table
from canvass.ingest.manifest import parse_ballot_manifest
from canvass.ingest.names import definition_contests
from canvass.log.entry import ArtifactRef, new_entry
from canvass.store.election import ElectionDirectory
from canvass.store.log import LogReader, LogWriter
from canvass.tabulate.election import count, labels

RETRIEVAL = "text/csv"
READ = "audit.interpreted"
TALLIED = "audit.batch_tallied"


def load_audits(source: Source) -> Audits:
    """Every audit as the log stands (the caller's own copy)."""
    return audits(source)


def open_audit(
    election: ElectionDirectory,
    actor: Actor,
    name: str,
    method: str,
    risk_limit: int,
    contests: list[str],
) -> int:
    with changing_audits(election) as (w, state):
        known = {c.id for c in definition(w).contests}
        unknown = [c for c in contests if c not in known]
        if unknown or not contests:
            raise StoreError(
                f"contests to audit: {', '.join(unknown) or 'none given'} not in the election"
            )
        data = {"audit": name, "method": method, "risk_limit": risk_limit, "contests": contests}
        return append_audits(w, state, [new_entry("audit.opened", actor.name, data)])[0]


def commit(election: ElectionDirectory, actor: Actor, name: str) -> tuple[int, str]:
    """Commit the frame: every county's ballot table and manifest, by SHA-256, in an entry
    whose checkpoint is signed with it. Returns the entry and that checkpoint."""
    with changing_audits(election) as (w, state):
        imports = imports_in_force(w, "ballots")
        tables = {str(r["county"]): str(r["table_sha256"]) for r in imports}
        if len(tables) != len(imports):
            raise StoreError(
                "a county has several ballot imports; the audit frame needs one table each"
            )
        manifests = {
            str(r["county"]): str(r["table_sha256"]) for r in imports_in_force(w, "manifest")
        }
        ballots = sum(int(str(r["cards"])) for r in imports)
        data = {"audit": name, "tables": tables, "manifests": manifests, "ballots": ballots}
        index = append_audits(w, state, [new_entry("audit.committed", actor.name, data)])[0]
    assert w.signed is not None
    return index, w.signed


def record_seed(election: ElectionDirectory, actor: Actor, name: str, seed: str) -> int:
    with changing_audits(election) as (w, state):
        data = {"audit": name, "seed": seed}
        return append_audits(w, state, [new_entry("audit.seeded", actor.name, data)])[0]


def committed_tables(source: Source, audit: AuditRecord) -> dict[str, pa.Table]:
    with viewing(source) as view:
        return {
            county: read_table(view.artifacts.get(sha))[0] for county, sha in audit.tables.items()
        }


def draw(election: ElectionDirectory, actor: Actor, name: str, size: int) -> tuple[int, str]:
    """Draw the round's ballots (with replacement, Rivest's sampler, 18-digit tickets; a
    round extends the ones before it); the retrieval list (CSV) is kept as an artifact and
    returned with the entry."""
    with changing_audits(election) as (w, state):
        audit = state.audit(name)
        if audit.seed is None:
            raise AuditRefused(f"audit {name}: no sample can be drawn before the seed")
        already = audit.rounds[-1][1] if audit.rounds else 0
        if size <= already:
            raise StoreError(f"audit {name}: {already} ballots are drawn already; ask for more")
        tables = committed_tables(w, audit)
        if audit.method == "batch-comparison":
            frame, outcome = rounds.batch_audit(_contests(w), tables, audit.contests)
            try:
                weights = rounds.batch_bounds(frame, outcome)
            except ValueError as e:
                raise AuditRefused(f"audit {name}: {e}") from None
            if size > len(weights) * 4:
                raise StoreError(
                    f"audit {name}: {size} draws from {len(weights)} batches; count them all"
                )
            draws = weighted_sample(weights, audit.seed, already, size - already)
            text = rounds.batch_retrieval_list(draws, frame)
        else:
            ids, where = rounds.frame(tables, _containers(w, audit))
            text = rounds.retrieval_list(rounds.draw(ids, audit.seed, already, size), where)
        ref = election.store_artifact(
            text.encode(), f"{name}-round-{len(audit.rounds) + 1}.csv", RETRIEVAL
        )
        data = {"audit": name, "round": len(audit.rounds) + 1, "size": size}
        index = append_audits(w, state, [new_entry("audit.round", actor.name, data, (ref,))])[0]
        return index, text


def _containers(view: LogReader, audit: AuditRecord) -> dict[tuple[str, str, str], str]:
    """Where each committed batch's paper is kept, from the committed ballot manifests."""
    return rounds.containers(
        {
            county: parse_ballot_manifest(view.artifacts.get(sha), f"{county} manifest")
            for county, sha in audit.manifests.items()
        }
    )


def _contests(view: LogReader) -> list[ContestInfo]:
    return [info for info, _ in definition_contests(definition(view))]


def seat_board(
    election: ElectionDirectory, actor: Actor, name: str, board: str, members: Sequence[str]
) -> int:
    """Seat an audit board for an audit: its members, whose keys are registered as
    ``audit-board``, sign every reading it records."""
    with changing_audits(election) as (w, state):
        data = {"audit": name, "board": board, "members": list(members)}
        return append_audits(w, state, [new_entry("audit.board_seated", actor.name, data)])[0]


Signatures = Sequence[Sequence[dict[str, str]]]
"""For each reading, every member's ``{"member", "signature"}`` over its statement."""


def _tallies(
    view: LogReader, state: Audits, name: str, counts: Sequence[dict[str, Any]], board: str
) -> list[dict[str, Any]]:
    audit = state.audit(name)
    if audit.method != "batch-comparison":
        raise StoreError(f"audit {name} is a {audit.method} audit; it counts no batches")
    drawn_now = set(rounds.drawn_batches(_lists(view, audit)))
    choices = {info.name: {ch.name for ch in info.choices} for info in _contests(view)}
    out = []
    for c in counts:
        if c["batch"] not in drawn_now:
            raise StoreError(f"audit {name}: batch {c['batch']} was not drawn")
        if c["contest"] not in audit.contests:
            raise StoreError(f"audit {name}: contest {c['contest']} is not audited")
        unknown = sorted(set(c["votes"]) - choices[c["contest"]])
        if unknown:
            raise StoreError(
                f"audit {name}: {', '.join(unknown)} not a choice of {c['contest']}; "
                f"choices: {', '.join(sorted(choices[c['contest']]))}"
            )
        out.append(
            {
                "audit": name,
                "round": len(audit.rounds),
                "batch": c["batch"],
                "contest": c["contest"],
                "votes": dict(c["votes"]),
                "board": board,
            }
        )
    return out


def _amended(
    state: Audits, name: str, kind: str, readings: list[dict[str, Any]], reason: str
) -> list[dict[str, Any]]:
    """Each reading with the reading in force it supersedes (refused without a reason)."""
    audit = state.audit(name)
    item = "ballot" if kind == "audit.interpreted" else "batch"
    seen: set[tuple[str, str]] = set()
    for data in readings:
        key = (data[item], data["contest"])
        if key in seen:
            raise StoreError(f"audit {name}: {item} {key[0]}, {key[1]} is read twice here")
        seen.add(key)
        earlier = audit.in_force.get(key)
        if earlier is not None and not reason.strip():
            raise AuditRefused(
                f"audit {name}: {item} {key[0]}, {key[1]} was read at log entry {earlier}; "
                "to read it again, give the reason: the earlier reading stays in the log"
            )
        data["supersedes"] = earlier
        data["reason"] = reason if earlier is not None else ""
    return readings


def _signed(
    w: LogWriter,
    state: Audits,
    actor: Actor,
    kind: str,
    readings: list[dict[str, Any]],
    signatures: Signatures,
) -> list[int]:
    if len(signatures) != len(readings):
        raise StoreError(f"{len(readings)} readings, but signatures for {len(signatures)}")
    entries = [
        new_entry(kind, actor.name, {**data, "signatures": [dict(s) for s in signed]})
        for data, signed in zip(readings, signatures, strict=True)
    ]
    return append_audits(w, state, entries)


def tallies_to_sign(
    source: Source, name: str, counts: Sequence[dict[str, Any]], board: str, reason: str = ""
) -> list[dict[str, Any]]:
    """The statement every member of the audit board signs for each hand count."""
    with viewing(source) as view:
        state = audits(view)
        found = _amended(state, name, TALLIED, _tallies(view, state, name, counts, board), reason)
        return [reading_statement(state.election, TALLIED, d) for d in found]


def tally(
    election: ElectionDirectory,
    actor: Actor,
    name: str,
    counts: Sequence[dict[str, Any]],
    board: str,
    signatures: Signatures,
    reason: str = "",
) -> list[int]:
    """Record the audit boards' hand counts of drawn batches: each ``{"batch"
    (county/tabulator/batch), "contest", "votes" {choice id: votes}}``, with every
    member's signature over :func:`tallies_to_sign`. A batch counted again supersedes its
    earlier count (``reason`` says why), which stays in the log."""
    with changing_audits(election) as (w, state):
        found = _amended(state, name, TALLIED, _tallies(w, state, name, counts, board), reason)
        return _signed(w, state, actor, TALLIED, found, signatures)


def _lists(view: LogReader, audit: AuditRecord) -> list[str]:
    return [view.artifacts.get(sha).decode() for _, _, sha in audit.rounds]


def drawn(source: Source, audit: AuditRecord) -> Counter[str]:
    """Every ballot drawn so far (each round's list holds its new draws), with the number
    of times."""
    with viewing(source) as view:
        return rounds.drawn(_lists(view, audit))


def drawn_batches(source: Source, audit: AuditRecord) -> list[str]:
    """Every batch drawn so far (in a batch-comparison audit), once each, in order."""
    with viewing(source) as view:
        return sorted(set(rounds.drawn_batches(_lists(view, audit))))


def _readings(
    view: LogReader, state: Audits, name: str, readings: Sequence[dict[str, Any]], board: str
) -> list[dict[str, Any]]:
    audit = state.audit(name)
    sampled = drawn(view, audit)
    out = []
    for r in readings:
        if r["ballot"] not in sampled:
            raise StoreError(f"audit {name}: ballot {r['ballot']} was not drawn")
        if r["contest"] not in audit.contests:
            raise StoreError(f"audit {name}: contest {r['contest']} is not audited")
        data = {
            "audit": name,
            "round": len(audit.rounds),
            "ballot": r["ballot"],
            "contest": r["contest"],
            "votes": list(r.get("votes", [])),
            "board": board,
        }
        if r.get("finding"):
            data["finding"] = r["finding"]
        out.append(data)
    return out


def readings_to_sign(
    source: Source, name: str, readings: Sequence[dict[str, Any]], board: str, reason: str = ""
) -> list[dict[str, Any]]:
    """The statement every member of the audit board signs for each reading."""
    with viewing(source) as view:
        state = audits(view)
        found = _amended(state, name, READ, _readings(view, state, name, readings, board), reason)
        return [reading_statement(state.election, READ, d) for d in found]


def interpret(
    election: ElectionDirectory,
    actor: Actor,
    name: str,
    readings: Sequence[dict[str, Any]],
    board: str,
    signatures: Signatures,
    reason: str = "",
) -> list[int]:
    """Record the audit boards' readings: each ``{"ballot", "contest", "votes"}`` or
    ``{"ballot", "contest", "finding"}`` (not_found, no_consensus), with every member's
    signature over :func:`readings_to_sign`. A ballot read again supersedes its earlier
    reading (``reason`` says why), which stays in the log and no longer counts."""
    with changing_audits(election) as (w, state):
        found = _amended(state, name, READ, _readings(w, state, name, readings, board), reason)
        return _signed(w, state, actor, READ, found, signatures)


def cvr_votes(
    source: Source, audit: AuditRecord, ballots: Sequence[str]
) -> dict[str, dict[str, list[str]]]:
    """What the CVRs say each ballot voted, by contest (choice ids)."""
    with viewing(source) as view:
        tables = committed_tables(view, audit)
        _, where = rounds.frame(tables)
        return rounds.cvr_votes(_contests(view), tables, where, ballots)


def measure(election: ElectionDirectory, actor: Actor, name: str) -> list[dict[str, Any]]:
    """Measure each audited contest's risk from the readings so far, against the outcome
    the committed tables report, and record it with the next round's size."""
    with changing_audits(election) as (w, state):
        audit = state.audit(name)
        if not audit.rounds:
            raise AuditRefused(f"audit {name}: nothing has been drawn")
        election_def = definition(w)
        contests = _contests(w)
        tables = committed_tables(w, audit)
        if audit.method == "batch-comparison":
            frame, outcome = rounds.batch_audit(contests, tables, audit.contests)
            try:
                record = rounds.measure_batches(
                    audit, outcome, frame, rounds.drawn_batches(_lists(w, audit))
                )
            except ValueError as e:
                raise StoreError(f"audit {name}: {e}") from None
            measured = [{**record, "contest": c} for c in audit.contests if not audit.done(c)]
        else:
            sampled = drawn(w, audit)
            reported = {
                t.contest: t.votes for t in count(election_def, list(tables.values())).contests
            }
            _, where = rounds.frame(tables)
            cvrs = rounds.cvr_votes(contests, tables, where, sampled)
            measured = []
            for contest in audit.contests:
                if audit.done(contest):
                    continue
                missing = [b for b in sampled if (b, contest) not in audit.interpretations]
                if missing:
                    raise StoreError(
                        f"audit {name}: {len(missing)} drawn ballots have no reading for {contest}"
                    )
                seats = next(c.votes_allowed for c in contests if c.name == contest)
                measured.append(
                    rounds.measure_contest(audit, contest, reported[contest], sampled, cvrs, seats)
                )
        append_audits(w, state, [new_entry("audit.measured", actor.name, m) for m in measured])
        return measured


# --- a full hand count, recorded as an audit of the certified result ----------------------


def record_hand_count(
    election: ElectionDirectory, actor: Actor, name: str, contest: str, report: Path
) -> int:
    """Record a full hand count of ``contest`` (Arlo's audit report, batch by batch) as an
    audit of the state certificate in force: the report kept as an artifact, the sums per
    county and in all by the election's own ids in the entry, set beside the certificate.
    Refused unless a state certificate in force holds the contest."""
    data = read_file(report, IngestError)
    found = handcount.read_arlo_report(data, str(report))
    with changing_audits(election) as (w, state):
        election_def = definition(w)
        choices = _choices_of(election_def, contest)
        totals = handcount.hand_count_totals(
            found, choices, results_csv.county_ids(election_def), str(report)
        )
        cert = canvass(w).in_force(STATE)
        if cert is None:
            raise StoreError(
                "a hand count is set beside the certified result it audits, and no state "
                "certificate is in force; record it once the state has certified"
            )
        if contest not in read_document(w, cert.sha256)["results"]:
            raise StoreError(f"the state certificate in force holds no contest {contest!r}")
        sha = w.artifacts.put(data)
        ref = ArtifactRef(sha, report.name, "text/csv", len(data))
        entry_data = {"audit": name, "contest": contest, "audits": cert.sha256}
        entry_data |= totals.to_json()
        entry = new_entry("audit.hand_counted", actor.name, entry_data, (ref,))
        return append_audits(w, state, [entry])[0]


def _choices_of(election_def: ElectionDefinition, contest: str) -> dict[str, str]:
    """A normalized spelling (id, name, alias) of each choice of ``contest`` → its id."""
    for info, choices in definition_contests(election_def):
        if info.name == contest:
            return {
                " ".join(spelling.split()).casefold(): ch.id
                for ch in choices
                for spelling in (ch.id, ch.name, *ch.aliases)
            }
    raise StoreError(
        f"no contest {contest!r}; the contests are {', '.join(c.id for c in election_def.contests)}"
    )


def hand_count_report(source: Source, name: str) -> str:
    """A recorded hand count set beside the certificate it audits, for people (as the
    bundle publishes it)."""
    with viewing(source) as view:
        found = audits(view).hand_counts.get(name)
        if found is None:
            raise StoreError(f"no hand count {name!r} has been recorded")
        doc = hand_count_beside(view, found)
        return handcount.hand_count_text(doc, labels(definition(view)) | _places(view))


def hand_count_beside(view: LogReader, found: HandCount) -> dict[str, Any]:
    certificate = read_document(view, found.audits)
    counties = {
        county: read_document(view, sha)["results"].get(found.contest, {})
        for county, sha in certificate.get("counties", {}).items()
    }
    return handcount.hand_count_document(
        found.name,
        found.contest,
        found.entry,
        found.data,
        found.audits,
        certificate["results"].get(found.contest, {}),
        counties,
    )


def _places(view: LogReader) -> dict[str, str]:
    return {j.id: j.name for j in definition(view).jurisdictions}
