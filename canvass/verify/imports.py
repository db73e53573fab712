"""The imports in force as the log goes, as the verifier reads them itself (not as the
server's tables say)."""

from __future__ import annotations

from dataclasses import dataclass

from canvass.ingest.ballots import MEDIA_TYPE as BALLOT_TABLE
from canvass.ingest.results_csv import MEDIA_TYPE as RESULTS_TABLE
from canvass.log.entry import Entry


@dataclass
class Import:
    index: int
    kind: str
    county: str
    table: str
    definition: str
    replaced_by: int | None = None


class Imports:
    """The imports in force as the log goes, as the verifier reads them itself."""

    def __init__(self) -> None:
        self.definition = ""
        self.election = ""
        self.all: dict[int, Import] = {}

    def apply(self, index: int, entry: Entry) -> None:
        d = entry.data
        if entry.type == "election.defined":
            self.definition, self.election = entry.artifacts[0].sha256, d["election"]
        elif entry.type in ("ballots.imported", "results.imported"):
            kind = "ballots" if entry.type == "ballots.imported" else "results"
            media = BALLOT_TABLE if kind == "ballots" else RESULTS_TABLE
            table = next(r.sha256 for r in entry.artifacts if r.media_type == media)
            self.all[index] = Import(
                index, kind, d.get("county") or "", table, d["definition_sha256"]
            )
            for old in d.get("replaces") or []:
                if old in self.all:
                    self.all[old].replaced_by = index

    def current(self, kind: str, county: str | None = None) -> list[Import]:
        return [
            i
            for i in self.all.values()
            if i.kind == kind
            and i.replaced_by is None
            and i.definition == self.definition
            and county in (None, i.county)
        ]
