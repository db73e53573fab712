"""Entries of the election log: small canonical JSON documents (RFC 8785).

An entry names what happened (``type``), who did it (``actor``), when (``time``, UTC,
RFC 3339 with microseconds), every artifact it rests on by SHA-256, and the facts of the
change itself (``data``). Its bytes are the RFC 8785 canonical form, so the same entry
always hashes the same, whichever program wrote it; an entry that is not canonical is
refused when read back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import rfc8785

from canvass.errors import VerificationError

FORMAT_VERSION = 1
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact an entry rests on."""

    sha256: str
    """Lower-case hex SHA-256 of the artifact's bytes: also its name in the store."""
    name: str
    """The file name it arrived under, for people; not part of its identity."""
    media_type: str
    """What the bytes are, e.g. ``application/yaml``."""
    size: int
    """Length in bytes."""

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "name": self.name,
            "media_type": self.media_type,
            "size": self.size,
        }


@dataclass(frozen=True)
class Entry:
    """One log entry, before or after it is written."""

    type: str
    """What happened, dotted: ``election.defined``, ``key.registered``, ..."""
    actor: str
    """Who did it: a person's registered key name, or ``operator`` for the log itself."""
    time: str
    """When, as RFC 3339 UTC with microseconds."""
    data: dict[str, Any] = field(default_factory=dict)
    """The facts of the change."""
    artifacts: tuple[ArtifactRef, ...] = ()
    """The artifacts the change rests on."""

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "type": self.type,
            "actor": self.actor,
            "time": self.time,
            "artifacts": [a.to_json() for a in self.artifacts],
            "data": self.data,
        }

    def canonical(self) -> bytes:
        """The exact bytes that go into the log (RFC 8785)."""
        return bytes(rfc8785.dumps(self.to_json()))


def now() -> str:
    """The current time in the form entries use."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_entry(
    type: str,
    actor: str,
    data: dict[str, Any] | None = None,
    artifacts: tuple[ArtifactRef, ...] = (),
    time: str | None = None,
) -> Entry:
    return Entry(type=type, actor=actor, time=time or now(), data=data or {}, artifacts=artifacts)


def parse_entry(raw: bytes, where: str = "entry") -> Entry:
    """Read an entry's bytes back, refusing anything that is not a canonical entry."""
    import json

    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise VerificationError(f"{where}: not JSON ({e})") from None
    if not isinstance(doc, dict):
        raise VerificationError(f"{where}: expected a JSON object; found {type(doc).__name__}")
    if rfc8785.dumps(doc) != raw:
        raise VerificationError(f"{where}: not in RFC 8785 canonical form")
    expected = {"v", "type", "actor", "time", "artifacts", "data"}
    if set(doc) != expected:
        raise VerificationError(f"{where}: expected fields {sorted(expected)}; found {sorted(doc)}")
    if doc["v"] != FORMAT_VERSION:
        raise VerificationError(f"{where}: entry format {doc['v']!r} is not {FORMAT_VERSION}")
    refs = []
    for i, a in enumerate(doc["artifacts"]):
        if not (isinstance(a, dict) and isinstance(a.get("sha256"), str)):
            raise VerificationError(f"{where}: artifacts[{i}] has no sha256")
        if not _SHA256.match(a["sha256"]):
            raise VerificationError(
                f"{where}: artifacts[{i}].sha256 is {a['sha256']!r}; expected 64 hex digits"
            )
        refs.append(ArtifactRef(a["sha256"], a["name"], a["media_type"], a["size"]))
    return Entry(doc["type"], doc["actor"], doc["time"], doc["data"], tuple(refs))
