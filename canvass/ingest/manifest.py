"""Ballot manifests (Arlo's layout): how many ballot cards each batch holds.

A manifest is a CSV with a header row and one row per batch::

    Tabulator,Batch Name,Number of Ballots
    Tabulator A,Batch 1,1755

``Batch Name`` and ``Number of Ballots`` are required; ``Tabulator`` is needed when batch
names repeat across tabulators; ``Container`` is kept when present. The manifest is the
paper's own account of the ballots, so it is compared batch by batch with the cards the
CVRs hold (:func:`compare_with_cards`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from canvass.domain.model import Batch
from canvass.errors import IngestError
from canvass.guard.text import decode_text, parse_csv, read_file, whole_number

if TYPE_CHECKING:  # drawing a sample from a manifest needs no Arrow
    import pyarrow as pa

REQUIRED = ("Batch Name", "Number of Ballots")


def read_ballot_manifest(path: Path) -> list[Batch]:
    data = read_file(path, IngestError)
    return parse_ballot_manifest(data, str(path))


def parse_ballot_manifest(data: bytes, path: str) -> list[Batch]:
    rows = parse_csv(decode_text(data, path), path)
    header = [name.strip() for name in next(rows, None) or []]
    for name in REQUIRED:
        if name not in header:
            found = ", ".join(header) or "no header"
            raise IngestError(f"{path} row 1: expected a column {name!r}; found {found}")
    at = {
        name: header.index(name) for name in ("Tabulator", "Container", *REQUIRED) if name in header
    }
    batches: list[Batch] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in enumerate(rows, start=2):
        if not cells:
            continue
        row = {name: cells[i] if i < len(cells) else "" for name, i in at.items()}
        tabulator = row.get("Tabulator", "").strip()
        batch = row["Batch Name"].strip()
        count = row["Number of Ballots"].strip()
        if not batch:
            raise IngestError(
                f"{path} row {number}, column 'Batch Name': expected a batch name; found nothing"
            )
        cards = whole_number(count)
        if cards is None:
            raise IngestError(
                f"{path} row {number}, column 'Number of Ballots': expected a whole number; "
                f"found {count!r}"
            )
        key = (tabulator, batch)
        if key in seen:
            owner = tabulator or "no tabulator"
            raise IngestError(
                f"{path} row {number}: batch {batch!r} of {owner!r} is already on row {seen[key]}"
            )
        seen[key] = number
        batches.append(
            Batch(
                id=batch,
                tabulator=tabulator,
                cards=cards,
                container=row.get("Container", "").strip(),
            )
        )
    if not batches:
        raise IngestError(f"{path}: no batches; expected one row per batch")
    return batches


def compare_with_cards(manifest: list[Batch], table: pa.Table) -> list[str]:
    """Batches whose card count in the CVRs differs from the manifest, in words."""
    cards = Counter(
        zip(table.column("tabulator").to_pylist(), table.column("batch").to_pylist(), strict=True)
    )
    by_batch_only = not any(b.tabulator for b in manifest)
    if by_batch_only:
        cards = Counter({("", b): n for (_, b), n in cards.items()})
    problems = []
    listed = set()
    for b in manifest:
        key = (b.tabulator, b.id)
        listed.add(key)
        if cards.get(key, 0) != b.cards:
            problems.append(
                f"batch {b.id!r} of {b.tabulator or 'no tabulator'!r}: the manifest lists "
                f"{b.cards} cards, the CVRs hold {cards.get(key, 0)}"
            )
    for (tabulator, batch), n in sorted(cards.items()):
        if (tabulator, batch) not in listed:
            problems.append(
                f"batch {batch!r} of {tabulator or 'no tabulator'!r}: {n} cards in the CVRs, "
                "but not in the manifest"
            )
    return problems
