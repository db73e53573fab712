"""Statements people sign: a board member's vote, an official's certificate.

A statement is a small JSON object; what is signed is ``canvass statement v1`` and a
newline followed by its RFC 8785 canonical bytes, with the signer's own Ed25519 key (read
from their key file on their side). The election directory keeps only public keys, and
every signature is checked against the key registered under the signer's name before it is
written to the log; a verifier checks it again from the log alone.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import rfc8785

from canvass.errors import CanvassError, SignatureError
from canvass.log.entry import Entry
from canvass.log.note import Signer, VerifierKey

PREFIX = b"canvass statement v1\n"


def message(statement: dict[str, Any]) -> bytes:
    return PREFIX + bytes(rfc8785.dumps(statement))


def sign(signer: Signer, statement: dict[str, Any]) -> str:
    """The base64 Ed25519 signature of ``statement`` by ``signer``."""
    return base64.b64encode(signer.private_key.sign(message(statement))).decode()


def check(statement: dict[str, Any], signature: str, key: VerifierKey, who: str) -> None:
    """Raise :class:`SignatureError` unless ``signature`` is ``key``'s over ``statement``."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{who}: the signature is not base64") from None
    if not key.verify(message(statement), raw):
        raise SignatureError(
            f"{who}: the signature is not {key.name}'s over this {statement.get('statement')}"
        )


class KeyRing:
    """The keys the log registers, by name: the operator's (``log.opened``) and every
    person's (``key.registered``) with their role. Each fold that checks signatures keeps
    one, from the same entries."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, VerifierKey]] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.keys

    def register(self, entry: Entry) -> None:
        """Fold a ``log.opened`` or ``key.registered`` entry."""
        if entry.type == "log.opened":
            key = VerifierKey.decode(entry.data["operator"])
            self.keys[key.name] = ("operator", key)
        elif entry.type == "key.registered":
            key = VerifierKey.decode(entry.data["vkey"])
            self.keys[key.name] = (entry.data["role"], key)

    def key(self, name: str, roles: tuple[str, ...], refused: type[CanvassError]) -> VerifierKey:
        """``name``'s key, which must be registered in one of ``roles``."""
        found = self.keys.get(name)
        if found is None:
            raise refused(f"{name!r} is not a registered key")
        if found[0] not in roles:
            raise refused(
                f"{name!r} is registered as {found[0]}; this needs a key registered as "
                f"{' or '.join(roles)}"
            )
        return found[1]
