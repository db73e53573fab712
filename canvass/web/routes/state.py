"""The state: every county's status, escalation past a deadline, the state certificate,
the certificate of ascertainment (signed in the state official's browser), publishing,
and the log itself (entries, checkpoints, proofs)."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, Depends, Request

from canvass.app import elections, overview
from canvass.app.accounts import Account, Role
from canvass.app.boards import escalate
from canvass.app.publishing import publish
from canvass.app.state import ascertainment_to_sign, issue_ascertainment, prepare_ascertainment
from canvass.certify.statements import message
from canvass.errors import StoreError
from canvass.guard.documents import json_value, yaml_value
from canvass.web.access import EVERYONE, Number, fields, require, text
from canvass.web.render import Done, action, page
from canvass.web.words import statement_words

router = APIRouter()
PAGE = 100


@page(router, "/state", "state.html")
def state(request: Request, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    return overview.state_overview(request.app.state.services.election)


@action(router, "/state/escalations")
def escalation(
    request: Request,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    entry = escalate(request.app.state.services.election, account.actor, text(form, "county"))
    return Done(f"Escalated to the state (log entry {entry}).", "/state", {"entry": entry})


@action(router, "/state/ascertainment/prepare")
def prepare(
    request: Request,
    account: Account = require(Role.STATE_OFFICIAL),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """The certificate of ascertainment to sign, from the certified state results and the
    electors named (YAML: candidate id → elector names); changes nothing."""
    election = request.app.state.services.election
    electors = yaml_value(text(form, "electors"), "electors", StoreError)
    if not isinstance(electors, dict):
        raise StoreError("electors: expected candidate ids, each with a list of elector names")
    doc = prepare_ascertainment(election, text(form, "contest"), electors, account.username)
    statement = ascertainment_to_sign(election, doc)
    return Done(
        "Read the certificate below, then sign it.",
        "/state",
        {
            "document": doc,
            "statement": statement,
            "message": base64.b64encode(message(statement)).decode(),
            "words": statement_words(election, account, statement),
        },
    )


@action(router, "/state/ascertainment")
def ascertain(
    request: Request,
    account: Account = require(Role.STATE_OFFICIAL),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    document = text(form, "document").encode("utf-8", "surrogatepass")
    doc = json_value(document, "document", StoreError)
    if not isinstance(doc, dict):
        raise StoreError("document: not the JSON of a certificate of ascertainment")
    entry = issue_ascertainment(
        request.app.state.services.election, account.actor, doc, text(form, "signature")
    )
    return Done(
        f"Certificate of ascertainment issued (log entry {entry}).", "/state", {"entry": entry}
    )


@action(router, "/publish")
def publish_(request: Request, account: Account = require(Role.STATE_ADMIN)) -> Done:
    """Write the public results bundle, which anyone can check with ``canvass verify``."""
    services = request.app.state.services
    done = publish(services.election, account.actor, services.settings.publish_dir, replace=True)
    return Done(
        f"Published {done.files} files ({done.bytes:,} bytes) covering the log's first "
        f"{done.log_size} entries.",
        "/log",
        {"files": done.files, "bytes": done.bytes, "log_size": done.log_size},
    )


@page(router, "/log", "log.html")
def log(
    request: Request, start: int | None = None, account: Account = require(*EVERYONE)
) -> dict[str, Any]:
    """The election log, newest first a hundred at a time, and its latest checkpoint."""
    election = request.app.state.services.election
    size = elections.size(election)
    first = max(0, size - PAGE) if start is None else max(0, min(start, size))
    entries = elections.entries(election, first, PAGE)
    return {
        "size": size,
        "start": first,
        "entries": [{"index": i, **e.to_json()} for i, e in reversed(entries)],
        "checkpoint": elections.checkpoint(election),
        "page": PAGE,
    }


@page(router, "/log/{index}", "log_entry.html")
def log_entry(
    request: Request, index: Number, account: Account = require(*EVERYONE)
) -> dict[str, Any]:
    """One entry with its inclusion proof in the latest tree."""
    election = request.app.state.services.election
    found = elections.entries(election, index, 1)
    if not found:
        raise StoreError(f"the log has no entry {index}")
    return {
        "index": index,
        "entry": found[0][1].to_json(),
        "proof": elections.prove_inclusion(election, index),
    }
