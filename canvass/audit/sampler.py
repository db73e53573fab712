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
import os
import threading
from collections.abc import Hashable, Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

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
    prefix = sha256_hex(seed)
    chosen: Iterable[int] = range(len(id_list))
    if take is not None and len(id_list) > 4 * (drop + take):
        chosen = _smallest_first_tickets(id_list, prefix, drop + take)
    elif len(set(map(str, id_list))) != len(id_list):
        raise ValueError(_NOT_DISTINCT)
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


_NOT_DISTINCT = "the ids to sample from are not distinct"
_REVERSED_4 = np.array([int(f"{n:04d}"[::-1]) for n in range(10_000)], dtype=np.int16)
_WORD_WEIGHTS = np.array([pow(2, 64 * (3 - j), 625) for j in range(4)], dtype=np.uint64)
_INVERSE_625 = pow(625, -1, 16)
_FORK_FROM = 500_000
"""Frames at least this large are hashed in two processes where that is safe."""


def _digests(ids: Sequence[Hashable], prefix: str, start: int, stop: int) -> bytearray:
    """``SHA-256(prefix ‖ str(id))`` of the ids from ``start`` to ``stop``, one after another."""
    begin = hashlib.sha256(prefix.encode()).copy  # the prefix is one whole SHA-256 block
    out = bytearray()
    try:  # ids are nearly always text: encoded as they are, without str() each time
        for text in ids[start:stop]:
            h = begin()
            h.update(text.encode())  # type: ignore[attr-defined]
            out += h.digest()
    except AttributeError:
        out.clear()
        for text in map(str, ids[start:stop]):
            h = begin()
            h.update(text.encode())
            out += h.digest()
    return out


def _keys(digests: bytearray) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """For each digest the first 4 digits of its ticket, as an integer to compare; and the
    digests' first 8 bytes, sorted (to find repeated ids).

    A ticket's first 4 digits are the last 4 decimal digits of the digest's integer,
    reversed. That remainder modulo 10⁴ is exact integer arithmetic in NumPy: modulo 16 it
    is the low 4 bits; modulo 625 it is the sum of the four 64-bit words, each reduced
    modulo 625 and times 2^(64·k) mod 625; the two are joined by the Chinese remainder
    theorem."""
    words = np.ascontiguousarray(np.frombuffer(digests, ">u8").reshape(-1, 4).T)
    by_625 = (words[0] % np.uint64(625)) * _WORD_WEIGHTS[0]
    for j in range(1, 4):
        by_625 += (words[j] % np.uint64(625)) * _WORD_WEIGHTS[j]
    b = (by_625 % np.uint64(625)).astype(np.int64)
    a = (words[3] & np.uint64(15)).astype(np.int64)
    return _REVERSED_4[b + 625 * (((a - b) * _INVERSE_625) & 15)], np.sort(words[0])


def _hashed(ids: list[Hashable], prefix: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """:func:`_keys` of every id's first ticket. A large frame is hashed in two processes
    where forking is safe (a POSIX system with more than one processor and no other thread
    in this one); the child hashes the second half and hands back its keys through a pipe.
    Anything amiss with the child, and its half is hashed here. The child calls nothing but
    hashlib, NumPy arithmetic and the pipe, never touches an open database or file it
    inherited, and leaves with ``os._exit``: no buffer is flushed twice, no handler runs."""
    half = len(ids) // 2
    if (
        len(ids) < _FORK_FROM
        or not hasattr(os, "fork")
        or (os.cpu_count() or 1) < 2
        or threading.active_count() > 1
    ):
        return _keys(_digests(ids, prefix, 0, len(ids)))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: hash the second half, write the keys, and leave at once
        status = 1
        try:
            os.close(read_end)
            key, heads = _keys(_digests(ids, prefix, half, len(ids)))
            with os.fdopen(write_end, "wb") as out:
                out.write(key.tobytes())
                out.write(heads.tobytes())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    received = os.fdopen(read_end, "rb")
    try:
        first_key, first_heads = _keys(_digests(ids, prefix, 0, half))
        data = received.read()
    finally:
        received.close()  # first: a child still writing then stops instead of waiting
        _, status = os.waitpid(pid, 0)
    n = len(ids) - half
    if status != 0 or len(data) != 10 * n:
        second_key, second_heads = _keys(_digests(ids, prefix, half, len(ids)))
    else:
        second_key = np.frombuffer(data, np.int16, n)
        second_heads = np.frombuffer(data, np.uint64, n, 2 * n)
    heads = np.sort(np.concatenate([first_heads, second_heads]), kind="stable")  # a merge
    return np.concatenate([first_key, second_key]), heads


def _smallest_first_tickets(ids: list[Hashable], prefix: str, k: int) -> list[int]:
    """The positions of the ids whose first tickets may be among the ``k`` smallest.

    The first draws, with or without replacement, all come from the ``k`` smallest first
    tickets (an id's later tickets are larger than its first, and drawn after it). The
    tickets' first 4 digits are compared in NumPy: an id whose 4 digits are above the k-th
    smallest has a ticket above at least k others, so only the ids at or below it are kept,
    ties included, for the exact comparison of whole tickets.

    Raises ValueError when two ids are the same (as text, so their tickets would be too):
    two digests that begin alike are looked into, the same text always has the same one."""
    key, heads = _hashed(ids, prefix)
    if (heads[1:] == heads[:-1]).any() and len(set(map(str, ids))) != len(ids):
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
