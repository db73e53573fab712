"""Properties of the log's proofs, for random trees: every honest proof verifies, and any
single-byte change to an entry, a proof or a root is rejected."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canvass.errors import ProofError
from canvass.log import merkle
from canvass.log.merkle import MerkleTree


@cache
def tree_of(size: int) -> MerkleTree:
    return MerkleTree(f"entry {i}".encode() for i in range(size))


def naive_root(entries: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 §2.1.1's recursive definition."""
    if not entries:
        return merkle.EMPTY_ROOT
    if len(entries) == 1:
        return merkle.leaf_hash(entries[0])
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    return merkle.node_hash(naive_root(entries[:k]), naive_root(entries[k:]))


def flip(data: bytes, position: int, bit: int) -> bytes:
    position %= len(data)
    return data[:position] + bytes([data[position] ^ (1 << bit)]) + data[position + 1 :]


sizes = st.integers(min_value=1, max_value=300)


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_root_matches_the_recursive_definition(entries: list[bytes]) -> None:
    assert MerkleTree(entries).root() == naive_root(entries)


@given(sizes, st.data())
def test_inclusion_proofs_verify(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    tree = tree_of(size)
    proof = tree.inclusion_proof(index)
    merkle.verify_inclusion(index, size, tree.node(0, index), proof, tree.root())


@given(sizes, st.data())
def test_consistency_proofs_verify(size2: int, data: st.DataObject) -> None:
    size1 = data.draw(st.integers(1, size2))
    tree = tree_of(size2)
    proof = tree.consistency_proof(size1, size2)
    merkle.verify_consistency(size1, size2, proof, tree.root(size1), tree.root(size2))


@given(sizes, st.data())
def test_subtree_proofs_verify(size: int, data: st.DataObject) -> None:
    end = data.draw(st.integers(1, size))
    start = data.draw(st.sampled_from([s for s in range(end) if merkle.is_valid_subtree(s, end)]))
    tree = tree_of(size)
    sub = tree.range_hash(start, end)
    assert sub == naive_root([f"entry {i}".encode() for i in range(start, end)])
    merkle.verify_subtree_consistency(
        start, end, size, tree.subtree_proof(start, end), sub, tree.root(size)
    )


@given(sizes, st.data())
def test_a_changed_byte_in_an_entry_is_rejected(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    tree = tree_of(size)
    entry = f"entry {index}".encode()
    forged = flip(entry, data.draw(st.integers(0, 1000)), data.draw(st.integers(0, 7)))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(
            index, size, merkle.leaf_hash(forged), tree.inclusion_proof(index), tree.root()
        )


@given(st.integers(2, 300), st.data())
def test_a_changed_byte_in_an_inclusion_proof_is_rejected(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    tree = tree_of(size)
    proof = tree.inclusion_proof(index)
    k = data.draw(st.integers(0, len(proof) - 1))
    proof[k] = flip(proof[k], data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7)))
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, tree.node(0, index), proof, tree.root())


@given(st.integers(2, 300), st.data())
def test_a_changed_byte_in_a_consistency_proof_or_root_is_rejected(
    size2: int, data: st.DataObject
) -> None:
    size1 = data.draw(st.integers(1, size2 - 1))
    tree = tree_of(size2)
    proof = tree.consistency_proof(size1, size2)
    root1, root2 = tree.root(size1), tree.root(size2)
    target = data.draw(st.sampled_from(["proof", "root1", "root2"]))
    pos, bit = data.draw(st.integers(0, 31)), data.draw(st.integers(0, 7))
    if target == "proof":
        k = data.draw(st.integers(0, len(proof) - 1))
        proof[k] = flip(proof[k], pos, bit)
    elif target == "root1":
        root1 = flip(root1, pos, bit)
    else:
        root2 = flip(root2, pos, bit)
    with pytest.raises(ProofError):
        merkle.verify_consistency(size1, size2, proof, root1, root2)


@settings(max_examples=50)
@given(st.integers(2, 200), st.data())
def test_a_proof_for_a_different_position_is_rejected(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    tree = tree_of(size)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(
            other, size, tree.node(0, index), tree.inclusion_proof(index), tree.root()
        )


def test_proofs_need_only_about_two_nodes_per_level() -> None:
    """The store answers a proof in a huge log from a handful of stored nodes."""
    size = 10_000_000
    for index in (0, 1, 4_999_999, size - 1):
        nodes = {
            n for ns in merkle.proof_nodes(merkle.inclusion_proof_ranges(index, size)) for n in ns
        }
        assert len(nodes) <= 2 * size.bit_length()
