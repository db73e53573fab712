"""Signed notes, checkpoints and cosignatures against the C2SP examples."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from canvass.errors import SignatureError, VerificationError
from canvass.log.merkle import MerkleTree
from canvass.log.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Signer,
    VerifierKey,
    cosign,
    open_checkpoint,
    parse_note,
    sign_note,
    verify_cosignature,
    verify_note,
)

# C2SP signed-note.md example (verified in ../shared/vectors/merkle-rfc6962.md §8).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOB"
    "H3mFXmRKuwHjG1Yu72IneyaQM=\n"
)
# RFC 8032 §7.1 TEST 1.
RFC8032_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIG = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701"
    "cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def test_c2sp_example_note_verifies() -> None:
    key = VerifierKey.decode(C2SP_VKEY)
    assert key.id.hex() == "530d903a"
    verify_note(parse_note(C2SP_NOTE), key)


def test_c2sp_example_note_with_changed_text_is_rejected() -> None:
    key = VerifierKey.decode(C2SP_VKEY)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_note(parse_note(C2SP_NOTE.replace("message.", "message!")), key)


def test_rfc8032_test_1() -> None:
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_SEED))
    signer = Signer("rfc8032", private)
    assert signer.verifier().public_key.hex() == RFC8032_PUBLIC
    assert private.sign(b"").hex() == RFC8032_SIG


def test_verifier_key_round_trip_and_errors() -> None:
    key = Signer("county.example/log", Ed25519PrivateKey.generate()).verifier()
    assert VerifierKey.decode(key.encode()) == key
    name, _, blob = key.encode().split("+", 2)
    with pytest.raises(VerificationError, match="does not match the key"):
        VerifierKey.decode(f"{name}+00000000+{blob}")
    with pytest.raises(VerificationError, match="expected name\\+keyid\\+base64key"):
        VerifierKey.decode("no-plus-signs")


@pytest.fixture(scope="module")
def operator() -> Signer:
    return Signer("canvass.test/log", Ed25519PrivateKey.generate())


def _checkpoint(operator: Signer) -> tuple[str, Checkpoint]:
    tree = MerkleTree([b"a", b"b", b"c"])
    cp = Checkpoint(operator.name, tree.size, tree.root())
    return sign_note(cp.text(), operator), cp


def test_checkpoint_round_trip(operator: Signer) -> None:
    note, cp = _checkpoint(operator)
    assert note.startswith("canvass.test/log\n3\n")
    assert open_checkpoint(note, operator.verifier()) == cp


@given(st.data())
def test_any_changed_byte_in_a_checkpoint_is_rejected(
    operator: Signer, data: st.DataObject
) -> None:
    note, _ = _checkpoint(operator)
    raw = note.encode()
    pos = data.draw(st.integers(0, len(raw) - 1))
    bit = data.draw(st.integers(0, 7))
    forged = raw[:pos] + bytes([raw[pos] ^ (1 << bit)]) + raw[pos + 1 :]
    try:
        text = forged.decode()
    except UnicodeDecodeError:
        return  # not even text: no reader would get as far as the signature
    with pytest.raises(VerificationError):
        open_checkpoint(text, operator.verifier())


def test_checkpoint_from_another_key_is_rejected(operator: Signer) -> None:
    note, _ = _checkpoint(operator)
    impostor = Signer(operator.name, Ed25519PrivateKey.generate())
    with pytest.raises(SignatureError, match=r"no signature by canvass\.test/log"):
        open_checkpoint(note, impostor.verifier())


def test_cosignature(operator: Signer) -> None:
    note, _ = _checkpoint(operator)
    witness = Signer("gazette.example", Ed25519PrivateKey.generate())
    line = cosign(parse_note(note).text, witness, 1_763_800_000)
    wkey = witness.verifier(COSIGNATURE_V1)
    assert verify_cosignature(parse_note(note + line), wkey) == 1_763_800_000
    # A cosignature does not pass for the operator's own signature, nor vice versa.
    open_checkpoint(note + line, operator.verifier())
    with pytest.raises(SignatureError):
        verify_cosignature(parse_note(note), wkey)
    tampered = note.replace("\n3\n", "\n4\n") + line
    with pytest.raises(SignatureError, match="does not verify"):
        verify_cosignature(parse_note(tampered), wkey)


def test_malformed_notes() -> None:
    with pytest.raises(VerificationError, match="no blank line"):
        parse_note("text only\n")
    with pytest.raises(VerificationError, match="does not start with"):
        parse_note("text\n\n- name AAAA\n")
    with pytest.raises(VerificationError, match="carries no signature"):
        parse_note("text\n\n\n")
