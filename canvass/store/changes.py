"""Changes made under a key of the requester's choosing, so that a request made again
after its answer was lost is answered, never made twice (HTTP's ``Idempotency-Key``).

While :func:`keyed` is in effect, the first write transaction of the election
(:meth:`~canvass.store.election.ElectionDirectory.writing`) looks for the key once it
holds the log's lock: found, the change was made already and :class:`ChangeMade` is
raised before anything is changed; not found, the key is recorded with the entries the
transaction appends, in that same transaction, so the key is there exactly when the
change is. The answer given is stored beside it afterwards (:func:`answered`); a change
whose process died between its commit and that has its entries but no answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from canvass.errors import StoreError
from canvass.store import db
from canvass.store import schema as s


@dataclass
class Key:
    actor: str
    key: str
    request_sha256: str
    """What the request asked for (its path and fields): a key names one request."""
    recorded: bool = False
    entries: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Made:
    """A change made already under a key: its entries, and the answer given, if stored."""

    entries: list[int]
    answer: dict[str, Any] | None


class ChangeMade(StoreError):
    """The change was made already under this key (see :class:`Made`)."""

    def __init__(self, made: Made) -> None:
        super().__init__(f"this change was made already (log entries {made.entries})")
        self.made = made


class KeyReused(StoreError):
    """The key was used already for another request."""


CURRENT: ContextVar[Key | None] = ContextVar("canvass_change_key", default=None)


@contextmanager
def keyed(actor: str, key: str, request_sha256: str) -> Iterator[Key]:
    """Make the changes of the code run inside under ``key``."""
    found = Key(actor, key, request_sha256)
    token = CURRENT.set(found)
    try:
        yield found
    finally:
        CURRENT.reset(token)


def _made(conn: Connection, key: Key) -> Made | None:
    c = s.change_key.c
    row = conn.execute(
        select(c.request_sha256, c.entries, c.answer).where(
            (c.actor == key.actor) & (c.key == key.key)
        )
    ).first()
    if row is None:
        return None
    if row.request_sha256 != key.request_sha256:
        raise KeyReused(
            f"the key {key.key!r} was used already for another request; "
            "a new change needs a new key"
        )
    return Made(json.loads(row.entries), json.loads(row.answer) if row.answer else None)


def made(engine: Engine, key: Key) -> Made | None:
    """The change made already under ``key``, if any."""
    with db.read_transaction(engine) as conn:
        return _made(conn, key)


def check(conn: Connection) -> Key | None:
    """In a write transaction holding the log's lock: raise :class:`ChangeMade` if the
    change being made under a key was made already; the key to record, if any."""
    key = CURRENT.get()
    if key is None or key.recorded:
        return None
    found = _made(conn, key)
    if found is not None:
        raise ChangeMade(found)
    return key


def record(conn: Connection, key: Key, entries: list[int]) -> None:
    """Record ``key`` with the entries its change appended (in their transaction)."""
    conn.execute(
        insert(s.change_key).values(
            actor=key.actor,
            key=key.key,
            request_sha256=key.request_sha256,
            entries=json.dumps(entries),
        )
    )
    key.entries = entries


def answered(engine: Engine, key: Key, answer: dict[str, Any]) -> None:
    """Store the answer given to the change made under ``key`` (once recorded)."""
    if not key.recorded:
        return
    c = s.change_key.c
    with db.write_transaction(engine) as conn:
        conn.execute(
            update(s.change_key)
            .where((c.actor == key.actor) & (c.key == key.key))
            .values(answer=json.dumps(answer, sort_keys=True))
        )
