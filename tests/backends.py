"""The whole suite on SQLite and on PostgreSQL.

Every test in a module that creates an election (through ``canvass init``, the
application layer, the store, the demo or the officials' application) runs twice: with
the id ``sqlite``, its elections in their directories' SQLite files; with the id
``postgresql``, every election it creates without naming a database goes to PostgreSQL,
because ``$CANVASS_DATABASE`` (the product's own default for new elections, see
:func:`canvass.store.election.default_database`) then names a scratch database made for
this run of the tests. ``-k postgresql`` runs the PostgreSQL half alone.

The scratch database is one per run (``canvass_test_…`` beside ``$CANVASS_TEST_POSTGRES``,
dropped at the end); what a test leaves in it is dropped after the test (the schemas it
made), and what a module's fixtures made, after the module. Every PostgreSQL engine made
meanwhile is disposed after the test (its idle pooled connections closed); a test that
still holds a connection then (a transaction or a result never finished) fails.

Not doubled: modules that create no election (the pure library's tests), and tests that
already choose their database themselves (the ``database``, ``postgres``,
``election_dir`` and ``defined`` fixtures run on both). A test that is about SQLite
itself (it copies or edits the SQLite file) carries ``@pytest.mark.sqlite_only(reason)``,
and its PostgreSQL twin skips with that reason. Where no PostgreSQL answers, the twins
skip as every PostgreSQL test does (:data:`tests.postgres.NEEDS_POSTGRES`).
"""

from __future__ import annotations

import functools
import gc
import inspect
import os
import re
import secrets
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from canvass.store import db
from canvass.store.election import DATABASE_ENV, ElectionDirectory
from tests.postgres import POSTGRES_URL, postgres_absent

BACKENDS = ("sqlite", "postgresql")

CREATES_ELECTIONS = re.compile(
    r"ElectionDirectory|build_demo|make_office|create_app|\binit\b|\brestore\b|[\"']demo[\"']"
)
"""What, in a test module's source, says it may create an election."""

OWN_FIXTURES = frozenset({"backend", "backend_module", "scratch_database"})
"""This module's fixtures, which every test uses."""

CHOOSE_THEIR_OWN = frozenset({"database", "postgres", "election_dir", "defined"})
"""Fixtures that already run a test on both databases, or on PostgreSQL alone."""

SYSTEM_SCHEMAS = "nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public')"


TESTS = Path(__file__).resolve().parent


def _ours(function: object) -> bool:
    """Whether ``function`` is one of the tests' own (not the product's, not pytest's)."""
    try:
        found = inspect.getsourcefile(function)  # type: ignore[arg-type]
    except TypeError:
        return False
    return found is not None and Path(found).resolve().is_relative_to(TESTS)


CALLED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def _source(function: object) -> str:
    try:
        return inspect.getsource(function)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ""


@functools.cache
def _creates_elections(function: Callable[..., object], depth: int = 3) -> bool:
    """Whether ``function`` (a test, a fixture or a helper of the tests) creates an
    election, by its source or that of the tests' own functions it calls."""
    source = _source(function)
    if CREATES_ELECTIONS.search(source):
        return True
    if depth == 0:
        return False
    names = getattr(function, "__globals__", {})
    for called in set(CALLED.findall(source)):
        helper = names.get(called)
        if (
            inspect.isfunction(helper)
            and helper is not function
            and _ours(helper)
            and _creates_elections(helper, depth - 1)
        ):
            return True
    return False


def creates_elections(metafunc: pytest.Metafunc) -> bool:
    """Whether the test, or a fixture it uses, creates an election."""
    if _creates_elections(metafunc.function):
        return True
    for name in metafunc.fixturenames:
        if name in OWN_FIXTURES:
            continue
        for fixture in metafunc._arg2fixturedefs.get(name, ()):
            if _ours(fixture.func) and _creates_elections(fixture.func):
                return True
    return False


ON_BOTH = frozenset(
    {
        "test_accounts_schema.py",
        "test_all_or_nothing.py",
        "test_antrim_2020.py",
        "test_app_layer.py",
        "test_architecture.py",
        "test_audit_workflow.py",
        "test_backup.py",
        "test_ballots.py",
        "test_cambridge_2022.py",
        "test_canvass.py",
        "test_cli.py",
        "test_concurrency.py",
        "test_crash.py",
        "test_drafting.py",
        "test_election_night.py",
        "test_export_err.py",
        "test_georgia_2020.py",
        "test_handcount.py",
        "test_health.py",
        "test_hostile_input.py",
        "test_import.py",
        "test_manifest.py",
        "test_migrate.py",
        "test_pg_load.py",
        "test_postgres.py",
        "test_progress.py",
        "test_publish_verify.py",
        "test_rcv.py",
        "test_readme.py",
        "test_reconcile.py",
        "test_results_only.py",
        "test_san_francisco.py",
        "test_site_pages.py",
        "test_site_stages.py",
        "test_startup.py",
        "test_store.py",
        "test_verify_hostile.py",
        "test_web_access.py",
        "test_web_accounts.py",
        "test_web_ascertainment.py",
        "test_web_audit_board.py",
        "test_web_browser.py",
        "test_web_demo.py",
        "test_web_draft.py",
        "test_web_errors.py",
        "test_web_hostile.py",
        "test_web_live.py",
        "test_web_pages.py",
        "test_web_passkeys.py",
    }
)
"""The modules whose tests get PostgreSQL twins: every module that creates an election. A
new such module is added here; in a listed module, a test that creates an election
without a twin fails (:func:`backend`), so the detection cannot miss one silently."""


def backend_params(metafunc: pytest.Metafunc) -> list[object] | None:
    """The backends a test runs on (None: SQLite alone, unparametrised)."""
    if "backend_module" not in metafunc.fixturenames:
        return None
    if metafunc.definition.path.name not in ON_BOTH:
        return None
    if CHOOSE_THEIR_OWN.intersection(metafunc.fixturenames):
        return None
    if not creates_elections(metafunc):
        return None
    only = metafunc.definition.get_closest_marker("sqlite_only")
    if only is None:
        return list(BACKENDS)
    reason = only.kwargs.get("reason") or (only.args[0] if only.args else "")
    return [
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skip(reason=f"[sqlite only] {reason}"),
            id="postgresql",
        ),
    ]


@dataclass(frozen=True)
class Backend:
    """Where the elections a test creates without naming a database go."""

    kind: str
    url: str | None = None


def _connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


def make_scratch_database() -> str:
    """A new, empty database beside ``$CANVASS_TEST_POSTGRES``; its URL."""
    name = f"canvass_test_{os.getpid()}_{secrets.token_hex(4)}"
    with _connect(POSTGRES_URL) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    with _connect(POSTGRES_URL) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def schemas(url: str) -> set[str]:
    with _connect(url) as conn:
        rows = conn.execute(f"SELECT nspname FROM pg_namespace WHERE {SYSTEM_SCHEMAS}")
        return {str(row[0]) for row in rows}


def drop_schemas(url: str, names: set[str]) -> None:
    if not names:
        return
    with _connect(url) as conn:
        conn.execute("SET lock_timeout = '30s'")
        for name in sorted(names):
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def open_connections(url: str, since: object = None) -> list[str]:
    """The sessions other than this one connected to ``url``'s database (opened after
    ``since``, a server time, when given): what each last ran."""
    name = make_url(url).database
    with _connect(url) as conn:
        rows = conn.execute(
            "SELECT pid, state, left(query, 80) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND (%s::timestamptz IS NULL OR backend_start >= %s::timestamptz)",
            (name, since, since),
        ).fetchall()
    return [f"pid {pid} ({state}): {query}" for pid, state, query in rows]


def terminate(url: str, since: object = None) -> None:
    """End the sessions :func:`open_connections` finds."""
    name = make_url(url).database
    with _connect(url) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND (%s::timestamptz IS NULL OR backend_start >= %s::timestamptz)",
            (name, since, since),
        )


def server_now(url: str) -> object:
    with _connect(url) as conn:
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        return row[0]


ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
"""Every PostgreSQL engine made while a twin runs (the elections', the accounts')."""


def _tracked(make: Callable[..., Engine]) -> Callable[..., Engine]:
    def tracked(*args: Any, **kw: Any) -> Engine:
        made = make(*args, **kw)
        ENGINES.add(made)
        return made

    return tracked


def leaked(url: str, since: object = None) -> list[str]:
    """Connections still open once every engine made is disposed (its idle pooled
    connections closed): those a test still holds, in a transaction or a result it
    never finished, or opened outside an engine."""
    for made in list(ENGINES):
        made.dispose()
    found = open_connections(url, since)
    if found:
        gc.collect()
        found = open_connections(url, since)
    return found


@pytest.fixture(scope="session")
def scratch_database() -> Iterator[str]:
    """One database for this run's PostgreSQL twins, dropped at the end."""
    url = make_scratch_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="module", autouse=True)
def backend_module(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Where the module's new elections go (its fixtures' as well as its tests')."""
    kind = getattr(request, "param", "sqlite")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(DATABASE_ENV, raising=False)
        if kind == "sqlite":
            yield Backend("sqlite")
            return
        absent = postgres_absent()
        if absent is not None:
            pytest.skip(absent)
        url = request.getfixturevalue("scratch_database")
        before = schemas(url)
        patch.setenv(DATABASE_ENV, url)
        patch.setattr(db, "postgresql_engine", _tracked(db.postgresql_engine))
        yield Backend("postgresql", url)
        patch.delenv(DATABASE_ENV, raising=False)
        left = leaked(url)
        if left:
            terminate(url)
        drop_schemas(url, schemas(url) - before)
        if left:
            pytest.fail(
                f"{len(left)} connection(s) to PostgreSQL left open by this module's "
                "fixtures: " + "; ".join(left)
            )


@pytest.fixture(autouse=True)
def backend(backend_module: Backend, request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A PostgreSQL twin's clean-up: the schemas its test made are dropped after it, and
    a connection it left open fails it. A test that runs on SQLite alone without saying
    so, yet creates an election, fails too: :func:`creates_elections` missed it."""
    url = backend_module.url
    if url is None:
        callspec = getattr(request.node, "callspec", None)
        if callspec is not None and "backend_module" in callspec.params:
            yield backend_module
            return
        if CHOOSE_THEIR_OWN.intersection(request.fixturenames) or (
            request.node.path.name not in ON_BOTH
        ):
            yield backend_module
            return
        made: list[Path] = []
        create = ElectionDirectory.create.__func__  # type: ignore[attr-defined]

        def counted(cls: type[ElectionDirectory], path: Path, *args: Any, **kw: Any) -> Any:
            made.append(path)
            return create(cls, path, *args, **kw)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ElectionDirectory, "create", classmethod(counted))
            yield backend_module
        if made:
            pytest.fail(
                f"this test created an election ({made[0]}) but runs on SQLite alone: "
                "tests/backends.py did not see what creates it (add that to "
                "CREATES_ELECTIONS), or mark the test sqlite_only"
            )
        return
    before = schemas(url)
    began = server_now(url)
    yield backend_module
    left = leaked(url, began)
    if left:
        terminate(url, began)
    drop_schemas(url, schemas(url) - before)
    if left:
        pytest.fail(f"{len(left)} connection(s) to PostgreSQL left open: " + "; ".join(left))
