"""An election directory: the database, the artifact store and the log operator's key.

::

    DIR/
      canvass.db          SQLite (WAL, synchronous=FULL): the log and its projections
      artifacts/ab/ab…    content-addressed files, named by SHA-256
      keys/operator.key   the log operator's Ed25519 key (0600), which signs checkpoints

Every change goes through :meth:`ElectionDirectory.writing`: one database transaction that
takes the log's write lock first, so the checks made through it see the log as the change
will extend it; appends the change's log entries, projects them, signs the checkpoint
over them, and commits all of it or none. Reads go through
:meth:`ElectionDirectory.reading`: one snapshot.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, select

from canvass import keys
from canvass.errors import StoreError
from canvass.log.entry import ArtifactRef, Entry, new_entry
from canvass.log.note import Signer, VerifierKey
from canvass.store import db, integrity
from canvass.store import schema as s
from canvass.store.artifacts import ArtifactStore, FileArtifactStore
from canvass.store.log import LogReader, LogWriter

DB_FILE = "canvass.db"
ARTIFACTS_DIR = "artifacts"
OPERATOR_KEY = Path("keys") / "operator.key"

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
        cls, path: Path, origin: str | None = None, actor: str = "operator"
    ) -> ElectionDirectory:
        """Create a new election directory: its log operator key, its schema and the log's
        opening entry."""
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(f"{path}: already exists and is not empty; choose a new directory")
        origin = origin or f"canvass.invalid/{_slug(path.resolve().name)}-{secrets.token_hex(4)}"
        signer = keys.new_signer(origin)
        path.mkdir(parents=True, exist_ok=True)
        (path / OPERATOR_KEY).parent.mkdir(mode=0o700)
        keys.write_key(signer, path / OPERATOR_KEY)
        (path / ARTIFACTS_DIR).mkdir()
        engine = db.sqlite_engine(path / DB_FILE)
        db.migrate(engine)
        store = cls(path, engine)
        opened = new_entry(
            "log.opened",
            actor,
            {"origin": origin, "operator": signer.verifier().encode(), "operator_name": origin},
        )
        with store.writing() as w:
            w.append(opened)
        return store

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
    def migrate(cls, path: Path) -> tuple[str | None, str]:
        """Bring the directory's schema to this Canvass's; returns the revisions before
        and after."""
        engine = cls._engine(path)
        try:
            return db.migrate(engine)
        finally:
            engine.dispose()

    @staticmethod
    def _engine(path: Path) -> Engine:
        file = path / DB_FILE
        if not file.is_file():
            raise StoreError(
                f"{path}: not an election directory (no {DB_FILE}); create one with 'canvass init'"
            )
        return db.engine(f"sqlite:///{file}")

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
                writer = LogWriter(conn, self.artifacts, self.identity, str(self.path))
                yield writer
                if writer.appended:
                    writer.sign_checkpoint(signer)
        except BaseException:
            self.artifacts.discard_staged()
            raise
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
        digest = self.artifacts.put(data)
        return ArtifactRef(digest, name, media_type_ or media_type(name), len(data))

    def store_file(self, path: Path, media_type_: str | None = None) -> ArtifactRef:
        """Store a file without holding it in memory."""
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


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "election"
