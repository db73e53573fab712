"""Ed25519 keys of the people and services that sign in Canvass.

A private key file is private to its owner (mode 0600) and looks like::

    canvass-key v1
    name: jane.doe
    vkey: jane.doe+1a2b3c4d+AX...
    -----BEGIN ENCRYPTED PRIVATE KEY-----
    ...

The PEM block is PKCS#8, encrypted with the owner's passphrase when one is given
(``cryptography``'s best available encryption). The public half is written beside it as
``FILE.pub``, one line: the signed-note verifier key, which is what gets registered in an
election. Canvass never holds a person's private key; the log operator's key is the one
the election directory keeps, because the log itself signs its checkpoints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from canvass.errors import KeyFileError, VerificationError
from canvass.guard.text import read_file

if TYPE_CHECKING:  # imported where used: the command line starts without them
    from canvass.log.note import Signer, VerifierKey

HEADER = "canvass-key v1"
PASSPHRASE_ENV = "CANVASS_PASSPHRASE"


def new_signer(name: str) -> Signer:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from canvass.log.note import Signer, check_key_name

    try:
        check_key_name(name)
    except VerificationError as e:
        raise KeyFileError(str(e)) from None
    return Signer(name, Ed25519PrivateKey.generate())


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def write_key(signer: Signer, path: Path, passphrase: str | None = None) -> Path:
    """Write the private key file (mode 0600, never over an existing file) and ``.pub``."""
    from cryptography.hazmat.primitives import serialization

    pub_path = path.with_name(path.name + ".pub")
    for p in (path, pub_path):
        if p.exists():
            raise KeyFileError(f"{p}: already exists; a key file is never overwritten")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    pem = signer.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    vkey = signer.verifier().encode()
    head = f"{HEADER}\nname: {signer.name}\nvkey: {vkey}\n".encode()
    _write_private(path, head + pem)
    pub_path.write_text(vkey + "\n")
    return pub_path


def read_key(path: Path, passphrase: str | None = None) -> Signer:
    """Read a private key file, decrypting it with ``passphrase`` if it is encrypted."""
    from cryptography.exceptions import InternalError, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from canvass.guard.documents import one_line
    from canvass.guard.key_derivation import check_key_derivation
    from canvass.log.note import Signer

    raw = read_file(path, KeyFileError)
    head, sep, pem = raw.partition(b"-----BEGIN")
    lines = head.decode("utf-8", "replace").splitlines()
    if not sep or not lines or lines[0] != HEADER:
        raise KeyFileError(f"{path}: not a Canvass key file (expected a first line {HEADER!r})")
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    name = fields.get("name", "")
    encrypted = b"ENCRYPTED" in pem[:40]
    if encrypted and not passphrase:
        raise KeyFileError(
            f"{path}: the key is encrypted; give its passphrase "
            f"(--passphrase, or the {PASSPHRASE_ENV} environment variable)"
        )
    if encrypted or b"ENCRYPTED" in pem:
        check_key_derivation(sep + pem, str(path))
    try:
        key = serialization.load_pem_private_key(
            sep + pem, passphrase.encode() if encrypted and passphrase else None
        )
    except UnsupportedAlgorithm as e:
        # A key of another kind: an elliptic curve the library does not know, a curve given
        # by its parameters. Named, never mistaken for damage.
        raise KeyFileError(
            f"{path}: expected an Ed25519 key; found a key of another kind ({one_line(str(e))})"
        ) from None
    except (ValueError, TypeError):
        what = "the passphrase is wrong" if encrypted else "the PEM block is damaged"
        raise KeyFileError(f"{path}: cannot open the private key: {what}") from None
    except InternalError as e:  # OpenSSL refusing, e.g. memory for a derivation
        raise KeyFileError(
            f"{path}: cannot open the private key: the library refused it ({one_line(str(e))})"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: expected an Ed25519 key; found {_kind(key)}")
    signer = Signer(name, key)
    if fields.get("vkey") != signer.verifier().encode():
        raise KeyFileError(f"{path}: the vkey line does not belong to the private key")
    return signer


def _kind(key: object) -> str:
    curve = getattr(key, "curve", None)
    if curve is not None:
        return f"an elliptic-curve (ECDSA) key on the curve {curve.name}"
    names = {
        "RSAPrivateKey": "an RSA key",
        "DSAPrivateKey": "a DSA key",
        "Ed448PrivateKey": "an Ed448 key",
        "X25519PrivateKey": "an X25519 key (for key agreement, not signatures)",
        "X448PrivateKey": "an X448 key (for key agreement, not signatures)",
    }
    kind = type(key).__name__.lstrip("_")
    return names.get(kind, f"a key of type {kind}")


def read_public_key(path: Path) -> VerifierKey:
    """Read a ``.pub`` file (or any file whose first line is a verifier key)."""
    from canvass.log.note import VerifierKey

    try:
        line = read_file(path, KeyFileError).decode("utf-8").strip().splitlines()[0]
    except (IndexError, UnicodeDecodeError):
        raise KeyFileError(f"{path}: cannot read a public key from it") from None
    try:
        return VerifierKey.decode(line)
    except VerificationError as e:
        raise KeyFileError(f"{path}: {e}") from None
