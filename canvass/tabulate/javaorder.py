"""The order in which a ``java.util.HashMap`` of strings hands back its keys.

RCTab lists the candidates a round elected or eliminated, and breaks ties in its report's
candidate order, by iterating hash maps; to write the same report it does, Canvass orders
those lists the same way. A ``HashMap`` built with the default constructor keeps a table of
a power-of-two size (at least 16, doubled whenever it would be more than three quarters
full) and iterates it bucket by bucket, each bucket in insertion order; a key's bucket is
``(h ^ (h >>> 16)) & (size - 1)`` where ``h`` is ``String.hashCode()``.
"""

from __future__ import annotations

from collections.abc import Iterable


def string_hash(s: str) -> int:
    """``String.hashCode()``: ``s[0]*31^(n-1) + ... + s[n-1]`` over UTF-16 code units, as an
    unsigned 32-bit value."""
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def hash_map_order(keys: Iterable[str]) -> list[str]:
    """``keys`` (in insertion order, duplicates ignored) in ``HashMap`` iteration order."""
    unique = list(dict.fromkeys(keys))
    capacity = 16
    while len(unique) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = string_hash(key)
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(unique, key=bucket)  # sorted() is stable: insertion order within a bucket
