"""Readers of voting systems' exports, each producing the normalized ballot table
(:mod:`canvass.ingest.ballots`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from canvass.errors import IngestError
from canvass.guard.text import read_file

if TYPE_CHECKING:  # a command that reads no CVRs (a manifest, say) starts without Arrow
    import pyarrow as pa

    from canvass.ingest.ballots import ContestInfo


class Export(Protocol):
    contests: list[ContestInfo]

    def read(self, county: str) -> Iterator[pa.RecordBatch]: ...


FORMATS = ("dominion", "dominion-csv", "nist-cvr", "generic-csv", "ess", "clear-ballot", "hart")


def open_export(
    fmt: str, paths: list[Path], schema: Path | None = None, hart_key: Path | None = None
) -> Export:
    """The reader for ``fmt`` over ``paths`` (files, folders or archives); ``schema`` is
    NIST's JSON Schema to check ``nist-cvr`` reports against; ``hart_key`` the public key
    (an XML ``<RSAKeyValue>`` file) every ``hart`` CVR must be signed by."""
    from canvass.ingest.clear_ballot import ClearBallotCsv
    from canvass.ingest.dominion import DominionExport
    from canvass.ingest.dominion_csv import DominionCsvSet
    from canvass.ingest.ess import EssWorkbooks
    from canvass.ingest.generic_csv import GenericCsv
    from canvass.ingest.hart import HartExport
    from canvass.ingest.nist_cvr import NistCvrReport, schema_validator
    from canvass.ingest.xmldsig import rsa_key_value

    if fmt == "dominion":
        return DominionExport(paths)
    if fmt == "dominion-csv":
        return DominionCsvSet(paths)
    if fmt == "nist-cvr":
        return NistCvrReport(paths, schema_validator(schema) if schema else None)
    if fmt == "generic-csv":
        return GenericCsv(paths)
    if fmt == "ess":
        return EssWorkbooks(paths)
    if fmt == "clear-ballot":
        return ClearBallotCsv(paths)
    if fmt == "hart":
        if hart_key is None:
            return HartExport(paths)
        key_bytes = read_file(hart_key, IngestError)
        return HartExport(paths, rsa_key_value(str(hart_key), key_bytes))
    raise IngestError(f"format {fmt!r} is not supported; choose one of {', '.join(FORMATS)}")
