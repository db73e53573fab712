"""Reproducible samples, defined by SHA-256 alone so that anyone can draw them again.

- :func:`sampler`: Rivest's consistent sampler (``ron-rivest/consistent_sampler``), as
  Arlo uses it. Each id gets a ticket number, a real in (0, 1) written as a decimal
  string: the digits of ``SHA-256(SHA-256-hex(seed) ‖ str(id))`` as a decimal integer
  (at least 64 digits), in reverse order. Ids are drawn by increasing ticket number
  (compared as strings). Drawn with replacement, an id gets its next ticket from its
  previous one: the leading 9s kept, the rest replaced by ``SHA-256(ticket ‖ ':' ‖ i)``
  for i = 1, 2, … until larger. A later round extends an earlier one: drawing 10 and then
  10 more gives the same 20 as drawing 20.
- :func:`corla_prng`: ColoradoRLA's generator: ``SHA-256(seed ‖ ',' ‖ count)`` as an
  unsigned big-endian integer, reduced into [low, high]; without replacement, repeats are
  skipped.
- :func:`cryptorandom_outputs`: the SHA-256 counter generator of ``statlab/cryptorandom``
  (SHANGRLA): the k-th output is ``SHA-256(str(seed) ‖ ',' ‖ k zero bytes)``.

- :func:`weighted_sample`: batches drawn with probability proportional to a weight (their
  MACRO error bounds), ``SHA-256(seed ‖ ',' ‖ i)`` over 2²⁵⁶ against the running total of
  exact fractions.

No library version enters into any of them: the same seed gives the same sample forever.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
from collections.abc import Hashable, Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Any, NamedTuple, Protocol

import numpy as np


class Ticket(NamedTuple):
    number: str
    """A real in (0, 1) as ``'0.ddd…'``; tickets are drawn in increasing order."""
    id: Hashable
    generation: int
    """1 for an id's first draw, 2 for its second (with replacement), …"""


def sha256_hex(value: object) -> str:
    return hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def sha256_uniform(value: object) -> str:
    """SHA-256 of ``str(value)`` as a real in (0, 1): its decimal digits, reversed."""
    digits = f"{int(sha256_hex(value), 16):064d}"
    return "0." + digits[::-1]


def first_fraction(id: object, seed: object) -> str:
    return sha256_uniform(sha256_hex(seed) + str(id))


def _first_non_nine(x: str) -> int:
    padded = x + "0"
    return next(i for i in range(2, len(padded)) if padded[i] < "9")


def next_fraction(x: str) -> str:
    """A pseudorandom real in (x, 1), from x alone."""
    padded = x + "0"
    keep = padded[: _first_non_nine(x)]
    y, i = "0.", 0
    while y <= padded:
        i += 1
        y = keep + sha256_uniform(f"{x}:{i}")[2:]
    return y


def trim(x: str, digits: int) -> str:
    """``x`` to ``digits`` significant digits after its leading 9s (truncated)."""
    return x[: _first_non_nine(x) + digits]


def sampler(
    ids: Iterable[Hashable],
    seed: object,
    with_replacement: bool = False,
    drop: int = 0,
    take: int | None = None,
    digits: int = 9,
) -> Iterator[Ticket]:
    """Tickets drawn in order: the ``drop`` first skipped, then at most ``take``."""
    id_list = ids if isinstance(ids, list) else list(ids)
    return _draw(_IdFrame(id_list), sha256_hex(seed), with_replacement, drop, take, digits)


def _draw(
    frame: _Frame,
    prefix: str,
    with_replacement: bool,
    drop: int,
    take: int | None,
    digits: int,
) -> Iterator[Ticket]:
    chosen: Iterable[int] = range(len(frame))
    if take is not None and len(frame) > 4 * (drop + take):
        chosen = _smallest_first_tickets(frame, prefix, drop + take)
    elif not frame.distinct(None):
        raise ValueError(_NOT_DISTINCT)
    heap = [
        (sha256_uniform(prefix + frame.text(n)), n, frame.id(n), 1) for n in chosen
    ]  # n breaks ties as Python's tuple order would by id, without comparing ids
    heapq.heapify(heap)
    count = 0
    while heap:
        number, n, i, generation = heapq.heappop(heap)
        if with_replacement:
            heapq.heappush(heap, (next_fraction(number), n, i, generation + 1))
        count += 1
        if count > drop:
            if take is not None and count > drop + take:
                return
            yield Ticket(trim(number, digits), i, generation)


_NOT_DISTINCT = "the ids to sample from are not distinct"
_REVERSED_4 = np.array([int(f"{n:04d}"[::-1]) for n in range(10_000)], dtype=np.int16)
_WORD_WEIGHTS = np.array([pow(2, 64 * (3 - j), 625) for j in range(4)], dtype=np.uint64)
_INVERSE_625 = pow(625, -1, 16)
_CHUNK = 1 << 20
"""Ids hashed at a time: the digests of a chunk (32 MiB) are reduced to 2 bytes an id
before the next chunk is hashed."""


class _Frame(Protocol):
    """The ids to draw from, by position."""

    def __len__(self) -> int: ...

    def text(self, n: int) -> str:
        """``str()`` of the id at ``n``: what its ticket is the hash of."""

    def id(self, n: int) -> Hashable: ...

    def digests(self, prefix: str) -> Iterator[bytearray]:
        """``SHA-256(prefix ‖ text)`` of every id in order, a chunk at a time."""

    def distinct(self, heads: np.ndarray[Any, Any] | None) -> bool:
        """Whether no two ids have the same text; ``heads``: the digests' first 8 bytes,
        sorted, when they have been worked out."""


class _IdFrame:
    """Ids given one by one."""

    def __init__(self, ids: list[Hashable]) -> None:
        self.ids = ids

    def __len__(self) -> int:
        return len(self.ids)

    def text(self, n: int) -> str:
        return str(self.ids[n])

    def id(self, n: int) -> Hashable:
        return self.ids[n]

    def digests(self, prefix: str) -> Iterator[bytearray]:
        begin = hashlib.sha256(prefix.encode()).copy  # the prefix is one whole SHA-256 block
        for start in range(0, len(self.ids), _CHUNK):
            out = bytearray()
            chunk = self.ids[start : start + _CHUNK]
            try:  # ids are nearly always text: encoded as they are, without str() each time
                for text in chunk:
                    h = begin()
                    h.update(text.encode())  # type: ignore[attr-defined]
                    out += h.digest()
            except AttributeError:
                out.clear()
                for text in map(str, chunk):
                    h = begin()
                    h.update(text.encode())
                    out += h.digest()
            yield out

    def distinct(self, heads: np.ndarray[Any, Any] | None) -> bool:
        # The same text always has the same digest: only when two digests begin alike
        # are the texts compared.
        if heads is not None and not (heads[1:] == heads[:-1]).any():
            return True
        return len(set(map(str, self.ids))) == len(self.ids)


class _ManifestFrame:
    """Every ballot of a ballot manifest, as Arlo numbers them: ``(batch, position)`` for
    positions 1 to the batch's number of ballots. No id is made until it is drawn: each
    batch's ids share the text before the position (``"(('T1', 'B1'), "``), so its hash
    state is worked out once per batch."""

    def __init__(self, batches: list[tuple[Hashable, int]]) -> None:
        self.batches = [b for b, _ in batches]
        self.sizes = [n for _, n in batches]
        self.ends = np.cumsum(np.array(self.sizes, np.int64))

    def __len__(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def _locate(self, n: int) -> tuple[int, int]:
        b = int(np.searchsorted(self.ends, n, side="right"))
        return b, n - int(self.ends[b]) + self.sizes[b] + 1

    def text(self, n: int) -> str:
        return str(self.id(n))

    def id(self, n: int) -> Hashable:
        b, position = self._locate(n)
        return (self.batches[b], position)

    def digests(self, prefix: str) -> Iterator[bytearray]:
        seed = hashlib.sha256(prefix.encode())
        tails = [b"%d)" % p for p in range(1, min(max(self.sizes, default=0), 100_000) + 1)]
        out = bytearray()
        for batch, size in zip(self.batches, self.sizes, strict=True):
            state = seed.copy()
            state.update(f"({batch!r}, ".encode())  # str() of a tuple: its items' repr()
            begin = state.copy
            for tail in tails[:size] if size <= len(tails) else _tails(size):
                h = begin()
                h.update(tail)
                out += h.digest()
            if len(out) >= 32 * _CHUNK:
                yield out
                out = bytearray()
        yield out

    def distinct(self, heads: np.ndarray[Any, Any] | None) -> bool:
        return len(set(map(repr, self.batches))) == len(self.batches)


def _tails(size: int) -> Iterator[bytes]:
    return (b"%d)" % p for p in range(1, size + 1))


def _first_digits(digests: bytearray) -> np.ndarray[Any, Any]:
    """For each digest the first 4 digits of its ticket, as an integer to compare.

    A ticket's first 4 digits are the last 4 decimal digits of the digest's integer,
    reversed. That remainder modulo 10⁴ is exact integer arithmetic in NumPy: modulo 16 it
    is the low 4 bits; modulo 625 it is the sum of the four 64-bit words, each reduced
    modulo 625 and times 2^(64·k) mod 625; the two are joined by the Chinese remainder
    theorem."""
    words = np.frombuffer(digests, ">u8").reshape(-1, 4)
    by_625 = (words[:, 0] % np.uint64(625)) * _WORD_WEIGHTS[0]
    for j in range(1, 4):
        by_625 += (words[:, j] % np.uint64(625)) * _WORD_WEIGHTS[j]
    b = (by_625 % np.uint64(625)).astype(np.int64)
    a = (words[:, 3] & np.uint64(15)).astype(np.int64)
    digits: np.ndarray[Any, Any] = _REVERSED_4[b + 625 * (((a - b) * _INVERSE_625) & 15)]
    return digits


def _keys(digests: bytearray) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """:func:`_first_digits`, and the digests' first 8 bytes, sorted (to find repeated
    ids)."""
    return _first_digits(digests), np.sort(np.frombuffer(digests, ">u8")[::4].astype(np.uint64))


def _smallest_first_tickets(frame: _Frame, prefix: str, k: int) -> list[int]:
    """The positions of the ids whose first tickets may be among the ``k`` smallest.

    The first draws, with or without replacement, all come from the ``k`` smallest first
    tickets (an id's later tickets are larger than its first, and drawn after it). The
    tickets' first 4 digits are compared in NumPy: an id whose 4 digits are above the k-th
    smallest has a ticket above at least k others, so only the ids at or below it are kept,
    ties included, for the exact comparison of whole tickets.

    Raises ValueError when two ids are the same (as text, so their tickets would be too)."""
    keys, heads = [], []
    by_id = isinstance(frame, _IdFrame)
    for chunk in frame.digests(prefix):
        if by_id:
            key, head = _keys(chunk)
            heads.append(head)
        else:
            key = _first_digits(chunk)
        keys.append(key)
    key = np.concatenate(keys)
    if not frame.distinct(np.sort(np.concatenate(heads)) if by_id else None):
        raise ValueError(_NOT_DISTINCT)
    kth = np.partition(key, k - 1)[k - 1]
    return [int(n) for n in np.flatnonzero(key <= kth)]


def weighted_sample(
    weights: Sequence[tuple[Hashable, Fraction]], seed: str, drop: int = 0, take: int = 1
) -> list[tuple[int, Hashable]]:
    """Draws ``drop + 1`` to ``drop + take``, with replacement, each item drawn with
    probability proportional to its weight, defined by SHA-256 and exact fractions alone:

    draw ``i`` takes ``r = SHA-256(seed ‖ ',' ‖ i)`` read as a big-endian integer over
    2²⁵⁶ (a fraction in [0, 1)) and picks the first item, in the order given, whose
    running total of weights exceeds ``r × W`` (``W`` their sum). A later round continues
    with the next ``i``. Items of weight 0 are never drawn. Returns ``(i, item)``."""
    if any(w < 0 for _, w in weights):
        raise ValueError("weights are never negative")
    running: list[Fraction] = []
    total = Fraction(0)
    for _, w in weights:
        total += w
        running.append(total)
    if total == 0:
        raise ValueError("nothing to draw: every weight is 0")
    out = []
    for i in range(drop + 1, drop + take + 1):
        digest = hashlib.sha256(f"{seed},{i}".encode()).digest()
        target = Fraction(int.from_bytes(digest, "big"), 1 << 256) * total
        out.append((i, weights[bisect.bisect_right(running, target)][0]))
    return out


def arlo_sample(
    manifest: Iterable[tuple[Hashable, int]], seed: str, size: int, already: int = 0
) -> list[Ticket]:
    """Arlo's ballot sample: ids ``(batch key, position)`` for every position 1..n of every
    batch in the manifest, drawn with replacement, tickets of 18 digits; ``already`` drawn
    in earlier rounds are skipped, so rounds extend one another."""
    frame = _ManifestFrame(list(manifest))
    return list(_draw(frame, sha256_hex(seed), True, already, size, 18))


def corla_prng(seed: str, low: int, high: int, replacement: bool = True) -> Iterator[int]:
    """ColoradoRLA's pseudo-random numbers in [low, high] (``PseudoRandomNumberGenerator``)."""
    span = high - low + 1
    seen: set[int] = set()
    count = 0
    while replacement or len(seen) < span:
        count += 1
        pick = low + int(hashlib.sha256(f"{seed},{count}".encode()).hexdigest(), 16) % span
        if not replacement:
            if pick in seen:
                continue
            seen.add(pick)
        yield pick


def cryptorandom_outputs(seed: object) -> Iterator[int]:
    """The outputs of ``cryptorandom``'s SHA-256 generator seeded with ``seed``."""
    base = f"{seed},".encode()
    k = 0
    while True:
        yield int.from_bytes(hashlib.sha256(base + b"\x00" * k).digest(), "big")
        k += 1
