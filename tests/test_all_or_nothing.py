"""A failed import leaves the election exactly as it was — the log and the artifact store,
file for file — and ``canvass log verify`` names any artifact that no entry names. The
command line has one handler: anything that is not one of Canvass's own errors is a
one-line bug report and exit status 70."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import canvass.app.imports as imports
from canvass.app.actor import Actor
from canvass.app.imports import import_ballots
from canvass.cli import app
from canvass.errors import IngestError
from canvass.store.election import ElectionDirectory
from tests.test_dominion import write_export
from tests.test_import import BALLOTS, county  # noqa: F401  (the fixture)

runner = CliRunner()


def files(folder: Path) -> dict[str, str]:
    """Every file under the election directory but the database, with its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("canvass.db")
    }


def test_failure_after_the_files_are_stored_leaves_no_file(
    county: ElectionDirectory,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    before, size = files(county.path), county.size()

    def refuse(*args: object, **kwargs: object) -> None:
        raise IngestError("refused as the entry was about to be written")

    monkeypatch.setattr(imports, "_record", refuse)
    with pytest.raises(IngestError):
        import_ballots(county, Actor("clerk"), "adams", "dominion", [folder])
    assert files(county.path) == before
    assert county.size() == size
    monkeypatch.undo()
    done = import_ballots(county, Actor("clerk"), "adams", "dominion", [folder])
    assert done is not None
    stored = set(files(county.path)) - set(before)
    assert len(stored) == len(list(folder.iterdir())) + 1  # the files and the ballot table
    assert county.verify() == []


def test_failed_precinct_results_import_leaves_nothing(
    county: ElectionDirectory,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "results.csv"
    path.write_text("county,precinct,baker_eday\nadams,P1,many\n")
    before = files(county.path)
    with pytest.raises(IngestError):
        import_ballots(county, Actor("clerk"), None, "precinct-results", [path])
    assert files(county.path) == before


def test_log_verify_names_an_artifact_no_entry_names(
    county: ElectionDirectory,  # noqa: F811
) -> None:
    data = b"left here by hand"
    sha = hashlib.sha256(data).hexdigest()
    stray = county.path / "artifacts" / sha[:2] / sha
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(data)
    assert county.verify_log() == [
        f"artifact {sha}: in the artifact store, but no log entry names it"
    ]
    result = runner.invoke(app, ["log", "verify", str(county.path)])
    assert result.exit_code == 1
    assert f"artifact {sha}: in the artifact store, but no log entry names it" in result.output


def test_staging_left_by_a_killed_import_is_finished_on_opening(
    county: ElectionDirectory,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A process killed after its entry committed but before its artifacts were placed:
    the next opening places what the log names and drops the rest."""
    folder = write_export(tmp_path / "cvr", BALLOTS)
    done = import_ballots(county, Actor("clerk"), "adams", "dominion", [folder])
    assert done is not None
    county.close()
    store = ElectionDirectory.open(county.path)
    ((_, entry),) = store.entries(done.entry, done.entry + 1)
    store.close()
    sha = next(r.sha256 for r in entry.artifacts if r.name.endswith(".parquet"))
    table = county.path / "artifacts" / sha[:2] / sha
    staging = county.path / ".staging-killed"
    staging.mkdir()
    (staging / ".lock").write_bytes(b"")
    (staging / table.name).write_bytes(table.read_bytes())
    (staging / hashlib.sha256(b"uncommitted").hexdigest()).write_bytes(b"uncommitted")
    table.chmod(0o644)
    table.unlink()
    opened = ElectionDirectory.open(county.path)
    assert opened.verify() == []
    assert not staging.exists()


def test_cli_bug_report_for_anything_unforeseen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import canvass.app.elections as elections

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(elections, "init", broken)
    result = runner.invoke(app, ["init", str(tmp_path / "e")])
    assert result.exit_code == 70
    assert result.stderr == (
        "error: Canvass failed unexpectedly (ZeroDivisionError: division by zero second "
        "line); this is a bug in Canvass: please report it, with the command you ran\n"
    )


def test_cli_bug_report_for_a_rust_panic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import canvass.app.elections as elections

    class PanicException(BaseException):
        """As pyo3 raises a Rust panic: not an Exception."""

    def broken(*args: object, **kwargs: object) -> None:
        raise PanicException("capacity overflow")

    monkeypatch.setattr(elections, "init", broken)
    result = runner.invoke(app, ["init", str(tmp_path / "e")])
    assert result.exit_code == 70
    assert result.stderr.startswith(
        "error: Canvass failed unexpectedly (PanicException: capacity overflow)"
    )


def test_cli_project_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(tmp_path / "nope"), str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
