"""A risk-limiting audit as the log records it, folded from its entries (pure).

==========================  ==============================================================
``audit.opened``            ``audit`` (name), ``method`` (comparison, polling),
                            ``risk_limit`` (percent), ``contests`` [ids]
``audit.committed``         ``audit``, ``tables`` {county: SHA-256 of its ballot table},
                            ``manifests`` {county: SHA-256}, ``ballots`` (the frame's size)
``audit.seeded``            ``audit``, ``seed`` (20 or more digits)
``audit.round``             ``audit``, ``round``, ``size`` (draws so far), the retrieval
                            list as an artifact
``audit.interpreted``       ``audit``, ``round``, ``ballot`` (county/tabulator/batch/record),
                            ``contest``, ``votes`` [choice ids] or ``finding``
                            (``not_found``, ``no_consensus``), ``board``
``audit.batch_tallied``     ``audit``, ``round``, ``batch`` (county/tabulator/batch),
                            ``contest``, ``votes`` {choice id: hand count}, ``board``
``audit.measured``          ``audit``, ``round``, ``contest``, ``p_value``, ``met``,
                            ``discrepancies``, ``next_size``
==========================  ==============================================================

The commitment is an entry like any other, so the checkpoint signed with it commits the
frame the sample is drawn from before anyone knows the seed; a seed recorded before a
commitment is refused, and the log shows which came first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from canvass.errors import CanvassError
from canvass.log.entry import Entry

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""An audit's name: it names files of the published bundle too."""
METHODS = ("comparison", "polling", "batch-comparison")
FINDINGS = ("not_found", "no_consensus")


class AuditRefused(CanvassError):
    """An audit step out of order, or against its rules."""


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
    interpretations: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(ballot, contest) → the audit board's reading (the last one recorded)."""
    tallies: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    """(batch, contest) → the audit board's hand count (the last one recorded)."""
    measured: list[dict[str, Any]] = field(default_factory=list)

    def done(self, contest: str) -> bool:
        return any(m["contest"] == contest and m["met"] for m in self.measured)


class Audits:
    def __init__(self) -> None:
        self.audits: dict[str, AuditRecord] = {}
        self.size = 0

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

    def _audit_opened(self, index: int, entry: Entry) -> None:
        d = entry.data
        if not NAME.fullmatch(str(d["audit"])):
            raise AuditRefused(
                f"an audit's name is letters, digits, '.', '_' and '-', starting with a letter "
                f"or digit; found {d['audit']!r}"
            )
        if d["audit"] in self.audits:
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

    def _audit_interpreted(self, index: int, entry: Entry) -> None:
        d = entry.data
        a = self.audit(d["audit"])
        if not a.rounds:
            raise AuditRefused(f"audit {a.name}: no ballot has been drawn")
        if d.get("finding") not in (None, *FINDINGS):
            raise AuditRefused(f"a finding is one of {', '.join(FINDINGS)}; found {d['finding']!r}")
        a.interpretations[(d["ballot"], d["contest"])] = dict(d)

    def _audit_batch_tallied(self, index: int, entry: Entry) -> None:
        d = entry.data
        a = self.audit(d["audit"])
        if a.method != "batch-comparison":
            raise AuditRefused(f"audit {a.name} is a {a.method} audit; it counts no batches")
        if not a.rounds:
            raise AuditRefused(f"audit {a.name}: no batch has been drawn")
        votes = d["votes"]
        if not all(isinstance(n, int) and n >= 0 for n in votes.values()):
            raise AuditRefused(f"a hand count is a number of votes, 0 or more; found {votes}")
        a.tallies[(d["batch"], d["contest"])] = dict(votes)

    def _audit_measured(self, index: int, entry: Entry) -> None:
        self.audit(entry.data["audit"]).measured.append(dict(entry.data))
