"""What the checks read from the bundle, each read once and kept: artifacts by SHA-256
(refused unless their bytes hash to it), definitions, ballot tables, poll books, audit
frames and draws."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from canvass.audit import rounds
from canvass.audit.sampler import Ticket
from canvass.audit.stats import Outcome
from canvass.audit.workflow import AuditRecord
from canvass.domain.definition import load_definition
from canvass.domain.model import ElectionDefinition
from canvass.ingest.ballots import read_table
from canvass.ingest.manifest import parse_ballot_manifest
from canvass.ingest.names import definition_contests
from canvass.reconcile.places import Places, places, resolve
from canvass.reconcile.pollbook import PollbookRow, read_pollbook
from canvass.verify.source import Source


class Artifacts:
    def __init__(self, source: Source) -> None:
        self.source = source
        self._definitions: dict[str, ElectionDefinition] = {}
        self._tables: dict[str, pa.Table] = {}
        self._places: dict[str, Places] = {}
        self._pollbooks: dict[tuple[str, str], list[PollbookRow]] = {}
        self._frames: dict[Any, tuple[list[str], dict[str, rounds.Spot]]] = {}
        self._draws: dict[str, list[Ticket]] = {}
        self._batches: dict[Any, tuple[rounds.BatchFrame, dict[str, Outcome]]] = {}
        self.largest_round: dict[str, int] = {}
        """Each audit's largest round: drawn once, every round checked against its slice."""

    # --- artifacts --------------------------------------------------------------------

    def get(self, sha256: str) -> bytes:
        return self.source.artifact(sha256)

    def definition(self, sha256: str) -> ElectionDefinition:
        found = self._definitions.get(sha256)
        if found is None:
            found = self._definitions[sha256] = load_definition(self.get(sha256), sha256[:12])
        return found

    def table(self, sha256: str) -> pa.Table:
        found = self._tables.get(sha256)
        if found is None:
            found = self._tables[sha256] = read_table(self.get(sha256))[0]
        return found

    def places(self, definition: str) -> Places:
        found = self._places.get(definition)
        if found is None:
            found = self._places[definition] = places(self.definition(definition))
        return found

    def pollbook(self, definition: str, sha256: str) -> list[PollbookRow]:
        """A poll book's rows, with the definition's county and precinct ids."""
        found = self._pollbooks.get((definition, sha256))
        if found is None:
            rows = read_pollbook(self.get(sha256), sha256[:12])
            found = resolve(self.places(definition), rows, sha256[:12])
            self._pollbooks[(definition, sha256)] = found
        return found

    def frame(self, audit: AuditRecord) -> tuple[list[str], dict[str, rounds.Spot]]:
        """An audit's frame, from its committed tables and ballot manifests."""
        key = (tuple(sorted(audit.tables.items())), tuple(sorted(audit.manifests.items())))
        found = self._frames.get(key)
        if found is None:
            kept = rounds.containers(
                {
                    county: parse_ballot_manifest(self.get(sha), f"{county} manifest")
                    for county, sha in audit.manifests.items()
                }
            )
            tables = {c: self.table(sha) for c, sha in audit.tables.items()}
            found = self._frames[key] = rounds.frame(tables, kept)
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

    def results_table(self, sha256: str) -> pa.Table:
        return pq.read_table(pa.BufferReader(self.get(sha256)))
