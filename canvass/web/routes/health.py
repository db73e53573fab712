"""Health and readiness for a load balancer or an orchestrator: ``/healthz`` answers while
the process serves; ``/readyz`` only while the election's database answers and its schema
is the one this Canvass needs (a server started before ``canvass migrate`` finished, or
cut off from the database, is taken out of rotation, not sent requests that would fail).
Neither needs signing in, and neither says more than ready or not and why."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from canvass.app.elections import readiness

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, Any]:
    return {"live": True}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    problem = readiness(request.app.state.services.election)
    if problem is None:
        return JSONResponse({"ready": True})
    return JSONResponse({"ready": False, "problem": problem}, status_code=503)
