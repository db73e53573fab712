"""What the checks read from the bundle, each read once and kept: every artifact through
:class:`~canvass.certify.materials.Materials` (refused unless its bytes hash to its name),
and the audits' frames and draws."""

from __future__ import annotations

from typing import Any

from canvass.audit import rounds
from canvass.audit.sampler import Ticket
from canvass.audit.stats import Outcome
from canvass.audit.workflow import AuditRecord
from canvass.certify.materials import Materials
from canvass.ingest.names import definition_contests
from canvass.tabulate.election import count
from canvass.verify.source import Source


class Artifacts(Materials):
    def __init__(self, source: Source) -> None:
        super().__init__(source.artifact)
        self.source = source
        self._frames: dict[Any, tuple[list[str], rounds.Spots]] = {}
        self._draws: dict[str, list[Ticket]] = {}
        self._batches: dict[Any, tuple[rounds.BatchFrame, dict[str, Outcome]]] = {}
        self._reported: dict[Any, dict[str, dict[str, int]]] = {}
        self.largest_round: dict[str, int] = {}
        """Each audit's largest round: drawn once, every round checked against its slice."""

    def frame(self, audit: AuditRecord) -> tuple[list[str], rounds.Spots]:
        """An audit's frame, from its committed tables and ballot manifests."""
        key = (tuple(sorted(audit.tables.items())), tuple(sorted(audit.manifests.items())))
        found = self._frames.get(key)
        if found is None:
            kept = rounds.containers(
                {
                    county: self.ballot_manifest(sha, f"{county} manifest")
                    for county, sha in audit.manifests.items()
                }
            )
            tables = {c: self.table(sha) for c, sha in audit.tables.items()}
            found = self._frames[key] = rounds.frame(tables, kept)
        return found

    def reported(self, definition: str, audit: AuditRecord) -> dict[str, dict[str, int]]:
        """The votes of each contest its committed tables report, counted once for every
        risk measured over them."""
        key = (definition, tuple(sorted(audit.tables.items())))
        found = self._reported.get(key)
        if found is None:
            tables = [self.table(sha) for _, sha in sorted(audit.tables.items())]
            counted = count(self.definition(definition), tables)
            found = self._reported[key] = {t.contest: t.votes for t in counted.contests}
        return found

    def draws(self, audit: str, ids: list[str], seed: str, size: int) -> list[Ticket]:
        """An audit's first ``size`` draws; every round's are a slice of them."""
        found = self._draws.get(audit, [])
        if len(found) < size:
            found = self._draws[audit] = rounds.draw(
                ids, seed, 0, self.largest_round.get(audit, size)
            )
        return found

    def batches(
        self, definition: str, audit: AuditRecord
    ) -> tuple[rounds.BatchFrame, dict[str, Outcome]]:
        """A batch-comparison audit's batches (from its committed tables) and outcomes."""
        key = (definition, tuple(sorted(audit.tables.items())), tuple(audit.contests))
        found = self._batches.get(key)
        if found is None:
            contests = [info for info, _ in definition_contests(self.definition(definition))]
            tables = {c: self.table(sha) for c, sha in audit.tables.items()}
            found = self._batches[key] = rounds.batch_audit(contests, tables, audit.contests)
        return found
