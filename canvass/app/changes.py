"""Changes made under a key of the requester's choosing (HTTP's ``Idempotency-Key``): the
same request made again, after its answer was lost, is answered with the first answer
and never made twice (see :mod:`canvass.store.changes`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from canvass.app.actor import Actor
from canvass.errors import StoreError
from canvass.store import changes
from canvass.store.changes import ChangeMade, Key, KeyReused, Made
from canvass.store.election import ElectionDirectory

__all__ = ["ChangeMade", "Key", "KeyReused", "Made", "answered", "keyed", "made", "request_sha256"]

KEY_CHARACTERS = frozenset(chr(c) for c in range(0x21, 0x7F))
"""A key is 1 to 255 visible ASCII characters (a UUID, say)."""


def request_sha256(method: str, path: str, fields: dict[str, Any]) -> str:
    """What a request asks for, as one SHA-256: a key names one request (files by name)."""

    def plain(value: object) -> object:
        return getattr(value, "filename", None) or type(value).__name__

    what = json.dumps([method, path, fields], sort_keys=True, default=plain)
    return hashlib.sha256(what.encode()).hexdigest()


@contextmanager
def keyed(actor: Actor, key: str, request: str) -> Iterator[Key]:
    """Make the changes of the code run inside under ``key`` (``request``: its
    :func:`request_sha256`); a change made already raises :class:`ChangeMade`."""
    if not 0 < len(key) <= 255 or not set(key) <= KEY_CHARACTERS:
        raise StoreError("an Idempotency-Key is 1 to 255 visible ASCII characters")
    with changes.keyed(actor.name, key, request) as found:
        yield found


def made(election: ElectionDirectory, key: Key) -> Made | None:
    """The change made already under ``key``, if any (:class:`KeyReused` if the key
    named another request)."""
    return changes.made(election.engine, key)


def answered(election: ElectionDirectory, key: Key, answer: dict[str, Any]) -> None:
    """Keep the answer given, for the same request made again."""
    changes.answered(election.engine, key, answer)
