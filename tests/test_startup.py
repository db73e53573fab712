"""The command line starts without the heavy libraries: each command imports what it uses
when it runs, so ``canvass --help`` and a simple command start in a fraction of a second.
These tests say which modules a command loads (never how long it takes)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from canvass.store import db
from tests.test_cli import run

HEAVY = ("sqlalchemy", "pyarrow", "numpy", "scipy", "cryptography", "lxml", "jinja2", "rich")
NEVER_TO_COUNT = (
    "alembic",
    "scipy",
    "jinja2",
    "fastapi",
    "starlette",
    "uvicorn",
    "weasyprint",
    "pydantic",
    "click",
    "lxml",
)
"""Libraries ``canvass results`` has no use for: migrations, statistics, templates, the web,
XML (no definition or stored table is XML), and Pydantic and Click, which Typer would load
to convert a command's arguments (it has its own copy of Click; ``canvass.cli.params``
converts them without Pydantic)."""


def loaded(code: str, whole: bool = False) -> set[str]:
    """The top-level packages (or, ``whole``, every module) loaded after running ``code``
    in a fresh interpreter."""
    name = "m" if whole else "m.split('.')[0]"
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{{name} for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def command(*args: str | Path) -> str:
    """``code`` that runs the command line in-process with ``args``, as ``canvass`` does."""
    return (
        f"import sys\nsys.argv = ['canvass', *{[str(a) for a in args]!r}]\n"
        "from canvass.cli import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
    )


def test_the_command_line_loads_no_heavy_library() -> None:
    found = loaded(
        "from canvass.cli import app\nfrom typer.main import get_command\nget_command(app)"
    )
    assert found.isdisjoint(HEAVY), found & set(HEAVY)


def test_help_loads_no_heavy_library() -> None:
    found = loaded(command("--help"))
    assert found.isdisjoint(HEAVY), found & set(HEAVY)


def counted_election(tmp_path: Path) -> Path:
    """An election with a county's ballots imported."""
    from tests.test_dominion import BALLOTS, write_export
    from tests.test_import import DEFINITION

    definition = tmp_path / "e.yaml"
    definition.write_text(DEFINITION)
    election = tmp_path / "adams"
    run("init", election)
    run("define", election, definition)
    run("import", election, write_export(tmp_path / "cvr", BALLOTS[:3]), "--county", "adams")
    return election


def test_counting_an_election_loads_neither_migrations_nor_statistics(tmp_path: Path) -> None:
    """Opening an election checks its schema's revision without Alembic; the count loads no
    SciPy, templates or web framework, and its arguments are converted without Pydantic."""
    election = counted_election(tmp_path)
    found = loaded(command("results", election, "--contest", "mayor"), whole=True)
    assert "pyarrow" in found  # the count itself ran
    packages = {m.split(".")[0] for m in found}
    assert packages.isdisjoint(NEVER_TO_COUNT), packages & set(NEVER_TO_COUNT)
    # Reading an election needs none of the workflows that change it.
    changing = {"canvass.app.elections", "canvass.app.boards", "canvass.app.folds"}
    assert found.isdisjoint(changing), found & changing
    # A count this small runs in this process: no worker processes, nor their modules.
    workers = {"multiprocessing", "concurrent.futures.process"}
    assert found.isdisjoint(workers), found & workers


@pytest.mark.sqlite_only("an election kept in PostgreSQL is read through SQLAlchemy")
def test_counting_an_sqlite_election_loads_no_sqlalchemy(tmp_path: Path) -> None:
    """``canvass results`` reads an SQLite election through the standard library's
    ``sqlite3`` (``canvass.store.reading``): SQLAlchemy and the store's SQLAlchemy side
    (the log's writer, its projections and integrity checks) stay unloaded."""
    election = counted_election(tmp_path)
    found = loaded(command("results", election), whole=True)
    assert "pyarrow" in found  # the count itself ran
    assert "sqlalchemy" not in {m.split(".")[0] for m in found}
    store = {"canvass.store.db", "canvass.store.election", "canvass.store.log"}
    assert found.isdisjoint(store), found & store


def test_the_schema_revision_is_the_newest_migration() -> None:
    assert db.head_revision() == db.SCHEMA_REVISION


def test_sizing_an_audit_loads_scipy_only_when_it_computes() -> None:
    assert "scipy" not in loaded("import canvass.audit.stats")
    assert "scipy" in loaded(
        "from canvass.audit.stats import bravo_sample_size\n"
        "assert bravo_sample_size(0.1, 0.6, 0.4, 0.9) > 0"
    )


def test_version() -> None:
    assert run("--version") == f"canvass {version('canvass')}\n"


RANKED = """
election: {id: e, name: Test Election, date: 2026-11-03, state: XX}
jurisdictions:
  - {id: state, name: State, kind: state}
candidates:
  - {id: chen, name: Chen}
  - {id: diaz, name: Diaz}
  - {id: evans, name: Evans}
contests:
  - {id: judge, name: Judge, type: ranked_choice, jurisdiction: state, candidates: [chen, diaz, evans], ranks: 3, rules: {tiebreak_mode: stopCountingAndAsk}}
"""


def ranked_table(rankings: list[list[int]]) -> Any:
    """One card per ranking (0 Chen, 1 Diaz, 2 Evans; first choice first)."""
    import pyarrow as pa

    from canvass.ingest.ballots import SCHEMA, VOTE, batches

    cards = [
        (
            ("state", "t", "b", str(i), "", "s", "p", "pp", "g", "election_day"),
            [0],
            [(0, c, r, VOTE) for r, c in enumerate(ranks, 1)],
        )
        for i, ranks in enumerate(rankings)
    ]
    return pa.Table.from_batches(list(batches(cards)), schema=SCHEMA)


def test_a_count_asks_for_the_officials_decisions_only_at_a_tie() -> None:
    """Finding the decisions means folding the whole log: ``canvass results`` does it only
    when a count reaches a tie the rules leave to the officials."""
    from canvass.domain.definition import load_definition
    from canvass.tabulate.election import TieDecision, ranked_choice_counts

    election = load_definition(RANKED.encode(), "e.yaml")
    asked: list[int] = []

    def decisions() -> list[TieDecision]:
        asked.append(1)
        return [TieDecision("judge", 1, ("chen", "diaz", "evans"), False, "evans")]

    # Chen 3, Diaz 2, Evans 1 first choices: nobody ties.
    clear = [[0], [0], [0], [1], [1], [2]]
    assert ranked_choice_counts(election, [ranked_table(clear)], None, decisions).counted["judge"][
        0
    ].winners == ["chen"]
    assert asked == []
    # One each, Evans's voter ranking Chen next: a three-way tie to eliminate, decided as
    # recorded (Evans), after which Chen has a majority.
    tied = ranked_choice_counts(election, [ranked_table([[0], [1], [2, 0]])], None, decisions)
    assert asked == [1] and not tied.ties
    assert tied.counted["judge"][0].winners == ["chen"]


def test_a_command_is_built_alone_and_says_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``canvass NAME …`` builds only NAME's command or group (``canvass.cli.main.only``);
    its help, and its answer to arguments it cannot take, are the whole command line's."""
    from typer.main import get_command_name
    from typer.testing import CliRunner

    from canvass.cli.main import app, only

    monkeypatch.chdir(tmp_path)  # nothing runs, but should one, it makes nothing here
    runner = CliRunner()

    def ran(command: Any, args: list[str]) -> tuple[int, str, str]:
        result = runner.invoke(command, args)
        return result.exit_code, result.stdout, result.stderr

    names = [c.name or get_command_name(c.callback.__name__) for c in app.registered_commands]
    names += [str(g.name) for g in app.registered_groups]
    assert {"results", "init", "import", "log", "audit"} <= set(names)
    for name in names:
        alone = only([name, "--help"])
        assert alone is not app
        assert len(alone.registered_commands) + len(alone.registered_groups) == 1
        for args in ([name, "--help"], [name, "--no-such-option"]):
            assert ran(alone, args) == ran(app, args), args
        assert ran(app, [name, "--no-such-option"])[0] == 2
    for args in (["resluts"], ["--version", "resluts"]):
        assert only(args) is app
    # Named none: every group without its commands, which the whole help does not list.
    for args in (["--help"], [], ["--version"], ["--no-such-option"], ["--version", "--help"]):
        shell = only(args)
        assert shell.registered_groups and all(
            not g.typer_instance.registered_commands for g in shell.registered_groups
        )
        assert ran(shell, args) == ran(app, args), args
    assert "rcv" in runner.invoke(only(["--help"]), ["--help"]).stdout
    assert only(["--version", "results"]).registered_commands[0].name == "results"
