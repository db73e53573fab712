"""Risk-limiting audits in an election directory: open, commit the frame (ballot tables and
manifests, in a signed checkpoint) before the seed, record the seed, draw, record what the
audit boards read, measure the risk, and say what comes next — each a log entry."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from canvass.audit.sampler import sampler
from canvass.audit.stats import arlo_supersimple_sample_size, bravo_asn, bravo_p_value, km_p_value
from canvass.audit.workflow import AuditRecord, AuditRefused, Audits
from canvass.errors import StoreError
from canvass.ingest.ballots import VOTE, read_table
from canvass.ingest.names import definition_contests
from canvass.log.entry import Entry, new_entry
from canvass.store.ballots import _imports, definition, results
from canvass.store.election import ElectionDirectory, _log_size

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


def _frame(
    store: ElectionDirectory, audit: AuditRecord
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The ballot ids of the committed tables (``county/tabulator/batch/record``) and what
    each says where to find it."""
    ids: list[str] = []
    where: dict[str, dict[str, Any]] = {}
    for county, sha in sorted(audit.tables.items()):
        table, _ = read_table(store.artifacts.get(sha))
        columns = {c: _strings(table, c) for c in ("tabulator", "batch", "record", "imprinted_id")}
        for row in range(len(table)):
            parts = (columns["tabulator"][row], columns["batch"][row], columns["record"][row])
            key = "/".join((county, *parts))
            ids.append(key)
            where[key] = {
                "county": county,
                "row": row,
                "imprinted_id": columns["imprinted_id"][row],
            }
    return ids, where


def _strings(table: pa.Table, column: str) -> list[str]:
    values = table.column(column).combine_chunks()
    if isinstance(values, pa.DictionaryArray):
        values = values.dictionary_decode()
    return [v or "" for v in values.to_pylist()]


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
    ids, where = _frame(store, audit)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["ticket_number", "county", "tabulator", "batch", "record", "imprinted_id", "times_drawn"]
    )
    for t in sampler(
        ids, audit.seed, with_replacement=True, drop=already, take=size - already, digits=18
    ):
        key = str(t.id)
        county, tabulator, batch, record = key.split("/", 3)
        writer.writerow(
            [t.number, county, tabulator, batch, record, where[key]["imprinted_id"], t.generation]
        )
    text = out.getvalue()
    ref = store.store_artifact(
        text.encode(), f"{name}-round-{len(audit.rounds) + 1}.csv", RETRIEVAL
    )
    data = {"audit": name, "round": len(audit.rounds) + 1, "size": size}
    index = _append(store, state, [new_entry("audit.round", actor, data, (ref,))])[0]
    return index, text


def drawn(store: ElectionDirectory, audit: AuditRecord) -> Counter[str]:
    """Every ballot drawn so far (each round's list holds its new draws), with the number
    of times."""
    counts: Counter[str] = Counter()
    for _, _, sha in audit.rounds:
        for row in csv.DictReader(io.StringIO(store.artifacts.get(sha).decode())):
            counts["/".join((row["county"], row["tabulator"], row["batch"], row["record"]))] += 1
    return counts


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
    election = definition(store)
    infos = [info for info, _ in definition_contests(election)]
    _, where = _frame(store, audit)
    out: dict[str, dict[str, list[str]]] = {}
    tables: dict[str, pa.Table] = {}
    for ballot in ballots:
        spot = where[ballot]
        table = tables.get(spot["county"])
        if table is None:
            table = tables[spot["county"]] = read_table(
                store.artifacts.get(audit.tables[spot["county"]])
            )[0]
        marks = table.column("marks")[spot["row"]].as_py() or []
        votes: dict[str, list[str]] = {}
        for m in marks:
            if m["status"] == VOTE:
                info = infos[m["contest"]]
                votes.setdefault(info.name, []).append(info.choices[m["choice"]].name)
        out[ballot] = votes
    return out


def measure(store: ElectionDirectory, name: str, actor: str) -> list[dict[str, Any]]:
    """Measure each audited contest's risk from the readings so far and record it, with the
    next round's size (every ballot, a full hand count, when the sample would exceed a
    quarter of them)."""
    state = load_audits(store)
    audit = state.audit(name)
    sampled = drawn(store, audit)
    if not sampled:
        raise AuditRefused(f"audit {name}: nothing has been drawn")
    reported, _ = results(store)
    totals = {t.contest: t for t in reported.contests}
    cvrs = cvr_votes(store, audit, list(sampled))
    alpha = audit.risk_limit / 100
    entries, measured = [], []
    for contest in audit.contests:
        if audit.done(contest):
            continue
        missing = [b for b in sampled if (b, contest) not in audit.interpretations]
        if missing:
            raise StoreError(
                f"audit {name}: {len(missing)} drawn ballots have no reading for {contest}"
            )
        t = totals[contest]
        ranked = sorted(t.votes, key=lambda c: -t.votes[c])
        winner, losers = ranked[0], ranked[1:]
        ballots = audit.ballots
        n = sum(sampled.values())
        record: dict[str, Any] = {"audit": name, "round": len(audit.rounds), "contest": contest}
        if audit.method == "comparison":
            margin = (
                min(t.votes[winner] - t.votes[loser] for loser in losers) / ballots
                if losers
                else 1.0
            )
            counts: Counter[int] = Counter()
            for ballot, times in sampled.items():
                reading = audit.interpretations[(ballot, contest)]
                found = None if reading.get("finding") else set(reading["votes"])
                cvr = set(cvrs[ballot].get(contest, []))
                worst = max(
                    (_overstatement(cvr, found, winner, loser) for loser in losers), default=0
                )
                if worst:
                    counts[worst] += times
            p = km_p_value(n, margin, o1=counts[1], o2=counts[2], u1=counts[-1], u2=counts[-2])
            following = arlo_supersimple_sample_size(
                audit.risk_limit, margin, ballots, n, counts[1], counts[2], counts[-1], counts[-2]
            )
            record["discrepancies"] = {
                "o1": counts[1],
                "o2": counts[2],
                "u1": counts[-1],
                "u2": counts[-2],
            }
        else:
            runner_up = losers[0]
            w = sum(
                times
                for b, times in sampled.items()
                if winner in audit.interpretations[(b, contest)].get("votes", [])
            )
            lo = sum(
                times
                for b, times in sampled.items()
                if runner_up in audit.interpretations[(b, contest)].get("votes", [])
            )
            shares = (t.votes[winner] / ballots, t.votes[runner_up] / ballots)
            p = bravo_p_value(*shares, w, lo)
            following = n + bravo_asn(alpha, *shares)
            record["discrepancies"] = {}
        met = p <= alpha
        if not met and following > ballots / 4:
            following = ballots  # a full hand count
        record.update({"p_value": p, "met": met, "next_size": 0 if met else following, "draws": n})
        entries.append(new_entry("audit.measured", actor, record))
        measured.append(record)
    _append(store, state, entries)
    return measured


def _overstatement(cvr: set[str], audited: set[str] | None, winner: str, loser: str) -> int:
    """Votes by which the CVR overstated the winner's margin over the loser on one ballot
    (a ballot not found counts as the worst case, two)."""
    if audited is None:
        return 2
    return ((winner in cvr) - (winner in audited)) - ((loser in cvr) - (loser in audited))


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
