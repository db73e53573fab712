"""The Merkle tree of the election log, exactly as RFC 6962 / RFC 9162 §2.1 define it.

Hashes: a leaf is ``SHA-256(0x00 ‖ entry)``, an interior node ``SHA-256(0x01 ‖ left ‖ right)``,
the empty tree ``SHA-256("")``.

Proofs are produced from *complete* subtrees only: the node at ``(level, index)`` is the
hash of the ``2**level`` leaves starting at ``index * 2**level``. Once written such a node
never changes, so a store can keep them in an append-only table and answer a proof in a
10-million-entry log with one batched lookup of about ``2 * log2(n)`` nodes
(see :func:`proof_nodes`).

Verification follows the procedures of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
(consistency), generalised to *subtrees* ``[start, end)`` as in
draft-ietf-plants-merkle-tree-certs §4 ("Subtrees"), of which both are special cases.
Every hash handed to a verifier must be exactly 32 bytes: a literal transcription of the
RFC would otherwise accept an empty leaf against an empty root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from canvass.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""A complete subtree: ``(level, i)`` covers leaves ``[i << level, (i + 1) << level)``."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``MTH({d}) = SHA-256(0x00 ‖ d)``."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: ``SHA-256(0x01 ‖ MTH(left) ‖ MTH(right))``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


def is_valid_subtree(start: int, end: int) -> bool:
    """draft-ietf-plants-merkle-tree-certs §4.1: ``0 <= start <= end`` and ``start`` is a
    multiple of the smallest power of two that is at least ``end - start``."""
    if start < 0 or start > end:
        return False
    size = end - start
    ceiling = 1 if size <= 1 else 1 << (size - 1).bit_length()
    return start % ceiling == 0


# --- Which nodes a proof needs -------------------------------------------------------


def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees that make up ``[start, end)``, left to right.

    For a valid subtree the list shrinks from left to right, and folding it from the right
    (:func:`fold_range`) gives ``MTH(D[start:end])``."""
    nodes: list[Node] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold_range(hashes: Sequence[bytes]) -> bytes:
    """Fold the hashes of a valid subtree's complete parts (left to right) into its hash."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _subproof_ranges(
    start: int, end: int, n: int, known: bool, offset: int, out: list[tuple[int, int]]
) -> None:
    """SUBTREE_SUBPROOF of draft-ietf-plants-merkle-tree-certs §4.4.1, as leaf ranges.

    With ``start == 0`` it is RFC 9162 §2.1.4.1 SUBPROOF; with ``end == start + 1`` it is
    RFC 9162 §2.1.3.1 PATH."""
    if start == 0 and end == n:
        if not known:
            out.append((offset, offset + n))
        return
    k = _split(n)
    if end <= k:
        _subproof_ranges(start, end, k, known, offset, out)
        out.append((offset + k, offset + n))
    elif k <= start:
        _subproof_ranges(start - k, end - k, n - k, known, offset + k, out)
        out.append((offset, offset + k))
    else:
        _subproof_ranges(0, end - k, n - k, False, offset + k, out)
        out.append((offset, offset + k))


def subtree_proof_ranges(start: int, end: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form SUBTREE_PROOF(start, end, D[size])."""
    if not is_valid_subtree(start, end) or end > size:
        raise ProofError(f"[{start}, {end}) is not a valid subtree of a tree of size {size}")
    out: list[tuple[int, int]] = []
    if start < end:
        _subproof_ranges(start, end, size, True, 0, out)
    return out


def inclusion_proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form PATH(index, D[size]) (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"entry {index} is not in a log of {size} entries")
    return subtree_proof_ranges(index, index + 1, size)


def consistency_proof_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Leaf ranges whose hashes form PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1)."""
    if not 0 < size1 <= size2:
        raise ProofError(
            f"no consistency proof from size {size1} to size {size2}; "
            "it needs 0 < first size <= second size"
        )
    return subtree_proof_ranges(0, size1, size2)


def proof_nodes(ranges: Iterable[tuple[int, int]]) -> list[list[Node]]:
    """For each proof range, the complete nodes a store must read to hash it."""
    return [range_nodes(lo, hi) for lo, hi in ranges]


def hash_ranges(
    ranges: Sequence[tuple[int, int]], read: Callable[[Sequence[Node]], Mapping[Node, bytes]]
) -> list[bytes]:
    """Hash each range from complete nodes, fetched in one call to ``read``."""
    parts = proof_nodes(ranges)
    wanted = sorted({node for nodes in parts for node in nodes})
    found = read(wanted)
    missing = [node for node in wanted if node not in found]
    if missing:
        raise ProofError(f"the log store lacks tree nodes {missing[:3]}")
    return [fold_range([found[node] for node in nodes]) for nodes in parts]


# --- An in-memory tree ----------------------------------------------------------------


class MerkleTree:
    """An append-only tree that keeps every complete node: for tests, the verifier and
    any log small enough to hold in memory. Storage-backed logs use the same functions
    over their own node table."""

    def __init__(self, entries: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for entry in entries:
            self.append(entry)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, entry: bytes) -> int:
        """Append an entry; return its index."""
        return self.append_leaf_hash(leaf_hash(entry))

    def append_leaf_hash(self, h: bytes) -> int:
        index = self.size
        level, i = 0, index
        self._levels[0].append(h)
        while i & 1:
            parent = node_hash(self._levels[level][i - 1], h)
            level, i = level + 1, i >> 1
            if len(self._levels) == level:
                self._levels.append([])
            self._levels[level].append(parent)
            h = parent
        return index

    def nodes(self) -> Iterator[tuple[int, int, bytes]]:
        """Every complete node as ``(level, index, hash)``."""
        for level, hashes in enumerate(self._levels):
            for index, h in enumerate(hashes):
                yield level, index, h

    def node(self, level: int, index: int) -> bytes:
        return self._levels[level][index]

    def read_nodes(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        return {(lv, i): self._levels[lv][i] for lv, i in nodes}

    def range_hash(self, start: int, end: int) -> bytes:
        return fold_range([self.node(lv, i) for lv, i in range_nodes(start, end)])

    def root(self, size: int | None = None) -> bytes:
        return self.range_hash(0, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        return hash_ranges(inclusion_proof_ranges(index, size), self.read_nodes)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        size2 = self.size if size2 is None else size2
        return hash_ranges(consistency_proof_ranges(size1, size2), self.read_nodes)

    def subtree_proof(self, start: int, end: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        return hash_ranges(subtree_proof_ranges(start, end, size), self.read_nodes)


# --- Verification ---------------------------------------------------------------------


def _check_hashes(what: str, hashes: Iterable[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError(f"{what} has a hash of {len(h)} bytes; every hash is 32 bytes")


def root_from_inclusion_proof(
    index: int, size: int, entry_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """RFC 9162 §2.1.3.2: the root a correct proof implies."""
    if not 0 <= index < size:
        raise ProofError(f"entry {index} is not in a tree of {size} entries")
    _check_hashes("the leaf", [entry_hash])
    _check_hashes("the inclusion proof", proof)
    fn, sn, r = index, size - 1, entry_hash
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, entry_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows leaf ``entry_hash`` at ``index``
    in the tree of ``size`` entries whose root is ``root``."""
    _check_hashes("the root", [root])
    if root_from_inclusion_proof(index, size, entry_hash, proof) != root:
        raise ProofError(f"the inclusion proof for entry {index} does not lead to the root")


def verify_subtree_inclusion(
    index: int, start: int, end: int, entry_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """draft-ietf-plants-merkle-tree-certs §4.3.3."""
    if not is_valid_subtree(start, end) or not start <= index < end:
        raise ProofError(f"entry {index} is not in a valid subtree [{start}, {end})")
    verify_inclusion(index - start, end - start, entry_hash, proof, root)


def verify_subtree_consistency(
    start: int, end: int, size: int, proof: Sequence[bytes], subtree_root: bytes, root: bytes
) -> None:
    """draft-ietf-plants-merkle-tree-certs §4.4.3 "Verifying a Subtree Consistency Proof":
    the subtree ``[start, end)`` with hash ``subtree_root`` is part of the tree of ``size``
    entries with root ``root``."""
    if not is_valid_subtree(start, end) or end > size:
        raise ProofError(f"[{start}, {end}) is not a valid subtree of a tree of size {size}")
    if start == end:
        # The empty subtree is part of every tree; the draft checks nothing of the root.
        if proof or subtree_root != EMPTY_ROOT:
            raise ProofError("an empty subtree has an empty proof and the empty hash")
        return
    # Roots need no length check: each is only ever compared with a computed hash or,
    # when nothing is hashed (a subtree that is the whole tree), with the other.
    _check_hashes("the consistency proof", proof)
    fn, sn, tn = start, end - 1, size - 1
    if sn == tn:
        while fn != sn:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    else:
        while fn != sn and sn & 1:
            fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    rest = list(proof)
    if fn == sn:
        fr = sr = subtree_root
    else:
        if not rest:
            raise ProofError("the consistency proof is empty")
        fr = sr = rest.pop(0)
    for c in rest:
        if tn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if sn & 1 or sn == tn:
            if fn < sn:
                fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not sn & 1:
                fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn, tn = fn >> 1, sn >> 1, tn >> 1
    if tn != 0:
        raise ProofError("the consistency proof is shorter than the tree is deep")
    if fr != subtree_root:
        raise ProofError("the consistency proof does not lead to the earlier root")
    if sr != root:
        raise ProofError("the consistency proof does not lead to the later root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """RFC 9162 §2.1.4.2: the tree of ``size1`` entries with ``root1`` is a prefix of the
    tree of ``size2`` entries with ``root2``.

    A proof from the empty tree is refused rather than vacuously accepted (as
    transparency-dev/merkle does): a checkpoint of size 0 commits to nothing, and an
    election log always starts with its opening entry."""
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 > size2:
        raise ProofError(f"the log shrank from {size1} to {size2} entries")
    if size1 == size2:
        # Nothing is hashed here: the two roots must simply be the same bytes.
        if proof:
            raise ProofError("equal sizes need an empty consistency proof")
        if root1 != root2:
            raise ProofError(f"two different roots for the same size {size1}: the log forked")
        return
    verify_subtree_consistency(0, size1, size2, proof, root1, root2)
