"""Key files and the content-addressed artifact store."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass import keys
from canvass.errors import ArtifactError, KeyFileError
from canvass.store.artifacts import FileArtifactStore


def test_key_round_trip_without_passphrase(tmp_path: Path) -> None:
    signer = keys.new_signer("jane.doe")
    pub = keys.write_key(signer, tmp_path / "jane.key")
    assert stat.S_IMODE((tmp_path / "jane.key").stat().st_mode) == 0o600
    again = keys.read_key(tmp_path / "jane.key")
    assert again.verifier() == signer.verifier()
    assert keys.read_public_key(pub) == signer.verifier()


def test_key_round_trip_with_passphrase(tmp_path: Path) -> None:
    signer = keys.new_signer("jane.doe")
    keys.write_key(signer, tmp_path / "jane.key", "s3cret phrase")
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "jane.key").read_bytes()
    assert keys.read_key(tmp_path / "jane.key", "s3cret phrase").verifier() == signer.verifier()
    with pytest.raises(KeyFileError) as e:
        keys.read_key(tmp_path / "jane.key", "wrong")
    assert (
        str(e.value)
        == f"{tmp_path / 'jane.key'}: cannot open the private key: the passphrase is wrong"
    )


def test_not_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(KeyFileError) as e:
        keys.read_key(path)
    assert str(e.value) == (
        f"{path}: not a Canvass key file (expected a first line 'canvass-key v1')"
    )


def test_key_file_whose_vkey_line_was_swapped(tmp_path: Path) -> None:
    keys.write_key(keys.new_signer("jane"), tmp_path / "jane.key")
    keys.write_key(keys.new_signer("jane"), tmp_path / "other.key")
    jane = (tmp_path / "jane.key").read_text().splitlines(keepends=True)
    other = (tmp_path / "other.key").read_text().splitlines(keepends=True)
    forged = tmp_path / "forged.key"
    forged.write_text("".join(jane[:2] + other[2:3] + jane[3:]))
    with pytest.raises(KeyFileError, match="the vkey line does not belong to the private key"):
        keys.read_key(forged)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as e:
        keys.read_key(tmp_path / "nope.key")
    assert str(e.value) == f"{tmp_path / 'nope.key'}: cannot read (No such file or directory)"


def test_artifact_store_is_content_addressed(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "artifacts")
    digest = store.put(b"CvrExport")
    assert digest == hashlib.sha256(b"CvrExport").hexdigest()
    assert store.path(digest) == tmp_path / "artifacts" / digest[:2] / digest
    assert store.put(b"CvrExport") == digest
    assert store.get(digest) == b"CvrExport"
    assert list(store) == []  # staged: readable here, in the store only once committed
    store.commit_staged({digest})
    assert list(store) == [digest]
    assert store.get(digest) == b"CvrExport"
    assert not any(p.name.startswith(".tmp-") for p in store.path(digest).parent.iterdir())
    assert [p.name for p in tmp_path.iterdir()] == ["artifacts"]  # no staging folder left


def test_staged_artifacts_not_named_are_dropped(tmp_path: Path) -> None:
    store = FileArtifactStore(tmp_path / "artifacts")
    named, other = store.put(b"named"), store.put(b"other")
    store.commit_staged({named})
    assert list(store) == [named]
    store.put(b"failed import")
    store.discard_staged()
    assert list(store) == [named]
    assert [p.name for p in tmp_path.iterdir()] == ["artifacts"]
    with pytest.raises(ArtifactError):
        store.get(other)


def test_staging_left_by_a_killed_process_is_recovered(tmp_path: Path) -> None:
    named_bytes, unnamed_bytes = b"named by a committed entry", b"never committed"
    staging = tmp_path / ".staging-killed"
    staging.mkdir()
    (staging / ".lock").write_bytes(b"")
    for data in (named_bytes, unnamed_bytes):
        (staging / hashlib.sha256(data).hexdigest()).write_bytes(data)
    store = FileArtifactStore(tmp_path / "artifacts")
    named = hashlib.sha256(named_bytes).hexdigest()
    store.recover(lambda sha256: sha256 == named)
    assert list(store) == [named]
    assert [p.name for p in tmp_path.iterdir()] == ["artifacts"]


# No deadline: each example fsyncs, and a busy machine must not fail the run on timing.
@settings(max_examples=30, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.data())
def test_any_changed_byte_in_an_artifact_is_rejected(data: bytes, draw: st.DataObject) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = FileArtifactStore(Path(tmp) / "artifacts")
        digest = store.put(data)
        store.commit_staged({digest})
        pos = draw.draw(st.integers(0, len(data) - 1))
        bit = draw.draw(st.integers(0, 7))
        path = store.path(digest)
        path.chmod(0o644)
        path.write_bytes(data[:pos] + bytes([data[pos] ^ (1 << bit)]) + data[pos + 1 :])
        with pytest.raises(ArtifactError, match="is damaged"):
            store.get(digest)
