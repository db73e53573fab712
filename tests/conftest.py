from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from canvass.store.election import ElectionDirectory

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXAMPLES = ROOT / "examples"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared reference data is not beside this checkout")
    return path


@pytest.fixture
def election_dir(tmp_path: Path) -> Iterator[ElectionDirectory]:
    """A new election directory with its log opened."""
    store = ElectionDirectory.init(tmp_path / "election", "canvass.test/county", "clerk")
    yield store
    store.close()


@pytest.fixture
def defined(election_dir: ElectionDirectory) -> ElectionDirectory:
    """An election directory holding the example definition."""
    path = EXAMPLES / "election.yaml"
    election_dir.define(path.read_bytes(), path.name, "clerk")
    return election_dir
