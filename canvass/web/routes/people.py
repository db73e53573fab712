"""Signing in and out, invitations, accounts, the access log, and signing keys."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import urllib.parse
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from canvass.app import accounts as acc
from canvass.app import key_requests as keyreq
from canvass.app import passkeys
from canvass.app.accounts import SIGNING_ROLES, Account, AccountError, Role
from canvass.app.elections import registered_keys
from canvass.web.access import (
    EVERYONE,
    FORM_COOKIE,
    SESSION_COOKIE,
    Number,
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
    token = request.cookies.get(SESSION_COOKIE, "")
    has_passkey = passkeys.waiting_has_passkey(_services(request).accounts, token)
    nxt = next if next.startswith("/") and not next.startswith("//") else "/"
    return _public(request, "code.html", {"next": nxt, "has_passkey": has_passkey})


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


def _relying_party(request: Request) -> tuple[str, str]:
    """The relying party's id (the site's host name) and the origin passkeys are for."""
    origin = _services(request).settings.origin or f"{request.url.scheme}://{request.url.netloc}"
    return urllib.parse.urlsplit(origin).hostname or "", origin


def _credential(form: dict[str, Any]) -> dict[str, Any]:
    credential = form.get("credential")
    if not isinstance(credential, dict):
        raise AccountError("credential: expected the passkey's answer (a JSON object)")
    return credential


@router.post("/api/sign-in/passkey/options", include_in_schema=False)
def passkey_sign_in_options(
    request: Request, form: dict[str, Any] = Depends(public_form)
) -> Response:
    """A challenge for the session waiting for its second factor, to sign with a passkey."""
    services = _services(request)
    rp_id, _ = _relying_party(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    options = passkeys.sign_in_options(services.accounts, token, rp_id)
    return Response(options, media_type="application/json")


@router.post("/api/sign-in/passkey", include_in_schema=False)
def passkey_sign_in(request: Request, form: dict[str, Any] = Depends(public_form)) -> Response:
    """The passkey's signature of the challenge: the second factor."""
    services = _services(request)
    rp_id, origin = _relying_party(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    account = passkeys.passkey_second_factor(
        services.accounts, token, _credential(form), rp_id, origin, _address(request)
    )
    acc.record(
        services.accounts,
        account.username,
        "signed in",
        "POST",
        "/sign-in/passkey",
        _address(request),
        "passkey",
    )
    nxt = text(form, "next")
    return JSONResponse({"to": nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"})


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
        "chain": acc.check_access_log(services.accounts, services.election),
        "heads": acc.access_heads(services.election),
    }


@action(router, "/access-log/head")
def access_log_head(request: Request, account: Account = require(Role.STATE_ADMIN)) -> Done:
    """Record the access log's head in the election log, so that rows up to it cannot be
    removed, changed or cut off unseen."""
    services = _services(request)
    entry = acc.record_access_head(services.accounts, services.election, account)
    return Done(
        f"The access log's head is recorded in the election log (entry {entry}).",
        "/access-log",
        {"entry": entry},
    )


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
    mine = keyreq.key_requests(services.accounts, services.election, account)
    pending = [
        r
        for r in keyreq.key_requests(services.accounts, services.election)
        if r.decision is None and keyreq.may_approve(account, r)
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
    made = keyreq.request_key(_services(request).accounts, account, raw)
    return Done(
        "Your public key is waiting for approval by your clerk or the state administrator.",
        "/keys",
        {"request": made},
    )


@action(router, "/keys/{request_id}/approve")
def approve(
    request: Request,
    request_id: Number,
    account: Account = require(Role.STATE_ADMIN, Role.COUNTY_CLERK),
) -> Done:
    services = _services(request)
    entry = keyreq.decide_key(services.accounts, services.election, account, request_id, True)
    return Done(f"Key registered in the election log (entry {entry}).", "/keys", {"entry": entry})


@action(router, "/keys/{request_id}/refuse")
def refuse(
    request: Request,
    request_id: Number,
    account: Account = require(Role.STATE_ADMIN, Role.COUNTY_CLERK),
) -> Done:
    services = _services(request)
    keyreq.decide_key(services.accounts, services.election, account, request_id, False)
    return Done(f"Key request {request_id} refused.", "/keys")


# --- passkeys --------------------------------------------------------------------------


@page(router, "/passkeys", "passkeys.html")
def passkeys_page(request: Request, account: Account = require(*EVERYONE)) -> dict[str, Any]:
    """The person's passkeys, which sign them in instead of a one-time code."""
    return {"passkeys": passkeys.list_passkeys(_services(request).accounts, account)}


@router.post("/api/passkeys/options")
def passkey_options(request: Request, account: Account = require(*EVERYONE)) -> Response:
    """What the browser needs to make a passkey for this account on this site."""
    rp_id, _ = _relying_party(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    options = passkeys.registration_options(_services(request).accounts, token, account, rp_id)
    return Response(options, media_type="application/json")


@action(router, "/passkeys")
def add_passkey(
    request: Request,
    account: Account = require(*EVERYONE),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """Keep the passkey the browser made (its public key only)."""
    services = _services(request)
    rp_id, origin = _relying_party(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    passkeys.add_passkey(services.accounts, token, account, _credential(form), rp_id, origin)
    acc.record(
        services.accounts, account.username, "passkey added", "POST", "/passkeys", _address(request)
    )
    return Done(
        "Passkey added: from now on you may sign in with it instead of a one-time code.",
        "/passkeys",
    )


@action(router, "/passkeys/remove")
def remove_passkey(
    request: Request,
    account: Account = require(*EVERYONE),
    form: dict[str, Any] = Depends(fields),
) -> Done:
    """Remove one of the person's own passkeys."""
    services = _services(request)
    passkeys.remove_passkey(services.accounts, account, text(form, "credential"))
    acc.record(
        services.accounts,
        account.username,
        "passkey removed",
        "POST",
        "/passkeys/remove",
        _address(request),
    )
    return Done("Passkey removed: sign in with your one-time code or another passkey.", "/passkeys")
