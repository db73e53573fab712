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

from canvass.errors import SignatureError
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
