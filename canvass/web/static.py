"""Serving a published bundle over HTTP, as any static web server would: election-night
traffic reads files and never touches the database."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _Handler(SimpleHTTPRequestHandler):
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


def server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """An HTTP server for the bundle at ``root`` (port 0: any free port)."""
    handler = functools.partial(_Handler, directory=str(root))
    return ThreadingHTTPServer((host, port), handler)
