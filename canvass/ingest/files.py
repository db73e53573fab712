"""Which files an import reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from canvass.errors import IngestError
from canvass.guard.text import file_kind, file_name, shown


def files_in(paths: Sequence[Path], suffixes: tuple[str, ...] = ()) -> list[Path]:
    """The files named, and those in the folders named (recursively, in name order, only
    those ending in one of ``suffixes`` when given). At least one file, or an error."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and (not suffixes or p.suffix.lower() in suffixes)
            )
        elif path.is_file():
            files.append(path)
        elif path.exists():  # a device, a named pipe, a socket: never read
            raise IngestError(
                f"{shown(str(path))}: expected a file or folder; found "
                f"{file_kind(path.stat().st_mode)}"
            )
        else:
            raise IngestError(f"{shown(str(path))}: no such file or folder")
    for file in files:
        file_name(file)
    if not files:
        kinds = " or ".join(s.lstrip(".").upper() for s in suffixes) or "readable"
        raise IngestError(f"{', '.join(str(p) for p in paths)}: no {kinds} files")
    return files


def data_rows(
    rows: Iterable[list[str]], where: Path | str, width: int, first: int
) -> Iterator[tuple[int, list[str]]]:
    """``(row number, cells)`` of a CSV's data rows, numbered from ``first``: blank rows are
    passed over, and a row of another width than ``width`` is an error naming it."""
    for number, row in enumerate(rows, start=first):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            raise IngestError(f"{where} row {number}: expected {width} columns; found {len(row)}")
        yield number, row
