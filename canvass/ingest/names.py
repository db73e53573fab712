"""Name standardization: map a voting system's contest and choice names to the election
definition's ids.

Counties spell the same contest and candidate differently ("PRESIDENT AND VICE
PRESIDENT", "President/Vice-President"). A vendor name matches a definition contest or
choice when, ignoring case and runs of spaces, it equals its name, its id, or one of the
``aliases`` listed for it in the definition. A name that matches nothing, and that a card
actually uses, stops the import with the nearest known names — a ballot is never dropped
silently. Undeclared write-in lines map to the contest's write-in line whatever the
vendor calls them.

A contest the definition leaves out can be imported only by naming it
(``canvass import --skip-contest NAME``): its marks are left out of the table and the
import records how many cards carried it, so every report of the county says so.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from canvass.domain.model import Choice, ElectionDefinition, contest_choices
from canvass.errors import IngestError
from canvass.ingest.ballots import MARK_TYPE, OVERVOTE, SCHEMA, ChoiceInfo, ContestInfo

UNMAPPED = -1
SKIPPED = -2


def norm(name: str) -> str:
    return re.sub(r"\s+", " ", name).strip().casefold()


def definition_contests(definition: ElectionDefinition) -> list[tuple[ContestInfo, list[Choice]]]:
    """The definition's contests as ballot-table contests (names are ids)."""
    candidates = {c.id: c for c in definition.candidates}
    out = []
    for contest in definition.contests:
        choices = contest_choices(contest, candidates)
        info = ContestInfo(
            contest.id,
            contest.votes_allowed,
            contest.ranks or 0,
            [
                ChoiceInfo(
                    ch.id,
                    "write_in"
                    if ch.write_in
                    else "declared_write_in"
                    if ch.declared_write_in
                    else "candidate",
                )
                for ch in choices
            ],
            contest.primary_party or "",
        )
        out.append((info, choices))
    return out


def _nearest(name: str, known: list[str]) -> str:
    near = difflib.get_close_matches(norm(name), [norm(k) for k in known], n=3, cutoff=0.4)
    originals = {norm(k): k for k in known}
    return ", ".join(repr(originals[n]) for n in near) or "none close"


class NameMap:
    """How one import's contest and choice indices become the definition's."""

    def __init__(
        self,
        vendor: list[ContestInfo],
        definition: ElectionDefinition,
        source: str,
        skip: Sequence[str] = (),
    ) -> None:
        self.source = source
        self.vendor = vendor
        self.skipped: dict[str, int] = {}
        """Each contest left out (by ``skip``) → the cards that carried it."""
        pairs = definition_contests(definition)
        self.contests = [info for info, _ in pairs]
        by_name: dict[str, int] = {}
        for k, c in enumerate(definition.contests):
            for spelling in (c.id, c.name, *c.aliases):
                by_name.setdefault(norm(spelling), k)
        self.contest_map = np.full(len(vendor), UNMAPPED, dtype=np.int64)
        offsets = np.cumsum([0, *(len(c.choices) for c in vendor)])
        self.choice_offset = offsets[:-1]
        self.choice_map = np.full(int(offsets[-1]), UNMAPPED, dtype=np.int64)
        self.known_contests = [c.name for c in definition.contests]
        vendor_names = {norm(c.name): c.name for c in vendor}
        for name in skip:
            if norm(name) not in vendor_names:
                raise IngestError(
                    f"{source}: --skip-contest {name!r}: no contest of the export has that "
                    f"name; nearest: {_nearest(name, [c.name for c in vendor])}"
                )
            if norm(name) in by_name:
                raise IngestError(
                    f"{source}: --skip-contest {name!r}: the election definition has that "
                    f"contest ({definition.contests[by_name[norm(name)]].id!r}); it is counted, "
                    "not left out"
                )
            self.skipped[vendor_names[norm(name)]] = 0
        skipped = {norm(name) for name in self.skipped}
        for v, contest in enumerate(vendor):
            k = by_name.get(norm(contest.name), UNMAPPED)
            if k == UNMAPPED and norm(contest.name) in skipped:
                k = SKIPPED
            self.contest_map[v] = k
            if k < 0:
                continue
            info, choices = pairs[k]
            if info.votes_allowed != contest.votes_allowed:
                raise IngestError(
                    f"{source}: contest {contest.name!r}: the definition's {info.name!r} allows "
                    f"{info.votes_allowed} votes; the export says {contest.votes_allowed}"
                )
            spellings: dict[str, int] = {}
            for j, known in enumerate(choices):
                for spelling in (known.id, known.name, *known.aliases):
                    spellings.setdefault(norm(spelling), j)
            write_in = next((j for j, known in enumerate(choices) if known.write_in), UNMAPPED)
            for j, ch in enumerate(contest.choices):
                mapped = spellings.get(norm(ch.name), UNMAPPED)
                if mapped == UNMAPPED and ch.kind == "write_in":
                    mapped = write_in
                self.choice_map[self.choice_offset[v] + j] = mapped

    def remap(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The batch with the definition's contest and choice indices."""
        contests = batch.column("contests")
        flat_contests = np.asarray(
            pc.list_flatten(contests).to_numpy(zero_copy_only=False), np.int64
        )
        new_contests = self.contest_map[flat_contests]
        self._refuse_unmapped_contests(contests, flat_contests, new_contests)
        marks = batch.column("marks")
        flat = pc.list_flatten(marks)
        mark_contest = np.asarray(flat.field("contest").to_numpy(zero_copy_only=False), np.int64)
        if self.skipped:
            kept = new_contests != SKIPPED
            if not kept.all():
                self._count_skipped(contests, flat_contests, ~kept)
                contests = _keep(contests, kept)
                new_contests = new_contests[kept]
                kept_marks = self.contest_map[mark_contest] != SKIPPED
                marks = _keep(marks, kept_marks)
                flat = pc.list_flatten(marks)
                mark_contest = mark_contest[kept_marks]
        mark_choice = np.asarray(flat.field("choice").to_numpy(zero_copy_only=False), np.int64)
        reported = np.asarray(flat.field("status").to_numpy(zero_copy_only=False)) == OVERVOTE
        new_choice = np.where(
            reported, -1, self.choice_map[self.choice_offset[mark_contest] + mark_choice]
        )
        bad_marks = (new_choice == UNMAPPED) & ~reported
        bad = np.flatnonzero(bad_marks)
        if bad.size:
            first = bad[0]
            v = int(mark_contest[first])
            name = self.vendor[v].choices[int(mark_choice[first])].name
            k = int(self.contest_map[v])
            known = [c.name for c in self.contests[k].choices]
            raise IngestError(
                f"{self.source}: contest {self.vendor[v].name!r}: choice {name!r} is not a "
                f"choice of {self.contests[k].name!r} in the election definition "
                f"({bad.size} marks); nearest: {_nearest(name, known)}. Add the spelling to "
                "the candidate's aliases"
            )
        new_marks = pa.StructArray.from_arrays(
            [
                pa.array(self.contest_map[mark_contest], pa.int16()),
                pa.array(new_choice, pa.int16()),
                flat.field("rank"),
                flat.field("status"),
            ],
            fields=list(MARK_TYPE),
        )
        columns = list(batch.columns)
        columns[SCHEMA.get_field_index("contests")] = pa.ListArray.from_arrays(
            contests.offsets, pa.array(new_contests, pa.int16())
        )
        columns[SCHEMA.get_field_index("marks")] = pa.ListArray.from_arrays(
            marks.offsets, new_marks
        )
        return pa.RecordBatch.from_arrays(columns, schema=SCHEMA)

    def _count_skipped(
        self, contests: pa.ListArray, vendor: npt.NDArray[np.int64], skipped: npt.NDArray[np.bool_]
    ) -> None:
        cards = _parents(contests)
        for v in np.unique(vendor[skipped]):
            carried = np.unique(cards[skipped & (vendor == v)]).size
            self.skipped[self.vendor[int(v)].name] += int(carried)

    def _refuse_unmapped_contests(
        self, contests: pa.ListArray, vendor: npt.NDArray[np.int64], mapped: npt.NDArray[np.int64]
    ) -> None:
        bad = mapped == UNMAPPED
        if not bad.any():
            return
        name = self.vendor[int(vendor[np.flatnonzero(bad)[0]])].name
        cards = np.unique(_parents(contests)[bad]).size
        raise IngestError(
            f"{self.source}: contest {name!r} is not in the election definition "
            f"({np.unique(vendor[bad]).size} such contests on {cards:,} cards read); nearest: "
            f"{_nearest(name, self.known_contests)}. Define it, add the spelling to its "
            f"contest's aliases, or leave it out of the import with --skip-contest {name!r}"
        )


def _parents(lists: pa.ListArray) -> npt.NDArray[np.int64]:
    """For each element of the flattened lists, the index of its list."""
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), np.int64)
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def _keep(lists: pa.ListArray, kept: npt.NDArray[np.bool_]) -> pa.ListArray:
    """The lists with only the flattened elements ``kept``."""
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), np.int64)
    offsets -= offsets[0]
    counted = np.concatenate([[0], np.cumsum(kept)])
    values = pc.list_flatten(lists).filter(pa.array(kept))
    return pa.ListArray.from_arrays(pa.array(counted[offsets], pa.int32()), values)
