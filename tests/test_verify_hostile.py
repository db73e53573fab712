"""The verifier never crashes: every file of a bundle goes through the guarded decoding,
and its exit status is 0, 1 or 2 — 2 always with a report — whatever the bundle holds."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import canvass.verify.checks as checks
from canvass.app.actor import Actor
from canvass.app.publishing import publish
from canvass.cli import app
from canvass.demo.build import build_demo

runner = CliRunner()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bundle")
    run = build_demo(root / "election", False, 2, 6, 2026, 30)
    publish(run.store, Actor("clerk"), root / "bundle", [], False)
    run.store.close()
    return root / "bundle"


def forged(bundle: Path, tmp_path: Path, name: str, data: bytes) -> Path:
    """A copy of the bundle with ``name`` replaced, its new SHA-256 in the manifest."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    target = copy / name
    target.chmod(0o644)
    target.write_bytes(data)
    if name != "manifest.json":
        manifest = json.loads((copy / "manifest.json").read_bytes())
        manifest["files"][name] = hashlib.sha256(data).hexdigest()
        (copy / "manifest.json").chmod(0o644)
        (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


def verify(path: Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["verify", str(path), "--no-trust-store"])
    return result.exit_code, result.stdout, result.stderr


def test_deeply_nested_manifest_is_one_line_and_exit_1(bundle: Path, tmp_path: Path) -> None:
    path = forged(bundle, tmp_path, "manifest.json", b"[" * 100_000 + b"]" * 100_000)
    code, _, err = verify(path)
    assert (code, err) == (
        1,
        f"error: {path}/manifest.json: document: expected at most 100 levels of nesting; "
        "found more (set CANVASS_MAX_NESTING to raise it)\n",
    )


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        (
            "log/checkpoints.json",
            b"[" * 100_000 + b"]" * 100_000,
            "log/checkpoints.json: document: expected at most 100 levels of nesting; found "
            "more (set CANVASS_MAX_NESTING to raise it)",
        ),
        (
            "log/checkpoints.json",
            b'["\\ud800x"]',
            # msgspec's own words were "input data was truncated"
            "log/checkpoints.json: expected JSON; found a lone surrogate \\ud800 (byte 3), "
            "which is no character",
        ),
        (
            "log/checkpoint",
            b"canvass\xff\n",
            "log/checkpoint line 1: expected UTF-8 text; found byte 0xFF (byte 8 of the file)",
        ),
    ],
)
def test_hostile_files_are_problems_in_the_report(
    bundle: Path, tmp_path: Path, name: str, data: bytes, problem: str
) -> None:
    code, out, _ = verify(forged(bundle, tmp_path, name, data))
    assert code == 2
    assert problem in out


def test_certificate_index_nested_deeply_is_a_problem(bundle: Path, tmp_path: Path) -> None:
    path = forged(bundle, tmp_path, "certificates/index.json", b"[" * 100_000 + b"]" * 100_000)
    code, out, _ = verify(path)
    assert code == 2
    assert "certificates/index.json: document: expected at most 100 levels of nesting" in out


def test_a_check_that_fails_unforeseen_is_reported_not_a_crash(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(checks, "check_canvass", broken)
    code, out, _ = verify(bundle)
    assert code == 2
    assert (
        "a check could not run to its end (ZeroDivisionError: division by zero); the checks "
        "after it did not run"
    ) in out


# --- the verifier reads regular files of the bundle, and nothing else ----------------------


def replaced(bundle: Path, tmp_path: Path, name: str, make: object) -> Path:
    """A copy of the bundle with the file ``name`` replaced by ``make(path)``."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    target = copy / name
    target.chmod(0o644)
    target.unlink()
    make(target)  # type: ignore[operator]
    return copy


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (
            lambda p: p.symlink_to("/dev/zero"),
            "log/checkpoint: a link to a file outside the bundle; expected a file of the bundle",
        ),
        (os.mkfifo, "log/checkpoint: expected a file; found a named pipe"),
        (
            lambda p: p.symlink_to(p.parent / "no-such-file"),
            "log/checkpoint: a link that leads nowhere; expected a file",
        ),
        (
            lambda p: p.symlink_to(p.name),
            "log/checkpoint: cannot read (",
        ),
    ],
    ids=["dev-zero", "fifo", "dangling", "loop"],
)
def test_a_file_that_is_no_regular_file_is_a_problem(
    bundle: Path, tmp_path: Path, make: object, problem: str
) -> None:
    code, out, _ = verify(replaced(bundle, tmp_path, "log/checkpoint", make))
    assert code == 2
    assert problem in out, out


def test_a_link_out_of_the_bundle_to_the_same_bytes_is_a_problem(
    bundle: Path, tmp_path: Path
) -> None:
    """The bytes are the right ones: only where they are is wrong (a link can be made to
    lead elsewhere once the bundle is checked)."""
    outside = tmp_path / "elsewhere"
    outside.write_bytes((bundle / "log" / "checkpoint").read_bytes())
    code, out, _ = verify(
        replaced(bundle, tmp_path, "log/checkpoint", lambda p: p.symlink_to(outside))
    )
    assert code == 2
    assert "log/checkpoint: a link to a file outside the bundle" in out


def test_a_link_inside_the_bundle_is_read(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    (copy / "log" / "checkpoint").rename(copy / "log" / "checkpoint.real")
    (copy / "log" / "checkpoint").symlink_to("checkpoint.real")
    code, out, _ = verify(copy)
    assert code == 2  # for the extra file alone
    assert "log/checkpoint:" not in out
    assert "log/checkpoint.real: not part of the election" in out


def test_a_named_pipe_beside_the_files_is_named(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    os.mkfifo(copy / "results" / "pipe")
    code, out, _ = verify(copy)
    assert code == 2
    assert "results/pipe: not part of the election" in out


def test_a_manifest_that_is_a_named_pipe_is_one_line_and_exit_1(
    bundle: Path, tmp_path: Path
) -> None:
    path = replaced(bundle, tmp_path, "manifest.json", os.mkfifo)
    code, _, err = verify(path)
    assert (code, err) == (1, "error: manifest.json: expected a file; found a named pipe\n")


def test_a_damaged_entry_tile_is_reported_and_no_check_breaks_on_it(
    bundle: Path, tmp_path: Path
) -> None:
    """Bytes of an entry tile changed (and the manifest made to agree, as a forger would):
    the entries that no longer read are named, and no later check stumbles over them (an
    audit check divided by zero here)."""
    (name,) = [
        p.relative_to(bundle).as_posix()
        for p in (bundle / "log" / "tile" / "entries").rglob("*")
        if p.is_file()
    ][:1]
    data = bytearray((bundle / name).read_bytes())
    for at in (len(data) // 3, len(data) // 2, 2 * len(data) // 3):
        data[at] = 0xF8
    code, out, err = verify(forged(bundle, tmp_path, name, bytes(data)))
    assert code == 2, err
    assert "FAIL log" in out
    assert ": not JSON (" in out
    assert "could not run to its end" not in out
    # The checks resting on every entry say they did not run, rather than read entry k+1
    # as entry k (they named signatures on the wrong entries).
    first = min(int(m) for m in re.findall(r"entry (\d+): not JSON", out))
    assert f"did not run: log entry {first} cannot be read" in out
    assert "is not a motion" not in out


def test_a_lone_surrogate_in_a_manifest_path_is_one_line(bundle: Path, tmp_path: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_bytes())
    manifest["files"]["log/\ud800"] = "00" * 32
    data = json.dumps(manifest).encode()  # ASCII, the surrogate escaped as JSON allows
    path = forged(bundle, tmp_path, "manifest.json", data)
    code, _, err = verify(path)
    assert code == 1
    at = data.index(b"\\ud800") + 1
    assert err == (
        f"error: {path}/manifest.json: expected JSON; found a lone surrogate \\ud800 "
        f"(byte {at:,}), which is no character\n"
    )


def test_a_trust_store_of_the_wrong_shape_is_one_line(bundle: Path, tmp_path: Path) -> None:
    """The bundle's log recorded as text, not an object: an AttributeError once the
    verifier asked for its operator (a bug report, exit 70)."""
    origin = (bundle / "log" / "checkpoint").read_text().splitlines()[0]
    trust = tmp_path / "trust.json"
    for content, detail in [
        (
            json.dumps({"logs": {origin: "x"}}),
            f"logs.{origin}: expected an object of operator, checkpoints and witnesses; found str",
        ),
        ('{"logs": [1]}', "logs: expected an object of logs; found none"),
    ]:
        trust.write_text(content)
        result = runner.invoke(app, ["verify", str(bundle), "--trust-store", str(trust)])
        assert result.exit_code == 1
        assert result.stderr == f"error: {trust}: not a trust store ({detail})\n"
        assert trust.read_text() == content


def test_a_file_past_the_size_limit_is_not_read(bundle: Path, tmp_path: Path) -> None:
    """A sparse file of 100 GB (a few bytes on disk) was read whole into memory."""

    def sparse(path: Path) -> None:
        with path.open("wb") as f:
            f.truncate(100 * 2**30)

    copy = replaced(bundle, tmp_path, "log/checkpoint", sparse)
    code, out, _ = verify(copy)
    assert code == 2
    assert (
        "log/checkpoint: a file of 107,374,182,400 bytes; the limit is 4,294,967,296 "
        "(set CANVASS_MAX_BUNDLE_FILE_BYTES to raise it)"
    ) in out
