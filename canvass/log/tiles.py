"""The log as static files: C2SP tlog-tiles (https://c2sp.org/tlog-tiles).

A published log is a set of files any web server can serve:

- ``checkpoint``: the latest signed checkpoint (with witness cosignatures);
- ``tile/<L>/<N>[.p/<W>]``: hash tiles, each the hashes of up to 256 consecutive tree
  nodes at level ``8·L`` (level-0 tiles hold the leaf hashes); ``N`` is written in groups
  of three digits, all but the last prefixed with ``x`` (1234067 → ``x001/x234/067``);
  a partial tile of ``W`` < 256 hashes ends in ``.p/W``;
- ``tile/entries/<N>[.p/<W>]``: entry bundles, each entry a big-endian 16-bit length and
  its bytes, 256 entries to a full bundle.

Writing and reading are pure: bytes in, files (path, bytes) out and back. A reader trusts
nothing it reads: the entries are hashed again and every hash tile compared with the tree
they make.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from canvass.errors import LogIntegrityError
from canvass.log.merkle import MerkleTree

HEIGHT = 8
WIDTH = 1 << HEIGHT
MAX_ENTRY = 0xFFFF


def _index(n: int) -> str:
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    """The path of hash tile ``index`` at tile level ``level`` (or of an entry bundle, when
    ``level`` is ``"entries"``)."""
    if not 0 < width <= WIDTH:
        raise ValueError(f"a tile holds 1 to {WIDTH} hashes; asked for {width}")
    suffix = "" if width == WIDTH else f".p/{width}"
    return f"tile/{level}/{_index(index)}{suffix}"


def _tiles(count: int) -> Iterator[tuple[int, int]]:
    """(tile index, width) of the tiles covering ``count`` nodes or entries."""
    for start in range(0, count, WIDTH):
        yield start // WIDTH, min(WIDTH, count - start)


def write_tiles(entries: Sequence[bytes]) -> Iterator[tuple[str, bytes]]:
    """Every entry bundle and hash tile of a log holding ``entries``."""
    tree = MerkleTree()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY:
            raise LogIntegrityError(
                [f"entry {i} is {len(entry)} bytes; an entry bundle holds at most {MAX_ENTRY}"]
            )
        tree.append(entry)
    for n, width in _tiles(len(entries)):
        chunk = entries[n * WIDTH : n * WIDTH + width]
        yield tile_path("entries", n, width), b"".join(len(e).to_bytes(2, "big") + e for e in chunk)
    level = 0
    while tree.size >> (HEIGHT * level):
        count = tree.size >> (HEIGHT * level)
        for n, width in _tiles(count):
            hashes = (tree.node(HEIGHT * level, n * WIDTH + k) for k in range(width))
            yield tile_path(level, n, width), b"".join(hashes)
        level += 1


def read_entries(read: Callable[[str], bytes], size: int) -> list[bytes]:
    """The ``size`` entries of a tiled log, from its entry bundles."""
    entries: list[bytes] = []
    for n, width in _tiles(size):
        path = tile_path("entries", n, width)
        data = read(path)
        at = 0
        for k in range(width):
            if at + 2 > len(data):
                raise LogIntegrityError([f"{path}: ends after {k} of its {width} entries"])
            length = int.from_bytes(data[at : at + 2], "big")
            entries.append(data[at + 2 : at + 2 + length])
            at += 2 + length
            if at > len(data):
                raise LogIntegrityError([f"{path}: entry {n * WIDTH + k} is cut short"])
        if at != len(data):
            raise LogIntegrityError([f"{path}: {len(data) - at} bytes after its {width} entries"])
    return entries


def check_tiles(read: Callable[[str], bytes], tree: MerkleTree) -> list[str]:
    """Compare every hash tile of a log of ``tree.size`` entries with ``tree`` (the tree
    the entries make): a tile that says otherwise was altered or belongs to another log."""
    problems = []
    level = 0
    while tree.size >> (HEIGHT * level):
        count = tree.size >> (HEIGHT * level)
        for n, width in _tiles(count):
            path = tile_path(level, n, width)
            try:
                data = read(path)
            except LogIntegrityError as e:
                problems.extend(e.problems)
                continue
            expected = b"".join(tree.node(HEIGHT * level, n * WIDTH + k) for k in range(width))
            if data != expected:
                problems.append(f"{path}: its hashes are not those of the log's entries")
        level += 1
    return problems
