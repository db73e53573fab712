"""The in-browser checker (canvass/publish/static/check.js) against the known answers for
RFC 6962 / RFC 9162 and C2SP signed notes, and against canvass/log on the same inputs.

Each test runs the script in Chromium, on a page served from 127.0.0.1 (WebCrypto needs a
secure context); the logs it reads are tiles written by canvass.log.tiles.
"""

from __future__ import annotations

import base64
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canvass.errors import VerificationError
from canvass.log.merkle import MerkleTree
from canvass.log.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Signer,
    VerifierKey,
    cosign,
    open_checkpoint,
    parse_note,
    sign_note,
    verify_cosignature,
    verify_note,
)
from canvass.log.tiles import write_tiles
from tests.browser import install_checker, serving
from tests.conftest import SHARED, skip_without
from tests.test_merkle_vectors import (
    CONSISTENCY,
    INCLUSION,
    LEAVES,
    PROBES,
    ROOTS,
    _section,
    _table,
    _vectors_md,
    hexes,
)

HELPERS = """
window.t = {
  bytes: (h) => canvassCheck.fromHex(h),
  b64: (s) => (s ? canvassCheck.b64decode(s) : new Uint8Array(0)),
  read: (base) => async (path) => {
    const r = await fetch(base + path);
    if (!r.ok) throw new canvassCheck.CheckError(path + ": " + r.status);
    return new Uint8Array(await r.arrayBuffer());
  },
  tiles: (base, size) => new canvassCheck.Tiles(t.read(base), size),
  error: async (fn) => { try { await fn(); return null; } catch (e) { return e.message; } },
};
"""


def write_log(root: Path, entries: list[bytes]) -> None:
    for path, data in write_tiles(entries):
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("checker")
    install_checker(root)
    (root / "index.html").write_text(
        '<!doctype html><html lang="en"><title>checker</title><script src="check.js"></script>'
    )
    for size in range(1, len(LEAVES) + 1):
        write_log(root / "reference" / str(size), LEAVES[:size])
    with serving(root) as address:
        yield root, address


@pytest.fixture
def js(browser: Any, site: tuple[Path, str]) -> Iterator[Any]:
    page = browser.new_page()
    page.goto(site[1] + "index.html")
    page.evaluate(HELPERS)
    yield page
    page.close()


def test_hasher_vectors(js: Any) -> None:
    got = js.evaluate(
        """async () => [
          canvassCheck.hex(await canvassCheck.leafHash(new Uint8Array(0))),
          canvassCheck.hex(await canvassCheck.leafHash(new TextEncoder().encode("L123456"))),
          canvassCheck.hex(await canvassCheck.nodeHash(
            new TextEncoder().encode("N123"), new TextEncoder().encode("N456"))),
        ]"""
    )
    assert got == [
        ROOTS[1],
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56",
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb",
    ]


def test_reference_roots_from_tiles(js: Any, site: tuple[Path, str]) -> None:
    roots = js.evaluate(
        """async (base) => {
          const out = [];
          for (let size = 1; size <= 8; size++) {
            const tiles = t.tiles(`${base}reference/${size}/`, size);
            out.push(canvassCheck.hex(await tiles.rangeHash(0, size)));
          }
          return out;
        }""",
        site[1],
    )
    assert roots == ROOTS[1:]


def test_published_proofs_from_tiles(js: Any, site: tuple[Path, str]) -> None:
    got = js.evaluate(
        """async ([base, inclusion, consistency, roots]) => {
          const out = {inclusion: {}, consistency: {}};
          for (const [index, size] of inclusion) {
            const tiles = t.tiles(`${base}reference/${size}/`, size);
            const proof = await tiles.inclusionProof(index);
            const leaf = await tiles.entry(index);
            await canvassCheck.verifyInclusion(
              index, size, await canvassCheck.leafHash(leaf), proof, t.bytes(roots[size]));
            out.inclusion[`${index},${size}`] = proof.map(canvassCheck.hex);
          }
          for (const [size1, size2] of consistency) {
            const tiles = t.tiles(`${base}reference/${size2}/`, size2);
            const proof = await tiles.consistencyProof(size1);
            await canvassCheck.verifyConsistency(
              size1, size2, proof, t.bytes(roots[size1]), t.bytes(roots[size2]));
            out.consistency[`${size1},${size2}`] = proof.map(canvassCheck.hex);
          }
          return out;
        }""",
        [site[1], list(INCLUSION), list(CONSISTENCY), ROOTS],
    )
    for (index, size), names in INCLUSION.items():
        assert got["inclusion"][f"{index},{size}"] == hexes(names)
    for (size1, size2), names in CONSISTENCY.items():
        assert got["consistency"][f"{size1},{size2}"] == hexes(names)


def test_every_proof_of_the_reference_tree(js: Any, site: tuple[Path, str]) -> None:
    text = _vectors_md()
    inclusion = _table(_section(text, "#### All inclusion proofs"))
    consistency = _table(_section(text, "#### All consistency proofs"))
    assert (len(inclusion), len(consistency)) == (36, 28)
    got = js.evaluate(
        """async ([base, inclusion, consistency]) => {
          const out = [[], []];
          for (const [index, size] of inclusion) {
            const proof = await t.tiles(`${base}reference/${size}/`, size).inclusionProof(index);
            out[0].push(proof.map(canvassCheck.hex));
          }
          for (const [size1, size2] of consistency) {
            const proof = await t.tiles(`${base}reference/${size2}/`, size2).consistencyProof(size1);
            out[1].push(proof.map(canvassCheck.hex));
          }
          return out;
        }""",
        [site[1], list(inclusion), list(consistency)],
    )
    assert got[0] == list(inclusion.values())
    assert got[1] == list(consistency.values())


def test_larger_tree_roots(js: Any, site: tuple[Path, str]) -> None:
    want = {
        int(n): root
        for n, root in re.findall(
            r"\| (\d+) \| ([0-9a-f]{64}) \|", _section(_vectors_md(), "## 9.")
        )
    }
    logs = {
        7: [bytes([i]) for i in range(7)],
        256: [bytes([i]) for i in range(256)],
        1000: [str(i).encode() for i in range(1000)],
    }
    for size, entries in logs.items():
        write_log(site[0] / "larger" / str(size), entries)
    got = js.evaluate(
        """async ([base, sizes]) => {
          const out = {};
          for (const size of sizes) {
            out[size] = canvassCheck.hex(
              await t.tiles(`${base}larger/${size}/`, size).rangeHash(0, size));
          }
          return out;
        }""",
        [site[1], list(logs)],
    )
    assert {int(k): v for k, v in got.items()} == {n: want[n] for n in logs}


def test_golden_probes_accept_and_reject_as_transparency_dev(js: Any) -> None:
    """The 500-odd probes of transparency-dev/merkle, those that must fail included."""
    skip_without(SHARED / "vectors" / "merkle-testdata")
    golden = SHARED / "vectors" / "merkle-testdata"
    probes = [(p.relative_to(golden).parts[0], json.loads(p.read_text())) for p in PROBES]
    assert {kind for kind, _ in probes} == {
        "inclusion",
        "consistency",
        "subtreeinclusion",
        "subtreeconsistency",
    }
    failed = js.evaluate(
        """async (probes) => {
          const c = canvassCheck;
          const outcome = [];
          for (const [kind, d] of probes) {
            const proof = (d.proof || []).map(t.b64);
            const error = await t.error(async () => {
              if (kind === "inclusion") {
                await c.verifyInclusion(d.leafIdx, d.treeSize, t.b64(d.leafHash), proof, t.b64(d.root));
              } else if (kind === "consistency") {
                await c.verifyConsistency(d.size1, d.size2, proof, t.b64(d.root1), t.b64(d.root2));
              } else if (kind === "subtreeinclusion") {
                await c.verifySubtreeInclusion(d.leafIdx, d.start, d.end, t.b64(d.leafHash), proof, t.b64(d.root));
              } else {
                await c.verifySubtreeConsistency(d.start, d.end, d.size, proof, t.b64(d.root1), t.b64(d.root2));
              }
            });
            outcome.push(error !== null);
          }
          return outcome;
        }""",
        probes,
    )
    assert len(failed) == len(PROBES) > 500
    wrong = [
        str(p.relative_to(SHARED / "vectors"))
        for p, (_, d), err in zip(PROBES, probes, failed, strict=True)
        if err != d["wantErr"]
    ]
    assert wrong == []


def test_proofs_agree_with_the_python_log(js: Any, site: tuple[Path, str]) -> None:
    """Sizes around tile edges, and one log deep enough for a level-2 tile (65,536
    entries and more): every proof the JavaScript computes from the tiles is the one
    canvass.log.merkle computes from the tree."""
    rng = random.Random(20)
    cases: dict[int, dict[str, Any]] = {}
    for size in (1, 2, 255, 256, 257, 511, 512, 513, 1000, 65_536 + 300):
        entries = [f"entry {i} of {size}".encode() for i in range(size)]
        tree = MerkleTree(entries)
        write_log(site[0] / "python" / str(size), entries)
        indices = sorted({0, size - 1, *(rng.randrange(size) for _ in range(6))})
        firsts = sorted({1, size, *(rng.randrange(1, size + 1) for _ in range(6))})
        cases[size] = {
            "root": tree.root().hex(),
            "inclusion": {i: [p.hex() for p in tree.inclusion_proof(i)] for i in indices},
            "consistency": {
                n: [p.hex() for p in tree.consistency_proof(n)] for n in firsts if n < size
            },
            "roots": {n: tree.root(n).hex() for n in firsts},
        }
    got = js.evaluate(
        """async ([base, cases]) => {
          const out = {};
          for (const [size, want] of Object.entries(cases)) {
            const n = Number(size);
            const tiles = t.tiles(`${base}python/${size}/`, n);
            const root = t.bytes(want.root);
            const mine = {root: canvassCheck.hex(await tiles.rangeHash(0, n)), inclusion: {}, consistency: {}, roots: {}};
            for (const i of Object.keys(want.inclusion)) {
              const proof = await tiles.inclusionProof(Number(i));
              const leaf = await canvassCheck.leafHash(await tiles.entry(Number(i)));
              await canvassCheck.verifyInclusion(Number(i), n, leaf, proof, root);
              mine.inclusion[i] = proof.map(canvassCheck.hex);
            }
            for (const first of Object.keys(want.consistency)) {
              const proof = await tiles.consistencyProof(Number(first));
              await canvassCheck.verifyConsistency(Number(first), n, proof, t.bytes(want.roots[first]), root);
              mine.consistency[first] = proof.map(canvassCheck.hex);
            }
            for (const first of Object.keys(want.roots)) {
              mine.roots[first] = canvassCheck.hex(await tiles.rangeHash(0, Number(first)));
            }
            out[size] = mine;
          }
          return out;
        }""",
        [site[1], cases],
    )
    assert Path(site[0] / "python" / "65836" / "tile" / "2" / "000.p" / "1").is_file()
    assert got == json.loads(json.dumps(cases))


def test_tile_paths_agree_with_the_python_log(js: Any) -> None:
    from canvass.log.tiles import tile_path

    cases = [(0, 0, 256), (0, 1234067, 256), (1, 999, 7), ("entries", 1000, 1), (2, 5_000_000, 256)]
    got = js.evaluate("(cases) => cases.map(([l, i, w]) => canvassCheck.tilePath(l, i, w))", cases)
    assert got == [tile_path(level, index, width) for level, index, width in cases]


# --- Signed notes, checkpoints, cosignatures ----------------------------------------------

# C2SP signed-note's example, in ../shared/vectors/merkle-rfc6962.md §8.
EXAMPLE_KEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsY"
    "jOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)

VERIFY_NOTE = """async ([vkey, note]) => t.error(async () => {
  const key = await canvassCheck.decodeVerifierKey(vkey);
  await canvassCheck.verifyNote(canvassCheck.parseNote(note, "note"), key, "note");
})"""


def test_the_c2sp_signed_note_example(js: Any) -> None:
    assert js.evaluate(VERIFY_NOTE, [EXAMPLE_KEY, EXAMPLE_NOTE]) is None
    altered = EXAMPLE_NOTE.replace("message.", "message!")
    assert js.evaluate(VERIFY_NOTE, [EXAMPLE_KEY, altered]) == (
        "note: the signature by example.com/foo does not verify"
    )
    # The same two answers from canvass.log.note.
    key = VerifierKey.decode(EXAMPLE_KEY)
    verify_note(parse_note(EXAMPLE_NOTE), key)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_note(parse_note(altered), key)


def test_the_rfc_8032_key_signs_as_the_browser_checks(js: Any) -> None:
    """RFC 8032 §7.1 TEST 1's key, signing a note: the browser's Ed25519 agrees."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    signer = Signer("rfc8032.test/1", Ed25519PrivateKey.from_private_bytes(seed))
    assert signer.verifier().public_key.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    note = sign_note("an election\n", signer)
    assert js.evaluate(VERIFY_NOTE, [signer.verifier().encode(), note]) is None


def _signed_checkpoint() -> tuple[Signer, Signer, str, str]:
    operator = Signer("canvass.test/log", Ed25519PrivateKey.generate())
    witness = Signer("gazette.test/witness", Ed25519PrivateKey.generate())
    tree = MerkleTree(f"entry {i}".encode() for i in range(12))
    text = Checkpoint(operator.verifier().name, tree.size, tree.root()).text()
    note = sign_note(text, operator) + cosign(text, witness, 1_730_764_800)
    return operator, witness, text, note


OPEN = """async ([operator, witness, note]) => {
  const c = canvassCheck;
  const out = {};
  out.operator = await t.error(async () => {
    const key = await c.decodeVerifierKey(operator);
    const {checkpoint} = await c.openCheckpoint(note, key, "log/checkpoint");
    out.size = checkpoint.size;
    out.root = c.hex(checkpoint.root);
  });
  out.witness = await t.error(async () => {
    const key = await c.decodeVerifierKey(witness, 0x04);
    out.time = await c.verifyCosignature(c.parseNote(note, "log/checkpoint"), key, "log/checkpoint");
  });
  return out;
}"""


def _python_errors(operator: VerifierKey, witness: VerifierKey, note: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        cp = open_checkpoint(note, operator, "log/checkpoint")
        out |= {"operator": None, "size": cp.size, "root": cp.root.hex()}
    except VerificationError as e:
        out["operator"] = str(e)
    try:
        wkey = VerifierKey(witness.name, COSIGNATURE_V1, witness.public_key)
        out |= {
            "witness": None,
            "time": verify_cosignature(parse_note(note), wkey, "log/checkpoint"),
        }
    except VerificationError as e:
        out["witness"] = str(e)
    return out


def test_checkpoints_and_cosignatures_agree_with_the_python_log(js: Any) -> None:
    operator, witness, text, note = _signed_checkpoint()
    okey, wkey = operator.verifier(), witness.verifier()
    lines = note.split("\n")
    operator_line, witness_line = lines[4], lines[5]

    def flip(line: str) -> str:
        name, blob = line.rsplit(" ", 1)
        raw = bytearray(base64.b64decode(blob))
        raw[-1] ^= 1
        return f"{name} {base64.b64encode(bytes(raw)).decode()}"

    cases = {
        "honest": note,
        "operator signature altered": note.replace(operator_line, flip(operator_line)),
        "cosignature altered": note.replace(witness_line, flip(witness_line)),
        "cosignature missing": note.replace(witness_line + "\n", ""),
        "size altered": sign_note(text.replace("\n12\n", "\n13\n"), witness) + witness_line + "\n",
        "root altered": note.replace(text.split("\n")[2], base64.b64encode(bytes(32)).decode()),
    }
    results = {
        name: js.evaluate(OPEN, [okey.encode(), wkey.encode(), raw]) for name, raw in cases.items()
    }
    for name, raw in cases.items():
        assert results[name] == _python_errors(okey, wkey, raw), name
    assert results["honest"] == {
        "operator": None,
        "witness": None,
        "size": 12,
        "root": MerkleTree(f"entry {i}".encode() for i in range(12)).root().hex(),
        "time": 1_730_764_800,
    }
    assert results["operator signature altered"]["operator"] == (
        "log/checkpoint: the signature by canvass.test/log does not verify"
    )
    assert results["cosignature altered"]["witness"] == (
        "log/checkpoint: the cosignature by gazette.test/witness does not verify"
    )
    assert results["cosignature missing"]["witness"] == (
        "log/checkpoint: no cosignature by gazette.test/witness"
    )


@pytest.mark.parametrize(
    ("note", "message"),
    [
        ("a\nb\n", "log/checkpoint: no blank line separates the text from signatures"),
        ("a\n\n", "log/checkpoint: the note carries no signature"),
        (
            "a\n\n\u2014 x AAAAAAA=",
            "log/checkpoint: the last signature line does not end in a newline",
        ),
        ("a\n\n- x AAAAAAA=\n", "log/checkpoint: signature line 1 does not start with '\u2014 '"),
        ("a\n\n\u2014 x AAAAAB==\n", "log/checkpoint: signature line 1 is not base64"),
        ("a\n\n\u2014 x AAAA\n", "log/checkpoint: signature line 1 is too short"),
    ],
)
def test_malformed_notes_are_named_as_python_names_them(js: Any, note: str, message: str) -> None:
    got = js.evaluate(
        '(note) => t.error(() => canvassCheck.parseNote(note, "log/checkpoint"))', note
    )
    assert got == message
    with pytest.raises(VerificationError) as e:
        parse_note(note, "log/checkpoint")
    assert str(e.value).startswith(message)
