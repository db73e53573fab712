"""A risk-limiting audit as the log records it, folded from its entries (pure).

==========================  ==============================================================
``audit.opened``            ``audit`` (name), ``method`` (comparison, polling),
                            ``risk_limit`` (percent), ``contests`` [ids]
``audit.committed``         ``audit``, ``tables`` {county: SHA-256 of its ballot table},
                            ``manifests`` {county: SHA-256}, ``ballots`` (the frame's size)
``audit.seeded``            ``audit``, ``seed`` (20 or more digits)
``audit.board_seated``      ``audit``, ``board`` (its name), ``members`` [key names, each
                            registered as ``audit-board``]
``audit.round``             ``audit``, ``round``, ``size`` (draws so far), the retrieval
                            list as an artifact
``audit.interpreted``       ``audit``, ``round``, ``ballot`` (county/tabulator/batch/record),
                            ``contest``, ``votes`` [choice ids] or ``finding``
                            (``not_found``, ``no_consensus``), ``board``, ``supersedes``
                            (the reading it replaces), ``reason``, ``signatures``
``audit.batch_tallied``     ``audit``, ``round``, ``batch`` (county/tabulator/batch),
                            ``contest``, ``votes`` {choice id: hand count}, ``board``,
                            ``supersedes``, ``reason``, ``signatures``
``audit.measured``          ``audit``, ``round``, ``contest``, ``p_value``, ``met``,
                            ``discrepancies``, ``next_size``, ``superseded`` (the readings
                            read again, which it no longer counts)
``audit.hand_counted``      ``audit``, ``contest``, ``audits`` (the SHA-256 of the state
                            certificate it is set beside), ``counties`` {county: {choice:
                            votes}}, ``totals``, ``other``, ``batches``; the hand count's
                            report (Arlo's, batch by batch) as the artifact
==========================  ==============================================================

The commitment is an entry like any other, so the checkpoint signed with it commits the
frame the sample is drawn from before anyone knows the seed; a seed recorded before a
commitment is refused, and the log shows which came first.

Audit boards are people with keys: every member of the board signs each reading and each
batch's hand count (``signatures`` [{member, signature}] over :func:`reading_statement`).
Reading a ballot again is a new signed entry naming the reading it supersedes and why; the
earlier one stays in the log, is shown wherever the audit is, and no longer counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from canvass.certify.statements import KeyRing, check
from canvass.errors import CanvassError
from canvass.log.entry import Entry

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""An audit's name: it names files of the published bundle too."""
METHODS = ("comparison", "polling", "batch-comparison")
FINDINGS = ("not_found", "no_consensus")


READING = ("audit", "round", "ballot", "contest", "votes", "finding", "board")
TALLY = ("audit", "round", "batch", "contest", "votes", "board")
AMENDS = ("supersedes", "reason")


class AuditRefused(CanvassError):
    """An audit step out of order, or against its rules."""


def reading_statement(election: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """What every member of an audit board signs: a reading of a ballot (``kind``
    ``audit.interpreted``) or the hand count of a batch (``audit.batch_tallied``), with the
    reading it supersedes and why."""
    fields = READING if kind == "audit.interpreted" else TALLY
    statement: dict[str, Any] = {
        "statement": "audit-reading" if kind == "audit.interpreted" else "audit-tally",
        "election": election,
    }
    statement.update({k: data.get(k) for k in (*fields, *AMENDS)})
    return statement


@dataclass
class Reading:
    """One reading of a ballot (or hand count of a batch) as the log records it."""

    entry: int
    item: str
    """The ballot (county/tabulator/batch/record) or batch (county/tabulator/batch)."""
    contest: str
    data: dict[str, Any]
    board: str
    signers: list[str]
    supersedes: int | None = None
    reason: str = ""
    superseded_by: int | None = None


@dataclass
class AuditRecord:
    name: str
    method: str
    risk_limit: int
    contests: list[str]
    opened: int
    committed: int | None = None
    tables: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, str] = field(default_factory=dict)
    """County → SHA-256 of its committed ballot manifest (where the paper is kept)."""
    ballots: int = 0
    seed: str | None = None
    seeded: int | None = None
    rounds: list[tuple[int, int, str]] = field(default_factory=list)
    """(entry, draws so far, SHA-256 of the retrieval list)."""
    boards: dict[str, list[str]] = field(default_factory=dict)
    """Audit board → the key names of its members."""
    interpretations: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(ballot, contest) → the audit board's reading in force."""
    tallies: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    """(batch, contest) → the audit board's hand count in force."""
    readings: dict[int, Reading] = field(default_factory=dict)
    """Every reading and hand count, by log entry, those read again among them."""
    in_force: dict[tuple[str, str], int] = field(default_factory=dict)
    """(ballot or batch, contest) → the entry of its reading in force."""
    measured: list[dict[str, Any]] = field(default_factory=list)

    def superseded(self, contest: str | None = None) -> list[Reading]:
        """The readings read again since (of one contest, or all), in log order."""
        return [
            r
            for r in self.readings.values()
            if r.superseded_by is not None and contest in (None, r.contest)
        ]

    def done(self, contest: str) -> bool:
        return any(m["contest"] == contest and m["met"] for m in self.measured)


@dataclass
class HandCount:
    """A full hand count of a contest, recorded as an audit of the certified result: every
    ballot counted by hand, batch by batch, and the sums set beside the certificate."""

    name: str
    contest: str
    entry: int
    audits: str
    """The SHA-256 of the certificate it is set beside."""
    report: str
    """The SHA-256 of the hand count's report (the artifact)."""
    data: dict[str, Any]
    """The entry's data: the sums per county and in all, the other columns, batches."""


class Audits:
    def __init__(self) -> None:
        self.audits: dict[str, AuditRecord] = {}
        self.hand_counts: dict[str, HandCount] = {}
        """Every full hand count recorded, by its name (which no audit shares)."""
        self.size = 0
        self.election = ""
        self.keys = KeyRing()

    def apply(self, index: int, entry: Entry) -> None:
        self.size = index + 1
        handler = getattr(self, "_" + entry.type.replace(".", "_"), None)
        if handler is not None:
            handler(index, entry)

    def audit(self, name: str) -> AuditRecord:
        found = self.audits.get(name)
        if found is None:
            raise AuditRefused(f"no audit {name!r} has been opened")
        return found

    def _log_opened(self, index: int, entry: Entry) -> None:
        self.keys.register(entry)

    def _key_registered(self, index: int, entry: Entry) -> None:
        self.keys.register(entry)

    def _election_defined(self, index: int, entry: Entry) -> None:
        self.election = self.election or str(entry.data["election"])

    def _audit_opened(self, index: int, entry: Entry) -> None:
        d = entry.data
        if not NAME.fullmatch(str(d["audit"])):
            raise AuditRefused(
                f"an audit's name is letters, digits, '.', '_' and '-', starting with a letter "
                f"or digit; found {d['audit']!r}"
            )
        if d["audit"] in self.audits or d["audit"] in self.hand_counts:
            raise AuditRefused(f"an audit {d['audit']!r} was already opened")
        if d["method"] not in METHODS:
            raise AuditRefused(f"method {d['method']!r} is not one of {', '.join(METHODS)}")
        if not 0 < d["risk_limit"] < 100:
            raise AuditRefused(
                f"a risk limit is a percentage above 0 and below 100; found {d['risk_limit']}"
            )
        self.audits[d["audit"]] = AuditRecord(
            d["audit"], d["method"], d["risk_limit"], list(d["contests"]), index
        )

    def _audit_committed(self, index: int, entry: Entry) -> None:
        a = self.audit(entry.data["audit"])
        if a.seed is not None:
            raise AuditRefused(
                f"audit {a.name}: the seed is known; a commitment now proves nothing"
            )
        a.committed, a.tables, a.ballots = index, dict(entry.data["tables"]), entry.data["ballots"]
        a.manifests = dict(entry.data.get("manifests") or {})

    def _audit_seeded(self, index: int, entry: Entry) -> None:
        a = self.audit(entry.data["audit"])
        if a.committed is None:
            raise AuditRefused(
                f"audit {a.name}: a seed before the ballot manifests and CVRs are committed "
                "is refused"
            )
        if a.seed is not None:
            raise AuditRefused(f"audit {a.name}: the seed was recorded at log entry {a.seeded}")
        seed = entry.data["seed"]
        if not (isinstance(seed, str) and seed.isdigit() and len(seed) >= 20):
            raise AuditRefused(
                f"a seed is at least 20 digits rolled on public dice; found {seed!r}"
            )
        a.seed, a.seeded = seed, index

    def _audit_round(self, index: int, entry: Entry) -> None:
        a = self.audit(entry.data["audit"])
        if a.seed is None:
            raise AuditRefused(f"audit {a.name}: no sample can be drawn before the seed")
        if entry.data["round"] != len(a.rounds) + 1:
            raise AuditRefused(f"audit {a.name}: round {entry.data['round']} out of order")
        a.rounds.append((index, entry.data["size"], entry.artifacts[0].sha256))

    def _audit_board_seated(self, index: int, entry: Entry) -> None:
        d = entry.data
        a = self.audit(d["audit"])
        members = d["members"]
        if d["board"] in a.boards:
            raise AuditRefused(f"audit {a.name}: audit board {d['board']} is already seated")
        if not isinstance(members, list) or not members or len(set(members)) != len(members):
            raise AuditRefused(
                f"audit {a.name}: audit board {d['board']} needs its members, each once; "
                f"found {members!r}"
            )
        for name in members:
            self.keys.key(name, ("audit-board",), AuditRefused)
        a.boards[d["board"]] = list(members)

    def read(self, a: AuditRecord, index: int, entry: Entry, item: str) -> Reading:
        """A reading (or hand count) as entry ``index`` records it, refused unless every
        member of its audit board signed it, and, for one read again, unless it names the
        reading in force it supersedes and why."""
        d = entry.data
        if not a.rounds:
            raise AuditRefused(f"audit {a.name}: nothing has been drawn")
        members = a.boards.get(d["board"])
        if members is None:
            raise AuditRefused(
                f"audit {a.name}: {d['board']!r} is not a seated audit board; seat it with "
                "its members' keys first"
            )
        earlier = a.in_force.get((d[item], d["contest"]))
        what = f"{item} {d[item]}, {d['contest']}"
        if d.get("supersedes") != earlier:
            if earlier is None:
                raise AuditRefused(
                    f"audit {a.name}: {what}: supersedes log entry {d.get('supersedes')}, "
                    "which is no reading of it in force"
                )
            raise AuditRefused(
                f"audit {a.name}: {what} was read at log entry {earlier}; reading it again "
                f"must name that reading (supersedes {earlier}) and give a reason"
            )
        if earlier is not None and not str(d.get("reason") or "").strip():
            raise AuditRefused(
                f"audit {a.name}: {what} was read at log entry {earlier}; reading it again "
                "needs a reason"
            )
        signed = {s["member"]: s["signature"] for s in d["signatures"]}
        if sorted(signed) != sorted(members) or len(signed) != len(d["signatures"]):
            raise AuditRefused(
                f"audit {a.name}: {what}: signed by {', '.join(sorted(signed)) or 'nobody'}; "
                f"every member of audit board {d['board']} signs ({', '.join(members)})"
            )
        statement = reading_statement(self.election, entry.type, d)
        for member, signature in sorted(signed.items()):
            key = self.keys.key(member, ("audit-board",), AuditRefused)
            check(statement, signature, key, f"{statement['statement']} by {member}")
        return Reading(
            index,
            d[item],
            d["contest"],
            dict(d),
            d["board"],
            sorted(signed),
            earlier,
            str(d.get("reason") or ""),
        )

    def _record(self, a: AuditRecord, reading: Reading) -> None:
        if reading.supersedes is not None:
            a.readings[reading.supersedes].superseded_by = reading.entry
        a.readings[reading.entry] = reading
        a.in_force[(reading.item, reading.contest)] = reading.entry

    def _audit_interpreted(self, index: int, entry: Entry) -> None:
        d = entry.data
        a = self.audit(d["audit"])
        if d.get("finding") not in (None, *FINDINGS):
            raise AuditRefused(f"a finding is one of {', '.join(FINDINGS)}; found {d['finding']!r}")
        reading = self.read(a, index, entry, "ballot")
        self._record(a, reading)
        a.interpretations[(d["ballot"], d["contest"])] = dict(d)

    def _audit_batch_tallied(self, index: int, entry: Entry) -> None:
        d = entry.data
        a = self.audit(d["audit"])
        if a.method != "batch-comparison":
            raise AuditRefused(f"audit {a.name} is a {a.method} audit; it counts no batches")
        votes = d["votes"]
        if not all(isinstance(n, int) and n >= 0 for n in votes.values()):
            raise AuditRefused(f"a hand count is a number of votes, 0 or more; found {votes}")
        reading = self.read(a, index, entry, "batch")
        self._record(a, reading)
        a.tallies[(d["batch"], d["contest"])] = dict(votes)

    def _audit_measured(self, index: int, entry: Entry) -> None:
        self.audit(entry.data["audit"]).measured.append(dict(entry.data))

    def _audit_hand_counted(self, index: int, entry: Entry) -> None:
        d = entry.data
        name = str(d["audit"])
        if not NAME.fullmatch(name):
            raise AuditRefused(
                f"an audit's name is letters, digits, '.', '_' and '-', starting with a letter "
                f"or digit; found {name!r}"
            )
        if name in self.audits or name in self.hand_counts:
            raise AuditRefused(f"an audit {name!r} was already recorded")
        self.hand_counts[name] = HandCount(
            name, str(d["contest"]), index, str(d["audits"]), entry.artifacts[0].sha256, dict(d)
        )
