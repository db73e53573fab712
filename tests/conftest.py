from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from canvass.app.actor import Actor
from canvass.app.elections import define
from canvass.store.election import ElectionDirectory
from tests.backends import backend, backend_module, backend_params, scratch_database  # noqa: F401
from tests.browser import NEEDS_BROWSER, NEEDS_NGINX, browser, context  # noqa: F401 (fixtures)
from tests.postgres import NEEDS_POSTGRES, Database, database, postgres  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXAMPLES = ROOT / "examples"


NEEDS_SHARED = "[reference data]"
"""Begins the reason of every skip for want of ../shared, so the run can count them."""


def absent(path: Path) -> str:
    return f"{NEEDS_SHARED} {path} is absent: the shared reference data is not beside this checkout"


def skip_without(path: Path) -> None:
    """Skip the test, saying why, unless ``path`` (under ../shared) exists."""
    if not path.exists():
        pytest.skip(absent(path))


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    skip_without(path)
    return path


def shared_params(values: Iterable[Any], where: Path) -> list[Any]:
    """Parameters read from ``where`` under ../shared; without it, one that skips saying
    why (rather than an empty set, which would not say it)."""
    if where.exists():
        return list(values)
    return [pytest.param(None, marks=pytest.mark.skip(reason=absent(where)), id="absent")]


REQUIRED_SKIPS = {
    NEEDS_SHARED: (
        "CANVASS_REQUIRE_SHARED",
        "tests skipped for missing reference data: {SHARED} is absent or incomplete "
        "(see ../shared/data/README.md)",
        "the reference data must be complete here",
    ),
    NEEDS_BROWSER: (
        "CANVASS_REQUIRE_BROWSER",
        "browser tests skipped: Chromium, Playwright or axe-core is absent",
        "browser tests must run here",
    ),
    NEEDS_POSTGRES: (
        "CANVASS_REQUIRE_POSTGRES",
        "PostgreSQL tests skipped: no PostgreSQL answers (see tests/postgres.py)",
        "PostgreSQL tests must run here",
    ),
    NEEDS_NGINX: (
        "CANVASS_REQUIRE_NGINX",
        "tests of the shipped nginx configuration skipped: nginx is absent",
        "the nginx configuration must be tested here",
    ),
}
"""For each kind of skip that CI must not allow: the variable that forbids it (set by
.ci/run), the summary line and why it fails the run."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that creates an election runs on SQLite and on PostgreSQL
    (tests/backends.py)."""
    params = backend_params(metafunc)
    if params is not None:
        metafunc.parametrize("backend_module", params, indirect=True, scope="module")


def _skipped(stats: dict[str, Any], marker: str) -> list[Any]:
    return [r for r in stats.get("skipped", []) if marker in str(r.longrepr)]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for marker, (variable, summary, must) in REQUIRED_SKIPS.items():
        skipped = _skipped(terminalreporter.stats, marker)
        if not skipped:
            continue
        terminalreporter.write_line(f"{len(skipped)} {summary.format(SHARED=SHARED)}", yellow=True)
        if os.environ.get(variable) == "1":
            terminalreporter.write_line(
                f"{variable}=1: {must}, so these skips fail the run", red=True
            )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With CANVASS_REQUIRE_SHARED=1 (set by .ci/run where ../shared/data is present), a
    test skipped for missing reference data fails the run; with CANVASS_REQUIRE_BROWSER=1
    (set by .ci/run, which installs Chromium), a browser test skipped does."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter is not None else {}
    for marker, (variable, _, _) in REQUIRED_SKIPS.items():
        if os.environ.get(variable) == "1" and _skipped(stats, marker):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def election_dir(tmp_path: Path, database: Database) -> Iterator[ElectionDirectory]:  # noqa: F811
    """A new election directory with its log opened, on SQLite and on PostgreSQL."""
    store = database.init(tmp_path / "election", "canvass.test/county", "clerk")
    yield store
    store.close()


@pytest.fixture
def defined(election_dir: ElectionDirectory) -> ElectionDirectory:
    """An election directory holding the example definition."""
    path = EXAMPLES / "election.yaml"
    define(election_dir, Actor("clerk"), path.read_bytes(), path.name)
    return election_dir
