"""Who may do what, declared on each route.

Every route of the officials' application takes its signed-in account through
:func:`require`: the roles that may use it and, for a role that works in one place (a
county clerk, a board member, an audit-board member), which path parameter names that
place. Because it is declared on the route, a test enumerates every route and every role
and proves the refusals (Arlo's ``restrict_access``, as a FastAPI dependency).

A state-changing request (anything but GET and HEAD) must also carry the session's CSRF
token (a form's ``csrf`` field or the ``X-CSRF-Token`` header): a synchronizer token, so a
page of another site cannot make a signed-in official's browser change anything (OWASP
CSRF Prevention Cheat Sheet). Every refusal is written to the access log.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from canvass.app import accounts as acc
from canvass.app.accounts import Account, Role
from canvass.errors import CanvassError
from canvass.guard.documents import json_value

SESSION_COOKIE = "canvass_session"
SAFE_METHODS = ("GET", "HEAD")


class Refused(Exception):
    """A request refused before anything ran: ``status`` 401 (nobody signed in) or 403."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Access:
    """The dependency :func:`require` declares on a route."""

    roles: tuple[Role, ...]
    """Who may use the route; empty: anyone signed in."""
    scope: str | None = None
    """The path parameter naming the place (``county``, ``board``) that a scoped role's
    account must work in."""

    def allows(self, account: Account, params: dict[str, Any]) -> bool:
        if self.roles and account.role not in self.roles:
            return False
        if self.scope is None:
            return True
        place = str(params.get(self.scope, ""))
        if account.role == Role.STATE_OFFICIAL:  # sits on the state board, not a county's
            return self.scope != "board" or place == "state"
        if account.role == Role.COUNTY_CLERK:
            return place in (account.scope, f"county:{account.scope}")
        if account.role == Role.BOARD_MEMBER:
            return place == account.scope or f"county:{place}" == account.scope
        if account.role == Role.AUDIT_BOARD_MEMBER:
            return place == account.county
        return True

    async def __call__(self, request: Request) -> Account:
        services = request.app.state.services
        token = request.cookies.get(SESSION_COOKIE, "")
        session = await run_in_threadpool(acc.session, services.accounts, token) if token else None
        if session is None:
            await _refuse(request, "", 401, "sign in first")
        assert session is not None
        request.state.session = session
        if request.method not in SAFE_METHODS:
            given = request.headers.get("x-csrf-token") or str(
                (await fields(request)).get("csrf", "")
            )
            if not hmac.compare_digest(given.encode(), session.csrf.encode()):
                await _refuse(
                    request,
                    session.account.username,
                    403,
                    "the form is out of date or came from another site (CSRF token missing "
                    "or wrong); reload the page and try again",
                )
        if not self.allows(session.account, request.path_params):
            await _refuse(
                request,
                session.account.username,
                403,
                f"{_a(session.account.role)} "
                f"{'of ' + session.account.scope + ' ' if session.account.scope else ''}"
                "may not do this",
            )
        return session.account


def _a(role: str) -> str:
    return ("an " if role[0] in "aeiou" else "a ") + role


async def _refuse(request: Request, username: str, status: int, message: str) -> None:
    services = request.app.state.services
    address = request.client.host if request.client else ""
    await run_in_threadpool(
        acc.record,
        services.accounts,
        username,
        "refused",
        request.method,
        request.url.path,
        address,
        message,
    )
    raise Refused(status, message)


def require(*roles: Role, scope: str | None = None) -> Any:
    """Declare on a route who may use it: ``account: Account = require(Role.X, ...)``."""
    return Depends(Access(tuple(roles), scope))


EVERYONE: tuple[Role, ...] = ()


async def fields(request: Request) -> dict[str, Any]:
    """A request's fields, from a form (files included, streamed to disk by the parser) or
    a JSON object; read once and kept on the request."""
    kept = getattr(request.state, "fields", None)
    if kept is not None:
        return kept  # type: ignore[no-any-return]
    found: dict[str, Any] = {}
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/json"):
        try:
            body = json_value(await _body(request) or b"{}", "the request body")
        except CanvassError as e:
            raise Refused(400, str(e)) from None
        if not isinstance(body, dict):
            raise Refused(400, "the request body is not a JSON object")
        found = body
    elif kind.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form: FormData = await request.form(max_files=1000, max_fields=1000)
        for key in form:
            values = form.getlist(key)
            found[key] = values if len(values) > 1 or key == "files" else values[0]
    request.state.fields = found
    return found


FORM_COOKIE = "canvass_form"


def form_token(request: Request) -> str:
    """The token of the forms shown before anyone is signed in (sign-in, one-time code,
    invitation): kept in a SameSite cookie and repeated in the form (double submit), so
    another site cannot post them with this browser's cookies."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)


async def public_form(request: Request) -> dict[str, Any]:
    """The fields of a form posted before signing in, once its token is checked."""
    found = await fields(request)
    expected = request.cookies.get(FORM_COOKIE, "")
    given = str(found.get("csrf", ""))
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        await _refuse(
            request,
            str(found.get("username", "")),
            403,
            "the form is out of date or came from another site (CSRF token missing or "
            "wrong); reload the page and try again",
        )
    return found


MAX_JSON_BYTES = 16 * 2**20
"""A JSON request body's bytes at most: the largest an action takes (a certificate to sign,
a board's statement) is a few kilobytes; files come as uploads, spooled to disk."""


async def _body(request: Request) -> bytes:
    """The request's body, read no further than :data:`MAX_JSON_BYTES`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise Refused(413, _too_large(int(declared)))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BYTES:
            raise Refused(413, _too_large(len(body)))
    return bytes(body)


def _too_large(size: int) -> str:
    return (
        f"the request body: expected JSON of at most {MAX_JSON_BYTES:,} bytes; found "
        f"{'more' if size > MAX_JSON_BYTES else size}; send files as uploads"
    )


Number = Annotated[int, Path(ge=0, le=2**63 - 1)]
"""A whole number in a page's path (a log entry, a round, a motion, a key request): what
the database stores, so a number past 64 bits is refused as the request's own mistake."""


Sha256 = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]
"""A SHA-256 in a page's path (a certificate), in lower-case hex: anything else is the
request's own mistake, refused before any file is looked for."""


def text(form: dict[str, Any], name: str) -> str:
    """A form's text field (empty when absent, or when it is a file)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def texts(form: dict[str, Any], name: str) -> list[str]:
    """A form's repeated text field (checkboxes), without the empty ones."""
    value = form.get(name, [])
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v]
