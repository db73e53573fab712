"""Detached XML signatures (W3C XML-DSig) as Hart Verity writes them beside each CVR file:
``CVR.xml.sig.xml`` signs the bytes of ``CVR.xml`` with RSA and SHA-256.

Checking one: the SHA-256 of the file must be the ``DigestValue`` of the signature's one
``Reference``; the ``SignedInfo``, canonicalized (Canonical XML 1.0), must verify under
the RSA key with PKCS #1 v1.5; and when a trusted key is given, the signature must be by
that key (a ``KeyInfo`` naming another key is refused). Only what Hart writes is accepted:
inclusive C14N 1.0, RSA-SHA256, SHA-256 digests, no transforms. The cryptography is the
``cryptography`` library's; this module only finds the pieces.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from canvass.errors import IngestError, SignatureError
from canvass.guard.documents import xml_root

DSIG = "http://www.w3.org/2000/09/xmldsig#"
NS = {"d": DSIG}
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
MAX_MODULUS_BITS = 16_384
"""The largest RSA key OpenSSL verifies with; a larger one is refused before any arithmetic."""


def _parse(name: str, data: bytes) -> etree._Element:
    return xml_root(data, name, "a signature or key")


def _b64(name: str, element: etree._Element | None, what: str) -> bytes:
    text = "".join((element.text or "").split()) if element is not None else ""
    try:
        value = base64.b64decode(text, validate=True)
    except binascii.Error:
        value = b""
    if not value:
        raise IngestError(f"{name}: {what}: expected base64; found {text[:40]!r}")
    return value


def rsa_key_value(name: str, data: bytes) -> rsa.RSAPublicKey:
    """An RSA public key written as XML-DSig's ``<RSAKeyValue>`` (Modulus, Exponent)."""
    root = _parse(name, data)
    return _key(name, root)


def _key(name: str, element: etree._Element) -> rsa.RSAPublicKey:
    def part(tag: str) -> int:
        found = element.find(f"d:{tag}", NS)
        if found is None:
            found = element.find(tag)
        return int.from_bytes(_b64(name, found, tag), "big")

    if etree.QName(element).localname != "RSAKeyValue":
        raise IngestError(
            f"{name}: expected an <RSAKeyValue>; found <{etree.QName(element).localname}>"
        )
    exponent, modulus = part("Exponent"), part("Modulus")
    if modulus.bit_length() > MAX_MODULUS_BITS or exponent.bit_length() > 64:
        raise IngestError(
            f"{name}: expected an RSA key of at most {MAX_MODULUS_BITS:,} bits with an exponent "
            f"of at most 64 bits; found {modulus.bit_length():,} and {exponent.bit_length():,}"
        )
    try:
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except ValueError as e:
        raise IngestError(f"{name}: not an RSA public key ({e})") from None


def verify_detached(
    name: str, data: bytes, signature: bytes, trusted: rsa.RSAPublicKey | None = None
) -> None:
    """Check that ``signature`` (the bytes of ``name``'s ``.sig.xml``) signs ``data``; raise
    :class:`SignatureError` saying what does not hold."""
    where = f"{name}.sig.xml"
    root = _parse(where, signature)
    if root.tag != f"{{{DSIG}}}Signature":
        raise IngestError(f"{where}: expected an XML-DSig <Signature>; found <{root.tag}>")
    signed_info = root.find("d:SignedInfo", NS)
    if signed_info is None:
        raise IngestError(f"{where}: the signature has no SignedInfo")

    def algorithm(path: str) -> str:
        found = signed_info.find(path, NS)
        return found.get("Algorithm", "") if found is not None else ""

    for path, wanted in (
        ("d:CanonicalizationMethod", C14N),
        ("d:SignatureMethod", RSA_SHA256),
        ("d:Reference/d:DigestMethod", SHA256),
    ):
        if algorithm(path) != wanted:
            raise IngestError(
                f"{where}: {path.replace('d:', '')}: expected {wanted}; found {algorithm(path)!r}"
            )
    references = signed_info.findall("d:Reference", NS)
    if len(references) != 1 or references[0].find("d:Transforms", NS) is not None:
        raise IngestError(f"{where}: expected one Reference without transforms")
    digest = _b64(where, references[0].find("d:DigestValue", NS), "DigestValue")
    if not hmac.compare_digest(digest, hashlib.sha256(data).digest()):
        raise SignatureError(f"{name}: its SHA-256 is not the one its signature signs")
    key_value = root.find("d:KeyInfo/d:KeyValue/d:RSAKeyValue", NS)
    named = _key(where, key_value) if key_value is not None else None
    if (
        trusted is not None
        and named is not None
        and named.public_numbers() != trusted.public_numbers()
    ):
        raise SignatureError(f"{name}: signed by a key other than the trusted one")
    key = trusted or named
    if key is None:
        raise SignatureError(f"{name}: no key to check its signature with")
    # Canonicalize SignedInfo on its own, with the namespaces it inherits declared on it.
    canonical = etree.tostring(etree.ElementTree(copy.deepcopy(signed_info)), method="c14n")
    value = _b64(where, root.find("d:SignatureValue", NS), "SignatureValue")
    try:
        key.verify(value, canonical, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise SignatureError(f"{name}: the signature does not verify") from None
