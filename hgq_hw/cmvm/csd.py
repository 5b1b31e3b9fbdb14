"""Canonical signed digits (CSD): the fewest nonzero digits in {-1, 0, +1} that sum to an integer.

``csd_digits(n)`` lists ``(shift, sign)`` pairs with ``n == sum(sign << shift)``; no two digits are
adjacent, so an integer of ``b`` bits has at most ``ceil((b + 1) / 2)`` digits.
"""

from __future__ import annotations

__all__ = ["csd_digits", "csd_value"]


def csd_digits(n: int) -> list[tuple[int, int]]:
    """``(shift, sign)`` digits of ``n`` in canonical signed-digit form, lowest shift first.

    ``0`` has no digits. Works for any Python int (negative and arbitrarily wide).
    """
    if not isinstance(n, int):
        raise TypeError(f"csd_digits needs an int, got {type(n).__name__}")
    digits: list[tuple[int, int]] = []
    shift = 0
    while n:
        if n & 1:
            # n mod 4 == 1 -> digit +1; n mod 4 == 3 -> digit -1 (then n + 1 has a carry).
            sign = 2 - (n & 3)
            digits.append((shift, sign))
            n -= sign
        n >>= 1
        shift += 1
    return digits


def csd_value(digits: list[tuple[int, int]]) -> int:
    """The integer a list of ``(shift, sign)`` digits stands for."""
    return sum(sign << shift for shift, sign in digits)
