"""Live updates: the election log's size as server-sent events (``GET /api/live/events``).

A page that shows something the log decides (a board meeting, a county's or the state's
dashboard) listens here and learns at once that the log has grown: the meeting shows the
new motion or vote, a dashboard says that something changed and offers to show it (a
dashboard holds forms, which a reload would empty). Each server process reads the log's
size at most once a second, however many pages listen; a stream ends after
:data:`STREAM_SECONDS` and the browser's EventSource opens it again, so no connection is
held for ever. Without EventSource the page asks ``/api/live/size`` every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from canvass.app.accounts import Account
from canvass.app.elections import size
from canvass.web.access import EVERYONE, require

router = APIRouter()
STREAM_SECONDS = 300
HEARTBEAT_SECONDS = 15


class LogSize:
    """The log's size, read at most once a second for the whole process."""

    def __init__(self) -> None:
        self.size = -1
        self.read_at = 0.0
        self.lock = asyncio.Lock()

    async def now(self, election: Any) -> int:
        async with self.lock:
            if time.monotonic() - self.read_at >= 1.0:
                self.size = await run_in_threadpool(size, election)
                self.read_at = time.monotonic()
            return self.size


def _log_size(request: Request) -> LogSize:
    found = getattr(request.app.state, "log_size", None)
    if found is None:
        found = request.app.state.log_size = LogSize()
    return found


async def _events(request: Request, since: int | None) -> AsyncIterator[str]:
    watched = _log_size(request)
    election = request.app.state.services.election
    started = last_sent = time.monotonic()
    yield "retry: 2000\n\n"
    while time.monotonic() - started < STREAM_SECONDS:
        if await request.is_disconnected():
            return
        current = await watched.now(election)
        if current != since:
            since = current
            last_sent = time.monotonic()
            yield f"event: log\ndata: {current}\n\n"
        elif time.monotonic() - last_sent >= HEARTBEAT_SECONDS:
            last_sent = time.monotonic()
            yield ": still here\n\n"
        await asyncio.sleep(1.0)


@router.get("/api/live/events")
async def log_events(
    request: Request, since: int | None = None, account: Account = require(*EVERYONE)
) -> StreamingResponse:
    """The log's size now (unless it is ``since``) and each time it changes."""
    return StreamingResponse(
        _events(request, since),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/api/live/size")
async def log_size(request: Request, account: Account = require(*EVERYONE)) -> dict[str, int]:
    """How many entries the log holds (for pages without EventSource)."""
    return {"log_size": await _log_size(request).now(request.app.state.services.election)}
