"""An election directory: the database, the artifact store and the log operator's key.

::

    DIR/
      canvass.db          SQLite (WAL, synchronous=FULL): the log and its projections
        or database.toml  where they are instead: a PostgreSQL URL and schema
      artifacts/ab/ab…    content-addressed files, named by SHA-256
      keys/operator.key   the log operator's Ed25519 key (0600), which signs checkpoints

With PostgreSQL (``canvass init DIR --database postgresql://…``) the log lives in the
database, and the directory holds only ``database.toml``, the artifacts and the operator's
key: several app servers share one election by mounting the same directory (a shared
volume) and connecting to the same database (docs/deployment.md). Where no database is
given, ``$CANVASS_DATABASE`` (when set) is where a new election keeps its log.

Every change goes through :meth:`ElectionDirectory.writing`: one database transaction that
takes the log's write lock first, so the checks made through it see the log as the change
will extend it; appends the change's log entries, projects them, signs the checkpoint
over them, and commits all of it or none. Reads go through
:meth:`ElectionDirectory.reading`: one snapshot.
"""

from __future__ import annotations

import functools
import json
import os
import re
import secrets
import shutil
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError, ProgrammingError

from canvass import keys
from canvass.errors import StoreError
from canvass.guard.text import file_name
from canvass.log.entry import ArtifactRef, Entry, new_entry
from canvass.log.note import Signer, VerifierKey
from canvass.store import accounts, changes, db, integrity
from canvass.store import schema as s
from canvass.store.artifacts import ArtifactStore, FileArtifactStore
from canvass.store.log import LogReader, LogWriter
from canvass.store.reading import ARTIFACTS_DIR as ARTIFACTS_DIR
from canvass.store.reading import DATABASE_CONFIG as DATABASE_CONFIG
from canvass.store.reading import DB_FILE as DB_FILE

OPERATOR_KEY = Path("keys") / "operator.key"

DATABASE_ENV = "CANVASS_DATABASE"
"""The environment variable naming the PostgreSQL database in which a new election keeps
its log when none is given (``canvass init``, ``canvass restore``, ``canvass demo``);
unset or empty, the log is in the directory's SQLite file."""


def default_database() -> str | None:
    """The database a new election goes in when none is named (None: SQLite)."""
    return os.environ.get(DATABASE_ENV) or None


MEDIA_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml", ".json": "application/json"}


def media_type(name: str) -> str:
    return MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


class ElectionDirectory:
    def __init__(self, path: Path, engine: Engine, artifacts: ArtifactStore | None = None) -> None:
        self.path = path
        self.engine = engine
        self.artifacts: ArtifactStore = artifacts or FileArtifactStore(path / ARTIFACTS_DIR)
        self.identity = str(path.resolve())
        """Names this election's log for caches; with its size and root, a state of it."""
        self._signer: Signer | None = None

    # --- Opening ----------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        path: Path,
        origin: str | None = None,
        actor: str = "operator",
        database: str | None = None,
        schema: str | None = None,
    ) -> ElectionDirectory:
        """Create a new election directory: its log operator key, its schema and the log's
        opening entry. Its log lives in ``DIR/canvass.db`` (SQLite), or in the PostgreSQL
        ``database`` (a URL; by default :func:`default_database`) under ``schema`` (by
        default named after the directory)."""
        slug = _slug(path.resolve().name)
        origin = origin or f"canvass.invalid/{slug}-{secrets.token_hex(4)}"
        signer = keys.new_signer(origin)
        store = cls.create(path, lambda key: keys.write_key(signer, key), database, schema)
        opened = new_entry(
            "log.opened",
            actor,
            {"origin": origin, "operator": signer.verifier().encode(), "operator_name": origin},
        )
        with store.writing() as w:
            w.append(opened)
        return store

    @classmethod
    def create(
        cls,
        path: Path,
        write_key: Callable[[Path], object],
        database: str | None = None,
        schema: str | None = None,
    ) -> ElectionDirectory:
        """An election directory with the newest schema and an empty log (see
        :meth:`init`; a restore fills the log from a backup). ``write_key`` writes the log
        operator's key to the path it is given."""
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(f"{path}: already exists and is not empty; choose a new directory")
        database = database or default_database()
        if database is None:
            engine = db.sqlite_engine(path / DB_FILE)
        else:
            if schema is None:
                schema = re.sub(r"[^a-z0-9_]+", "_", _slug(path.resolve().name).lower())
                schema = schema.strip("_")[:40]
                if not schema or schema[0].isdigit():
                    schema = f"election_{schema}"
            engine = db.engine(database, schema)
            if engine.dialect.name == "postgresql":
                _refuse_used_schema(engine, database, schema)
        path.mkdir(parents=True, exist_ok=True)
        (path / OPERATOR_KEY).parent.mkdir(mode=0o700)
        write_key(path / OPERATOR_KEY)
        (path / ARTIFACTS_DIR).mkdir()
        if database is not None:
            _write_config(path, database, db.schema_of(engine))
        db.create_schema(engine)
        db.migrate(engine)
        return cls(path, engine)

    @classmethod
    def open(cls, path: Path) -> ElectionDirectory:
        """Open an election directory whose schema is this Canvass's (see :meth:`migrate`)."""
        engine = cls._engine(path)
        try:
            db.check_revision(engine, str(path))
        except BaseException:
            engine.dispose()
            raise
        election = cls(path, engine)
        election._recover_staged()
        return election

    @classmethod
    def remove(cls, path: Path) -> None:
        """Delete an election: its directory and, on PostgreSQL, its schema (every table of
        its log and projections) and the accounts kept beside it. Refuses a directory that
        is not an election's."""
        url, schema = cls.database(path)
        if not url.startswith("sqlite:") and schema in (None, "public"):
            raise StoreError(
                f"{path}: its log is in the public schema of {db.public_url(url)}; "
                "not deleting the database's own schema"
            )
        if schema is not None:
            for name in (schema, accounts.schema_beside(schema)):
                engine = db.engine(url, name)
                try:
                    db.drop_schema(engine)
                except OperationalError as e:
                    raise StoreError(
                        f"{db.public_url(url)}: cannot connect: {_first_line(e)}"
                    ) from None
                finally:
                    engine.dispose()
        shutil.rmtree(path)

    def check_schema(self) -> None:
        """Refuse, as :meth:`open` does, a database whose schema is not this Canvass's."""
        db.check_revision(self.engine, str(self.path))

    @classmethod
    def migrate(cls, path: Path) -> tuple[str | None, str]:
        """Bring the directory's schema to this Canvass's; returns the revisions before
        and after."""
        engine = cls._engine(path)
        try:
            return db.migrate(engine)
        finally:
            engine.dispose()

    @staticmethod
    def database(path: Path) -> tuple[str, str | None]:
        """The URL of the directory's database and its schema (None for SQLite)."""
        config = path / DATABASE_CONFIG
        if config.is_file():
            where = str(config)
            try:
                found = tomllib.loads(config.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
                raise StoreError(f"{where}: not TOML ({e})") from None
            url, schema = found.get("url"), found.get("schema")
            if not isinstance(url, str) or not url:
                raise StoreError(f'{where}: expected url = "postgresql://…", found {url!r}')
            if schema is not None and not isinstance(schema, str):
                raise StoreError(f"{where}: expected schema = a name, found {schema!r}")
            return url, schema
        file = path / DB_FILE
        if not file.is_file():
            raise StoreError(
                f"{path}: not an election directory (no {DB_FILE} or {DATABASE_CONFIG}); "
                "create one with 'canvass init'"
            )
        return f"sqlite:///{file}", None

    @classmethod
    def _engine(cls, path: Path) -> Engine:
        return db.engine(*cls.database(path))

    def close(self) -> None:
        self.artifacts.discard_staged()
        self.engine.dispose()

    # --- Transactions -----------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[LogReader]:
        """The log and its projections as one snapshot."""
        with db.read_transaction(self.engine) as conn:
            yield LogReader(conn, self.artifacts, self.identity, str(self.path))

    @contextmanager
    def writing(self) -> Iterator[LogWriter]:
        """One durable transaction holding the log's write lock from its start: entries
        appended and projected together, and the checkpoint over them signed, or none of
        it. The artifacts staged for it (:meth:`store_artifact`) join the store once it has
        committed, those its entries name; if it fails, none do."""
        signer = self.operator_signer()
        try:
            with db.write_transaction(self.engine) as conn:
                key = changes.check(conn)  # made already under its key: nothing more
                writer = LogWriter(conn, self.artifacts, self.identity, str(self.path))
                yield writer
                if writer.appended:
                    if key is not None:
                        changes.record(conn, key, writer.appended)
                    writer.sign_checkpoint(signer)
        except BaseException:
            self.artifacts.discard_staged()
            raise
        if key is not None and writer.appended:
            key.recorded = True
        self.artifacts.commit_staged(writer.named)

    def discard_staged(self) -> None:
        """Drop the artifacts stored since the last write: the change they were for failed."""
        self.artifacts.discard_staged()

    def _recover_staged(self) -> None:
        """Place what a killed process staged and the log names (see ``artifacts.py``)."""

        def named(sha256: str) -> bool:
            with db.read_transaction(self.engine) as conn:
                found = conn.execute(
                    select(s.artifact.c.sha256).where(s.artifact.c.sha256 == sha256)
                ).first()
            return found is not None

        recover = getattr(self.artifacts, "recover", None)
        if recover is not None:
            recover(named)

    def store_artifact(self, data: bytes, name: str, media_type_: str | None = None) -> ArtifactRef:
        """Stage ``data`` for the next :meth:`writing`, whose entries may name it."""
        file_name(Path(name), StoreError)  # the log holds text: a name that is not, refused
        digest = self.artifacts.put(data)
        return ArtifactRef(digest, name, media_type_ or media_type(name), len(data))

    def store_file(self, path: Path, media_type_: str | None = None) -> ArtifactRef:
        """Store a file without holding it in memory."""
        file_name(path, StoreError)
        digest, size = self.artifacts.put_file(path)
        return ArtifactRef(digest, path.name, media_type_ or media_type(path.name), size)

    def operator_signer(self) -> Signer:
        if self._signer is None:
            self._signer = keys.read_key(self.path / OPERATOR_KEY)
        return self._signer

    # --- Reading, each call one snapshot ------------------------------------------------

    def size(self) -> int:
        with self.reading() as r:
            return r.size

    def entry_bytes(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with self.reading() as r:
            yield from r.entry_bytes(start, end)

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, Entry]]:
        with self.reading() as r:
            yield from r.entries(start, end)

    def operator_key(self) -> VerifierKey:
        with self.reading() as r:
            return r.operator_key()

    def root(self, size: int | None = None) -> bytes:
        with self.reading() as r:
            return r.root(size)

    def leaf_hash(self, index: int) -> bytes:
        with self.reading() as r:
            return r.leaf_hash(index)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        with self.reading() as r:
            return r.inclusion_proof(index, size)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        with self.reading() as r:
            return r.consistency_proof(size1, size2)

    def checkpoint(self) -> str:
        with self.reading() as r:
            return r.checkpoint()

    def checkpoints(self) -> list[str]:
        with self.reading() as r:
            return r.checkpoints()

    def cosigned_checkpoint(self, size: int | None = None) -> str:
        with self.reading() as r:
            return r.cosigned_checkpoint(size)

    # --- Rebuild and verify -----------------------------------------------------------

    def rebuild(self) -> int:
        """Regenerate the tree nodes and every projection from the log and artifacts."""
        return integrity.rebuild(self)

    def verify_log(self, trusted: Sequence[str] = ()) -> list[str]:
        """Entries against checkpoints, stored tree nodes and artifacts."""
        with self.reading() as r:
            return integrity.verify_log(r, trusted)

    def verify_projections(self) -> list[integrity.Discrepancy]:
        """Replay the log into a scratch database and compare every projection row."""
        with self.reading() as r:
            return integrity.verify_projections(r)

    def verify(self, trusted: Sequence[str] = ()) -> list[str]:
        with self.reading() as r:
            problems = integrity.verify_log(r, trusted)
            if not problems:
                problems.extend(str(d) for d in integrity.verify_projections(r))
        return problems


P = ParamSpec("P")
R = TypeVar("R")


def staged_or_nothing(
    change: Callable[Concatenate[ElectionDirectory, P], R],
) -> Callable[Concatenate[ElectionDirectory, P], R]:
    """For a change that stores artifacts before the transaction that names them (an import
    reads and stores its files first, since that may take minutes): if it fails anywhere,
    what it staged is dropped, and the store is as it was."""

    @functools.wraps(change)
    def run(election: ElectionDirectory, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return change(election, *args, **kwargs)
        except BaseException:
            election.discard_staged()
            raise

    return run


def _refuse_used_schema(engine: Engine, url: str, schema: str) -> None:
    """Refuse to create an election in a schema that already holds one."""
    try:
        found = db.revision(engine)
    except OperationalError as e:
        engine.dispose()
        raise StoreError(f"{db.public_url(url)}: cannot connect: {_first_line(e)}") from None
    except ProgrammingError:
        found = None
    if found is not None:
        engine.dispose()
        raise StoreError(
            f"{db.public_url(url)}: schema {schema!r} already holds an election; "
            "choose another with --schema"
        )


def _first_line(e: OperationalError) -> str:
    return str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)


def _write_config(path: Path, url: str, schema: str | None) -> None:
    lines = [
        "# The database that holds this election's log and projections (canvass init).",
        "# A password is best kept out of it: libpq reads PGPASSWORD and ~/.pgpass.",
        f"url = {json.dumps(url)}",
    ]
    if schema is not None:
        lines.append(f"schema = {json.dumps(schema)}")
    config = path / DATABASE_CONFIG
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config.chmod(0o600)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "election"
