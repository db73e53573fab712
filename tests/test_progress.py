"""Progress bars: drawn on a terminal with counts and rates, never anywhere else."""

from __future__ import annotations

import sys

import pytest

from canvass.cli.progress import progress


def test_nothing_is_drawn_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("Reading the export", "cards") as advance:
        advance(65_536)
    assert capsys.readouterr().err == ""


def test_a_terminal_sees_counts_and_a_rate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with progress("Reading the export", "cards") as advance:
        for _ in range(3):
            advance(65_536)
    drawn = capsys.readouterr().err
    assert "Reading the export" in drawn and "196,608 cards" in drawn
    with progress("Writing the bundle", "files", total=4) as advance:
        advance(4)
    assert "4/4" in capsys.readouterr().err


def test_every_county_in_turn_shows_its_progress(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seating, proposing, moving and voting on every county's board, one county at a time
    (Georgia's 159 take seconds each step), each say how far they are."""
    from contextlib import contextmanager
    from pathlib import Path

    from typer.testing import CliRunner

    import canvass.cli.progress
    from canvass.cli import app
    from canvass.demo.build import build_demo

    shown: list[list[object]] = []

    @contextmanager
    def recorded(description: str, unit: str, total: int | None = None):  # type: ignore[no-untyped-def]
        seen: list[object] = [description, unit, total, 0]
        shown.append(seen)

        def advance(n: int) -> None:
            seen[3] = int(seen[3]) + n  # type: ignore[call-overload]

        yield advance

    monkeypatch.setattr(canvass.cli.progress, "progress", recorded)
    runner = CliRunner()

    def run(*args: object) -> str:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result.stdout

    path = Path(str(tmp_path)) / "e"
    build_demo(path, False, 2, 8, 2026, 10, canvass=False)
    key = Path(str(tmp_path)) / "ann.key"
    run("keys", "new", "--name", "ann", "--out", key)
    run("keys", "register", path, f"{key}.pub", "--role", "board-member")
    run("board", "constitute", path, "--board", "county:all", "--profile", "generic",
        "--member", "ann:Ann:")  # fmt: skip
    run("certify", "propose", path, "--county", "all")
    run("board", "move", path, "--board", "county:all", "--kind", "certify", "--key", key)
    run("board", "vote", path, "--motion", "all", "--vote", "yes", "--key", key)
    assert shown == [
        ["Seating county boards", "boards", 2, 2],
        ["Writing county certificates", "certificates", 2, 2],
        ["Moving to certify", "motions", 2, 2],
        ["Voting", "votes", 2, 2],
    ]
