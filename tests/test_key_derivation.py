"""An encrypted private key whose key derivation would take for ever is refused before any
of it is done (canvass/guard/key_derivation.py).

The hostile keys are built with pyasn1 and its RFC modules, an ASN.1 implementation apart
from the one the product reads them with."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

pytest.importorskip("pyasn1_modules")

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_modules import rfc5208, rfc7914, rfc8018

from canvass.errors import KeyFileError
from canvass.keys import HEADER, read_key, write_key

PBES2 = "1.2.840.113549.1.5.13"
SCRYPT = "1.3.6.1.4.1.11591.4.11"
PBE_SHA1_3DES = "1.2.840.113549.1.12.1.3"  # PKCS#12, RFC 7292 appendix C


def _encrypted_info() -> rfc5208.EncryptedPrivateKeyInfo:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    info, _ = decoder.decode(der, asn1Spec=rfc5208.EncryptedPrivateKeyInfo())
    return info


def _key_file(tmp_path: Path, info: rfc5208.EncryptedPrivateKeyInfo) -> Path:
    body = base64.encodebytes(encoder.encode(info))
    path = tmp_path / "member.key"
    path.write_bytes(
        f"{HEADER}\nname: a.example/member\nvkey: x\n".encode()
        + b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + body
        + b"-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    return path


def _pbkdf2_key(tmp_path: Path, iterations: int) -> Path:
    info = _encrypted_info()
    pbes2, _ = decoder.decode(
        info["encryptionAlgorithm"]["parameters"], asn1Spec=rfc8018.PBES2_params()
    )
    kdf, _ = decoder.decode(
        pbes2["keyDerivationFunc"]["parameters"], asn1Spec=rfc8018.PBKDF2_params()
    )
    kdf["iterationCount"] = iterations
    pbes2["keyDerivationFunc"]["parameters"] = univ.Any(encoder.encode(kdf))
    info["encryptionAlgorithm"]["parameters"] = univ.Any(encoder.encode(pbes2))
    return _key_file(tmp_path, info)


def _scrypt_key(tmp_path: Path, n: int, r: int, p: int) -> Path:
    info = _encrypted_info()
    pbes2, _ = decoder.decode(
        info["encryptionAlgorithm"]["parameters"], asn1Spec=rfc8018.PBES2_params()
    )
    params = rfc7914.Scrypt_params()
    params["salt"] = b"saltsalt"
    params["costParameter"] = n
    params["blockSize"] = r
    params["parallelizationParameter"] = p
    pbes2["keyDerivationFunc"]["algorithm"] = univ.ObjectIdentifier(SCRYPT)
    pbes2["keyDerivationFunc"]["parameters"] = univ.Any(encoder.encode(params))
    info["encryptionAlgorithm"]["parameters"] = univ.Any(encoder.encode(pbes2))
    return _key_file(tmp_path, info)


@pytest.mark.parametrize("iterations", [2**31 - 1, 2**64 - 1, 2**80])
def test_pbkdf2_iterations_past_the_limit_are_refused_before_deriving(
    tmp_path: Path, iterations: int
) -> None:
    path = _pbkdf2_key(tmp_path, iterations)
    with pytest.raises(KeyFileError) as e:
        read_key(path, "passphrase")
    assert str(e.value) == (
        f"{path}: the private key's encryption asks for {iterations:,} iterations of PBKDF2; "
        "the limit is 10,000,000 (set CANVASS_MAX_KEY_ITERATIONS to raise it)"
    )


def test_the_iteration_limit_is_the_count_the_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _pbkdf2_key(tmp_path, 5_000)
    monkeypatch.setenv("CANVASS_MAX_KEY_ITERATIONS", "4999")
    with pytest.raises(KeyFileError) as e:
        read_key(path, "passphrase")
    assert "asks for 5,000 iterations of PBKDF2; the limit is 4,999" in str(e.value)
    monkeypatch.setenv("CANVASS_MAX_KEY_ITERATIONS", "5000")
    # Within the limit the derivation runs; the count was changed, so it opens nothing.
    with pytest.raises(KeyFileError) as e:
        read_key(path, "passphrase")
    assert str(e.value) == f"{path}: cannot open the private key: the passphrase is wrong"


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [
        (2**30, 8, 1),  # 1 TiB: OpenSSL failed to allocate, an InternalError
        (2**14, 8, 100_000),  # 16 MiB, a hundred thousand times: hours
        (2**64 - 1, 1, 1),
    ],
)
def test_scrypt_work_past_the_limit_is_refused_before_deriving(
    tmp_path: Path, n: int, r: int, p: int
) -> None:
    path = _scrypt_key(tmp_path, n, r, p)
    with pytest.raises(KeyFileError) as e:
        read_key(path, "passphrase")
    assert str(e.value) == (
        f"{path}: the private key's encryption asks scrypt to mix {128 * n * r * p:,} bytes "
        f"(128 × N {n:,} × r {r:,} × p {p:,}); the limit is 1,073,741,824 "
        "(set CANVASS_MAX_KEY_SCRYPT_BYTES to raise it)"
    )


def test_scrypt_within_the_limit_is_derived(tmp_path: Path) -> None:
    path = _scrypt_key(tmp_path, 2**14, 8, 1)
    with pytest.raises(KeyFileError) as e:
        read_key(path, "passphrase")
    assert str(e.value) == f"{path}: cannot open the private key: the passphrase is wrong"


def test_pkcs12_scheme_iterations_past_the_limit(tmp_path: Path) -> None:
    info = _encrypted_info()
    params = univ.Sequence()
    params.setComponentByPosition(0, univ.OctetString(b"saltsalt"))
    params.setComponentByPosition(1, univ.Integer(2**40))
    info["encryptionAlgorithm"]["algorithm"] = univ.ObjectIdentifier(PBE_SHA1_3DES)
    info["encryptionAlgorithm"]["parameters"] = univ.Any(encoder.encode(params))
    path = _key_file(tmp_path, info)
    with pytest.raises(KeyFileError) as e:
        read_key(path, "passphrase")
    assert str(e.value) == (
        f"{path}: the private key's encryption asks for {2**40:,} iterations of "
        f"{PBE_SHA1_3DES}; the limit is 10,000,000 (set CANVASS_MAX_KEY_ITERATIONS to raise it)"
    )


def test_derivation_parameters_that_cannot_be_read(tmp_path: Path) -> None:
    info = _encrypted_info()
    pbes2, _ = decoder.decode(
        info["encryptionAlgorithm"]["parameters"], asn1Spec=rfc8018.PBES2_params()
    )
    pbes2["keyDerivationFunc"]["parameters"] = univ.Any(encoder.encode(univ.Integer(7)))
    info["encryptionAlgorithm"]["parameters"] = univ.Any(encoder.encode(pbes2))
    path = _key_file(tmp_path, info)
    with pytest.raises(KeyFileError) as e:
        read_key(path, "passphrase")
    assert str(e.value) == (
        f"{path}: cannot open the private key: the encrypted PEM block is damaged "
        "(its key-derivation parameters cannot be read)"
    )


def test_a_key_canvass_wrote_still_opens(tmp_path: Path) -> None:
    from canvass.keys import new_signer

    signer = new_signer("a.example/member")
    path = tmp_path / "member.key"
    write_key(signer, path, "passphrase")
    assert read_key(path, "passphrase").verifier().encode() == signer.verifier().encode()
