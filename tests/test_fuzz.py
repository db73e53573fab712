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


def test_a_case_spinning_or_waiting_for_ever_is_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hang is processor time past its limit, or the clock's time past its own (a read
    that waits uses no processor time). Neither case below ever ends by itself."""
    import time

    from fuzz import engine
    from fuzz.targets import Target

    def spin(folder: object, paths: object) -> None:
        while True:
            pass

    def wait(folder: object, paths: object) -> None:
        while True:
            time.sleep(60)

    # Each limit set so that only the one meant can be reached first, however busy the
    # machine: the spinning case's clock limit is an hour, the waiting one uses no processor.
    monkeypatch.setattr(engine, "CASE_CPU_SECONDS", 0.2)
    monkeypatch.setattr(engine, "CASE_WALL_SECONDS", 3600)
    spinning = engine.run_case(Target("spin", list, spin), {"a": b""})
    monkeypatch.setattr(engine, "CASE_WALL_SECONDS", 0.5)
    waiting = engine.run_case(Target("wait", list, wait), {"a": b""})
    assert spinning == ("crash", "Hang: the case used more than 0.2 s of processor time")
    assert waiting == ("crash", "Hang: the case ran past 0.5 s by the clock")
