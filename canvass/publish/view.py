"""What the published files show, worked out once from the folded log and its artifacts:
the results in force counted (once, county by county), the ranked-choice rounds, the
reconciliation, the certificates and their standing, the audits with every reading read
again. Each renderer of the bundle reads what it needs from one :class:`ElectionView`, so
adding a page costs no second count.

Pure: the election directory builds a view from its own log and artifacts to publish, the
verifier from the bundle's to derive every file again; neither has a clock or a database.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

import pyarrow as pa

from canvass.audit.workflow import AuditRecord
from canvass.certify.canvass import STATE, Certificate
from canvass.certify.fold import ElectionState
from canvass.certify.materials import Materials
from canvass.certify.profiles import Profile, profile_for_state
from canvass.domain.model import ElectionDefinition
from canvass.errors import CanvassError
from canvass.ingest.names import definition_contests
from canvass.reconcile.balance import Key, UnitBalance, balance
from canvass.reconcile.places import tabulated_units
from canvass.reconcile.pollbook import PollbookRow
from canvass.tabulate.election import RankedChoice, Tie, count, labels, ranked_choice_counts
from canvass.tabulate.plurality import Results
from canvass.tabulate.rcv import Tabulation


class ElectionView:
    """The election as published after the log's first ``state.size`` entries."""

    def __init__(self, state: ElectionState, materials: Materials, root: bytes) -> None:
        self.state = state
        self.materials = materials
        self.root = root
        """The Merkle root of the entries the view was made from (RFC 9162 §2.1.1)."""
        self._breakdowns: dict[str, Results] = {}
        self.documents: dict[str, Any] = {}
        """Documents more than one renderer shows, made once (by the first to ask)."""

    @property
    def log_size(self) -> int:
        return self.state.size

    @property
    def as_of(self) -> str:
        """The time of the last entry: when the log last changed."""
        return self.state.last_time

    @cached_property
    def as_of_datetime(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.as_of.replace("Z", "+00:00"))

    # --- the election --------------------------------------------------------------------

    @cached_property
    def definition(self) -> ElectionDefinition:
        if not self.state.definition:
            raise CanvassError("no election is defined in the log; there is nothing to publish")
        return self.materials.definition(self.state.definition)

    @cached_property
    def labels(self) -> dict[str, str]:
        """Names for contest ids (``contest``) and choice ids (``contest/choice``)."""
        return labels(self.definition)

    @cached_property
    def names(self) -> dict[str, str]:
        """Jurisdiction names by id."""
        return {j.id: j.name for j in self.definition.jurisdictions}

    # --- the count ---------------------------------------------------------------------

    @cached_property
    def tables(self) -> list[tuple[str, pa.Table]]:
        """Every ballot table in force, with its county, checked against the definition."""
        imports = self.state.imports
        imports.require_current("ballots")
        expected = [info.to_json() for info, _ in definition_contests(self.definition)]
        out = []
        for i in imports.current("ballots"):
            table, contests = self.materials.table_with_contests(i.table)
            if [c.to_json() for c in contests] != expected:
                raise CanvassError(
                    f"the ballot table of log entry {i.index} does not match the election "
                    "definition it was imported under"
                )
            out.append((i.county, table))
        return out

    @cached_property
    def results_only(self) -> list[pa.Table]:
        self.state.imports.require_current("results")
        return [
            self.materials.results_table(i.table) for i in self.state.imports.current("results")
        ]

    @property
    def by_county(self) -> Results:
        """Every contest counted, county by county; its ``contests`` are the totals."""
        return self.breakdown("county")

    @property
    def by_vote_type(self) -> Results:
        """Every contest counted by vote type: the breakdown published beside the results,
        counted once for both."""
        return self.breakdown("vote_type")

    @cached_property
    def ranked_counts(self) -> RankedChoice:
        """Every ranked-choice contest counted under the officials' decisions of ties, or
        stopped at a tie they have not decided (that contest only)."""
        return ranked_choice_counts(
            self.definition, [t for _, t in self.tables], None, self.state.canvass.tie_decisions
        )

    @property
    def ranked(self) -> dict[str, list[Tabulation]]:
        return self.ranked_counts.counted

    @property
    def ties(self) -> dict[str, Tie]:
        """The ties that stop a contest's count, by contest."""
        return self.ranked_counts.ties

    def breakdown(self, by: str) -> Results:
        """Every contest counted by ``by`` (county's units keyed by county), counted once
        for every renderer that asks."""
        if by not in self._breakdowns:
            tables = [t for _, t in self.tables]
            self._breakdowns[by] = count(self.definition, tables, self.results_only, by)
        return self._breakdowns[by]

    @cached_property
    def profile(self) -> Profile:
        """The state profile the boards were seated under, else the definition's state's."""
        return self.state.canvass.profile or profile_for_state(self.definition.election.state)

    # --- the reconciliation ------------------------------------------------------------

    @cached_property
    def pollbook(self) -> list[PollbookRow]:
        """The poll-book rows in force: a later file's row replaces an earlier one's for the
        same unit."""
        rows: dict[Key, PollbookRow] = {}
        for sha in self.state.canvass.pollbooks:
            for row in self.materials.pollbook(self.state.definition, sha):
                rows[(row.county, row.precinct, row.vote_type)] = row
        return list(rows.values())

    @cached_property
    def units(self) -> list[UnitBalance]:
        """Every precinct and vote type balanced, with the clerks' explanations."""
        at = self.materials.places(self.state.definition)
        return balance(
            self.pollbook, tabulated_units(at, self.tables), self.state.canvass.explanations
        )

    # --- certificates and audits -------------------------------------------------------

    @property
    def certified(self) -> bool:
        """Whether a state certificate is in force."""
        return self.state.canvass.in_force(STATE) is not None

    def certificate(self, sha: str, c: Certificate) -> dict[str, Any]:
        return {
            "sha256": sha,
            "scope": c.county or STATE,
            "board": c.board,
            "status": c.status,
            "standing": c.standing,
            "supersedes": c.supersedes,
            "superseded_by": c.superseded_by,
            "superseded_by_county_change": c.county_change,
            "rests_on": dict(sorted(c.rests_on.items())),
            "proposed": c.proposed,
            "issued": c.issued,
            "issued_at": c.issued_at,
            "motion": c.motion,
            "unexplained": c.unexplained,
            "signatures": c.signatures,
        }

    @cached_property
    def certificates(self) -> list[dict[str, Any]]:
        return [self.certificate(sha, c) for sha, c in self.state.canvass.certificates.items()]

    @property
    def result_status(self) -> str:
        """The results' NIST SP 1500-100 status: ``correction`` or ``recount`` while one
        has reopened a certificate, else ``certified`` while a state certificate is in
        force, else ``unofficial-complete``."""
        kinds = {r["kind"] for r in self.reopened}
        if "correction" in kinds:
            return "correction"
        if "recount" in kinds:
            return "recount"
        return "certified" if self.certified else "unofficial-complete"

    @cached_property
    def reopened(self) -> list[dict[str, Any]]:
        """Every certificate a correction or a recount has reopened since it was issued, in
        the order they were opened: its scope (a county or ``state``), the certificate, the
        entry that opened it, why, and whether it is a ``correction`` or a ``recount``. Its
        board is to certify again; until it does, what it certified may change."""
        canvass = self.state.canvass
        out = []
        for scope, (entry, reason, kind) in sorted(
            canvass.reopened.items(), key=lambda item: (item[1][0], item[0] == STATE, item[0])
        ):
            cert = canvass.certificate_of(scope)
            if cert is None:
                continue  # nothing certified yet: nothing reopened
            out.append(
                {
                    "scope": scope,
                    "certificate": cert.sha256,
                    "kind": kind,
                    "entry": entry,
                    "reason": reason,
                }
            )
        return out

    @cached_property
    def ascertainments(self) -> list[dict[str, Any]]:
        """Every certificate of ascertainment, with whether it still stands: a later one
        supersedes it, and it falls with the state certificate it rests on."""
        canvass = self.state.canvass
        out = []
        issued = canvass.ascertainments
        for n, (index, sha) in enumerate(issued):
            rests_on = self.state.ascertained_on.get(index)
            state = canvass.certificates.get(rests_on or "")
            if n < len(issued) - 1:
                standing = "superseded"
            elif state is None or state.standing != "in force":
                standing = "state certificate not in force"
            else:
                standing = "in force"
            out.append(
                {"entry": index, "sha256": sha, "state_certificate": rests_on, "standing": standing}
            )
        return out

    @property
    def audits(self) -> list[AuditRecord]:
        return list(self.state.audits.audits.values())
