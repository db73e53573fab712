"""The site's data read back from a published bundle's own documents: its results, rounds,
certificates, audits and reconciliation, the definition and keys from its log. Pure: a
function that reads a bundle path in, :class:`SiteData` out."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from typing import Any

from canvass.domain.definition import load_definition
from canvass.log.merkle import MerkleTree
from canvass.log.note import parse_checkpoint_text, parse_note
from canvass.log.tiles import read_entries
from canvass.publish.site.check import LogClaim, Witness
from canvass.publish.site.model import SiteData

Read = Callable[[str], bytes]


def units_from_csv(data: bytes) -> list[dict[str, Any]]:
    """``reconciliation/units.csv`` as :class:`SiteData` takes its rows."""
    return [
        {
            "county": r["county"],
            "precinct": r["precinct"],
            "vote_type": r["vote_type"],
            "voters": int(r["voters"]),
            "tabulated": int(r["tabulated"]),
            "balanced": r["balanced"] == "yes",
            "explanations": [e.split(": ", 1) for e in r["explanations"].split("; ") if e],
        }
        for r in csv.DictReader(io.StringIO(data.decode()))
    ]


def site_data(
    read: Read,
    by_vote_type: Mapping[str, Mapping[str, Mapping[str, Any]]] | None = None,
    log_size: int | None = None,
) -> SiteData:
    """The site's data from the bundle ``read`` reads, as of its first ``log_size`` log
    entries (all that its checkpoint covers when None)."""

    def doc(path: str) -> Any:
        return json.loads(read(path))

    note = parse_note(read("log/checkpoint").decode(), "log/checkpoint")
    size = parse_checkpoint_text(note.text, "log/checkpoint").size
    entries = read_entries(lambda p: read(f"log/{p}"), size)[:log_size]
    parsed = [json.loads(e) for e in entries]
    defined = [e for e in parsed if e["type"] == "election.defined"][-1]["artifacts"][0]
    definition = load_definition(read(f"artifacts/{defined['sha256']}"), defined["name"])
    witnesses = tuple(
        Witness(e["data"]["name"], e["data"]["vkey"], i)
        for i, e in enumerate(parsed)
        if e["type"] == "key.registered" and e["data"]["role"] == "witness"
    )
    return SiteData(
        definition=definition,
        results=doc("results/results.json"),
        ranked=doc("results/ranked-choice.json"),
        certificates=doc("certificates/index.json")["certificates"],
        reopened=doc("certificates/index.json").get("reopened", []),
        breakdowns=doc("results/breakdowns.json"),
        audits=doc("audits/index.json")["audits"],
        hand_counts=doc("audits/index.json").get("hand_counts", []),
        units=units_from_csv(read("reconciliation/units.csv")),
        claim=LogClaim(
            log_size=len(entries),
            root=MerkleTree(entries).root(),
            publication=len(entries),
            operator=parsed[0]["data"]["operator"],
            witnesses=witnesses,
        ),
        as_of=parsed[-1]["time"],
        by_vote_type=by_vote_type or {},
    )
