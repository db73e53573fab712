"""How published files are written: one JSON form for every document, and the paths a
bundle may hold."""

from __future__ import annotations

import json
from typing import Any


def json_bytes(doc: Any) -> bytes:
    """A published JSON document: indented for people, keys in the order the renderer
    wrote them, UTF-8, ending in a newline. The same document always gives the same
    bytes."""
    return (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode()


def inside(path: str) -> str:
    """A path the bundle holds, refused unless it stays inside the bundle."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\\" in path:
        raise ValueError(f"{path!r}: not a path inside the bundle")
    return path
