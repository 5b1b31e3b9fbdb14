"""The quantizer math in numpy: the exact twin of :mod:`hgq_train.quantizers.fixed_ops`.

Everything here works on float64 arrays of real values and int64 arrays of bit counts, and is
exact: scaling by ``2**f`` uses :func:`numpy.ldexp`, rounding is ``floor`` of an exactly
representable value. Export and the exact EBOPs use these functions; the tests check the Keras
ops against them.

Conventions (shared with the Keras ops):

* ``f`` is a real, trainable number of fractional bits; the bits in use are
  :func:`round_bits` ``(f) = floor(clip(f, f_min, f_max) + 1/2)``.
* :attr:`Round.RND` rounds half up, ``floor(x * 2**f + 1/2)``, computed as
  ``floor((floor(2 * x * 2**f) + 1) / 2)`` (the same integer, and exact in floating point);
  :attr:`Round.TRN` is ``floor(x * 2**f)``.
* Integer bits of an activation come from the range ``[vmin, vmax]`` of its quantized values:
  ``i = max(ceil(log2(-vmin)), ceil(log2(vmax + 2**-f)))`` and ``k = vmin < 0``; a range of
  only zeros gives width 0 (the element is pruned).
"""

from __future__ import annotations

import numpy as np

from hgq_hw.fixed import Overflow, Round, TensorType, saturate_raw, wrap_raw

__all__ = [
    "NEG_BITS",
    "bit_length",
    "bit_span",
    "ceil_log2",
    "int_bits_from_range",
    "overflow_raw",
    "quantize",
    "round_bits",
    "round_raw",
    "to_raw",
    "weight_bits",
]

NEG_BITS = -128
"""Stand-in for ``log2(0) = -inf`` in integer-bit computations (the spec's smallest exponent)."""


def round_bits(f: np.ndarray, f_min: float, f_max: float) -> np.ndarray:
    """Fractional bits in use: ``floor(clip(f, f_min, f_max) + 1/2)`` as int64."""
    if f_min > f_max:
        raise ValueError(f"f_min ({f_min}) must not exceed f_max ({f_max})")
    return np.floor(np.clip(np.asarray(f, dtype=np.float64), f_min, f_max) + 0.5).astype(np.int64)


def round_raw(y: np.ndarray, round_mode: Round) -> np.ndarray:
    """Integer-valued float64 ``floor(y)`` (TRN) or ``floor(y + 1/2)`` (RND), exactly."""
    y = np.asarray(y, dtype=np.float64)
    if round_mode is Round.RND:
        return np.floor((np.floor(2.0 * y) + 1.0) * 0.5)
    if round_mode is Round.TRN:
        return np.floor(y)
    raise TypeError(f"round_mode must be a Round, got {round_mode!r}")


def _ldexp(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.ldexp(x, np.broadcast_to(np.asarray(e, dtype=np.int64), x.shape).astype(np.int32))


def to_raw(x: np.ndarray, f: np.ndarray, round_mode: Round) -> np.ndarray:
    """Raw integers (int64) of ``x`` rounded to ``f`` fractional bits (no overflow)."""
    return round_raw(_ldexp(x, f), round_mode).astype(np.int64)


def quantize(x: np.ndarray, f: np.ndarray, round_mode: Round) -> np.ndarray:
    """``round(x * 2**f) / 2**f`` as float64 (``f`` integer, broadcast against ``x``)."""
    f = np.asarray(f, dtype=np.int64)
    return _ldexp(round_raw(_ldexp(x, f), round_mode), -np.broadcast_to(f, np.shape(x)))


def overflow_raw(
    raw: np.ndarray, k: np.ndarray, i: np.ndarray, f: np.ndarray, overflow: Overflow
) -> np.ndarray:
    """Apply WRAP or SAT of the per-element type ``(k, i, f)`` to raw values at ``f``."""
    t = TensorType(*np.broadcast_arrays(k, i, f))
    raw = np.asarray(raw, dtype=np.int64)
    if overflow is Overflow.WRAP:
        return wrap_raw(raw, t)
    if overflow is Overflow.SAT:
        return saturate_raw(raw, t)
    raise TypeError(f"overflow must be an Overflow, got {overflow!r}")


def ceil_log2(v: np.ndarray) -> np.ndarray:
    """Exact ``ceil(log2(v))`` for ``v > 0`` as int64; :data:`NEG_BITS` where ``v <= 0``."""
    v = np.asarray(v, dtype=np.float64)
    mantissa, exponent = np.frexp(np.where(v > 0, v, 1.0))
    out = np.where(mantissa == 0.5, exponent - 1, exponent).astype(np.int64)
    return np.where(v > 0, out, NEG_BITS)


def int_bits_from_range(
    vmin: np.ndarray, vmax: np.ndarray, f: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sign and integer bits ``(k, i)`` (int64) that hold quantized values in ``[vmin, vmax]``.

    ``f`` are the fractional bits in use. A range that never saw a value (``vmin > vmax``, e.g.
    right after a reset) counts as ``{0}``. Where the result has no non-zero value ``k + i + f``
    is exactly 0 (width 0, the element is pruned).
    """
    vmin, vmax = np.broadcast_arrays(
        np.asarray(vmin, dtype=np.float64), np.asarray(vmax, dtype=np.float64)
    )
    f = np.broadcast_to(np.asarray(f, dtype=np.int64), vmin.shape)
    k = (vmin < 0).astype(np.int64)
    i_neg = ceil_log2(-vmin)
    i_pos = ceil_log2(_ldexp(np.maximum(vmax, 0.0), f) + 1.0) - f
    i = np.maximum(i_neg, i_pos)
    i = np.maximum(i, -f - k)  # never a negative width
    return k, i


def bit_length(raw: np.ndarray) -> np.ndarray:
    """Number of bits of ``|raw|`` (0 for 0), int64."""
    a = np.abs(np.asarray(raw, dtype=np.int64))
    out = np.zeros(a.shape, dtype=np.int64)
    while np.any(a > 0):
        out += a > 0
        a = a >> 1
    return out


def bit_span(raw: np.ndarray) -> np.ndarray:
    """Bits from the highest to the lowest set bit of ``|raw|`` (trailing zeros removed)."""
    a = np.abs(np.asarray(raw, dtype=np.int64))
    a = a // np.where(a == 0, 1, a & -a)  # strip trailing zeros
    return bit_length(a)


def weight_bits(raw: np.ndarray, *, exact: bool = False, sign: bool = True) -> np.ndarray:
    """Bits per weight for EBOPs: ``i + f`` (= bit length of ``|raw|``) plus a sign bit where
    the weight is negative; with ``exact=True`` the bit span (trailing zeros removed) instead of
    the bit length; with ``sign=False`` no sign bit (HGQ v1's convention). Pruned weights (raw 0)
    have 0 bits."""
    raw = np.asarray(raw, dtype=np.int64)
    body = bit_span(raw) if exact else bit_length(raw)
    return body + (raw < 0) if sign else body
