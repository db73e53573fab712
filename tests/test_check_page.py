"""A page checking itself in the reader's browser: the honest case, and each alteration
named — the checkpoint's signature, a witness's cosignature, the tiles the inclusion proof
is computed from, the page's own bytes — and a log that does not extend the one this
browser saw before.

The bundles here are small logs written with canvass.log, each ending in a
``bundle.published`` entry whose publication lists the page's bytes, as publish records
them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canvass.log.entry import ArtifactRef, new_entry
from canvass.log.merkle import MerkleTree
from canvass.log.note import Checkpoint, Signer, cosign, sign_note
from canvass.log.tiles import write_tiles
from canvass.publish.site.check import LogClaim, Witness, check_block, check_config, script_bytes
from tests.browser import serving

ORIGIN = "canvass.test/lakeland"
WITNESS = "gazette.test/witness"
TIME = "2026-11-04T02:00:00.000000Z"
COSIGNED = datetime(2026, 11, 4, 2, 30, tzinfo=UTC)


@dataclass
class Log:
    """A log, its keys and artifacts, published again and again into one folder."""

    operator: Signer = field(default_factory=lambda: Signer(ORIGIN, Ed25519PrivateKey.generate()))
    witness: Signer = field(default_factory=lambda: Signer(WITNESS, Ed25519PrivateKey.generate()))
    entries: list[bytes] = field(default_factory=list)
    artifacts: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.append("log.opened", {"origin": ORIGIN, "operator": self.operator.verifier().encode()})
        vkey = self.witness.verifier().encode()
        self.append("key.registered", {"name": WITNESS, "role": "witness", "vkey": vkey})

    def append(self, type: str, data: dict[str, Any], refs: tuple[ArtifactRef, ...] = ()) -> None:
        self.entries.append(new_entry(type, "clerk", data, refs, time=TIME).canonical())

    def count(self, county: str, votes: dict[str, int]) -> None:
        self.append("results.imported", {"county": county, "votes": votes})


def page_html(log: Log, results: dict[str, Any], refresh: int) -> bytes:
    size = len(log.entries)
    claim = LogClaim(
        log_size=size,
        root=MerkleTree(log.entries).root(),
        publication=size,
        operator=log.operator.verifier().encode(),
        witnesses=(Witness(WITNESS, log.witness.verifier().encode(), 1),),
        refresh_seconds=refresh,
    )
    rows = "".join(
        f'<tr><th scope="row">{name}</th><td class="votes">{votes}</td></tr>'
        for name, votes in results.items()
    )
    config = check_config(claim, "index.html", "", ["results.json"])
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Lakeland results'
        '</title></head><body><header class="site"><span class="status">'
        f"{sum(results.values())} votes counted</span></header>"
        "<main><h1>Lakeland</h1><table><caption>Mayor</caption>"
        f"{rows}</table></main>{check_block(config)}</body></html>"
    ).encode()


def publish(log: Log, out: Path, results: dict[str, int], refresh: int = 0) -> None:
    """Render the page from the log, record its publication, sign and cosign the
    checkpoint, and write the bundle (tiles only ever added or grown)."""
    content = {
        "index.html": page_html(log, results, refresh),
        "results.json": (json.dumps(results) + "\n").encode(),
        "check.js": script_bytes(),
    }
    size = len(log.entries)
    document = bytes(
        rfc8785.dumps(
            {
                "document": "publication",
                "format": "canvass-bundle/2",
                "election": "lakeland",
                "log_size": size,
                "root": MerkleTree(log.entries).root().hex(),
                "withhold_originals": [],
                "files": {
                    p: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
                    for p, d in sorted(content.items())
                },
            }
        )
    )
    sha = hashlib.sha256(document).hexdigest()
    log.artifacts[sha] = document
    ref = ArtifactRef(
        sha, "publication.json", "application/vnd.canvass.publication+json", len(document)
    )
    log.append("bundle.published", {"format": "canvass-bundle/2", "log_size": size}, (ref,))
    tree = MerkleTree(log.entries)
    text = Checkpoint(ORIGIN, tree.size, tree.root()).text()
    files = {  # the checkpoint last, as publish writes it
        **content,
        **{f"log/{p}": d for p, d in write_tiles(log.entries)},
        **{f"artifacts/{s}": d for s, d in log.artifacts.items()},
        "log/checkpoint": (
            sign_note(text, log.operator) + cosign(text, log.witness, int(COSIGNED.timestamp()))
        ).encode(),
    }
    for path, data in files.items():
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@pytest.fixture
def bundle(tmp_path: Path) -> Iterator[tuple[Log, Path, str]]:
    log = Log()
    for county in range(300):  # past the first tile of 256 entries
        log.count(f"c{county:03d}", {"alvarez": 3 + county % 7, "brooks": 2 + county % 5})
    out = tmp_path / "bundle"
    publish(log, out, {"alvarez": 1862, "brooks": 1196})
    with serving(out) as address:
        yield log, out, address


def check(context: Any, address: str) -> dict[str, Any]:
    """Open the page and wait for its check; return what it reports."""
    page = context.new_page()
    page.goto(address + "index.html")
    page.wait_for_function(
        "document.getElementById('check-report').dataset.check !== 'not-run'", timeout=20_000
    )
    report = page.evaluate(
        """() => {
          const out = document.getElementById('check-report');
          const items = (cls) => Array.from(out.querySelectorAll(`.${cls} li`), (li) => li.textContent);
          return {
            state: out.dataset.check,
            status: out.querySelector('.check-status').textContent,
            held: items('check-held-list'),
            failed: items('check-failed-list'),
            unchecked: items('check-unchecked-list'),
          };
        }"""
    )
    page.close()
    return report


def test_the_honest_page_checks_out(context: Any, bundle: tuple[Log, Path, str]) -> None:
    log, _, address = bundle
    report = check(context, address)
    assert report["state"] == "passed", report
    assert report["status"] == (
        "Checked in your browser: this page is what the signed election log says was published."
    )
    key_id = log.operator.verifier().id.hex()
    assert report["held"] == [
        f"The log's latest checkpoint (303 entries) is signed by the election's log key "
        f"{ORIGIN} (key ID {key_id}).",
        f"Witness {WITNESS} cosigned this checkpoint at {COSIGNED:%Y-%m-%dT%H:%M:%SZ}.",
        "Log entry 302 records this publication, and its inclusion proof, computed from the "
        "log's tiles, leads to the checkpoint's root.",
        f"Witness {WITNESS}'s key is the one registered at log entry 1.",
        "This page and results.json are byte for byte the files the publication lists.",
        "The results were computed from the log's first 302 entries, and a consistency proof "
        "shows those to be the start of the signed log.",
    ]
    assert report["unchecked"][0].startswith("This browser has not seen this log before")
    assert report["unchecked"][1].startswith("That the counts are right: only canvass verify")
    assert context.console_errors == []


def test_a_second_visit_checks_the_log_only_grew(
    context: Any, bundle: tuple[Log, Path, str]
) -> None:
    log, out, address = bundle
    assert check(context, address)["state"] == "passed"
    log.count("c300", {"alvarez": 5, "brooks": 9})
    publish(log, out, {"alvarez": 1867, "brooks": 1205})
    report = check(context, address)
    assert report["state"] == "passed", report
    seen = [h for h in report["held"] if h.startswith("The log extends the checkpoint")]
    assert len(seen) == 1 and seen[0].endswith("(303 entries): nothing in it was changed since.")
    assert not any(u.startswith("This browser has not seen") for u in report["unchecked"])


def _flip_signature(note: str, name: str) -> str:
    lines = note.split("\n")
    for i, line in enumerate(lines):
        if line.startswith(f"\u2014 {name} "):
            blob = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
            blob[-1] ^= 1
            lines[i] = f"\u2014 {name} {base64.b64encode(bytes(blob)).decode()}"
    return "\n".join(lines)


def test_an_altered_checkpoint_signature_is_named(
    context: Any, bundle: tuple[Log, Path, str]
) -> None:
    _, out, address = bundle
    checkpoint = out / "log" / "checkpoint"
    checkpoint.write_text(_flip_signature(checkpoint.read_text(), ORIGIN))
    report = check(context, address)
    assert report["state"] == "failed"
    assert report["failed"] == [
        "The log's checkpoint is not signed by the election's log key: log/checkpoint: "
        f"the signature by {ORIGIN} does not verify"
    ]
    assert report["status"] == f"Check failed: {report['failed'][0]}"


def test_an_altered_cosignature_is_named(context: Any, bundle: tuple[Log, Path, str]) -> None:
    _, out, address = bundle
    checkpoint = out / "log" / "checkpoint"
    checkpoint.write_text(_flip_signature(checkpoint.read_text(), WITNESS))
    report = check(context, address)
    assert report["failed"] == [
        f"Witness {WITNESS} has not vouched for this log: log/checkpoint: the cosignature by "
        f"{WITNESS} does not verify"
    ]


def test_an_altered_inclusion_proof_is_named(context: Any, bundle: tuple[Log, Path, str]) -> None:
    """The proof of the publication entry (302) is computed from the tiles: a hash the
    proof takes from the level-0 tile, altered, no longer leads to the signed root."""
    _, out, address = bundle
    tile = out / "log" / "tile" / "0" / "001.p" / "47"
    data = bytearray(tile.read_bytes())
    data[(300 - 256) * 32] ^= 1  # entry 300's leaf hash, the sibling of [302, 303)'s pair
    tile.write_bytes(bytes(data))
    report = check(context, address)
    assert report["failed"] == [
        "Log entry 302, the publication of these results, is not in the log: the inclusion "
        "proof for entry 302 does not lead to the root",
        f"The key of witness {WITNESS} is not the one registered in the log: the inclusion "
        "proof for entry 1 does not lead to the root",
    ]


def test_an_altered_page_is_named(context: Any, bundle: tuple[Log, Path, str]) -> None:
    _, out, address = bundle
    page = out / "index.html"
    listed = hashlib.sha256(page.read_bytes()).hexdigest()
    page.write_bytes(page.read_bytes().replace(b">1862<", b">13642<"))
    found = hashlib.sha256(page.read_bytes()).hexdigest()
    report = check(context, address)
    assert report["failed"] == [
        f"This page is not what the log says was published: index.html: its SHA-256 is "
        f"{found}; the publication at log entry 302 lists {listed}"
    ]


def test_a_rewritten_log_does_not_extend_what_the_browser_saw(
    context: Any, bundle: tuple[Log, Path, str], tmp_path: Path
) -> None:
    """The operator re-signs a log with entry 5 rewritten: every signature verifies, but
    this browser saw the honest checkpoint, and the new log does not extend it."""
    log, out, address = bundle
    assert check(context, address)["state"] == "passed"
    forged = Log(log.operator, log.witness)
    forged.entries = log.entries[:-1]
    forged.entries[5] = new_entry(
        "results.imported", "clerk", {"county": "c003"}, time=TIME
    ).canonical()
    forged.count("c300", {"alvarez": 5, "brooks": 9})
    shutil.rmtree(out)
    publish(forged, out, {"alvarez": 1867, "brooks": 1205})
    report = check(context, address)
    assert report["failed"] == [
        "The log does not extend the checkpoint this browser saw before: the consistency "
        "proof does not lead to the earlier root"
    ]


def test_a_log_rolled_back_is_named(context: Any, bundle: tuple[Log, Path, str]) -> None:
    log, out, address = bundle
    saved = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    log.count("c300", {"alvarez": 5, "brooks": 9})
    publish(log, out, {"alvarez": 1867, "brooks": 1205})
    assert check(context, address)["state"] == "passed"
    shutil.rmtree(out)
    for path, data in saved.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    report = check(context, address)
    assert len(report["failed"]) == 1
    assert report["failed"][0].startswith(
        "The log does not extend the checkpoint this browser saw before: this browser saw "
        "305 entries on "
    )
    assert report["failed"][0].endswith(
        "; the log now shows only 303: it was rolled back or this is a stale copy"
    )


def test_an_open_page_shows_new_results_once_they_check_out(context: Any, tmp_path: Path) -> None:
    log, out = Log(), tmp_path / "bundle"
    log.count("c001", {"alvarez": 10, "brooks": 4})
    publish(log, out, {"alvarez": 10, "brooks": 4}, refresh=1)
    with serving(out) as address:
        page = context.new_page()
        page.goto(address + "index.html")
        page.wait_for_function("document.getElementById('check-report').dataset.check === 'passed'")
        log.count("c002", {"alvarez": 3, "brooks": 12})
        publish(log, out, {"alvarez": 13, "brooks": 16}, refresh=1)
        page.wait_for_function(
            "document.querySelector('main td').textContent === '13'", timeout=60_000
        )
        assert page.text_content("header.site .status") == "29 votes counted"
        assert page.evaluate("document.getElementById('check-report').dataset.check") == "passed"
        assert "(updated " in page.text_content(".check-status")
        page.close()
    assert context.console_errors == []


def test_a_page_opened_from_a_file_says_it_was_not_checked(
    context: Any, bundle: tuple[Log, Path, str]
) -> None:
    _, out, _ = bundle
    page = context.new_page()
    page.goto((out / "index.html").as_uri())
    page.wait_for_function("document.getElementById('check-report').dataset.check !== 'not-run'")
    assert page.text_content(".check-status") == (
        "This page was not checked: it was opened from a file, and a browser does not let a "
        "page read the files beside it. Run canvass verify on the bundle to check everything."
    )
    page.close()
