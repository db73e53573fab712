"""How much work opening an encrypted private key would take, checked before it is done.

An encrypted PKCS#8 key (RFC 5208 ``EncryptedPrivateKeyInfo``) names how its encryption key
is derived from the passphrase, and how hard that is: PBKDF2's iteration count (RFC 8018
§5.2), scrypt's cost ``N``, block size ``r`` and parallelism ``p`` (RFC 7914 §7), the older
PKCS#5 v1.5 and PKCS#12 schemes' iteration count (RFC 8018 §6.1, RFC 7292 appendix C). A
file can name 2⁶⁴ − 1 iterations: the library would derive for centuries before it could
say the passphrase is wrong. Each encrypted block is read here, with ``cryptography``'s
ASN.1 reader, and refused when its work is past the limit (overridable, like every limit,
by an environment variable); a block whose parameters cannot be read is refused as
damaged, so nothing the check cannot see reaches the derivation.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat import asn1

from canvass.errors import KeyFileError
from canvass.guard import limits

T = TypeVar("T")

_PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"
_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_SALT_AND_ITERATIONS = re.compile(
    r"1\.2\.840\.113549\.1\.5\.(1|3|4|6|10|11)|1\.2\.840\.113549\.1\.12\.1\.[1-6]"
)
"""PKCS#5 v1.5 (PBES1) and PKCS#12 password-based schemes: parameters
``SEQUENCE { salt OCTET STRING, iterations INTEGER }``."""

_BLOCK = re.compile(
    rb"-----BEGIN ENCRYPTED PRIVATE KEY-----(.*?)(?:-----END ENCRYPTED PRIVATE KEY-----|\Z)",
    re.DOTALL,
)


@asn1.sequence
class _Algorithm:
    algorithm: x509.ObjectIdentifier
    parameters: asn1.TLV


@asn1.sequence
class _Bare:
    """An algorithm identifier without parameters (PBKDF2's ``prf`` may omit them)."""

    algorithm: x509.ObjectIdentifier


@asn1.sequence
class _EncryptedPrivateKeyInfo:
    encryption_algorithm: _Algorithm
    encrypted_data: bytes


@asn1.sequence
class _Pbes2:
    key_derivation_func: _Algorithm
    encryption_scheme: _Algorithm


@asn1.sequence
class _Pbkdf2:
    salt: asn1.TLV
    iteration_count: int
    key_length: int | None
    prf: _Algorithm | None


@asn1.sequence
class _Pbkdf2BarePrf:
    salt: asn1.TLV
    iteration_count: int
    key_length: int | None
    prf: _Bare


@asn1.sequence
class _Scrypt:
    salt: bytes
    cost: int
    block_size: int
    parallelization: int
    key_length: int | None


@asn1.sequence
class _SaltAndIterations:
    salt: bytes
    iterations: int


class _Unreadable(Exception):
    pass


def check_key_derivation(pem: bytes, name: str) -> None:
    """Refuse, before anything is derived, an encrypted private key in ``pem`` whose key
    derivation is past the limits, or whose parameters cannot be read."""
    for m in _BLOCK.finditer(pem):
        try:
            der = base64.b64decode(b"".join(_body_lines(m.group(1))), validate=True)
            _check(der, name)
        except (_Unreadable, binascii.Error, ValueError, TypeError):
            raise KeyFileError(
                f"{name}: cannot open the private key: the encrypted PEM block is damaged "
                "(its key-derivation parameters cannot be read)"
            ) from None


def _body_lines(body: bytes) -> list[bytes]:
    # RFC 1421 headers ("Proc-Type: ...") are not base64; nothing Canvass writes has them.
    return [line.strip() for line in body.splitlines() if b":" not in line]


def _check(der: bytes, name: str) -> None:
    info = asn1.decode_der(_EncryptedPrivateKeyInfo, der)
    scheme = info.encryption_algorithm
    oid = scheme.algorithm.dotted_string
    if oid == _PBES2:
        kdf = _parse(scheme.parameters, _Pbes2).key_derivation_func
        kdf_oid = kdf.algorithm.dotted_string
        if kdf_oid == _PBKDF2:
            _iterations(_pbkdf2_iterations(kdf.parameters), name, "PBKDF2")
        elif kdf_oid == _SCRYPT:
            params = _parse(kdf.parameters, _Scrypt)
            _scrypt(params.cost, params.block_size, params.parallelization, name)
        # Any other derivation is one the library does not offer: it names it.
    elif _SALT_AND_ITERATIONS.fullmatch(oid):
        _iterations(_parse(scheme.parameters, _SaltAndIterations).iterations, name, oid)


def _parse(tlv: asn1.TLV, kind: type[T]) -> T:
    try:
        parsed: T = tlv.parse(kind)
        return parsed
    except ValueError:
        raise _Unreadable from None


def _pbkdf2_iterations(tlv: asn1.TLV) -> int:
    for kind in (_Pbkdf2, _Pbkdf2BarePrf):
        try:
            params = tlv.parse(kind)
        except ValueError:
            continue
        return int(params.iteration_count)
    raise _Unreadable


def _iterations(count: int, name: str, scheme: str) -> None:
    allowed = limits.value(limits.KEY_ITERATIONS)
    if count > allowed:
        raise KeyFileError(
            f"{name}: the private key's encryption asks for {count:,} iterations of {scheme}; "
            f"the limit is {allowed:,} (set {limits.KEY_ITERATIONS.variable} to raise it)"
        )
    if count < 1:
        raise _Unreadable


def _scrypt(cost: int, block_size: int, parallelization: int, name: str) -> None:
    if min(cost, block_size, parallelization) < 1:
        raise _Unreadable
    work = 128 * cost * block_size * parallelization  # bytes mixed: RFC 7914 §2, §6
    allowed = limits.value(limits.KEY_SCRYPT_BYTES)
    if work > allowed:
        raise KeyFileError(
            f"{name}: the private key's encryption asks scrypt to mix {work:,} bytes "
            f"(128 × N {cost:,} × r {block_size:,} × p {parallelization:,}); the limit is "
            f"{allowed:,} (set {limits.KEY_SCRYPT_BYTES.variable} to raise it)"
        )
