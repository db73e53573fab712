"""Pages and their JSON twins, actions, and the one error handler.

A page is a function that returns data; :func:`page` serves it as HTML at its path
(rendered with its Jinja2 template) and as JSON at ``/api`` + path, so every screen has
the API behind it (published in the OpenAPI document). An action (a form's POST) returns
a :class:`Done`; :func:`action` answers a browser's form with a redirect (303) to the page
to see next and an API client with JSON. Errors the person can act on come back as the
page "it did not work" with the message, or as ``{"error": message}`` under ``/api``
(datasette's ``handle_exception``: one handler, HTML or JSON by route).
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from canvass.app import changes
from canvass.app.accounts import AccountError, TooManyAttempts
from canvass.app.actor import Actor
from canvass.app.elections import DATABASE_ERRORS, contended, unavailable
from canvass.errors import CanvassError
from canvass.web.access import SESSION_COOKIE, Refused

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "canvass_done"
log = logging.getLogger("canvass.web")

templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["short"] = lambda sha: str(sha or "")[:12]
templates.filters["quote"] = lambda text: urllib.parse.quote(str(text), safe="")


@dataclass(frozen=True)
class Done:
    """What an action did: a sentence for the person, the page to show next, and data for
    an API client."""

    message: str
    to: str
    data: dict[str, Any] = field(default_factory=dict)


def render(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    session = getattr(request.state, "session", None)
    flash = request.cookies.get(FLASH_COOKIE)
    context = {
        **data,
        "request": request,
        "session": session,
        "account": session.account if session else None,
        "csrf": session.csrf if session else "",
        "flash": urllib.parse.unquote(flash) if flash else None,
    }
    body = templates.get_template(template).render(context)
    response = HTMLResponse(body, status_code=status)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def page(router: APIRouter, path: str, template: str) -> Callable[[Any], Any]:
    """Serve the data function as HTML at ``path`` and as JSON at ``/api`` + ``path``."""

    def register(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        router.add_api_route("/api" + path, fn, methods=["GET"], response_model=None)

        @functools.wraps(fn)
        def html(*args: Any, **kwargs: Any) -> Response:
            return render(kwargs["request"], template, fn(*args, **kwargs))

        router.add_api_route(
            path, html, methods=["GET"], include_in_schema=False, response_model=None
        )
        return fn

    return register


def action(router: APIRouter, path: str) -> Callable[[Any], Any]:
    """Serve the action at ``path`` for forms (303 to the next page) and at ``/api`` +
    ``path`` for API clients (JSON)."""

    def register(fn: Callable[..., Done]) -> Callable[..., Done]:
        @functools.wraps(fn)
        def api(*args: Any, **kwargs: Any) -> Response:
            request, account = kwargs["request"], kwargs.get("account")
            key = request.headers.get(IDEMPOTENCY_KEY)
            if key is None or account is None:
                done = fn(*args, **kwargs)
                return JSONResponse(jsonable_encoder({"message": done.message, **done.data}))
            return _keyed(fn, args, kwargs, request, account.actor, key)

        @functools.wraps(fn)
        def form(*args: Any, **kwargs: Any) -> Response:
            done = fn(*args, **kwargs)
            response = RedirectResponse(done.to, status_code=303)
            response.set_cookie(
                FLASH_COOKIE,
                urllib.parse.quote(done.message),
                httponly=True,
                samesite="strict",
                secure=kwargs["request"].app.state.services.settings.secure_cookies,
            )
            return response

        router.add_api_route("/api" + path, api, methods=["POST"], response_model=None)
        router.add_api_route(
            path, form, methods=["POST"], include_in_schema=False, response_model=None
        )
        return fn

    return register


IDEMPOTENCY_KEY = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"


def _keyed(
    fn: Callable[..., Done],
    args: Any,
    kwargs: dict[str, Any],
    request: Request,
    actor: Actor,
    key: str,
) -> Response:
    """An API client's action under its ``Idempotency-Key``: made once; the same request
    made again is answered as the first was (with ``Idempotent-Replayed: true``), even
    while the first is still being made (the second waits for the log's lock, then finds
    the key) or when the first's answer was lost."""
    election = request.app.state.services.election
    fields = kwargs.get("form") or {}
    asked = changes.request_sha256(request.method, request.url.path, fields)
    try:
        with changes.keyed(actor, key, asked) as keyed:
            found = changes.made(election, keyed)
            if found is None:
                done = fn(*args, **kwargs)
                answer = jsonable_encoder({"message": done.message, **done.data})
                changes.answered(election, keyed, answer)
                return JSONResponse(answer)
    except changes.ChangeMade as e:
        found = e.made
    except changes.KeyReused as e:
        return _error(request, 422, str(e))
    answer = found.answer or {
        "message": f"This change was made already (log entries {found.entries}); "
        "it was not made again.",
        "entries": found.entries,
    }
    return JSONResponse(answer, headers={REPLAYED: "true"})


SERVER_PATH = re.compile(
    r"(?<![\w.:/])/(?:tmp|home|root|usr|var|work|srv|opt|etc|mnt|data|proc)(?:/[^\s'\",;)]*)?"
)
"""An absolute path on the server that no named folder below accounts for."""


def scrub(request: Request, message: str) -> str:
    """The message with the server's folders named in words: a browser is not told where
    the server keeps its files."""
    settings = request.app.state.services.settings
    folders = [
        (settings.publish_dir, "the publishing folder"),
        (settings.upload_dir, "the upload folder"),
        (settings.election, "the election's folder"),
        (Path(tempfile.gettempdir()), "a temporary folder"),
    ]
    for path, words in folders:
        for form in {str(path), str(path.resolve())}:
            message = message.replace(form, words)
    return SERVER_PATH.sub("a folder on the server", message)


def _error(request: Request, status: int, message: str) -> Response:
    message = scrub(request, message)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    if status == 401 and request.method in ("GET", "HEAD"):
        return RedirectResponse(
            "/sign-in?next=" + urllib.parse.quote(request.url.path), status_code=303
        )
    return render(request, "error.html", {"status": status, "message": message}, status)


def install_error_handler(app: FastAPI) -> None:
    async def refused(request: Request, e: Exception) -> Response:
        assert isinstance(e, Refused)
        return _error(request, e.status, str(e))

    async def canvass_error(request: Request, e: Exception) -> Response:
        status = 429 if isinstance(e, TooManyAttempts) else 400
        if isinstance(e, AccountError) and str(e).startswith("sign in"):
            status = 401
        return _error(request, status, str(e))

    async def http_error(request: Request, e: Exception) -> Response:
        assert isinstance(e, HTTPException)
        messages = {404: "there is no such page", 405: "this page does not take that request"}
        return _error(request, e.status_code, messages.get(e.status_code, str(e.detail)))

    async def invalid_request(request: Request, e: Exception) -> Response:
        assert isinstance(e, RequestValidationError)
        problems = "; ".join(
            f"{' '.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in e.errors()
        )
        return _error(request, 422, f"the request is not one this page takes ({problems})")

    async def server_error(request: Request, e: Exception) -> Response:
        busy = unavailable(e)
        if busy is not None:  # the database restarting: the request may be made again
            log.warning("database unavailable at %s %s: %s", request.method, request.url.path, e)
            response = _error(request, 503, busy)
            response.headers["Retry-After"] = "5"
            return response
        refused = contended(e)
        if refused is not None:  # others' changes at the same moment: nothing recorded
            kind, message = refused
            log.warning("%s at %s %s: %s", kind, request.method, request.url.path, e)
            response = _error(request, 409 if kind == "conflict" else 503, message)
            response.headers["Retry-After"] = "1" if kind == "conflict" else "2"
            return response
        # The details are for whoever runs the server, in its log; the person gets a
        # reference to quote, never a traceback or the database's words.
        reference = secrets.token_hex(4)
        log.error("error %s at %s %s", reference, request.method, request.url.path, exc_info=e)
        return _error(
            request,
            500,
            f"the server could not do this (error {reference}, recorded for whoever runs "
            "the server); try again, and if it happens again, tell them the error's number",
        )

    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(CanvassError, canvass_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    # The database's errors answered here, not by the catch-all (Starlette re-raises what
    # that one handles, and the server then drops the client's kept-alive connection: the
    # client told to try again would find it reset).
    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, server_error)
    app.add_exception_handler(Exception, server_error)


def session_cookie(response: Response, token: str, secure: bool) -> None:
    """The session's cookie: HTTP-only (no script reads it), SameSite=Strict (no other
    site's page sends it), Secure (only over HTTPS) unless configured off for plain HTTP
    on a development machine."""
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/"
    )
