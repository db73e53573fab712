"""PDF documents: county and state certificates, the canvass report, the audit report and
the retrieval lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from canvass.app import overview, retrieval
from canvass.app.accounts import Account
from canvass.app.boards import read_document
from canvass.app.elections import checkpoint
from canvass.app.folds import canvass
from canvass.log.note import parse_note
from canvass.web.access import EVERYONE, Number, Sha256, require
from canvass.web.pdf import pdf
from canvass.web.words import board_name

router = APIRouter()


def _pdf(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.get("/certificates/{sha}.pdf")
def certificate_pdf(
    request: Request, sha: Sha256, account: Account = require(*EVERYONE)
) -> Response:
    election = request.app.state.services.election
    doc = read_document(election, sha)
    found = canvass(election).certificates.get(sha)
    issued = (
        f"issued at log entry {found.issued}"
        if found and found.issued is not None
        else "not issued"
    )
    proposed = f"proposed at log entry {found.proposed}" if found else ""
    data: dict[str, Any] = {
        "sha256": sha,
        "document": doc,
        "labels": overview.labels(election),
        "name": board_name(election, str(doc.get("board", ""))),
        "signatures": found.signatures if found else [],
    }
    identity = f"Certificate SHA-256 {sha}; {proposed}, {issued}"
    return _pdf(pdf("certificate.html", data, identity), f"certificate-{sha[:12]}.pdf")


def _tree_head(election: Any) -> str:
    note = parse_note(checkpoint(election)).text.splitlines()
    return f"log of {note[1]} entries, root hash (base64) {note[2]}"


@router.get("/reports/canvass.pdf")
def canvass_report(request: Request, account: Account = require(*EVERYONE)) -> Response:
    """Every county's status and the state's results, as the log stands."""
    election = request.app.state.services.election
    with election.reading() as view:
        data = overview.state_overview(view)
        data["results"] = overview.contest_results(view, None)
        identity = f"Canvass report at the {_tree_head(view)}"
    return _pdf(pdf("canvass.html", data, identity), "canvass-report.pdf")


@router.get("/audits/{audit}/report.pdf")
def audit_report(request: Request, audit: str, account: Account = require(*EVERYONE)) -> Response:
    election = request.app.state.services.election
    with election.reading() as view:
        data = retrieval.audit_overview(view, audit)
        identity = f"Audit {audit} at the {_tree_head(view)}"
    return _pdf(pdf("audit.html", data, identity), f"audit-{audit}.pdf")


@router.get("/audits/{audit}/rounds/{number}/retrieval.pdf")
def retrieval_pdf(
    request: Request,
    audit: str,
    number: Number,
    county: str | None = None,
    account: Account = require(*EVERYONE),
) -> Response:
    data = retrieval.retrieval(request.app.state.services.election, audit, number, county)
    identity = f"Retrieval list SHA-256 {data['sha256']}, log entry {data['entry']}"
    return _pdf(pdf("retrieval.html", data, identity), f"retrieval-{audit}-{number}.pdf")
