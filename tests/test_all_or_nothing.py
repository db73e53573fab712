"""A failed import leaves the election exactly as it was — the log and the artifact store,
file for file — and ``canvass log verify`` names any artifact that no entry names. The
command line has one handler: anything that is not one of Canvass's own errors is a
one-line bug report and exit status 70."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import canvass.app.imports as imports
import canvass.store.artifacts as artifacts
from canvass.app.actor import Actor
from canvass.app.elections import define
from canvass.app.imports import import_ballots
from canvass.cli import app
from canvass.errors import IngestError
from canvass.ingest import FORMATS
from canvass.ingest.draft_sources import draft_definition
from canvass.store.election import ElectionDirectory
from fuzz.targets import Files
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


# --- every format: a failure at any point leaves nothing ----------------------------------


@dataclass
class Case:
    """An election defined for one format's sample export, and how to import it."""

    store: ElectionDirectory
    fmt: str
    paths: list[Path]
    county: str | None
    options: dict[str, Any]
    """import_ballots's keyword arguments beyond the county, format and paths."""
    cli: list[str]
    """The same, as the command line's options."""


def _seed(fmt: str) -> Files:
    from fuzz import targets

    seeds: dict[str, Any] = {
        "dominion": targets._dominion_seeds,
        "dominion-csv": targets._dominion_csv_seeds,
        "nist-cvr": lambda: targets._nist_cvr_seeds(".json"),
        "generic-csv": targets._generic_seeds,
        "ess": targets._ess_seeds,
        "clear-ballot": targets._clear_ballot_seeds,
        "hart": targets._hart_seeds,
        "nist-err": targets._err_seeds,
        "ballot-manifest": targets._manifest_seeds,
        "precinct-results": targets._results_seeds,
        "openelections": targets._openelections_seeds,
    }
    found = seeds[fmt]()
    if not found:
        pytest.skip(f"{targets.DATA} is absent: no sample for {fmt}")
    return dict(found[0])


def make_case(tmp_path: Path, fmt: str) -> Case:
    """The format's sample, and an election whose definition is drafted from it (so that
    the import reads through to storing its files)."""
    from fuzz.targets import georgia_document

    files = _seed(fmt)
    folder = tmp_path / "files"
    folder.mkdir()
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    where: str | None = "adams"
    options: dict[str, Any] = {}
    cli: list[str] = []
    if fmt == "precinct-results":
        text = json.dumps(georgia_document())
        where = None
        options = {"county_column": "CTYNAME", "precinct_column": "PRECINCT_N"}
        cli = ["--county-column", "CTYNAME", "--precinct-column", "PRECINCT_N"]
    else:
        source = _seed("generic-csv") if fmt == "ballot-manifest" else files
        drafted = [folder / n for n in source] if fmt != "ballot-manifest" else []
        if fmt == "ballot-manifest":
            for name, data in source.items():
                (tmp_path / name).write_bytes(data)
            drafted = [tmp_path / n for n in source]
        draft_fmt = "generic-csv" if fmt == "ballot-manifest" else fmt
        text, review = draft_definition(
            draft_fmt, [("Adams", drafted)], "MD", "e", "E", "2024-11-05"
        )
        skip = [m.group(1) for r in review for m in re.finditer(r"--skip-contest '([^']*)'", r)]
        if skip:
            options = {"skip_contests": skip}
            cli = [a for name in skip for a in ("--skip-contest", name)]
    store = ElectionDirectory.init(tmp_path / "election", "canvass.test/e", "clerk")
    define(store, Actor("clerk"), text.encode(), "definition.yaml")
    return Case(store, fmt, paths, where, options, cli)


def state(store: ElectionDirectory) -> tuple[bytes, dict[str, str]]:
    """The log's entries, and every file of the election directory but the database."""
    return b"\n".join(store.entry_bytes()), files(store.path)


ALL_FORMATS = [*FORMATS, "precinct-results", "nist-err", "openelections", "ballot-manifest"]


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_failure_after_the_files_are_stored_leaves_nothing_in_any_format(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = make_case(tmp_path, fmt)
    before = state(case.store)

    def refuse(*args: object, **kwargs: object) -> None:
        raise IngestError("refused as the entry was about to be written")

    monkeypatch.setattr(imports, "_record", refuse)
    with pytest.raises(IngestError):
        import_ballots(case.store, Actor("clerk"), case.county, fmt, case.paths, **case.options)
    assert state(case.store) == before
    monkeypatch.undo()
    # The same import goes through, storing files: the failure above came after they were
    # stored, and took them away.
    done = import_ballots(case.store, Actor("clerk"), case.county, fmt, case.paths, **case.options)
    assert done is not None
    after = state(case.store)
    assert after[0] != before[0] and set(after[1]) > set(before[1])
    assert case.store.verify_log() == []


class FullDisk:
    """A file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, real: Any, room: list[int]) -> None:
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room[0]:
            self.real.write(data[: self.room[0]])
            self.room[0] = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room[0] -= len(data)
        return int(self.real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_a_full_disk_leaves_nothing_and_says_so(
    tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while an artifact is being staged (its first 100 bytes fit): one
    line naming the artifact store and the disk's own words, exit status 1, and the
    election as it was."""
    case = make_case(tmp_path, fmt)
    before = state(case.store)
    case.store.close()
    real_fdopen = artifacts.os.fdopen
    room = [100]

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        return FullDisk(real_fdopen(fd, mode, *args, **kwargs), room)

    monkeypatch.setattr(artifacts.os, "fdopen", fdopen)
    command = ["import", str(case.store.path), "--format", fmt, *map(str, case.paths), *case.cli]
    if case.county:
        command += ["--county", case.county]
    result = runner.invoke(app, command, env={"CANVASS_ACTOR": "clerk"})
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {case.store.path / 'artifacts'}: cannot store ")
    assert result.stderr.endswith(": No space left on device\n")
    monkeypatch.undo()
    opened = ElectionDirectory.open(case.store.path)
    assert state(opened) == before
    assert opened.verify_log() == []


KILLER = """
import os, signal, sys

import canvass.store.artifacts as artifacts
import canvass.store.election as election
from canvass.cli import app

point = sys.argv[1]
if point == "staging":  # the first artifact written, not yet fsynced nor renamed
    real_write = artifacts.FileArtifactStore._write

    def _write(self, digest, write):
        def dying(out):
            write(out)
            out.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        return real_write(self, digest, dying)

    artifacts.FileArtifactStore._write = _write
else:  # the entry appended, its transaction not yet committed
    real_sign = election.LogWriter.sign_checkpoint

    def sign_checkpoint(self, signer):
        os.kill(os.getpid(), signal.SIGKILL)

    election.LogWriter.sign_checkpoint = sign_checkpoint
sys.argv = ["canvass", *sys.argv[2:]]
app()
"""


def killed_import(case: Case, point: str) -> subprocess.CompletedProcess[str]:
    command = ["import", str(case.store.path), "--format", case.fmt, *map(str, case.paths)]
    command += case.cli + (["--county", case.county] if case.county else [])
    return subprocess.run(
        [sys.executable, "-c", KILLER, point, *command],
        capture_output=True,
        text=True,
        env={**os.environ, "CANVASS_ACTOR": "clerk"},
        check=False,
    )


@pytest.mark.parametrize("fmt", ALL_FORMATS)
def test_an_import_killed_while_staging_leaves_nothing(tmp_path: Path, fmt: str) -> None:
    """SIGKILL mid-import, an artifact half-staged: its staging folder is all that is left,
    and the next opening of the election drops it (no live process holds it)."""
    case = make_case(tmp_path, fmt)
    before = state(case.store)
    case.store.close()
    result = killed_import(case, "staging")
    assert result.returncode == -signal.SIGKILL, result.stderr
    left = {p.name for p in case.store.path.iterdir()} - {p.split("/")[0] for p in before[1]}
    assert {n for n in left if not n.startswith("canvass.db")} <= {
        n for n in left if n.startswith(".staging-")
    }
    opened = ElectionDirectory.open(case.store.path)
    assert state(opened) == before
    assert not list(case.store.path.glob(".staging-*"))
    assert opened.verify_log() == []


@pytest.mark.parametrize("fmt", ["dominion", "precinct-results", "ballot-manifest"])
def test_an_import_killed_before_its_transaction_commits_leaves_nothing(
    tmp_path: Path, fmt: str
) -> None:
    case = make_case(tmp_path, fmt)
    before = state(case.store)
    case.store.close()
    result = killed_import(case, "transaction")
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert list(case.store.path.glob(".staging-*"))  # the artifacts had been staged
    result = runner.invoke(app, ["log", "verify", str(case.store.path)])
    assert result.exit_code == 0, result.output
    opened = ElectionDirectory.open(case.store.path)
    assert state(opened) == before
    assert not list(case.store.path.glob(".staging-*"))


def test_log_verify_names_whatever_lies_in_the_artifact_store_unnamed(
    county: ElectionDirectory,  # noqa: F811
) -> None:
    """Not only a stray artifact in its place: a file at the store's top, a name no
    SHA-256 has, a temporary file left behind, an artifact in a folder not its own."""
    sha = hashlib.sha256(b"misplaced").hexdigest()
    store = county.path / "artifacts"
    strays = {
        "loose": store / "loose",
        "ab/not-a-sha256": store / "ab" / "not-a-sha256",
        "ab/.tmp-x1y2": store / "ab" / ".tmp-x1y2",
        f"00/{sha}": store / "00" / sha,
    }
    for path in strays.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"misplaced")
    assert sorted(county.verify_log()) == sorted(
        f"artifact {name}: in the artifact store, but no log entry names it" for name in strays
    )
