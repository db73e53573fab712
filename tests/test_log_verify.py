"""The pure log verifier: entries against signed checkpoints, with no database at all."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass import keys
from canvass.errors import LogIntegrityError
from canvass.log.entry import new_entry
from canvass.log.merkle import MerkleTree
from canvass.log.note import Checkpoint, Signer, sign_note
from canvass.log.verify import require_valid, verify_log

OPERATOR = keys.new_signer("canvass.test/log")


def make_log(n: int, signer: Signer = OPERATOR, salt: str = "") -> list[bytes]:
    opened = new_entry(
        "log.opened",
        "clerk",
        {
            "origin": signer.name,
            "operator": signer.verifier().encode(),
            "operator_name": signer.name,
        },
        time="2026-11-04T00:00:00.000000Z",
    )
    rest = [
        new_entry("note.test", "clerk", {"n": i, "salt": salt}, time="2026-11-04T00:00:01.000000Z")
        for i in range(1, n)
    ]
    return [e.canonical() for e in [opened, *rest]]


def checkpoint(entries: list[bytes], size: int, signer: Signer = OPERATOR) -> str:
    return sign_note(
        Checkpoint(signer.name, size, MerkleTree(entries[:size]).root()).text(), signer
    )


def problems(entries: list[bytes], cps: list[str], trusted: list[str] | None = None) -> list[str]:
    return verify_log(entries, cps, OPERATOR.verifier(), trusted or []).problems


def test_an_honest_log_verifies() -> None:
    log = make_log(10)
    report = require_valid(
        verify_log(log, [checkpoint(log, 3), checkpoint(log, 10)], OPERATOR.verifier())
    )
    assert [c.size for c in report.checkpoints] == [3, 10]
    assert [e.type for e in report.entries][:2] == ["log.opened", "note.test"]


def test_truncated() -> None:
    log = make_log(10)
    assert problems(log[:7], [checkpoint(log, 10)]) == [
        "checkpoint of size 10: truncated: the log holds only 7 entries"
    ]


def test_reordered() -> None:
    log = make_log(10)
    swapped = [*log[:4], log[5], log[4], *log[6:]]
    assert problems(swapped, [checkpoint(log, 10)]) == [
        "checkpoint of size 10: the entries no longer hash to its root: the log was rewritten, "
        "reordered or forked after it was signed"
    ]


def test_forked() -> None:
    log, other = make_log(10), make_log(10, salt="other history")
    assert problems(log, [checkpoint(log, 10)], [checkpoint(other, 10)]) == [
        "trusted checkpoint of size 10: forked: another checkpoint of that size has a different root"
    ]


def test_rolled_back() -> None:
    log = make_log(10)
    assert problems(log[:6], [checkpoint(log, 6)], [checkpoint(log, 10)]) == [
        "trusted checkpoint of size 10: rolled back: the log holds only 6 entries"
    ]


def test_checkpoints_rolled_back_though_entries_remain() -> None:
    log = make_log(10)
    assert problems(log, [checkpoint(log, 6)], [checkpoint(log, 9)]) == [
        "trusted checkpoint of size 9: the log's latest checkpoint (6) is older: it was rolled back"
    ]


def test_checkpoint_by_someone_else() -> None:
    log = make_log(5)
    mallory = keys.new_signer("canvass.test/log")
    assert problems(log, [checkpoint(log, 5, mallory)]) == [
        f"checkpoint: no signature by canvass.test/log ({OPERATOR.verifier().id.hex()})"
    ]


def test_log_opened_by_another_operator() -> None:
    other = keys.new_signer("canvass.test/other")
    log = make_log(3, other)
    assert "entry 0 names a different log operator key than the one checked against" in problems(
        log, [checkpoint(log, 3)]
    )


def test_not_canonical_entry() -> None:
    log = make_log(3)
    log[2] = log[2].replace(b'{"actor"', b'{ "actor"')
    assert "entry 2: not in RFC 8785 canonical form" in problems(log, [])


@settings(max_examples=60)
@given(st.data())
def test_any_changed_byte_in_an_entry_is_rejected(data: st.DataObject) -> None:
    log = make_log(6)
    cps = [checkpoint(log, 6)]
    i = data.draw(st.integers(0, 5))
    pos = data.draw(st.integers(0, len(log[i]) - 1))
    bit = data.draw(st.integers(0, 7))
    forged = list(log)
    forged[i] = log[i][:pos] + bytes([log[i][pos] ^ (1 << bit)]) + log[i][pos + 1 :]
    with pytest.raises(LogIntegrityError):
        require_valid(verify_log(forged, cps, OPERATOR.verifier()))
