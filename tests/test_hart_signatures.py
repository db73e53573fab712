"""Hart's detached XML signatures, against RCTab's signature_validation files (a CVR, its
signature, the signing key and another key; the private keys were discarded)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from canvass.errors import IngestError, SignatureError
from canvass.ingest.hart import HartExport
from canvass.ingest.xmldsig import rsa_key_value, verify_detached
from tests.conftest import shared_path


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    """A folder holding test.xml and test.xml.sig.xml."""
    source = shared_path("data", "rctab", "signature_validation")
    folder = tmp_path / "cvrs"
    folder.mkdir()
    for name in ("test.xml", "test.xml.sig.xml"):
        shutil.copy(source / name, folder / name)
    return folder


def _key(name: str) -> object:
    path = shared_path("data", "rctab", "signature_validation", name)
    return rsa_key_value(str(path), path.read_bytes())


def test_a_signed_cvr_verifies_and_is_read(signed: Path) -> None:
    export = HartExport([signed], _key("public_key.txt"))  # type: ignore[arg-type]
    table = pa.Table.from_batches(list(export.read("c")))
    assert len(table) == 1
    assert export.contests[0].name == "Board of Supervisors, District 1"


def test_signed_by_another_key(signed: Path) -> None:
    with pytest.raises(SignatureError, match="signed by a key other than the trusted one"):
        HartExport([signed], _key("incorrect_public_key.txt"))  # type: ignore[arg-type]


def test_a_wrong_signature(signed: Path) -> None:
    source = shared_path("data", "rctab", "signature_validation")
    shutil.copy(source / "incorrect_signature.xml.sig.xml", signed / "test.xml.sig.xml")
    with pytest.raises(SignatureError) as e:
        HartExport([signed], _key("public_key.txt"))  # type: ignore[arg-type]
    assert str(e.value) in (
        f"{signed / 'test.xml'}: the signature does not verify",
        f"{signed / 'test.xml'}: its SHA-256 is not the one its signature signs",
    )


def test_a_changed_byte_is_caught_with_or_without_the_key(signed: Path) -> None:
    path = signed / "test.xml"
    data = bytearray(path.read_bytes())
    data[data.index(b"100000")] = ord("0")  # the first choice marked moves
    path.write_bytes(bytes(data))
    message = f"{path}: its SHA-256 is not the one its signature signs"
    with pytest.raises(SignatureError) as e:
        HartExport([signed], _key("public_key.txt"))  # type: ignore[arg-type]
    assert str(e.value) == message
    with pytest.raises(SignatureError) as e:
        HartExport([signed])
    assert str(e.value) == message


def test_with_a_key_every_cvr_must_be_signed(signed: Path) -> None:
    (signed / "test.xml.sig.xml").unlink()
    with pytest.raises(SignatureError, match=r"test.xml: no signature \(.*test.xml.sig.xml\)"):
        HartExport([signed], _key("public_key.txt"))  # type: ignore[arg-type]
    assert len(HartExport([signed]).contests) == 1  # without a key, unsigned files are read


def test_signatures_inside_a_zip(signed: Path, tmp_path: Path) -> None:
    archive = tmp_path / "cvrs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("test.xml", "test.xml.sig.xml"):
            z.write(signed / name, f"batch1/{name}")
    export = HartExport([archive], _key("public_key.txt"))  # type: ignore[arg-type]
    assert len(pa.Table.from_batches(list(export.read("c")))) == 1


def test_not_a_signature(signed: Path) -> None:
    data = (signed / "test.xml").read_bytes()
    with pytest.raises(IngestError, match="expected an XML-DSig <Signature>"):
        verify_detached("test.xml", data, b"<Cvr/>")
    with pytest.raises(IngestError, match="expected an <RSAKeyValue>"):
        rsa_key_value("key.txt", b"<Key/>")


def test_the_command_line_checks_signatures(signed: Path) -> None:
    from typer.testing import CliRunner

    from canvass.cli import app

    folder = shared_path("data", "rctab", "signature_validation")
    runner = CliRunner()
    args = ["tabulate", str(signed), "--source-format", "hart", "--hart-key"]
    good = runner.invoke(app, [*args, str(folder / "public_key.txt")])
    assert good.exit_code == 0, good.output
    assert "Board of Supervisors, District 1" in good.output
    bad = runner.invoke(app, [*args, str(folder / "incorrect_public_key.txt")])
    assert bad.exit_code == 1
    assert bad.output == (
        f"error: {signed / 'test.xml'}: signed by a key other than the trusted one\n"
    )
