"""What the log's entries rest on, read from artifact bytes once and kept: definitions,
ballot tables, results-only tables, poll books, ballot manifests and certificate
documents.

Pure: artifacts come through a function from SHA-256 to bytes, so the election directory
(from its artifact store) and the verifier (from a published bundle, refusing bytes that
do not hash to their name) read them with the same code. Every artifact is decoded here
and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from canvass.certify.documents import parse_document
from canvass.domain.definition import load_definition
from canvass.domain.model import Batch, ElectionDefinition
from canvass.errors import VerificationError
from canvass.ingest.ballots import ContestInfo, read_table
from canvass.ingest.manifest import parse_ballot_manifest
from canvass.reconcile.places import Places, places, resolve
from canvass.reconcile.pollbook import PollbookRow, read_pollbook

Get = Callable[[str], bytes]
"""An artifact's bytes by its SHA-256."""


class Materials:
    """Artifacts by SHA-256, each decoded once."""

    def __init__(self, get: Get) -> None:
        self.get = get
        self._definitions: dict[str, ElectionDefinition] = {}
        self._tables: dict[str, tuple[pa.Table, list[ContestInfo]]] = {}
        self._results: dict[str, pa.Table] = {}
        self._places: dict[str, Places] = {}
        self._pollbooks: dict[tuple[str, str], list[PollbookRow]] = {}
        self._documents: dict[str, dict[str, Any]] = {}

    def definition(self, sha256: str) -> ElectionDefinition:
        found = self._definitions.get(sha256)
        if found is None:
            found = self._definitions[sha256] = load_definition(self.get(sha256), sha256[:12])
        return found

    def table(self, sha256: str) -> pa.Table:
        """A ballot table."""
        return self.table_with_contests(sha256)[0]

    def table_with_contests(self, sha256: str) -> tuple[pa.Table, list[ContestInfo]]:
        """A ballot table and the contests (with their choices) it was written under."""
        found = self._tables.get(sha256)
        if found is None:
            found = self._tables[sha256] = read_table(self.get(sha256))
        return found

    def results_table(self, sha256: str) -> pa.Table:
        """A results-only table."""
        found = self._results.get(sha256)
        if found is None:
            found = self._results[sha256] = pq.read_table(pa.BufferReader(self.get(sha256)))
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

    def ballot_manifest(self, sha256: str, where: str) -> list[Batch]:
        return parse_ballot_manifest(self.get(sha256), where)

    def document(self, sha256: str) -> dict[str, Any]:
        """A certificate (or other JSON) document."""
        found = self._documents.get(sha256)
        if found is None:
            found = self._documents[sha256] = parse_document(self.get(sha256), sha256)
        return found

    def text(self, sha256: str) -> str:
        """A text artifact (a retrieval list)."""
        try:
            return self.get(sha256).decode()
        except UnicodeDecodeError as e:
            raise VerificationError(f"artifact {sha256[:12]}: not UTF-8 text ({e})") from None
