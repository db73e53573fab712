"""Known answers for the log's Merkle tree, from independent implementations.

The 8-leaf reference tree and its published proofs come from google/certificate-transparency
(merkle_tree_test.cc) and transparency-dev/merkle (testonly/constants.go,
proof/verify_test.go); they are written out here so the project keeps them. The full
tables and the 500-odd golden probes (including those that must be rejected) are read from
../shared/vectors when it is present.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from canvass.errors import ProofError
from canvass.log import merkle
from canvass.log.merkle import MerkleTree
from tests.conftest import SHARED, shared_params, skip_without

LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Named nodes of the reference tree (transparency-dev NodeHashes).
N = {
    "d0": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "d1": "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "d2": "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "d3": "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "d4": "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "d5": "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "d6": "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "01": "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "23": "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "45": "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "67": "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "0123": "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4567": "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    "456": "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e",
}
# (leaf index, tree size) -> audit path, published in transparency-dev proof/verify_test.go
INCLUSION = {
    (0, 1): [],
    (0, 8): ["d1", "23", "4567"],
    (5, 8): ["d4", "67", "0123"],
    (2, 3): ["01"],
    (1, 5): ["d0", "23", "d4"],
}
# (first, second) -> proof: published ones, and RFC 6962 §2.1.3's worked examples.
CONSISTENCY = {
    (1, 8): ["d1", "23", "4567"],
    (6, 8): ["45", "67", "0123"],
    (2, 5): ["23", "d4"],
    (6, 7): ["45", "d6", "0123"],
    (3, 7): ["d2", "d3", "01", "456"],
    (4, 7): ["456"],
}


def hexes(names: list[str]) -> list[str]:
    return [N[n] for n in names]


def test_hasher_vectors() -> None:
    assert merkle.EMPTY_ROOT.hex() == ROOTS[0]
    assert merkle.leaf_hash(b"").hex() == ROOTS[1]
    assert merkle.leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert merkle.node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(9))
def test_reference_roots(size: int) -> None:
    assert MerkleTree(LEAVES[:size]).root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size"), INCLUSION)
def test_published_inclusion_proofs(index: int, size: int) -> None:
    tree = MerkleTree(LEAVES)
    proof = tree.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == hexes(INCLUSION[(index, size)])
    merkle.verify_inclusion(
        index, size, merkle.leaf_hash(LEAVES[index]), proof, bytes.fromhex(ROOTS[size])
    )


@pytest.mark.parametrize(("size1", "size2"), CONSISTENCY)
def test_published_consistency_proofs(size1: int, size2: int) -> None:
    tree = MerkleTree(LEAVES)
    proof = tree.consistency_proof(size1, size2)
    assert [p.hex() for p in proof] == hexes(CONSISTENCY[(size1, size2)])
    merkle.verify_consistency(
        size1, size2, proof, bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
    )


def test_rfc_worked_example_subproof_of_size_one_is_empty() -> None:
    tree = MerkleTree(LEAVES)
    assert tree.consistency_proof(8, 8) == []
    merkle.verify_consistency(8, 8, [], tree.root(), tree.root())


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start : end if end > 0 else None]


def _table(section: str) -> dict[tuple[int, int], list[str]]:
    rows = re.findall(r"^- \((\d+), (\d+)\): \[(.*)\]$", section, re.M)
    return {(int(a), int(b)): [h.strip() for h in hs.split(",") if h.strip()] for a, b, hs in rows}


def _vectors_md() -> str:
    path = SHARED / "vectors" / "merkle-rfc6962.md"
    skip_without(path)
    return path.read_text()


def test_every_inclusion_proof_of_the_reference_tree() -> None:
    table = _table(_section(_vectors_md(), "#### All inclusion proofs"))
    assert len(table) == 36
    tree = MerkleTree(LEAVES)
    for (index, size), want in table.items():
        assert [p.hex() for p in tree.inclusion_proof(index, size)] == want, (index, size)


def test_every_consistency_proof_of_the_reference_tree() -> None:
    table = _table(_section(_vectors_md(), "#### All consistency proofs"))
    assert len(table) == 28
    tree = MerkleTree(LEAVES)
    for (size1, size2), want in table.items():
        assert [p.hex() for p in tree.consistency_proof(size1, size2)] == want, (size1, size2)


def test_larger_tree_roots() -> None:
    section = _section(_vectors_md(), "## 9.")
    want = {int(n): root for n, root in re.findall(r"\| (\d+) \| ([0-9a-f]{64}) \|", section)}
    assert MerkleTree(bytes([i]) for i in range(7)).root().hex() == want[7]
    assert MerkleTree(bytes([i]) for i in range(256)).root().hex() == want[256]
    assert MerkleTree(str(i).encode() for i in range(1000)).root().hex() == want[1000]


# --- transparency-dev/merkle golden probes -------------------------------------------------

GOLDEN = SHARED / "vectors" / "merkle-testdata"
PROBES = sorted(GOLDEN.rglob("*.json")) if GOLDEN.exists() else []


def _b(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _check_probe(kind: str, d: dict) -> None:  # type: ignore[type-arg]
    proof = [_b(p) for p in d.get("proof") or []]
    if kind == "inclusion":
        merkle.verify_inclusion(
            d["leafIdx"], d["treeSize"], _b(d["leafHash"]), proof, _b(d["root"])
        )
    elif kind == "consistency":
        merkle.verify_consistency(d["size1"], d["size2"], proof, _b(d["root1"]), _b(d["root2"]))
    elif kind == "subtreeinclusion":
        merkle.verify_subtree_inclusion(
            d["leafIdx"], d["start"], d["end"], _b(d["leafHash"]), proof, _b(d["root"])
        )
    elif kind == "subtreeconsistency":
        merkle.verify_subtree_consistency(
            d["start"], d["end"], d["size"], proof, _b(d["root1"]), _b(d["root2"])
        )
    else:
        raise AssertionError(f"unknown probe folder {kind}")


def test_golden_probes_are_present() -> None:
    skip_without(GOLDEN)
    assert len(PROBES) == 518
    wanted_errors = sum(json.loads(p.read_text())["wantErr"] for p in PROBES)
    assert 0 < wanted_errors < len(PROBES)


@pytest.mark.parametrize(
    "probe", shared_params(PROBES, GOLDEN), ids=lambda p: str(p.relative_to(GOLDEN)) if p else ""
)
def test_golden_probe(probe: Path) -> None:
    d = json.loads(probe.read_text())
    kind = probe.relative_to(GOLDEN).parts[0]
    if d["wantErr"]:
        with pytest.raises(ProofError):
            _check_probe(kind, d)
    else:
        _check_probe(kind, d)


def test_generated_subtree_proofs_match_happy_path_probes() -> None:
    """Our proof generator, not only our verifier, agrees with the golden files."""
    skip_without(GOLDEN)
    tree = MerkleTree(LEAVES)
    checked = 0
    for probe in GOLDEN.glob("subtreeconsistency/*/happy-path.json"):
        d = json.loads(probe.read_text())
        if d["size"] <= 8:
            got = tree.subtree_proof(d["start"], d["end"], d["size"])
            assert [base64.b64encode(p).decode() for p in got] == (d["proof"] or []), probe
            checked += 1
    assert checked >= 3
