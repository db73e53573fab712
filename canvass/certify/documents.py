"""What a certificate says, and whether it holds: the certified results counted again from
the artifacts the certificate names, a state certificate as the sum of its counties', and
a certificate of ascertainment against the state certificate it rests on.

Pure: artifacts are read through a function from SHA-256 to bytes, so the election
directory (from its artifact store) and the verifier (from a published bundle) check
certificates with the same code, each from its own copy of the bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from canvass.certify.canvass import CanvassRefused
from canvass.domain.model import ElectionDefinition
from canvass.errors import VerificationError
from canvass.guard.unique import repeated_key
from canvass.ingest.ballots import read_table
from canvass.reconcile.balance import UnitBalance
from canvass.tabulate.election import count

Get = Callable[[str], bytes]
"""An artifact's bytes by its SHA-256."""
Tables = Callable[[str], pa.Table]
"""A ballot (or results-only) table by its SHA-256, where the caller keeps them decoded."""


def read_document(get: Get, sha256: str) -> dict[str, Any]:
    return parse_document(get(sha256), sha256)


def parse_document(data: bytes, sha256: str) -> dict[str, Any]:
    """A certificate (or other JSON) document: a JSON object in which no key is given twice
    (two readers of such bytes may read two different certificates)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise VerificationError(f"artifact {sha256[:12]}: not JSON ({e})") from None
    if not isinstance(doc, dict):
        raise VerificationError(f"artifact {sha256[:12]}: not a JSON object")
    repeated = repeated_key(data)
    if repeated is not None:
        raise VerificationError(
            f"artifact {sha256[:12]}: {repeated}; readers differ on which value they take"
        )
    return doc


def results_json(totals: Sequence[Any]) -> dict[str, Any]:
    """Contest totals as a certificate states them."""
    return {
        t.contest: {
            "votes": dict(t.votes),
            "ballots": t.ballots,
            "overvotes": t.overvotes,
            "undervotes": t.undervotes,
        }
        for t in totals
    }


def county_results(
    election: ElectionDefinition,
    get: Get,
    county: str,
    sources: Sequence[dict[str, str]],
    ballot_table: Tables | None = None,
    results_table: Tables | None = None,
) -> dict[str, Any] | None:
    """A county's results counted from the artifacts a certificate rests on (``None`` when
    they hold nothing for it). ``ballot_table`` and ``results_table`` give the tables
    where the caller keeps them decoded; otherwise they are read from ``get``."""
    ballots = ballot_table or (lambda sha: read_table(get(sha))[0])
    results = results_table or (lambda sha: pq.read_table(pa.BufferReader(get(sha))))
    tables = [ballots(s["sha256"]) for s in sources if s["kind"] == "ballots"]
    results_only = [results(s["sha256"]) for s in sources if s["kind"] == "results"]
    totals = count(election, tables, results_only, "county").groups.get(county)
    return None if totals is None else results_json(totals)


def reconciliation(units: Sequence[UnitBalance]) -> dict[str, Any]:
    """A county's reconciliation as its certificate states it: every unit out of balance,
    with the clerk's explanations, those left unexplained, and those that may not be
    recounted."""
    out = [u for u in units if not u.balanced]
    return {
        "units": len(units),
        "out_of_balance": [
            {
                "precinct": u.precinct,
                "vote_type": u.vote_type,
                "difference": u.difference,
                "stock_difference": u.stock_difference,
                "explanations": [{"reason": r, "text": t} for r, t in u.explanations],
            }
            for u in out
        ],
        "unexplained": [f"{u.precinct}/{u.vote_type}" for u in out if not u.explained],
        "not_recountable": [f"{u.precinct}/{u.vote_type}" for u in out if not u.recountable],
    }


def differences(
    where: str, certified: dict[str, Any], other: dict[str, Any], label: str = "counted again"
) -> list[str]:
    """Every number that differs between two results documents, with where it is."""
    out = []
    for key in sorted(set(certified) | set(other)):
        a, b = certified.get(key), other.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            out += differences(f"{where} {key}", a or {}, b or {}, label)
        elif a != b:
            out.append(f"{where} {key}: certified {a}, {label} {b}")
    return out


def left_out_votes(imports: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The contests a county's results-only imports (their entries' data) were told to
    leave out, with the votes each held."""
    out: dict[str, int] = {}
    for data in imports:
        for name, votes in (data.get("skipped_contest_votes") or {}).items():
            out[name] = out.get(name, 0) + int(votes)
    return dict(sorted(out.items()))


def left_out(imports: Iterable[dict[str, Any]]) -> dict[str, int]:
    """The contests the definition leaves out that a county's imports (their entries' data)
    named to be left out (``--skip-contest``), with the cards that carried each: what its
    certificate says it does not count."""
    out: dict[str, int] = {}
    for data in imports:
        for name, cards in (data.get("skipped_contests") or {}).items():
            out[name] = out.get(name, 0) + int(cards)
    return dict(sorted(out.items()))


def check_county(
    election: ElectionDefinition,
    get: Get,
    doc: dict[str, Any],
    ballot_table: Tables | None = None,
    results_table: Tables | None = None,
) -> list[str]:
    """Why a county certificate's results are not those of the artifacts it rests on."""
    found = county_results(
        election, get, doc["county"], doc["rests_on"], ballot_table, results_table
    )
    again = found or {}
    problems = []
    for contest, certified in doc["results"].items():
        if again.get(contest) != certified:
            problems += differences(f"{doc['county']} {contest}", certified, again.get(contest, {}))
    return problems


def state_results(county_documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The sum of the county certificates' results."""
    totals: dict[str, Any] = {}
    for doc in county_documents:
        for contest, t in doc["results"].items():
            into = totals.setdefault(
                contest, {"votes": {}, "ballots": 0, "overvotes": 0, "undervotes": 0}
            )
            for choice, n in t["votes"].items():
                into["votes"][choice] = into["votes"].get(choice, 0) + n
            for key in ("ballots", "overvotes", "undervotes"):
                into[key] += t[key]
    return totals


def check_state(get: Get, doc: dict[str, Any]) -> list[str]:
    """Why a state certificate's results are not the sum of the county certificates it
    names."""
    counties = [read_document(get, sha) for sha in doc["counties"].values()]
    return differences("state", doc["results"], state_results(counties), "counties' sum")


def check_ascertainment(get: Get, doc: dict[str, Any]) -> None:
    """Refuse a certificate of ascertainment whose votes are not those of the state
    certificate it rests on, or whose electors appointed are not the winner's."""
    sha = doc.get("state_certificate")
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise CanvassRefused("the certificate of ascertainment names no state certificate")
    certified = read_document(get, sha)["results"].get(doc.get("contest"), {}).get("votes")
    if doc.get("votes") != certified:
        differ = differences(
            f"{doc.get('contest')}", certified or {}, doc.get("votes") or {}, "on this certificate"
        )
        raise CanvassRefused(
            "the certificate of ascertainment's votes differ from the certified state results: "
            + "; ".join(differ)
        )
    winner = max(certified, key=lambda c: certified[c])
    if doc.get("appointed") != doc.get("electors", {}).get(winner):
        raise CanvassRefused(
            f"the electors appointed are not {winner}'s, who received the most votes"
        )
