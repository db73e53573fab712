"""``java.util.Random`` and ``Collections.shuffle``, bit for bit as the Java API documents them,
so that a seeded random tiebreak draws the same candidate RCTab draws.

The generator is the 48-bit linear congruential generator of Knuth, TAOCP vol. 2, §3.2.1,
with the multiplier, increment and scrambling the ``java.util.Random`` specification gives.
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import TypeVar

_MULTIPLIER = 0x5DEECE66D
_INCREMENT = 0xB
_MASK = (1 << 48) - 1

T = TypeVar("T")


class JavaRandom:
    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ _MULTIPLIER) & _MASK

    def _next(self, bits: int) -> int:
        """``next(bits)``: the top ``bits`` bits of the new state, as a signed 32-bit int."""
        self._seed = (self._seed * _MULTIPLIER + _INCREMENT) & _MASK
        value = self._seed >> (48 - bits)
        return value - (1 << 32) if value >= 1 << 31 else value

    def next_int(self, bound: int) -> int:
        """``nextInt(bound)``: uniform in [0, bound)."""
        if bound <= 0:
            raise ValueError("bound must be positive")
        if bound & -bound == bound:  # a power of two
            return (bound * self._next(31)) >> 31
        while True:
            bits = self._next(31)
            value = bits % bound
            # Java rejects when bits - value + (bound - 1) overflows a signed 32-bit int.
            if bits - value + (bound - 1) < 1 << 31:
                return value

    def next_double(self) -> float:
        """``nextDouble()``: uniform in [0, 1) with 53 random bits."""
        return ((self._next(26) << 27) + self._next(27)) * (1.0 / (1 << 53))


def java_shuffle(items: MutableSequence[T], rnd: JavaRandom) -> None:
    """``Collections.shuffle(list, rnd)``: swap each position from the last down with a
    random earlier (or the same) one."""
    for i in range(len(items), 1, -1):
        j = rnd.next_int(i)
        items[i - 1], items[j] = items[j], items[i - 1]
