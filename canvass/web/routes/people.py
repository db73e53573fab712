"""Signing in and out, invitations, accounts, the access log, and signing keys."""

from __future__ import annotations

import base64
import binascii
import csv
import io
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from canvass.app import accounts as acc
from canvass.app.accounts import SIGNING_ROLES, Account, AccountError, Role
from canvass.app.elections import registered_keys
from canvass.web.access import (
    EVERYONE,
    FORM_COOKIE,
    SESSION_COOKIE,
    fields,
    form_token,
    public_form,
    require,
    text,
)
from canvass.web.render import Done, action, page, render, session_cookie

router = APIRouter()
PENDING_COOKIE = "canvass_pending"


def _services(request: Request) -> Any:
    return request.app.state.services


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _public(request: Request, template: str, data: dict[str, Any]) -> Response:
    """A page with a form posted before signing in, and the cookie its token is in."""
    token = form_token(request)
    response = render(request, template, {**data, "form_token": token})
    response.set_cookie(
        FORM_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_services(request).settings.secure_cookies,
    )
    return response


# --- signing in ------------------------------------------------------------------------


@router.get("/sign-in", include_in_schema=False)
def sign_in_page(request: Request, next: str = "/") -> Response:
    return _public(request, "sign_in.html", {"next": next if next.startswith("/") else "/"})


@router.post("/sign-in", include_in_schema=False)
def sign_in(request: Request, form: dict[str, Any] = Depends(public_form)) -> Response:
    """Password: a session waiting for the one-time code."""
    services = _services(request)
    token = acc.sign_in(
        services.accounts, text(form, "username"), text(form, "password"), _address(request)
    )
    nxt = text(form, "next")
    response = RedirectResponse(
        "/sign-in/code?next=" + (nxt if nxt.startswith("/") else "/"), status_code=303
    )
    session_cookie(response, token, services.settings.secure_cookies)
    return response


@router.get("/sign-in/code", include_in_schema=False)
def code_page(request: Request, next: str = "/") -> Response:
    return _public(request, "code.html", {"next": next if next.startswith("/") else "/"})


@router.post("/sign-in/code", include_in_schema=False)
def code(request: Request, form: dict[str, Any] = Depends(public_form)) -> Response:
    services = _services(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    account = acc.second_factor(services.accounts, token, text(form, "code"), _address(request))
    acc.record(
        services.accounts, account.username, "signed in", "POST", "/sign-in/code", _address(request)
    )
    nxt = text(form, "next")
    return RedirectResponse(nxt if nxt.startswith("/") and not nxt.startswith("//") else "/", 303)


@router.post("/sign-out", include_in_schema=False)
def sign_out(request: Request, account: Account = require(*EVERYONE)) -> Response:
    services = _services(request)
    acc.sign_out(services.accounts, request.cookies.get(SESSION_COOKIE, ""))
    acc.record(
        services.accounts, account.username, "signed out", "POST", "/sign-out", _address(request)
    )
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/invitations/{token}", include_in_schema=False)
def invitation_page(request: Request, token: str) -> Response:
    account = acc.invitation(_services(request).accounts, token)
    secret = acc.new_totp_secret()
    data = {
        "invited": account,
        "token": token,
        "secret": secret,
        "uri": acc.totp_uri(account, secret),
    }
    return _public(request, "invitation.html", data)


@router.post("/invitations/{token}", include_in_schema=False)
def accept(request: Request, token: str, form: dict[str, Any] = Depends(public_form)) -> Response:
    services = _services(request)
    if text(form, "password") != text(form, "password_again"):
        raise AccountError("the two passwords are not the same")
    account = acc.accept_invitation(
        services.accounts,
        token,
        text(form, "password"),
        text(form, "secret"),
        text(form, "code"),
    )
    acc.record(
        services.accounts,
        account.username,
        "account set up",
        "POST",
        "/invitations",
        _address(request),
    )
    return render(request, "invited.html", {"invited": account})


# --- home ------------------------------------------------------------------------------


@page(router, "/", "home.html")
def home(request: Request, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    """Where the signed-in person's work is."""
    return {"username": account.username, "role": account.role, "scope": account.scope}


# --- accounts --------------------------------------------------------------------------


@page(router, "/accounts", "accounts.html")
def accounts(request: Request, account: Account = require(Role.STATE_ADMIN)) -> dict[str, Any]:
    return {
        "accounts": acc.list_accounts(_services(request).accounts),
        "roles": [r.value for r in Role],
    }


@action(router, "/accounts")
def invite(
    request: Request,
    account: Account = require(Role.STATE_ADMIN),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    services = _services(request)
    username = text(form, "username")
    token = acc.invite(
        services.accounts,
        services.election,
        account,
        username,
        text(form, "full_name"),
        text(form, "role"),
        text(form, "scope"),
    )
    link = str(request.base_url).rstrip("/") + f"/invitations/{token}"
    return Done(
        f"Account {username} created. Give this one-time link to the person, in person or "
        f"by a channel you trust: {link}",
        "/accounts",
        {"username": username, "invitation": link},
    )


@page(router, "/access-log", "access_log.html")
def access_log(request: Request, account: Account = require(Role.STATE_ADMIN)) -> dict[str, Any]:
    services = _services(request)
    rows = acc.access_log(services.accounts)
    return {
        "rows": rows[-500:][::-1],
        "total": len(rows),
        "chain": acc.check_access_log(services.accounts),
    }


@router.get("/access-log.csv")
def access_log_csv(request: Request, account: Account = require(Role.STATE_ADMIN)) -> Response:
    """The whole access log as CSV, for the administrator to keep."""
    rows = acc.access_log(_services(request).accounts)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"])
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="access-log.csv"'},
    )


# --- signing keys ----------------------------------------------------------------------


@page(router, "/keys", "keys.html")
def keys(request: Request, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    """The person's own key and, for those who approve keys, the requests."""
    services = _services(request)
    mine = acc.key_requests(services.accounts, account)
    pending = [
        r
        for r in acc.key_requests(services.accounts)
        if r.decision is None and acc.may_approve(account, r)
    ]
    registered = {k["name"]: k for k in registered_keys(services.election)}
    return {
        "signs": account.role in SIGNING_ROLES,
        "mine": mine,
        "registered": registered.get(account.username),
        "pending": pending,
    }


@action(router, "/keys")
def register(
    request: Request,
    account: Account = require(*SIGNING_ROLES),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """Ask for a public key made on the person's side (in the browser, or the key file's)
    to be registered."""
    try:
        raw = base64.b64decode(text(form, "public_key"), validate=True)
    except (binascii.Error, ValueError):
        raise AccountError("the public key is not base64") from None
    made = acc.request_key(_services(request).accounts, account, raw)
    return Done(
        "Your public key is waiting for approval by your clerk or the state administrator.",
        "/keys",
        {"request": made},
    )


@action(router, "/keys/{request_id}/approve")
def approve(
    request: Request,
    request_id: int,
    account: Account = require(Role.STATE_ADMIN, Role.COUNTY_CLERK),
) -> Done:
    services = _services(request)
    entry = acc.decide_key(services.accounts, services.election, account, request_id, True)
    return Done(f"Key registered in the election log (entry {entry}).", "/keys", {"entry": entry})


@action(router, "/keys/{request_id}/refuse")
def refuse(
    request: Request,
    request_id: int,
    account: Account = require(Role.STATE_ADMIN, Role.COUNTY_CLERK),
) -> Done:
    services = _services(request)
    acc.decide_key(services.accounts, services.election, account, request_id, False)
    return Done(f"Key request {request_id} refused.", "/keys")
