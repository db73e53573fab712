"""The officials' application: an ASGI app (FastAPI) over the application layer.

:func:`create_app` builds it from :class:`~canvass.web.settings.Settings`; the routers in
:mod:`canvass.web.routes` are thin (parse, call :mod:`canvass.app`, render). Serve it
with any ASGI server, e.g. ``uvicorn --factory canvass.web.app:from_environment``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from canvass.app import Election
from canvass.app.accounts import Accounts
from canvass.app.elections import open_election
from canvass.app.key_requests import settle_key_requests
from canvass.web.render import install_error_handler
from canvass.web.routes import ROUTERS
from canvass.web.settings import Settings

ASSETS = Path(__file__).parent / "assets"


@dataclass
class Services:
    """What every request works with, opened once per process."""

    settings: Settings
    accounts: Accounts
    election: Election

    def close(self) -> None:
        """Let go of both databases: every pooled connection closed (a later request
        opens new ones)."""
        self.election.close()
        self.accounts.engine.dispose()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.services.close()


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="Canvass: the officials' application",
        summary="Every page's data as JSON under /api; every change as a POST under /api.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=_lifespan,
    )
    services = Services(
        settings,
        Accounts.open(settings.accounts_url, settings.password_hash),
        open_election(settings.election),
    )
    settle_key_requests(services.accounts, services.election)
    app.state.services = services
    install_error_handler(app)
    app.middleware("http")(_security_headers)
    app.mount("/assets", StaticFiles(directory=ASSETS), name="assets")
    for router in ROUTERS:
        app.include_router(router)
    return app


SECURITY_HEADERS = {
    # Scripts, styles and forms from this site only: no inline script, nothing framed.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    if request.url.path != "/api/docs":  # the OpenAPI browser loads its own scripts
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
    if not request.url.path.startswith("/assets/"):  # pages hold what a session may see
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def route_table() -> list[APIRoute]:
    """Every route of the application, with its declared access (the routers are
    included without prefixes, so these are the paths served)."""
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def from_environment() -> FastAPI:
    """The app configured from the environment (see :mod:`canvass.web.settings`)."""
    return create_app(Settings.from_environment())
