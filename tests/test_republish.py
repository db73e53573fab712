"""Election night: publishing again in place rewrites only what changed, never a tile or an
artifact, in an order where what is served always checks out; and the shipped nginx
configuration serves a bundle with headers a CDN can act on."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from canvass.errors import StoreError
from canvass.log.merkle import MerkleTree
from canvass.log.note import Checkpoint, Signer, sign_note
from canvass.log.tiles import write_tiles
from canvass.publish.republish import republish
from tests.browser import nginx_serving


def bundle(entries: list[bytes], page: str, signer: Signer) -> dict[str, bytes]:
    """A bundle's files: tiles, an artifact per entry, the checkpoint, a page, results."""
    tree = MerkleTree(entries)
    checkpoint = sign_note(Checkpoint(signer.name, tree.size, tree.root()).text(), signer)
    files = {f"log/{p}": d for p, d in write_tiles(entries)}
    files |= {f"artifacts/{hashlib.sha256(e).hexdigest()}": e for e in entries}
    files |= {
        "log/checkpoint": checkpoint.encode(),
        "log/checkpoints.json": b"[]\n",
        "index.html": f"<!doctype html><title>r</title><p>{page}</p>".encode(),
        "results/results.json": b'{"contests": {}}\n',
        "results/mayor.csv": b"county,alvarez\nc001,3\n",
        "check.js": b"/* checker */\n",
        "site.css": b"body {}\n",
        "manifest.json": f'{{"log_size": {tree.size}}}\n'.encode(),
    }
    return files


@pytest.fixture
def signer() -> Signer:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Signer("canvass.test/log", Ed25519PrivateKey.generate())


def entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def test_a_first_publish_writes_everything(tmp_path: Path, signer: Signer) -> None:
    files = bundle(entries(3), "first", signer)
    done = republish(tmp_path / "out", files)
    assert sorted(done.written) == sorted(files) and done.unchanged == 0
    assert {
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    } == set(files)


def test_publishing_again_rewrites_only_what_changed_in_an_order_that_checks_out(
    tmp_path: Path, signer: Signer
) -> None:
    out = tmp_path / "out"
    republish(out, bundle(entries(3), "first", signer))
    results_before = (out / "results" / "mayor.csv").stat().st_mtime_ns
    second = bundle(entries(5), "second", signer)
    done = republish(out, second)
    immutable = [
        f"artifacts/{hashlib.sha256(b'entry 3').hexdigest()}",
        f"artifacts/{hashlib.sha256(b'entry 4').hexdigest()}",
        "log/tile/0/000.p/5",
        "log/tile/entries/000.p/5",
    ]
    # New tiles and artifacts first (nothing served points at them yet), then the signed
    # checkpoint, then the pages (their publication is inside it), then the manifest.
    assert done.written == [*sorted(immutable), "log/checkpoint", "index.html", "manifest.json"]
    # The partial tiles of three entries are no longer part of the bundle.
    assert done.removed == ["log/tile/0/000.p/3", "log/tile/entries/000.p/3"]
    assert done.unchanged == len(second) - len(done.written)
    assert (out / "results" / "mayor.csv").stat().st_mtime_ns == results_before
    assert not list(out.rglob(".*"))


def test_a_tile_published_with_other_bytes_is_refused_and_nothing_written(
    tmp_path: Path, signer: Signer
) -> None:
    out = tmp_path / "out"
    republish(out, bundle(entries(3), "first", signer))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    forked = entries(3)
    forked[1] = b"entry 1, rewritten"
    with pytest.raises(StoreError) as e:
        republish(out, bundle(forked, "forked", signer))
    assert str(e.value) == (
        f"{out}/log/tile/0/000.p/3: already published with other bytes; a log tile or an "
        "artifact never changes, so this log was rewritten or forked: nothing was written"
    )
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def _get(url: str, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        return urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as e:
        return e


def test_the_shipped_nginx_configuration_sets_cache_headers(tmp_path: Path, signer: Signer) -> None:
    out = tmp_path / "bundle"
    files = bundle(entries(3), "first", signer)
    republish(out, files)
    artifact = next(p for p in files if p.startswith("artifacts/"))
    with nginx_serving(out, tmp_path / "nginx") as address:
        expected = {
            "log/tile/0/000.p/3": (
                "application/octet-stream",
                "public, max-age=31536000, immutable",
            ),
            artifact: ("application/octet-stream", "public, max-age=31536000, immutable"),
            "log/checkpoint": ("text/plain; charset=utf-8", "no-cache"),
            "index.html": (
                "text/html; charset=utf-8",
                "public, max-age=10, stale-while-revalidate=30",
            ),
            "results/results.json": (
                "application/json; charset=utf-8",
                "public, max-age=10, stale-while-revalidate=30",
            ),
            "results/mayor.csv": (
                "text/csv; charset=utf-8",
                "public, max-age=10, stale-while-revalidate=30",
            ),
            "check.js": (
                "text/javascript; charset=utf-8",
                "public, max-age=10, stale-while-revalidate=30",
            ),
        }
        for path, (media_type, cache) in expected.items():
            response = _get(address + path)
            assert response.status == 200, path
            assert response.read() == files[path], path
            assert (response.headers["Content-Type"], response.headers["Cache-Control"]) == (
                media_type,
                cache,
            ), path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            again = _get(address + path, {"If-None-Match": response.headers["ETag"]})
            assert again.status == 304, path
        root = _get(address)
        assert root.status == 200 and root.read() == files["index.html"]
        assert _get(address + "nothing.html").status == 404


def test_a_file_rewritten_within_the_second_looks_changed_to_caches(
    tmp_path: Path, signer: Signer
) -> None:
    """nginx's ETag is the file's time in seconds and its size: a page rewritten to the
    same length in the same second must still get a new one."""
    out = tmp_path / "out"
    files = bundle(entries(3), "first", signer)
    republish(out, files)
    before = (out / "index.html").stat().st_mtime
    republish(out, files | {"index.html": files["index.html"].replace(b"first", b"fir5t")})
    assert int((out / "index.html").stat().st_mtime) > int(before)
