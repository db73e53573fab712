"""A short, deterministic slice of the fuzzer (``make fuzz`` runs it for as long as asked):
every target, a fixed set of mutated cases, and not one may crash, hang or end in a
message of more than one line."""

from __future__ import annotations

import pytest

from fuzz.engine import fuzz
from fuzz.targets import DATA, TARGETS

CASES = 25


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_slice(name: str) -> None:
    target = TARGETS[name]
    if not target.seeds():
        pytest.skip(f"{DATA} is absent: no seeds for {name}")
    tally = fuzz(target, CASES, seed=20261202)
    assert tally.crashes == [], "\n\n".join(c.detail for c in tally.crashes)
    assert tally.cases >= CASES // 2
