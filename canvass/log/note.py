"""Signed notes, checkpoints and witness cosignatures, in the C2SP formats.

- C2SP signed-note: a UTF-8 text ending in a newline, a blank line, then one line per
  signature, ``— <key name> <base64(key ID ‖ signature)>``. An Ed25519 key's ID is the
  first 4 bytes of ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)``; its verifier key is
  written ``<name>+<hex key ID>+<base64(0x01 ‖ public key)>``.
- C2SP tlog-checkpoint: the note text is the log's origin, its size in decimal and its
  base64 RFC 6962 root, one per line, then optional extension lines.
- C2SP tlog-cosignature: a witness signs ``cosignature/v1\\ntime <unix seconds>\\n`` followed
  by the checkpoint text with an Ed25519 key of type 0x04; its signature line carries
  ``key ID ‖ big-endian u64 time ‖ signature``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from canvass.errors import SignatureError, VerificationError

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
SIG_PREFIX = "\u2014 "
_NAME = re.compile(r"^[^\s+]+$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


def b64decode_strict(text: str) -> bytes:
    """Base64 that has exactly one spelling: unused bits and padding must be canonical, so
    no two different notes carry the same signature."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise binascii.Error("non-canonical base64")
    return raw


def check_key_name(name: str) -> str:
    if not _NAME.match(name):
        raise VerificationError(
            f"key name {name!r} is not usable: a key name is non-empty, with no spaces and no '+'"
        )
    return name


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """C2SP signed-note: the 4-byte ID of a key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A public key with its name, as a note verifier sees it."""

    name: str
    key_type: int
    public_key: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public_key)

    def encode(self) -> str:
        """``name+hexid+base64(type ‖ key)``."""
        blob = base64.b64encode(bytes([self.key_type]) + self.public_key).decode()
        return f"{self.name}+{self.id.hex()}+{blob}"

    @classmethod
    def decode(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise VerificationError(f"verifier key {text.strip()!r}: expected name+keyid+base64key")
        name, hex_id, blob = parts
        check_key_name(name)
        try:
            raw = b64decode_strict(blob)
        except binascii.Error:
            raise VerificationError(f"verifier key for {name!r}: key is not base64") from None
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise VerificationError(
                f"verifier key for {name!r}: expected an Ed25519 key (type 0x01 or 0x04, "
                f"32 bytes); found {len(raw)} bytes of type {raw[:1].hex() or 'none'}"
            )
        key = cls(name, raw[0], raw[1:])
        if key.id.hex() != hex_id.lower():
            raise VerificationError(
                f"verifier key for {name!r}: key ID {hex_id} does not match the key"
            )
        return key

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """A private key with its name, able to sign notes."""

    name: str
    private_key: Ed25519PrivateKey

    def verifier(self, key_type: int = ED25519) -> VerifierKey:
        raw = self.private_key.public_key().public_bytes_raw()
        return VerifierKey(self.name, key_type, raw)

    def sign_line(self, text: str) -> str:
        """A signed-note signature line over ``text``."""
        return Signature(self.name, self.verifier().id, self.private_key.sign(text.encode())).line()


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    payload: bytes
    """Everything after the key ID: the signature (and, for cosignatures, the time)."""

    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {base64.b64encode(self.key_id + self.payload).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    """The signed text, ending in a newline."""
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(raw: str, where: str = "note") -> Note:
    """Split a signed note into its text and signature lines, checking the form only."""
    split = raw.rfind("\n\n")
    if split < 0:
        raise VerificationError(f"{where}: no blank line separates the text from signatures")
    text, sig_block = raw[: split + 1], raw[split + 2 :]
    if not sig_block:
        raise VerificationError(f"{where}: the note carries no signature")
    if not sig_block.endswith("\n"):
        raise VerificationError(f"{where}: the last signature line does not end in a newline")
    sigs = []
    for n, line in enumerate(sig_block[:-1].split("\n"), start=1):
        if not line.startswith(SIG_PREFIX):
            raise VerificationError(
                f"{where}: signature line {n} does not start with '\u2014 '; found {line[:20]!r}"
            )
        name, _, blob = line[len(SIG_PREFIX) :].rpartition(" ")
        try:
            raw_sig = b64decode_strict(blob)
        except binascii.Error:
            raise VerificationError(f"{where}: signature line {n} is not base64") from None
        if len(raw_sig) < 5 or not name:
            raise VerificationError(f"{where}: signature line {n} is too short")
        sigs.append(Signature(name, raw_sig[:4], raw_sig[4:]))
    return Note(text, tuple(sigs))


def sign_note(text: str, signer: Signer) -> str:
    if not text.endswith("\n"):
        raise ValueError("a note's text ends in a newline")
    return text + "\n" + signer.sign_line(text)


def verify_note(note: Note, key: VerifierKey, where: str = "note") -> None:
    """Raise unless ``note`` carries a valid signature by ``key`` (type 0x01)."""
    for sig in note.signatures:
        if sig.name == key.name and sig.key_id == key.id:
            if len(sig.payload) != 64 or not key.verify(note.text.encode(), sig.payload):
                raise SignatureError(f"{where}: the signature by {key.name} does not verify")
            return
    raise SignatureError(f"{where}: no signature by {key.name} ({key.id.hex()})")


# --- Checkpoints ----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])


def parse_checkpoint_text(text: str, where: str = "checkpoint") -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise VerificationError(f"{where}: expected origin, size and root lines")
    origin, size, root, *ext = lines[:-1]
    if not origin:
        raise VerificationError(f"{where}: the origin line is empty")
    if not _DECIMAL.match(size):
        raise VerificationError(f"{where}: size {size!r} is not a decimal number")
    try:
        root_bytes = b64decode_strict(root)
    except binascii.Error:
        raise VerificationError(f"{where}: root {root!r} is not base64") from None
    if len(root_bytes) != 32:
        raise VerificationError(f"{where}: root has {len(root_bytes)} bytes; expected 32")
    if any(not e for e in ext):
        raise VerificationError(f"{where}: an extension line is empty")
    return Checkpoint(origin, int(size), root_bytes, tuple(ext))


def open_checkpoint(raw: str, key: VerifierKey, where: str = "checkpoint") -> Checkpoint:
    """Parse a signed checkpoint and check the log operator's signature on it."""
    note = parse_note(raw, where)
    verify_note(note, key, where)
    cp = parse_checkpoint_text(note.text, where)
    if cp.origin != key.name:
        raise SignatureError(f"{where}: origin {cp.origin!r} is not the log key's {key.name!r}")
    return cp


# --- Witness cosignatures (C2SP tlog-cosignature) ------------------------------------


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_text: str, witness: Signer, timestamp: int) -> str:
    """A witness's signature line over a checkpoint."""
    key = witness.verifier(COSIGNATURE_V1)
    sig = witness.private_key.sign(cosignature_message(checkpoint_text, timestamp))
    return Signature(key.name, key.id, struct.pack(">Q", timestamp) + sig).line()


def verify_cosignature(note: Note, witness: VerifierKey, where: str = "checkpoint") -> int:
    """Check a witness's cosignature on a checkpoint note; return its timestamp."""
    if witness.key_type != COSIGNATURE_V1:
        raise SignatureError(f"{where}: {witness.name} is not a cosignature (0x04) key")
    for sig in note.signatures:
        if sig.name == witness.name and sig.key_id == witness.id:
            if len(sig.payload) != 72:
                raise SignatureError(f"{where}: the cosignature by {witness.name} is malformed")
            (timestamp,) = struct.unpack(">Q", sig.payload[:8])
            if not witness.verify(cosignature_message(note.text, timestamp), sig.payload[8:]):
                raise SignatureError(f"{where}: the cosignature by {witness.name} does not verify")
            return int(timestamp)
    raise SignatureError(f"{where}: no cosignature by {witness.name}")
