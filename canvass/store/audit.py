"""Risk-limiting audits in an election directory: open, commit the frame (ballot tables and
manifests, in a signed checkpoint) before the seed, record the seed, draw, record what the
audit boards read, measure the risk, and say what comes next — each a log entry."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from canvass.audit import rounds
from canvass.audit.sampler import weighted_sample
from canvass.audit.workflow import AuditRecord, AuditRefused, Audits
from canvass.errors import StoreError
from canvass.ingest.ballots import ContestInfo, read_table
from canvass.ingest.manifest import parse_ballot_manifest
from canvass.ingest.names import definition_contests
from canvass.log.entry import Entry, new_entry
from canvass.store.ballots import _imports, definition
from canvass.store.election import ElectionDirectory, _log_size
from canvass.tabulate.election import count

RETRIEVAL = "text/csv"


def load_audits(store: ElectionDirectory) -> Audits:
    state = Audits()
    for index, entry in store.entries():
        state.apply(index, entry)
    return state


def _append(store: ElectionDirectory, state: Audits, entries: Sequence[Entry]) -> list[int]:
    with store.writing() as w:
        if _log_size(w.conn) != state.size:
            raise StoreError("the log moved on while this was being prepared; try again")
        for entry in entries:
            state.apply(w.size, entry)
            w.append(entry)
        return w.appended


def open_audit(
    store: ElectionDirectory,
    name: str,
    method: str,
    risk_limit: int,
    contests: list[str],
    actor: str,
) -> int:
    known = {c.id for c in definition(store).contests}
    unknown = [c for c in contests if c not in known]
    if unknown or not contests:
        raise StoreError(
            f"contests to audit: {', '.join(unknown) or 'none given'} not in the election"
        )
    data = {"audit": name, "method": method, "risk_limit": risk_limit, "contests": contests}
    return _append(store, load_audits(store), [new_entry("audit.opened", actor, data)])[0]


def commit(store: ElectionDirectory, name: str, actor: str) -> tuple[int, str]:
    """Commit the frame: every county's ballot table and manifest, by SHA-256, in an entry
    whose checkpoint is signed with it. Returns the entry and that checkpoint."""
    state = load_audits(store)
    imports = _imports(store, "ballots")
    tables = {str(r["county"]): str(r["table_sha256"]) for r in imports}
    if len(tables) != len(imports):
        raise StoreError(
            "a county has several ballot imports; the audit frame needs one table each"
        )
    manifests = {str(r["county"]): str(r["table_sha256"]) for r in _imports(store, "manifest")}
    ballots = sum(int(str(r["cards"])) for r in imports)
    data = {"audit": name, "tables": tables, "manifests": manifests, "ballots": ballots}
    index = _append(store, state, [new_entry("audit.committed", actor, data)])[0]
    return index, store.checkpoint()


def record_seed(store: ElectionDirectory, name: str, seed: str, actor: str) -> int:
    data = {"audit": name, "seed": seed}
    return _append(store, load_audits(store), [new_entry("audit.seeded", actor, data)])[0]


def committed_tables(store: ElectionDirectory, audit: AuditRecord) -> dict[str, pa.Table]:
    return {county: read_table(store.artifacts.get(sha))[0] for county, sha in audit.tables.items()}


def draw(store: ElectionDirectory, name: str, size: int, actor: str) -> tuple[int, str]:
    """Draw the round's ballots (with replacement, Rivest's sampler, 18-digit tickets; a
    round extends the ones before it); the retrieval list is kept as an artifact and
    returned as CSV."""
    state = load_audits(store)
    audit = state.audit(name)
    if audit.seed is None:
        raise AuditRefused(f"audit {name}: no sample can be drawn before the seed")
    already = audit.rounds[-1][1] if audit.rounds else 0
    if size <= already:
        raise StoreError(f"audit {name}: {already} ballots are drawn already; ask for more")
    tables = committed_tables(store, audit)
    if audit.method == "batch-comparison":
        frame, outcome = rounds.batch_audit(_contests(store), tables, audit.contests)
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
        ids, where = rounds.frame(tables, _containers(store, audit))
        text = rounds.retrieval_list(rounds.draw(ids, audit.seed, already, size), where)
    ref = store.store_artifact(
        text.encode(), f"{name}-round-{len(audit.rounds) + 1}.csv", RETRIEVAL
    )
    data = {"audit": name, "round": len(audit.rounds) + 1, "size": size}
    index = _append(store, state, [new_entry("audit.round", actor, data, (ref,))])[0]
    return index, text


def _containers(store: ElectionDirectory, audit: AuditRecord) -> dict[tuple[str, str, str], str]:
    """Where each committed batch's paper is kept, from the committed ballot manifests."""
    return rounds.containers(
        {
            county: parse_ballot_manifest(store.artifacts.get(sha), f"{county} manifest")
            for county, sha in audit.manifests.items()
        }
    )


def _contests(store: ElectionDirectory) -> list[ContestInfo]:
    return [info for info, _ in definition_contests(definition(store))]


def tally(
    store: ElectionDirectory,
    name: str,
    counts: Sequence[dict[str, Any]],
    board: str,
    actor: str,
) -> list[int]:
    """Record the audit boards' hand counts of drawn batches: each ``{"batch"
    (county/tabulator/batch), "contest", "votes" {choice id: votes}}``."""
    state = load_audits(store)
    audit = state.audit(name)
    if audit.method != "batch-comparison":
        raise StoreError(f"audit {name} is a {audit.method} audit; it counts no batches")
    drawn_now = set(rounds.drawn_batches(_lists(store, audit)))
    choices = {info.name: {ch.name for ch in info.choices} for info in _contests(store)}
    entries = []
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
        data = {
            "audit": name,
            "round": len(audit.rounds),
            "batch": c["batch"],
            "contest": c["contest"],
            "votes": dict(c["votes"]),
            "board": board,
        }
        entries.append(new_entry("audit.batch_tallied", actor, data))
    return _append(store, state, entries)


def _lists(store: ElectionDirectory, audit: AuditRecord) -> list[str]:
    return [store.artifacts.get(sha).decode() for _, _, sha in audit.rounds]


def drawn(store: ElectionDirectory, audit: AuditRecord) -> Counter[str]:
    """Every ballot drawn so far (each round's list holds its new draws), with the number
    of times."""
    return rounds.drawn(store.artifacts.get(sha).decode() for _, _, sha in audit.rounds)


def interpret(
    store: ElectionDirectory,
    name: str,
    readings: Sequence[dict[str, Any]],
    board: str,
    actor: str,
) -> list[int]:
    """Record the audit boards' readings: each ``{"ballot", "contest", "votes"}`` or
    ``{"ballot", "contest", "finding"}`` (not_found, no_consensus)."""
    state = load_audits(store)
    audit = state.audit(name)
    sampled = drawn(store, audit)
    entries = []
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
        entries.append(new_entry("audit.interpreted", actor, data))
    return _append(store, state, entries)


def cvr_votes(
    store: ElectionDirectory, audit: AuditRecord, ballots: Sequence[str]
) -> dict[str, dict[str, list[str]]]:
    """What the CVRs say each ballot voted, by contest (choice ids)."""
    contests = [info for info, _ in definition_contests(definition(store))]
    tables = committed_tables(store, audit)
    _, where = rounds.frame(tables)
    return rounds.cvr_votes(contests, tables, where, ballots)


def measure(store: ElectionDirectory, name: str, actor: str) -> list[dict[str, Any]]:
    """Measure each audited contest's risk from the readings so far, against the outcome
    the committed tables report, and record it with the next round's size."""
    state = load_audits(store)
    audit = state.audit(name)
    if not audit.rounds:
        raise AuditRefused(f"audit {name}: nothing has been drawn")
    election = definition(store)
    contests = [info for info, _ in definition_contests(election)]
    tables = committed_tables(store, audit)
    if audit.method == "batch-comparison":
        frame, outcome = rounds.batch_audit(contests, tables, audit.contests)
        try:
            record = rounds.measure_batches(
                audit, outcome, frame, rounds.drawn_batches(_lists(store, audit))
            )
        except ValueError as e:
            raise StoreError(f"audit {name}: {e}") from None
        batch_records = [{**record, "contest": c} for c in audit.contests if not audit.done(c)]
        _append(store, state, [new_entry("audit.measured", actor, m) for m in batch_records])
        return batch_records
    sampled = drawn(store, audit)
    reported = {t.contest: t.votes for t in count(election, list(tables.values())).contests}
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
    _append(store, state, [new_entry("audit.measured", actor, m) for m in measured])
    return measured


def report(store: ElectionDirectory, name: str) -> str:
    audit = load_audits(store).audit(name)
    lines = [
        f"Audit {audit.name}: {audit.method}, risk limit {audit.risk_limit}%, contests "
        f"{', '.join(audit.contests)}; {audit.ballots:,} ballots committed at log entry "
        f"{audit.committed}, seed {audit.seed} recorded at log entry {audit.seeded}"
    ]
    for index, size, sha in audit.rounds:
        lines.append(
            f"  round drawn at log entry {index}: {size} draws (retrieval list {sha[:12]})"
        )
    for m in audit.measured:
        state = (
            "risk limit met"
            if m["met"]
            else (
                "full hand count"
                if m["next_size"] >= audit.ballots
                else f"next round: {m['next_size']} draws"
            )
        )
        found = ", ".join(f"{k} {v}" for k, v in m.get("discrepancies", {}).items() if v)
        lines.append(
            f"  {m['contest']} after round {m['round']} ({m['draws']} draws): "
            f"risk {m['p_value']:.5f}"
            + (f", discrepancies {found}" if found else "")
            + f" — {state}"
        )
    return "\n".join(lines) + "\n"
