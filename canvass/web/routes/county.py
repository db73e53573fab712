"""The election's set-up and each county's work: imports, results, the manifest check,
reconciliation with explanations, and the checklist before the board can certify."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from canvass.app import overview
from canvass.app.accounts import Account, Role
from canvass.app.boards import open_correction
from canvass.app.elections import define, draft_definition
from canvass.app.imports import MANIFEST_FORMATS, RESULTS_FORMATS, import_ballots
from canvass.app.reconcile import explain, import_pollbook
from canvass.errors import CanvassError, StoreError
from canvass.ingest import FORMATS
from canvass.ingest.draft_sources import DRAFT_FORMATS
from canvass.reconcile.balance import REASONS
from canvass.web.access import EVERYONE, fields, require, text
from canvass.web.render import Done, action, page, render
from canvass.web.uploads import on_disk, uploaded_files

router = APIRouter()


@page(router, "/election", "election.html")
def election(request: Request, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    """The election's definition in force and every county's status."""
    services = request.app.state.services
    try:
        state = overview.state_overview(services.election)
    except StoreError:
        state = None
    return {"state": state, "draft_formats": DRAFT_FORMATS}


FIELDS = {
    "give --name": "give the election's name",
    "give --date YYYY-MM-DD": "give the election's date (YYYY-MM-DD)",
    "give --county": "give the county",
}
"""The drafting's advice, worded for the command line, as the draft form words it."""


def _draft(request: Request, form: dict[str, Any]) -> dict[str, Any]:
    try:
        return _drafted(request, form)
    except CanvassError as e:
        said = str(e)
        for flag, words in FIELDS.items():
            said = said.replace(flag, words)
        if said == str(e):
            raise
        raise type(e)(said) from None


def _drafted(request: Request, form: dict[str, Any]) -> dict[str, Any]:
    services = request.app.state.services
    with on_disk(uploaded_files(form, "files"), services.settings.upload_dir) as paths:
        drafted, review = draft_definition(
            text(form, "format"),
            text(form, "county").strip(),
            paths,
            text(form, "state").strip(),
            text(form, "election_id").strip() or None,
            text(form, "name").strip() or None,
            text(form, "date").strip() or None,
        )
        # The draft names its files as the person uploaded them, not where they were kept.
        drafted = drafted.replace(f"{paths[0].parent}/", "")
    review = [r.replace(f"{paths[0].parent}/", "") for r in review]
    return {"definition": drafted, "review": review}


@router.post("/election/draft", include_in_schema=False)
def draft_page(
    request: Request,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Response:
    """A definition drafted from a county's export, shown for review; changes nothing."""
    return render(request, "draft.html", _draft(request, form))


@router.post("/api/election/draft")
def draft_api(
    request: Request,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> dict[str, Any]:
    """A definition drafted from a county's export (YAML, headed by what to review) and
    the list of what to review; changes nothing."""
    return _draft(request, form)


@action(router, "/election/definition")
def upload_definition(
    request: Request,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """Record the election definition (YAML or JSON, as docs/election-definition.md says):
    a file, or the ``text`` of a draft reviewed on its page."""
    services = request.app.state.services
    reviewed = text(form, "text")
    if reviewed.strip() and not form.get("definition"):  # a draft, reviewed on its page
        entry = define(services.election, account.actor, reviewed.encode(), "definition.yaml")
    else:
        files = uploaded_files(form, "definition")
        with on_disk(files[:1], services.settings.upload_dir) as paths:
            entry = define(services.election, account.actor, paths[0].read_bytes(), paths[0].name)
    if entry is None:
        return Done("This definition is the one in force already; nothing changed.", "/election")
    return Done(f"Definition recorded (log entry {entry}).", "/election", {"entry": entry})


@page(router, "/counties/{county}", "county.html")
def county(request: Request, county: str, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    data = overview.county_overview(request.app.state.services.election, county)
    return {
        **data,
        "formats": [*FORMATS, *RESULTS_FORMATS, *MANIFEST_FORMATS],
        "reasons": REASONS,
    }


@action(router, "/counties/{county}/imports")
def upload_import(
    request: Request,
    county: str,
    account: Account = require(Role.COUNTY_CLERK, scope="county"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """Import a CVR export, a results file or a ballot manifest: the files streamed to
    disk, then the same import the command line runs."""
    services = request.app.state.services
    with on_disk(uploaded_files(form, "files"), services.settings.upload_dir) as paths:
        done = import_ballots(services.election, account.actor, county, text(form, "format"), paths)
    to = f"/counties/{county}"
    if done is None:
        return Done("These files were imported already; nothing changed.", to)
    what = ", ".join(f"{k} {v}" for k, v in done.data.items() if k in ("cards", "batches", "votes"))
    return Done(
        f"Imported {done.kind} ({what}) as log entry {done.entry}.",
        to,
        {"entry": done.entry, "kind": done.kind, "data": done.data},
    )


@action(router, "/counties/{county}/pollbooks")
def upload_pollbook(
    request: Request,
    county: str,
    account: Account = require(Role.COUNTY_CLERK, scope="county"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    services = request.app.state.services
    with on_disk(uploaded_files(form, "pollbook")[:1], services.settings.upload_dir) as paths:
        entry = import_pollbook(services.election, account.actor, paths[0], county)
    return Done(f"Poll book recorded (log entry {entry}).", f"/counties/{county}", {"entry": entry})


@action(router, "/counties/{county}/explanations")
def explanation(
    request: Request,
    county: str,
    account: Account = require(Role.COUNTY_CLERK, scope="county"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    entry = explain(
        request.app.state.services.election,
        account.actor,
        county,
        text(form, "precinct"),
        text(form, "vote_type"),
        text(form, "reason"),
        text(form, "text"),
    )
    return Done(
        f"Explanation of {text(form, 'precinct')} recorded (log entry {entry}).",
        f"/counties/{county}#reconciliation",
        {"entry": entry},
    )


@action(router, "/counties/{county}/corrections")
def correction(
    request: Request,
    county: str,
    account: Account = require(Role.COUNTY_CLERK, scope="county"),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    entry = open_correction(
        request.app.state.services.election, account.actor, county, text(form, "reason")
    )
    return Done(f"Correction opened (log entry {entry}).", f"/counties/{county}", {"entry": entry})
