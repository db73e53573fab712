"""The application layer: checks made in the transaction that writes, and caches of the
canvass that can never serve a state the log does not hold."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import canvass.app.imports as importing
from canvass.app.actor import Actor
from canvass.app.boards import constitute, meeting, propose_county, status
from canvass.app.elections import define, register_key
from canvass.app.folds import canvass
from canvass.app.imports import import_ballots
from canvass.certify.canvass import Canvass, Member
from canvass.domain.model import KeyRole
from canvass.errors import SignatureError, StoreError
from canvass.keys import new_signer
from canvass.log.note import Signer
from canvass.signing import move, vote
from canvass.store.cache import ContentCache, LogStateCache
from canvass.store.election import ElectionDirectory
from canvass.store.log import LogWriter
from tests.postgres import Database
from tests.test_dominion import write_export
from tests.test_import import BALLOTS, DEFINITION

CLERK = Actor("clerk")
BOARD = "county:adams"


@pytest.fixture
def county(tmp_path: Path, database: Database) -> ElectionDirectory:
    store = database.init(tmp_path / "e", "canvass.test/e", "clerk")
    define(store, CLERK, DEFINITION.encode(), "e.yaml")
    return store


def _board(store: ElectionDirectory) -> list[Signer]:
    members = [new_signer(f"member-{n}") for n in range(3)]
    for m in members:
        register_key(store, CLERK, m.verifier(), KeyRole.BOARD_MEMBER)
    constitute(store, CLERK, BOARD, "generic", [Member(m.name, m.name) for m in members])
    return members


def _ballots(store: ElectionDirectory, tmp_path: Path) -> Path:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    import_ballots(store, CLERK, "adams", "dominion", [folder])
    return folder


# --- checks in the writing transaction -----------------------------------------------------


def test_an_import_made_meanwhile_of_the_same_files_is_not_made_twice(
    county: ElectionDirectory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another server imports the same files while this one reads them: the check in the
    writing transaction sees it, and this import changes nothing."""
    folder = write_export(tmp_path / "cvr", BALLOTS)
    honest = importing.to_parquet
    meanwhile: list[object] = []

    def reading(*args: object) -> tuple[bytes, int]:
        if not meanwhile:
            meanwhile.append("reading")
            meanwhile.append(import_ballots(county, CLERK, "adams", "dominion", [folder]))
        return honest(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "to_parquet", reading)
    assert import_ballots(county, CLERK, "adams", "dominion", [folder]) is None
    assert meanwhile[1] is not None
    imported = [e for _, e in county.entries() if e.type == "ballots.imported"]
    assert len(imported) == 1
    assert county.verify() == []


def test_a_definition_changed_while_files_are_read_stops_the_import(
    county: ElectionDirectory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_export(tmp_path / "cvr", BALLOTS)
    honest = importing.to_parquet

    def reading(*args: object) -> tuple[bytes, int]:
        changed = DEFINITION.replace("Test Election", "Test Election (amended)")
        define(county, CLERK, changed.encode(), "e.yaml")
        return honest(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(importing, "to_parquet", reading)
    size = county.size()
    with pytest.raises(StoreError) as e:
        import_ballots(county, CLERK, "adams", "dominion", [folder])
    assert str(e.value) == (
        "the election definition changed while these files were being read; import them again"
    )
    assert county.size() == size + 1  # the new definition, and no import
    assert county.verify() == []


# --- the cached canvass ------------------------------------------------------------------


def test_a_refused_vote_is_never_served(county: ElectionDirectory, tmp_path: Path) -> None:
    members = _board(county)
    _ballots(county, tmp_path)
    cert = propose_county(county, CLERK, "adams")
    motion = move(county, members[0], BOARD, "certify", cert, "Move to certify")
    impostor = new_signer(members[1].name)
    with pytest.raises(SignatureError):
        vote(county, impostor, motion, "yes")
    assert canvass(county).motions[motion].votes == {}
    assert status(county).canvass.motions[motion].votes == {}


def test_a_vote_whose_transaction_does_not_commit_is_never_served(
    county: ElectionDirectory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = _board(county)
    _ballots(county, tmp_path)
    cert = propose_county(county, CLERK, "adams")
    motion = move(county, members[0], BOARD, "certify", cert, "Move to certify")
    size = county.size()

    def fail(self: LogWriter, signer: Signer) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(LogWriter, "sign_checkpoint", fail)
    with pytest.raises(OSError):
        vote(county, members[1], motion, "yes")
    monkeypatch.undo()
    assert county.size() == size
    assert canvass(county).motions[motion].votes == {}
    vote(county, members[1], motion, "yes")
    assert list(canvass(county).motions[motion].votes) == [members[1].name]


def test_another_log_at_the_same_place_and_size_is_folded_afresh(tmp_path: Path) -> None:
    """The fold is kept under the log's root as well as its size: a different history of
    the same length is never served the other's state."""
    path = tmp_path / "e"
    for name in ("first-member", "second-member"):
        if path.exists():
            ElectionDirectory.remove(path)  # on PostgreSQL, its schema too
        store = ElectionDirectory.init(path, "canvass.test/e", "clerk")
        define(store, CLERK, DEFINITION.encode(), "e.yaml")
        register_key(store, CLERK, new_signer(name).verifier(), KeyRole.BOARD_MEMBER)
        assert store.size() == 3
        assert name in canvass(store).keys
        store.close()


def test_every_caller_gets_a_copy_of_its_own(county: ElectionDirectory) -> None:
    _board(county)
    mine = canvass(county)
    mine.boards.clear()
    assert BOARD in canvass(county).boards


def test_the_caches_are_bounded() -> None:
    states: LogStateCache[Canvass] = LogStateCache(2)
    for size in range(1, 6):
        states.put(("e", size, bytes([size])), Canvass("e"))
    assert len(states) == 2
    assert states.get(("e", 1, b"\x01")) is None
    assert states.get(("e", 5, b"\x05")) is not None
    assert states.earlier("e", 4) == [(4, b"\x04")]
    made: ContentCache[str, int] = ContentCache(3)
    for n in range(10):
        assert made.get(str(n), lambda n=n: n * n) == n * n  # type: ignore[misc]
    assert len(made) == 3


def test_readers_and_writers_at_once_see_only_committed_states(
    county: ElectionDirectory,
) -> None:
    """Four writers record meetings while four readers fold the canvass: every state a
    reader gets is the log's at some committed size, and nothing is lost."""
    _board(county)
    start = county.size()
    errors: list[BaseException] = []
    seen: list[Canvass] = []

    def write(n: int) -> None:
        store = ElectionDirectory.open(county.path)
        try:
            for k in range(10):
                meeting(store, CLERK, BOARD, "opened", [], f"writer {n}, meeting {k}")
        except BaseException as e:
            errors.append(e)
        finally:
            store.close()

    def read() -> None:
        store = ElectionDirectory.open(county.path)
        try:
            for _ in range(10):
                seen.append(canvass(store))
        except BaseException as e:
            errors.append(e)
        finally:
            store.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert county.size() == start + 40
    entries = list(county.entries())
    for state in seen:
        replayed = Canvass.replay(state.election, entries[: state.size])
        assert state.meetings == replayed.meetings
    final = canvass(county)
    assert len(final.meetings[BOARD]) == 40
    assert final.meetings == Canvass.replay(final.election, entries).meetings
    assert county.verify() == []
