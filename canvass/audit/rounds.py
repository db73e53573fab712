"""The steps of an audit round, pure: the frame of committed ballot tables, the retrieval
list drawn from the seed, what the CVRs say of the drawn ballots, and each contest's risk
measured from the audit boards' readings. The election directory runs an audit with
these; the verifier recomputes every round with them from the published tables."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from canvass.audit.sampler import Ticket, sampler
from canvass.audit.stats import (
    Outcome,
    arlo_supersimple_sample_size,
    bravo_asn,
    bravo_p_value,
    km_p_value,
    macro_bound,
    macro_overstatement,
    macro_risk,
    macro_sample_size,
)
from canvass.audit.workflow import AuditRecord
from canvass.domain.model import Batch
from canvass.ingest.ballots import VOTE, ContestInfo
from canvass.tabulate.plurality import tabulate

RETRIEVAL_COLUMNS = (
    "ticket_number",
    "county",
    "container",
    "tabulator",
    "batch",
    "record",
    "imprinted_id",
    "times_drawn",
)


class Spot(NamedTuple):
    """Where a drawn ballot is: its county's table, its row there, its imprinted id."""

    county: str
    row: int
    imprinted_id: str
    container: str


def containers(manifests: Mapping[str, Iterable[Batch]]) -> dict[tuple[str, str, str], str]:
    """(county, tabulator, batch) → the container its ballot manifest names."""
    return {
        (county, b.tabulator, b.id): b.container
        for county, batches in manifests.items()
        for b in batches
        if b.container
    }


class Spots:
    """Where each ballot of a frame is, found for the ballots asked about only: the frame's
    ids are one Arrow array (no object per ballot), searched once for all the ballots a
    round needs."""

    def __init__(
        self,
        tables: Mapping[str, pa.Table],
        kept: Mapping[tuple[str, str, str], str],
        counties: list[str],
        starts: npt.NDArray[np.int64],
        ids: pa.Array,
    ) -> None:
        self.tables, self.kept, self.counties, self.starts, self.ids = (
            tables,
            kept,
            counties,
            starts,
            ids,
        )

    def find(self, ballots: Iterable[str]) -> dict[str, Spot]:
        """Each ballot's spot; a ballot not in the frame is a ``KeyError`` naming it."""
        wanted = list(dict.fromkeys(ballots))
        if not wanted:
            return {}
        at = pc.index_in(self.ids, value_set=pa.array(wanted, pa.string()))
        found = at.to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(~np.asarray(at.is_null().to_numpy(zero_copy_only=False)))
        out: dict[str, Spot] = {}
        for position in rows.tolist():  # the last of ids given twice, as a dict would keep
            ballot = wanted[int(found[position])]
            c = int(np.searchsorted(self.starts, position, side="right")) - 1
            county, row = self.counties[c], position - int(self.starts[c])
            table = self.tables[county]
            imprinted, tabulator, batch = (
                table.column(c)[row].as_py() or "" for c in ("imprinted_id", "tabulator", "batch")
            )
            container = self.kept.get((county, tabulator, batch), "")
            out[ballot] = Spot(county, row, imprinted, container)
        for ballot in wanted:
            if ballot not in out:
                raise KeyError(ballot)
        return out


def frame(
    tables: Mapping[str, pa.Table], kept: Mapping[tuple[str, str, str], str] | None = None
) -> tuple[list[str], Spots]:
    """The ballot ids of the committed tables (``county/tabulator/batch/record``, counties
    in order) and where each is (``kept``: the containers of :func:`containers`). The ids
    are joined column by column in Arrow; a ballot's spot is found when it is drawn."""
    counties = sorted(tables)
    parts = [
        pc.binary_join_element_wise(
            pa.scalar(county),
            *(_strings(tables[county], c) for c in ("tabulator", "batch", "record")),
            "/",
        )
        for county in counties
    ]
    ids = pa.concat_arrays(parts) if parts else pa.array([], pa.string())
    sizes = [len(tables[county]) for county in counties]
    starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])[:-1].astype(np.int64)
    return ids.to_pylist(), Spots(tables, kept or {}, counties, starts, ids)


def _strings(table: pa.Table, column: str) -> pa.Array:
    values = table.column(column).combine_chunks()
    if isinstance(values, pa.DictionaryArray):
        values = values.dictionary_decode()
    return values.cast(pa.string()).fill_null("")


def draw(ids: Sequence[str], seed: str, already: int, size: int) -> list[Ticket]:
    """Draws ``already`` + 1 to ``size`` (with replacement, Rivest's sampler, 18-digit
    tickets): a round continues the draws of the rounds before it."""
    return list(
        sampler(ids, seed, with_replacement=True, drop=already, take=size - already, digits=18)
    )


def retrieval_list(tickets: Iterable[Ticket], where: Spots) -> str:
    """A round's draws as the CSV the audit boards retrieve ballots from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RETRIEVAL_COLUMNS)
    tickets = list(tickets)
    spots = where.find(str(t.id) for t in tickets)
    for t in tickets:
        key = str(t.id)
        county, tabulator, batch, record = key.split("/", 3)
        spot = spots[key]
        row = [t.number, county, spot.container, tabulator, batch, record, spot.imprinted_id]
        writer.writerow([*row, t.generation])
    return out.getvalue()


def drawn(lists: Iterable[str]) -> Counter[str]:
    """Every ballot in the rounds' retrieval lists, with the number of times drawn."""
    counts: Counter[str] = Counter()
    for text in lists:
        for row in csv.DictReader(io.StringIO(text)):
            counts["/".join((row["county"], row["tabulator"], row["batch"], row["record"]))] += 1
    return counts


def cvr_votes(
    contests: Sequence[ContestInfo],
    tables: Mapping[str, pa.Table],
    where: Spots,
    ballots: Iterable[str],
) -> dict[str, dict[str, list[str]]]:
    """What the CVRs say each ballot voted, by contest (choice ids)."""
    out: dict[str, dict[str, list[str]]] = {}
    ballots = list(ballots)
    spots = where.find(ballots)
    for ballot in ballots:
        spot = spots[ballot]
        marks = tables[spot.county].column("marks")[spot.row].as_py() or []
        votes: dict[str, list[str]] = {}
        for m in marks:
            if m["status"] == VOTE:
                info = contests[m["contest"]]
                votes.setdefault(info.name, []).append(info.choices[m["choice"]].name)
        out[ballot] = votes
    return out


def measure_contest(
    audit: AuditRecord,
    contest: str,
    reported: Mapping[str, int],
    sampled: Counter[str],
    cvrs: Mapping[str, Mapping[str, list[str]]],
    seats: int = 1,
) -> dict[str, Any]:
    """One contest's risk from the readings of every drawn ballot, against its reported
    votes (by choice; the ``seats`` most voted win, as many as votes allowed), and the next
    round's size (every ballot, a full hand count, when the sample would exceed a quarter
    of them). Every winner–loser pair must be confirmed: the risk is the largest."""
    ranked = sorted(reported, key=lambda c: -reported[c])
    winners, losers = ranked[:seats], ranked[seats:]
    pairs = [(w, lo) for w in winners for lo in losers]
    ballots = audit.ballots
    n = sum(sampled.values())
    record: dict[str, Any] = {"audit": audit.name, "round": len(audit.rounds), "contest": contest}
    readings = {b: audit.interpretations[(b, contest)] for b in sampled}
    if audit.method == "comparison":
        margin = min((reported[w] - reported[lo] for w, lo in pairs), default=ballots) / ballots
        counts: Counter[int] = Counter()
        for ballot, times in sampled.items():
            found = None if readings[ballot].get("finding") else set(readings[ballot]["votes"])
            cvr = set(cvrs[ballot].get(contest, []))
            worst = max((_overstatement(cvr, found, w, lo) for w, lo in pairs), default=0)
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
        p, following = 0.0, n
        for w, lo in pairs:
            won = sum(t for b, t in sampled.items() if w in readings[b].get("votes", []))
            lost = sum(t for b, t in sampled.items() if lo in readings[b].get("votes", []))
            shares = (reported[w] / ballots, reported[lo] / ballots)
            p = max(p, bravo_p_value(*shares, won, lost))
            following = max(following, n + bravo_asn(audit.risk_limit / 100, *shares))
        record["discrepancies"] = {}
    met = p <= audit.risk_limit / 100
    if not met and following > ballots / 4:
        following = ballots
    record.update({"p_value": p, "met": met, "next_size": 0 if met else following, "draws": n})
    record["superseded"] = [r.entry for r in audit.superseded(contest)]
    return record


def _overstatement(cvr: set[str], audited: set[str] | None, winner: str, loser: str) -> int:
    """Votes by which the CVR overstated the winner's margin over the loser on one ballot
    (a ballot not found counts as the worst case, two)."""
    if audited is None:
        return 2
    return ((winner in cvr) - (winner in audited)) - ((loser in cvr) - (loser in audited))


# --- batch comparison ---------------------------------------------------------------------

BATCH_COLUMNS = ("ticket_number", "county", "tabulator", "batch", "ballots")


@dataclass
class BatchFrame:
    """The committed tables as batches (``county/tabulator/batch``): what each reported."""

    reported: dict[str, dict[str, dict[str, int]]]
    """batch → contest → choice → votes."""
    ballots: dict[str, dict[str, int]]
    """batch → contest → cards with the contest."""
    cards: dict[str, int]


def batch_frame(contests: Sequence[ContestInfo], tables: Mapping[str, pa.Table]) -> BatchFrame:
    frame = BatchFrame({}, {}, {})
    for county, table in sorted(tables.items()):
        counted = tabulate(table, list(contests), "batch")
        for group, totals in counted.groups.items():
            key = f"{county}/{group}"
            on = [t for t in totals if t.ballots]
            frame.reported[key] = {t.contest: dict(t.votes) for t in on}
            frame.ballots[key] = {t.contest: t.ballots for t in on}
            frame.cards[key] = max((t.ballots for t in totals), default=0)
    return frame


def outcomes(
    contests: Sequence[ContestInfo],
    reported: Mapping[str, Mapping[str, int]],
    audited: Iterable[str],
) -> dict[str, Outcome]:
    """The reported outcome of each audited contest (as many winners as votes allowed)."""
    info = {c.name: c for c in contests}
    return {c: Outcome.of(reported[c], info[c].votes_allowed) for c in audited}


def batch_audit(
    contests: Sequence[ContestInfo], tables: Mapping[str, pa.Table], audited: Iterable[str]
) -> tuple[BatchFrame, dict[str, Outcome]]:
    """The batches of the committed tables and the outcome they report for each audited
    contest (their sum)."""
    frame = batch_frame(contests, tables)
    totals: dict[str, Counter[str]] = {}
    for per_contest in frame.reported.values():
        for contest, votes in per_contest.items():
            totals.setdefault(contest, Counter()).update(votes)
    return frame, outcomes(contests, totals, audited)


def batch_bounds(frame: BatchFrame, outcome: Mapping[str, Outcome]) -> list[tuple[str, Fraction]]:
    """Every batch with its MACRO error bound, in batch order: the weights to draw by."""
    out = []
    for key in sorted(frame.reported):
        bound = macro_bound(outcome, frame.reported[key], frame.ballots[key])
        if bound is None:
            raise ValueError(
                "a contest's reported margin is zero: a batch sample cannot confirm a tie"
            )
        out.append((key, bound))
    return out


def batch_retrieval_list(draws: Iterable[tuple[int, Hashable]], frame: BatchFrame) -> str:
    """A round's batches as the CSV the audit boards retrieve them from."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BATCH_COLUMNS)
    for ticket, key in draws:
        county, tabulator, batch = str(key).split("/", 2)
        writer.writerow([ticket, county, tabulator, batch, frame.cards[str(key)]])
    return out.getvalue()


def drawn_batches(lists: Iterable[str]) -> list[str]:
    """Every batch drawn, in ticket order across the rounds (once per draw)."""
    out: list[tuple[int, str]] = []
    for text in lists:
        for row in csv.DictReader(io.StringIO(text)):
            key = "/".join((row["county"], row["tabulator"], row["batch"]))
            out.append((int(row["ticket_number"]), key))
    return [key for _, key in sorted(out)]


def measure_batches(
    audit: AuditRecord, outcome: Mapping[str, Outcome], frame: BatchFrame, drawn: Sequence[str]
) -> dict[str, Any]:
    """MACRO's risk for the audited contests together, from the hand counts of the drawn
    batches in ticket order, and the next round's size (every batch, a full hand count,
    when the sample would exceed a quarter of them)."""
    bounds = dict(batch_bounds(frame, outcome))
    total = sum(bounds.values(), Fraction(0))
    found: dict[str, Fraction] = {}
    for key in dict.fromkeys(drawn):
        counted = {c: audit.tallies[(key, c)] for c in outcome if (key, c) in audit.tallies}
        missing = [c for c in outcome if c in frame.reported[key] and c not in counted]
        if missing:
            raise ValueError(f"batch {key} has no hand count for {', '.join(missing)}")
        found[key] = macro_overstatement(outcome, frame.reported[key], counted)
    p, met = macro_risk(((found[k], bounds[k]) for k in drawn), total, audit.risk_limit / 100)
    # What is left to rule out: the bounds of the batches not yet counted, the errors found
    # in those that were.
    left = sum((found.get(k, b) for k, b in bounds.items()), Fraction(0))
    batches = len(bounds)
    following = len(drawn) + macro_sample_size(left, audit.risk_limit / 100)
    if not met and following > batches / 4:
        following = batches
    errors = sum(1 for e in found.values() if e > 0)
    return {
        "audit": audit.name,
        "round": len(audit.rounds),
        "contest": "",
        "p_value": p,
        "met": met,
        "next_size": 0 if met else following,
        "draws": len(drawn),
        "discrepancies": {"batches_with_errors": errors},
        "superseded": [r.entry for r in audit.superseded()],
    }
