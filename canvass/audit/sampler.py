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
from typing import NamedTuple

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
    id_list = list(ids)
    if len(set(id_list)) != len(id_list):
        raise ValueError("the ids to sample from are not distinct")
    prefix = sha256_hex(seed)
    chosen: Iterable[int] = range(len(id_list))
    if take is not None and len(id_list) > 4 * (drop + take):
        chosen = _smallest_first_tickets(id_list, prefix, drop + take)
    heap = [
        (sha256_uniform(prefix + str(id_list[n])), n, id_list[n], 1) for n in chosen
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


_KEY_DIGITS = 12
_REVERSED_4 = np.array([int(f"{n:04d}"[::-1]) for n in range(10_000)], dtype=np.int64)


def _smallest_first_tickets(ids: list[Hashable], prefix: str, k: int) -> list[int]:
    """The positions of the ids whose first tickets may be among the ``k`` smallest.

    The first draws, with or without replacement, all come from the ``k`` smallest first
    tickets (an id's later tickets are larger than its first, and drawn after it). A
    ticket's first 12 digits are the last 12 decimal digits of its SHA-256, reversed: those
    are compared in NumPy, and every id whose key is not above the k-th smallest is kept,
    ties included, for the exact comparison of whole tickets."""
    modulus = 10**_KEY_DIGITS
    sha256 = hashlib.sha256
    low = np.fromiter(
        (int.from_bytes(sha256((prefix + str(i)).encode()).digest(), "big") % modulus for i in ids),
        dtype=np.int64,
        count=len(ids),
    )
    key = (
        _REVERSED_4[low % 10_000] * 100_000_000
        + _REVERSED_4[(low // 10_000) % 10_000] * 10_000
        + _REVERSED_4[low // 100_000_000]
    )
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
    ids = [(batch, position) for batch, n in manifest for position in range(1, n + 1)]
    return list(sampler(ids, seed, with_replacement=True, drop=already, take=size, digits=18))


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
