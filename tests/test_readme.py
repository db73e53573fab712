"""The README's commands exist, and its two commands are the Makefile's."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from canvass.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_every_command_in_the_readme_exists() -> None:
    commands = set()
    for usage in re.findall(r"`canvass ([^`]*)`", README):
        words = []
        for word in usage.split():
            if not re.fullmatch(r"[a-z]+", word):
                break
            words.append(word)
        commands.add(tuple(words))
    assert ("log", "verify") in commands and ("init",) in commands
    runner = CliRunner()
    for words in commands:
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, f"canvass {' '.join(words)}: {result.stdout}"


def test_the_two_commands() -> None:
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.M)
    assert "make test" in ci
