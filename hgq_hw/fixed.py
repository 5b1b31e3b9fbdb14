"""Fixed-point vocabulary and the exact integer operations on it.

A fixed-point type is ``(k, i, f)``: ``k`` sign bit (0/1), ``i`` integer bits, ``f`` fractional
bits, ``width = k + i + f``; a raw integer ``raw`` stands for the real value ``raw * 2**-f``.
``i`` and ``f`` may be negative. Width 0 means the value is the constant 0.

The integer operations here (:func:`requantize_raw`, :func:`wrap_raw`, :func:`saturate_raw`) work
element-wise on numpy ``int64`` arrays or on ``object`` arrays of Python ints; the caller chooses
the dtype (see :func:`int_dtype_for`). They are the single definition of rounding and overflow
used by the reference, the adder-graph evaluator and the input quantizer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_EXPONENT",
    "MAX_WIDTH",
    "SAFE_INT64_BITS",
    "FixedType",
    "Overflow",
    "Round",
    "TensorType",
    "int_dtype_for",
    "pow2",
    "requantize_raw",
    "saturate_raw",
    "shift_raw",
    "signed_bits",
    "type_for_range",
    "wrap_raw",
]

MAX_WIDTH = 64
"""Largest bit width a spec may ask for (per element, per weight)."""

MAX_EXPONENT = 128
"""Largest ``|i|`` or ``|f|`` a spec may ask for."""

SAFE_INT64_BITS = 62
"""Magnitudes below ``2**SAFE_INT64_BITS`` are computed in int64 with headroom to spare."""


class Round(enum.Enum):
    """Rounding mode when fractional bits are dropped."""

    TRN = "TRN"
    """Truncate toward minus infinity: ``floor(x * 2**f)``."""
    RND = "RND"
    """Round half up: ``floor(x * 2**f + 1/2)``."""


class Overflow(enum.Enum):
    """What happens to a value outside the range of its type."""

    WRAP = "WRAP"
    """Keep the low ``width`` bits (two's complement wrap-around)."""
    SAT = "SAT"
    """Clip to the smallest or largest representable value."""


@dataclass(frozen=True)
class FixedType:
    """One scalar fixed-point type ``(k, i, f)``."""

    k: int
    i: int
    f: int

    @property
    def width(self) -> int:
        return self.k + self.i + self.f

    @property
    def raw_min(self) -> int:
        """Smallest raw integer of the type (0 for width 0)."""
        if self.width <= 0:
            return 0
        return -(1 << (self.width - 1)) if self.k else 0

    @property
    def raw_max(self) -> int:
        """Largest raw integer of the type (0 for width 0)."""
        if self.width <= 0:
            return 0
        return (1 << (self.width - self.k)) - 1


@dataclass(frozen=True, eq=False)
class TensorType:
    """Per-element fixed-point types of one tensor: three int64 arrays of the tensor's shape."""

    k: np.ndarray
    i: np.ndarray
    f: np.ndarray

    def __post_init__(self) -> None:
        shapes = {np.shape(self.k), np.shape(self.i), np.shape(self.f)}
        if len(shapes) != 1:
            raise ValueError(f"k, i, f must have one shape, got {sorted(shapes)}")
        for name in ("k", "i", "f"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.int64))

    @classmethod
    def uniform(cls, shape: tuple[int, ...], k: int, i: int, f: int) -> TensorType:
        """All elements of ``shape`` share the type ``(k, i, f)``."""
        return cls(np.full(shape, k), np.full(shape, i), np.full(shape, f))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.k.shape)

    @property
    def width(self) -> np.ndarray:
        """Bit width per element (``k + i + f``, clipped at 0)."""
        return np.maximum(self.k + self.i + self.f, 0)

    def flat(self) -> TensorType:
        """The same per-element types as a 1-d tensor in C (row-major) order: how the plan,
        the buses and the RTL see an N-d tensor."""
        return TensorType(self.k.ravel(), self.i.ravel(), self.f.ravel())

    def element(self, index: int | tuple[int, ...]) -> FixedType:
        return FixedType(int(self.k[index]), int(self.i[index]), int(self.f[index]))

    def raw_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Smallest and largest raw value per element, as object arrays of Python ints."""
        lo = np.empty(self.shape, dtype=object)
        hi = np.empty(self.shape, dtype=object)
        for index in np.ndindex(*self.shape):
            t = self.element(index)
            lo[index], hi[index] = t.raw_min, t.raw_max
        return lo, hi

    def max_abs_raw(self) -> int:
        """Largest ``|raw|`` over all elements (Python int)."""
        if self.k.size == 0:
            return 0
        return 1 << int(np.max(self.width, initial=0))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TensorType):
            return NotImplemented
        return all(np.array_equal(getattr(self, n), getattr(other, n)) for n in ("k", "i", "f"))

    __hash__ = None  # type: ignore[assignment]


def signed_bits(lo: int, hi: int) -> tuple[int, int]:
    """Smallest ``(k, width)`` whose raw range holds every integer in ``[lo, hi]``."""
    if lo > hi:
        raise ValueError(f"empty range [{lo}, {hi}]")
    if lo >= 0:
        return 0, int(hi).bit_length()
    return 1, 1 + max(int(hi).bit_length(), int(-lo - 1).bit_length())


def type_for_range(lo: int, hi: int, f: int) -> FixedType:
    """Smallest type with fractional bits ``f`` that holds raw values ``lo..hi``.

    A range of just ``{0}`` gives the width-0 type ``(0, 0, 0)``.
    """
    if lo == 0 and hi == 0:
        return FixedType(0, 0, 0)
    k, width = signed_bits(lo, hi)
    return FixedType(k, width - k - f, f)


def int_dtype_for(max_abs: int) -> type | np.dtype:
    """``np.int64`` when every magnitude stays below ``2**SAFE_INT64_BITS``, else ``object``."""
    return np.dtype(np.int64) if max_abs < (1 << SAFE_INT64_BITS) else np.dtype(object)


def _as_shift(shift: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.asarray(shift, dtype=object if dtype == np.dtype(object) else np.int64)


def shift_raw(raw: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Exact ``raw * 2**shift`` for ``shift >= 0`` (element-wise, broadcast over the batch)."""
    shift = np.asarray(shift)
    if np.any(shift < 0):
        raise ValueError("shift_raw needs non-negative shifts")
    return np.left_shift(raw, _as_shift(shift, raw.dtype))


def requantize_raw(
    raw: np.ndarray,
    f_from: np.ndarray,
    to: TensorType,
    round_mode: Round,
    overflow: Overflow,
) -> np.ndarray:
    """Convert raw values with fractional bits ``f_from`` to the per-element type ``to``.

    ``raw`` has shape ``(batch, *to.shape)``; ``f_from`` has shape ``to.shape``. The result has
    the dtype of ``raw``; the caller makes sure that dtype holds every intermediate (an object
    array always does). Rounding happens first, then overflow.
    """
    f_from = np.broadcast_to(np.asarray(f_from, dtype=np.int64), to.shape)
    shift = to.f - f_from
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    out = np.left_shift(raw, _as_shift(left, raw.dtype))
    if round_mode is Round.RND:
        half = np.where(right > 0, pow2(np.maximum(right - 1, 0), raw.dtype), 0)
        out = out + half.astype(raw.dtype)
    elif round_mode is not Round.TRN:
        raise TypeError(f"round_mode must be a Round, got {round_mode!r}")
    out = np.right_shift(out, _as_shift(right, raw.dtype))
    if overflow is Overflow.WRAP:
        return wrap_raw(out, to)
    if overflow is Overflow.SAT:
        return saturate_raw(out, to)
    raise TypeError(f"overflow must be an Overflow, got {overflow!r}")


def pow2(exponent: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``2**exponent`` element-wise (``exponent >= 0``) in ``dtype`` (int64 or object)."""
    exponent = np.asarray(exponent)
    if dtype == np.dtype(object):
        flat = [1 << int(e) for e in exponent.ravel()]
        return np.array(flat, dtype=object).reshape(exponent.shape)
    return np.left_shift(np.ones(exponent.shape, dtype=np.int64), exponent.astype(np.int64))


def _bounds_like(to: TensorType, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = to.raw_bounds()
    return lo.astype(dtype), hi.astype(dtype)


def saturate_raw(raw: np.ndarray, to: TensorType) -> np.ndarray:
    """Clip raw values (already at ``to.f``) into the range of ``to``; width 0 gives 0."""
    lo, hi = _bounds_like(to, raw.dtype)
    return np.minimum(np.maximum(raw, lo), hi)


def wrap_raw(raw: np.ndarray, to: TensorType) -> np.ndarray:
    """Keep the low ``width`` bits of raw values (already at ``to.f``), two's complement."""
    width = to.width
    signed = (to.k > 0) & (width > 0)
    if raw.dtype != object and np.any(width > SAFE_INT64_BITS):
        raise ValueError("wrap_raw on int64 needs widths below 63 bits; use an object array")
    modulus = pow2(width, raw.dtype)
    offset = np.where(signed, pow2(np.maximum(width - 1, 0), raw.dtype), 0).astype(raw.dtype)
    return np.mod(raw + offset, modulus) - offset
