"""The checks of the audits: every round drawn again from the seed over the committed
frame, every risk measured again from the audit boards' records, and each commitment
signed before its seed."""

from __future__ import annotations

import json

from canvass.audit import rounds
from canvass.audit.sampler import weighted_sample
from canvass.audit.workflow import Audits
from canvass.certify import documents
from canvass.certify.fold import ElectionState
from canvass.ingest.names import definition_contests
from canvass.log.entry import Entry
from canvass.verify.artifacts import Artifacts
from canvass.verify.report import Check


def check_round(v: Artifacts, state: ElectionState, index: int, entry: Entry) -> list[str]:
    """A round's retrieval list, drawn again from the seed over the committed frame."""
    audit = state.audits.audit(entry.data["audit"])
    if audit.seed is None:
        return []  # the fold says so
    already = audit.rounds[-1][1] if audit.rounds else 0
    size = entry.data["size"]
    if audit.method == "batch-comparison":
        frame, outcome = v.batches(state.definition, audit)
        weights = rounds.batch_bounds(frame, outcome)
        draws = weighted_sample(weights, audit.seed, already, size - already)
        expected = rounds.batch_retrieval_list(draws, frame)
    else:
        ids, where = v.frame(audit)
        expected = rounds.retrieval_list(
            v.draws(audit.name, ids, audit.seed, size)[already:size], where
        )
    found = v.text(entry.artifacts[0].sha256)
    if found != expected:
        return [
            f"log entry {index}: audit {audit.name} round {entry.data['round']}: the "
            "retrieval list is not the sample the seed draws from the committed ballots"
        ]
    return []


def check_measured(v: Artifacts, state: ElectionState, index: int, entry: Entry) -> list[str]:
    """A risk measurement, recomputed from the readings in force when it was recorded."""
    d = entry.data
    audit = state.audits.audit(d["audit"])
    lists = [v.text(sha) for _, _, sha in audit.rounds]
    if audit.method == "batch-comparison":
        frame, outcome = v.batches(state.definition, audit)
        measured = rounds.measure_batches(audit, outcome, frame, rounds.drawn_batches(lists))
        again = {**measured, "contest": d["contest"]}
    else:
        election = v.definition(state.definition)
        contests = [info for info, _ in definition_contests(election)]
        tables = {c: v.table(sha) for c, sha in audit.tables.items()}
        reported = v.reported(state.definition, audit)
        sampled = rounds.drawn(lists)
        _, where = v.frame(audit)
        cvrs = rounds.cvr_votes(contests, tables, where, sampled)
        seats = next(c.votes_allowed for c in contests if c.name == d["contest"])
        again = rounds.measure_contest(
            audit, d["contest"], reported[d["contest"]], sampled, cvrs, seats
        )
    if json.loads(json.dumps(again)) != d:
        differ = documents.differences("", d, again, "recomputed")
        return [
            f"log entry {index}: audit {audit.name} {d['contest']} round {d['round']}:"
            + p.replace(": certified ", ": recorded ", 1)
            for p in differ
        ]
    return []


def check_audits(audits: Audits, signed_sizes: list[int], check: Check) -> None:
    """Each audit's commitment must be in a checkpoint the operator signed (one that verified)
    before its seed was recorded."""
    for audit in audits.audits.values():
        check.checked += 1 + len(audit.rounds) + len(audit.measured)
        if audit.committed is not None and audit.seeded is not None:
            between = [s for s in signed_sizes if audit.committed < s <= audit.seeded]
            if not between:
                check.problems.append(
                    f"audit {audit.name}: no signed checkpoint holds its commitment (log entry "
                    f"{audit.committed}) without its seed (log entry {audit.seeded})"
                )
            else:
                check.notes.append(
                    f"audit {audit.name}: frame committed at entry {audit.committed} and signed "
                    f"in the checkpoint of size {min(between)}, before the seed (entry "
                    f"{audit.seeded})"
                )
        for again in audit.superseded():
            assert again.superseded_by is not None
            later = audit.readings[again.superseded_by]
            check.notes.append(
                f"audit {audit.name}: {again.item} ({again.contest}) read again at log entry "
                f"{later.entry} by {later.board} ({later.reason}); its reading of log entry "
                f"{again.entry} no longer counts"
            )
        for contest in audit.contests:
            last = [m for m in audit.measured if m["contest"] == contest]
            if last:
                m = last[-1]
                state = "met" if m["met"] else "not met"
                check.notes.append(
                    f"audit {audit.name} {contest}: risk {m['p_value']:.4f} after {m['draws']} "
                    f"draws, limit {audit.risk_limit}% {state}"
                )
