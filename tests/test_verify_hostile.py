"""The verifier never crashes: every file of a bundle goes through the guarded decoding,
and its exit status is 0, 1 or 2 — 2 always with a report — whatever the bundle holds."""

from __future__ import annotations

import hashlib
import json
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
            # msgspec's own words for a high surrogate with no low one after it
            "log/checkpoints.json: expected JSON; input data was truncated",
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
