"""Running the store's tests on PostgreSQL as well as SQLite.

The ``database`` fixture is parametrised over both: on PostgreSQL each test gets a schema
of its own in the database at ``$CANVASS_TEST_POSTGRES`` (by default the development
machine's, ``postgresql://postgres@127.0.0.1:5432/test``), dropped afterwards. Where no
PostgreSQL answers, those tests skip, saying why; with CANVASS_REQUIRE_POSTGRES=1 (set by
.ci/run) such a skip fails the run.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from canvass.store import db
from canvass.store.db import public_url
from canvass.store.election import ElectionDirectory

NEEDS_POSTGRES = "[postgresql]"
"""Begins the reason of every skip for want of PostgreSQL, so the run can count them."""
POSTGRES_URL = os.environ.get("CANVASS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@functools.cache
def postgres_absent() -> str | None:
    """Why the PostgreSQL tests cannot run here, or None when they can."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return (
            f"{NEEDS_POSTGRES} no PostgreSQL at {public_url(POSTGRES_URL)} ({first}); "
            "set CANVASS_TEST_POSTGRES to a database URL to run these tests"
        )
    return None


def drop_schema(schema: str) -> None:
    """Drop a test's schema and the accounts kept beside it."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        for name in (schema, f"{schema}_accounts"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@dataclass(frozen=True)
class Database:
    """Where a test's election keeps its log: SQLite in the directory, or a PostgreSQL
    schema of its own."""

    kind: str
    url: str | None = None
    schema: str | None = None

    def init(
        self, path: Path, origin: str | None = None, actor: str = "operator"
    ) -> ElectionDirectory:
        return ElectionDirectory.init(path, origin, actor, self.url, self.schema)

    def init_args(self) -> list[str]:
        """The options of ``canvass init`` that put the log here."""
        if self.url is None:
            return []
        return ["--database", self.url, "--schema", str(self.schema)]


@contextmanager
def fresh(kind: str) -> Iterator[Database]:
    """A place for one test's election: nothing to make for SQLite; for PostgreSQL a new
    schema, dropped when the test ends (or the test skips, saying why)."""
    if kind == "sqlite":
        yield Database("sqlite")
        return
    absent = postgres_absent()
    if absent is not None:
        pytest.skip(absent)
    schema = f"test_{secrets.token_hex(6)}"
    try:
        yield Database("postgresql", POSTGRES_URL, schema)
    finally:
        drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """SQLite, then PostgreSQL (a schema of the test's own)."""
    with fresh(request.param) as found:
        yield found


@pytest.fixture
def postgres() -> Iterator[Database]:
    """A PostgreSQL schema of the test's own, for tests of PostgreSQL alone."""
    with fresh("postgresql") as found:
        yield found


def _server_programs() -> Path | None:
    """The folder of PostgreSQL's initdb and pg_ctl, if installed."""
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if out and (Path(out) / "pg_ctl").is_file() and (Path(out) / "initdb").is_file():
            return Path(out)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


@dataclass
class PrivateServer:
    """A PostgreSQL server of a test's own, in a temporary folder, that the test may stop,
    crash and start again without disturbing anything else."""

    programs: Path
    data: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.programs / "pg_ctl"), "-D", str(self.data / "data"), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} "
            f"-c unix_socket_directories={self.data} -c fsync=on -c synchronous_commit=on"
        )
        self.pg_ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (sessions ended, transactions rolled back) or
        ``immediate`` (as if the machine had lost power: recovery from the WAL on start)."""
        self.pg_ctl("-m", mode, "-w", "stop")


@contextmanager
def private_server() -> Iterator[PrivateServer]:
    """A PostgreSQL server started for the test and removed after it (the test skips,
    saying why, where PostgreSQL's programs are not installed)."""
    programs = _server_programs()
    if programs is None:
        pytest.skip(f"{NEEDS_POSTGRES} PostgreSQL's initdb and pg_ctl are not installed")
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="canvass-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: as its own user, then
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = PrivateServer(programs, folder, port, as_user)
    try:
        subprocess.run(
            [
                *as_user,
                str(programs / "initdb"),
                *("-D", str(folder / "data"), "--auth=trust", "-U", "postgres", "-E", "UTF8"),
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        server.start()
        yield server
    finally:
        with suppress(subprocess.SubprocessError):
            server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def election_engine(directory: Path) -> Iterator[Engine]:
    """An engine on the election's own database, SQLite file or PostgreSQL schema, for a
    test that changes it behind the log's back; disposed afterwards."""
    made = db.engine(*ElectionDirectory.database(directory))
    try:
        yield made
    finally:
        made.dispose()


def behind_the_log(directory: Path, *statements: str, **values: object) -> None:
    """Run SQL ``statements`` in one transaction on the election's own database, as
    someone changing the tables behind the log would (``:name`` parameters from
    ``values``)."""
    with election_engine(directory) as made, made.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), values)
