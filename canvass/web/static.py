"""Serving a published bundle over HTTP, as any static web server would: election-night
traffic reads files and never touches the database.

This is the demo's server and a fallback; a real deployment puts the bundle behind nginx
or a CDN (``docs/nginx.conf``, see ``docs/verify.md``). Still, it must not drop the public
when many come at once: one thread per connection, connections kept alive (HTTP/1.1),
and a listen backlog of :data:`BACKLOG` rather than the standard library's 5, which under
50 clients at once refused connections and left browsers retrying for up to a minute.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BACKLOG = 1024
"""Connections the kernel holds while every thread is busy (Linux caps it at
``net.core.somaxconn``, 4096 by default)."""


class _Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a page and its files over one connection
    extensions_map = {  # noqa: RUF012 (the base class declares it a plain dict)
        **SimpleHTTPRequestHandler.extensions_map,
        ".json": "application/json",
        ".csv": "text/csv; charset=utf-8",
        ".txt": "text/plain; charset=utf-8",
        "": "application/octet-stream",
    }

    def guess_type(self, path: Any) -> str:
        if str(path).endswith("/checkpoint"):
            return "text/plain; charset=utf-8"
        return super().guess_type(path)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class BundleServer(ThreadingHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True  # a client that never hangs up does not keep the server alive


def server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> BundleServer:
    """An HTTP server for the bundle at ``root`` (port 0: any free port)."""
    handler = functools.partial(_Handler, directory=str(root))
    return BundleServer((host, port), handler)
