"""The README is short and true: its commands and the docs' commands exist, its two
commands are the Makefile's, and every page it links is there."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from canvass.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))


def commands_named(text: str) -> set[tuple[str, ...]]:
    """The subcommands of every `canvass ...` shown in code in ``text``."""
    commands = set()
    for usage in re.findall(r"`canvass ([^`]*)`", text):
        if usage.startswith("statement v"):
            continue  # the domain tag of a signed statement, not a command
        words = []
        for word in usage.split():
            if not re.fullmatch(r"[a-z]+(-[a-z]+)*", word):
                break
            words.append(word)
        commands.add(tuple(words))
    return commands


@pytest.mark.parametrize("page", ["README.md", *(f"docs/{p.name}" for p in DOCS)])
def test_every_command_shown_exists(page: str) -> None:
    runner = CliRunner()
    for words in sorted(commands_named((ROOT / page).read_text())):
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, f"{page}: canvass {' '.join(words)}: {result.stdout}"


def test_the_command_reference_covers_the_main_commands() -> None:
    reference = commands_named((ROOT / "docs" / "cli.md").read_text())
    for words in [("init",), ("log", "verify"), ("verify",), ("publish",), ("import",)]:
        assert words in reference, words


def test_the_two_commands() -> None:
    makefile = (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    for target in ("demo", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, re.M)
    assert "make test" in ci
    for target in re.findall(r"`make ([a-z-]+)", README):
        assert re.search(rf"^{target}:", makefile, re.M), f"make {target} is not a target"


def test_every_linked_page_exists_and_the_readme_stays_short() -> None:
    for page in [ROOT / "README.md", *DOCS]:
        for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / link).exists(), f"{page.name} links {link}, which is missing"
    assert len(README.splitlines()) < 80
