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
