"""Work spread over processes gives what one process gives: the same results in the same
order, the same first error; and the RCTab sources of one contest, read side by side,
count as they do read one after another."""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import NoReturn

import numpy as np
import pytest

from canvass import parallel
from canvass.errors import CanvassError, IngestError
from canvass.parallel import beside, process_map, workers
from canvass.tabulate.rctab import read_ballots
from canvass.tabulate.rctab_config import load_config
from tests.conftest import shared_path


def power(exponent: int, n: int) -> int:
    if n == 5:
        raise IngestError(f"item {n}: refused")
    return int(n**exponent)


def test_results_in_order_and_the_first_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    assert list(process_map(power, 2, [3, 1, 4, 2, 6, 7, 8])) == [9, 1, 16, 4, 36, 49, 64]
    with pytest.raises(IngestError, match=r"^item 5: refused$"):
        list(process_map(power, 2, [1, 5, 2, 5]))


def pid(_: object, __: int) -> int:
    return os.getpid()


def test_small_work_stays_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    assert set(process_map(pid, None, [1, 2, 3], worth_it=False)) == {os.getpid()}
    assert os.getpid() not in set(process_map(pid, None, [1, 2, 3]))
    assert not parallel.worth_it([parallel.SIDE_BY_SIDE_BYTES - 1])
    assert parallel.worth_it([parallel.SIDE_BY_SIDE_BYTES // 2] * 2)


def started(folder: Path, n: int) -> int:
    """Item ``n`` says it started; the first waits for the five after it to start."""
    (folder / str(n)).touch()
    waited = 0.0
    while n == 0 and len(list(folder.iterdir())) < 6 and waited < 60:
        time.sleep(0.01)
        waited += 0.01
    return len(list(folder.iterdir()))


def test_items_handed_out_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Six items go to the two workers before the first result is taken: the first call
    # returns once the five after it have started (two a worker would leave it waiting).
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    results = list(process_map(started, tmp_path, list(range(8)), ahead=6))
    assert results[0] >= 6


def marked(folder: Path, n: int) -> tuple[int, int]:
    """Item ``n`` says it is done, and where."""
    (folder / str(n)).touch()
    return n, os.getpid()


def test_a_caller_that_works_on_results_works_on_items_while_it_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two cores: one worker process, held up on the first item until the last is done, and
    # this process, which works on the items no worker has started rather than wait.
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    memory = Path("/dev/shm")
    before = set(memory.glob("canvass-*")) if memory.is_dir() else set()
    found = list(process_map(held_up, tmp_path, list(range(8)), ahead=8, caller_works=True))
    assert [n for n, _ in found] == list(range(8))
    assert found[0][1] != os.getpid()
    assert found[7][1] == os.getpid()
    assert len({pid for _, pid in found}) == 2
    # The first error stops the run in its turn, whether a worker or this process met it:
    # after the items before it, before any after it is handed back.
    for items in ([1, 2, 3, 4, 5, 6], [5, 1, 1, 1, 1, 1, 1, 1]):
        taken = []
        with pytest.raises(IngestError, match=r"^item 5: refused$"):
            for n in process_map(power, 1, items, ahead=len(items), caller_works=True):
                taken.append(n)
        assert taken == items[: items.index(5)]
    # The workers' results went through files in memory; none is left behind.
    assert (set(memory.glob("canvass-*")) if memory.is_dir() else set()) == before


def no_room(*_: object, **__: object) -> NoReturn:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_results_come_back_when_no_file_can_hold_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workers (forked from here) cannot write a file for their results: the results
    # come back through the pipe instead, the same and in order.
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    monkeypatch.setattr(tempfile, "mkstemp", no_room)
    found = list(process_map(held_up, tmp_path, list(range(8)), ahead=8, caller_works=True))
    assert [n for n, _ in found] == list(range(8))
    assert found[0][1] != os.getpid()


def test_work_beside_the_callers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two cores: one worker process takes every item at once, while the block runs here.
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    with beside(marked, tmp_path, [3, 1, 2]) as results:
        waited = 0.0
        while len(list(tmp_path.iterdir())) < 3 and waited < 60:
            time.sleep(0.01)
            waited += 0.01
        assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2", "3"]
        found = list(results)
    assert [n for n, _ in found] == [3, 1, 2]
    assert len({pid for _, pid in found}) == 1
    assert found[0][1] != os.getpid()
    with (
        pytest.raises(IngestError, match=r"^item 5: refused$"),
        beside(power, 2, [1, 5, 2]) as failing,
    ):
        list(failing)


def held_up(folder: Path, n: int) -> tuple[int, int]:
    """Item 0 waits (a minute at most) until the last item, 7, is done."""
    waited = 0.0
    while n == 0 and not (folder / "7").exists() and waited < 60:
        time.sleep(0.01)
        waited += 0.01
    return marked(folder, n)


def test_what_no_worker_has_started_is_done_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one worker is held up on the first item: the block asks for the results, and the
    # items no worker has started are worked on here, from the last back.
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    with beside(held_up, tmp_path, list(range(8))) as results:
        found = list(results)
    assert [n for n, _ in found] == list(range(8))
    assert found[0][1] != os.getpid()
    assert found[7][1] == os.getpid()
    here = [n for n, pid in found if pid == os.getpid()]
    assert here == list(range(here[0], 8))
    with (
        pytest.raises(IngestError, match=r"^item 5: refused$"),
        beside(power, 2, [1, 1, 1, 1, 1, 5]) as failing,
    ):
        list(failing)


def test_beside_on_one_core_works_as_results_are_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANVASS_WORKERS", "1")
    with beside(marked, tmp_path, [3, 1]) as results:
        assert list(tmp_path.iterdir()) == []
        assert list(results) == [(3, os.getpid()), (1, os.getpid())]


@pytest.mark.parametrize("given", ["0", "two", "-1"])
def test_workers_must_be_a_whole_number(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.setenv("CANVASS_WORKERS", given)
    with pytest.raises(CanvassError) as e:
        workers()
    assert str(e.value) == f"CANVASS_WORKERS: expected a whole number from 1; found {given!r}"


def minneapolis_copies(tmp_path: Path, copies: int, broken: int | None = None) -> Path:
    """RCTab's 2013 Minneapolis mayoral case with its spreadsheet given ``copies`` times
    (the copy numbered ``broken`` not a spreadsheet at all)."""
    case = shared_path("data", "rctab", "2013_minneapolis_mayor")
    config = json.loads((case / "2013_minneapolis_mayor_config.json").read_text())
    source = config["cvrFileSources"][0]
    config["cvrFileSources"] = []
    for k in range(copies):
        path = tmp_path / f"cvr_{k}.xlsx"
        if k == broken:
            path.write_text("Precinct,1st choice\n")
        else:
            shutil.copy(case / "2013_minneapolis_mayor_cvr.xlsx", path)
        config["cvrFileSources"].append({**source, "filePath": path.name})
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path / "config.json"


def test_sources_read_side_by_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "SIDE_BY_SIDE_BYTES", 0)
    config = load_config(minneapolis_copies(tmp_path, 3))
    monkeypatch.setenv("CANVASS_WORKERS", "1")
    alone = read_ballots(config)
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    side_by_side = read_ballots(config)
    assert side_by_side.total == alone.total == 3 * 80_101
    for name in ("choices", "ranks", "counts"):
        assert np.array_equal(getattr(side_by_side, name), getattr(alone, name)), name
    assert (side_by_side.candidates, side_by_side.sets) == (alone.candidates, alone.sets)
    assert side_by_side.slices.keys() == alone.slices.keys() == {"precinct"}
    for key, (codes, names) in alone.slices.items():
        assert np.array_equal(side_by_side.slices[key][0], codes)
        assert side_by_side.slices[key][1] == names


def test_the_first_source_refused_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "SIDE_BY_SIDE_BYTES", 0)
    config = load_config(minneapolis_copies(tmp_path, 3, broken=1))
    monkeypatch.setenv("CANVASS_WORKERS", "2")
    with pytest.raises(IngestError) as e:
        read_ballots(config)
    assert str(e.value) == (
        f"{tmp_path / 'cvr_1.xlsx'}: expected an .xlsx workbook (a zip archive); found another "
        "kind of file (save it as .xlsx)"
    )
