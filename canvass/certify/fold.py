"""The election as its log leaves it: one pure fold over the entries, which the election
directory runs to decide what it may append and to publish, and the verifier runs again
from a published bundle to check it. There is no second copy of these rules.

:class:`ElectionState` holds, after any prefix of the log:

- the election definition in force and the imports counted under it (ballot tables,
  results-only tables, ballot manifests), those replaced and those imported under an
  earlier definition;
- the canvass (:class:`~canvass.certify.canvass.Canvass`: keys, boards and their
  seatings, motions and votes, certificates, poll books and the clerks' explanations);
- the audits (:class:`~canvass.audit.workflow.Audits`);
- what each certificate was proposed against, and the state certificate in force when
  each certificate of ascertainment was issued;
- the publications (``bundle.published``: what a published bundle was rendered from).

Nothing here reads a database or a clock: entries in, state out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from canvass.audit.workflow import Audits
from canvass.certify.canvass import STATE, Canvass, CanvassRefused
from canvass.errors import CanvassError
from canvass.ingest.ballots import MEDIA_TYPE as BALLOT_TABLE
from canvass.ingest.results_csv import MEDIA_TYPE as RESULTS_TABLE
from canvass.log.entry import Entry

KINDS = {
    "ballots.imported": "ballots",
    "results.imported": "results",
    "manifest.imported": "manifest",
}
"""Import entries and the kind of import each records."""

MALFORMED = (
    CanvassError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    StopIteration,
)
"""What folding an entry can raise: a refusal of the rules, or an entry missing a field
or holding a value of the wrong kind (a log can hold anything its operator signed)."""


@dataclass
class Import:
    index: int
    kind: str
    """``ballots``, ``results`` or ``manifest``."""
    county: str
    table: str
    """The SHA-256 of what is counted: the ballot table, the results-only table, or the
    ballot manifest itself."""
    definition: str
    sources: str = ""
    """The SHA-256 of the sorted SHA-256s of its source files."""
    format: str = ""
    cards: int = 0
    replaced_by: int | None = None
    ballots: int | None = None
    """The ballots the cards form, where the import says (imports since ballots were told
    from cards)."""
    skipped_contests: dict[str, int] = field(default_factory=dict)
    """Contests of the export the definition leaves out, named to be left out, and the cards
    that carried each."""
    notes: list[str] = field(default_factory=list)
    """What the export lacked (a Dominion CSV without a Precinct column, …)."""
    skipped_votes: dict[str, int] = field(default_factory=dict)
    """For a results-only import: contests of the file the definition leaves out, named to
    be left out, and the votes each held."""


class Imports:
    """Every import as the log goes, and which are in force."""

    def __init__(self) -> None:
        self.definition = ""
        """The SHA-256 of the election definition in force."""
        self.election = ""
        self.all: dict[int, Import] = {}

    def apply(self, index: int, entry: Entry) -> None:
        d = entry.data
        if entry.type == "election.defined":
            self.definition, self.election = entry.artifacts[0].sha256, d["election"]
        elif entry.type in KINDS:
            kind = KINDS[entry.type]
            if kind == "manifest":
                table = entry.artifacts[0].sha256
            else:
                media = BALLOT_TABLE if kind == "ballots" else RESULTS_TABLE
                table = next(r.sha256 for r in entry.artifacts if r.media_type == media)
            self.all[index] = Import(
                index,
                kind,
                d.get("county") or "",
                table,
                d["definition_sha256"],
                str(d.get("sources_sha256") or ""),
                str(d.get("format") or ""),
                int(d.get("cards") or 0),
                ballots=None if d.get("ballots") is None else int(d["ballots"]),
                skipped_contests={
                    str(k): int(v) for k, v in (d.get("skipped_contests") or {}).items()
                },
                notes=[str(n) for n in d.get("notes") or []],
                skipped_votes={
                    str(k): int(v) for k, v in (d.get("skipped_contest_votes") or {}).items()
                },
            )
            for old in d.get("replaces") or []:
                if old in self.all:
                    self.all[old].replaced_by = index

    def current(self, kind: str, county: str | None = None) -> list[Import]:
        """The imports of ``kind`` counted under the definition in force (of one county, or
        all), in log order."""
        return [
            i
            for i in self.all.values()
            if i.kind == kind
            and i.replaced_by is None
            and i.definition == self.definition
            and county in (None, i.county)
        ]

    def stale(self, kind: str) -> list[Import]:
        """Imports of ``kind`` made under an earlier definition whose files were not imported
        again since: their contest and choice numbers are that definition's, so they cannot
        be counted under this one."""
        redone = {
            (i.county, i.sources)
            for i in self.all.values()
            if i.kind == kind and i.definition == self.definition
        }
        return [
            i
            for i in self.all.values()
            if i.kind == kind
            and i.definition != self.definition
            and (i.county, i.sources) not in redone
        ]

    def require_current(self, kind: str) -> None:
        """Refuse to count while an import is stale (see :meth:`stale`)."""
        for i in self.stale(kind):
            raise CanvassError(
                f"the {kind} of log entry {i.index} ({i.county or 'several counties'}) were "
                "imported under an earlier election definition, whose contests and choices "
                "may differ; import them again"
            )


@dataclass
class Snapshot:
    """What a certificate was proposed against: the state of the log at its proposal."""

    definition: str
    ballots: list[str]
    """The ballot tables in force for its county (every county's, for the state's)."""
    results: list[str]
    pollbooks: list[str]
    explanations: dict[tuple[str, str, str], list[tuple[str, str]]]
    current: dict[str, str]
    """The certificates issued by then, by county (and ``state``)."""


@dataclass
class Publication:
    """A ``bundle.published`` entry: the bundle rendered from the entries before it."""

    index: int
    time: str
    data: dict[str, Any]
    document: str
    """The SHA-256 of the publication document: every file rendered, with its SHA-256."""


@dataclass
class ElectionState:
    """The election after a prefix of its log (see the module's description)."""

    imports: Imports = field(default_factory=Imports)
    canvass: Canvass = field(default_factory=lambda: Canvass(""))
    audits: Audits = field(default_factory=Audits)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    ascertained_on: dict[int, str | None] = field(default_factory=dict)
    """Each certificate of ascertainment's entry → the state certificate then in force."""
    publications: list[Publication] = field(default_factory=list)
    size: int = 0
    last_time: str = ""

    @classmethod
    def replay(cls, entries: Iterable[tuple[int, Entry]]) -> ElectionState:
        """Fold ``entries``; the first refusal stops it."""
        state = cls()
        for index, entry in entries:
            state.apply(index, entry)
        return state

    @property
    def election(self) -> str:
        return self.imports.election

    @property
    def definition(self) -> str:
        return self.imports.definition

    def apply(self, index: int, entry: Entry) -> None:
        """Fold one entry; raise the first refusal of the rules (see :meth:`apply_all`)."""
        for _, error in self.apply_all(index, entry):
            raise error

    def apply_all(self, index: int, entry: Entry) -> list[tuple[str, Exception]]:
        """Fold one entry into every part of the state; return each part's refusal (the
        verifier reports them all and goes on, the election directory refuses the entry).
        A part raises only what a malformed entry or the rules make it raise."""
        refused: list[tuple[str, Exception]] = []
        if entry.type == "election.defined" and not self.canvass.election:
            self.canvass.election = str(entry.data.get("election") or "")
        for part, step in (
            ("imports", self.imports.apply),
            ("audits", self.audits.apply),
            ("canvass", self.canvass.apply),
            ("state", self._apply),
        ):
            try:
                step(index, entry)
            except MALFORMED as e:
                refused.append((part, e))
        self.size = index + 1
        self.last_time = entry.time
        return refused

    def _apply(self, index: int, entry: Entry) -> None:
        d = entry.data
        if entry.type == "certificate.proposed":
            county = d.get("county")
            self.snapshots[d["certificate"]] = Snapshot(
                self.imports.definition,
                [i.table for i in self.imports.current("ballots", county)],
                [i.table for i in self.imports.current("results")],
                list(self.canvass.pollbooks),
                {k: list(x) for k, x in self.canvass.explanations.items()},
                dict(self.canvass.current),
            )
        elif entry.type == "ascertainment.issued":
            found = self.canvass.in_force(STATE)
            self.ascertained_on[index] = found.sha256 if found else None
        elif entry.type == "bundle.published":
            if d["log_size"] != index:
                raise CanvassRefused(
                    f"a publication renders the entries before it ({index}); this one says "
                    f"{d['log_size']}"
                )
            self.publications.append(
                Publication(index, entry.time, dict(d), entry.artifacts[0].sha256)
            )
