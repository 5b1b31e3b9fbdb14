"""The quantizer math in ``keras.ops``, with HGQ's surrogate gradients.

The forward values equal :mod:`hgq_train.quantizers.fixed_np` exactly (same formulas, all steps
exact in floating point while ``|x * 2**f| < 2**22`` in float32 or ``2**51`` in float64).

Surrogate gradients (training only), built from ``stop_gradient`` so that the forward value is
the quantized value bit for bit:

* straight-through in ``x``: ``d xq / d x = 1``;
* in the real bit width ``f``: ``d xq / d f = -ln2 * (xq - x) * grad_scale`` (HGQ, arXiv
  2405.00645); the layers pass ``grad_scale = 1`` by default and put the ``1/sqrt(n)`` of a
  shared ``f`` on the EBOPs side (:func:`scale_grad`, see
  :class:`hgq_train.quantizers.config.GradScaleOn`);
* the rounding of ``f`` (:func:`round_bits`) is straight-through as well.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from hgq_hw.fixed import Overflow, Round

__all__ = [
    "LN2",
    "activation_bits",
    "apply_overflow",
    "int_bits_from_range",
    "quantize",
    "round_bits",
    "round_raw",
    "scale_grad",
    "weight_bits",
    "with_surrogate",
]

LN2 = math.log(2.0)
_NEG_BITS = -128.0


def _sg(x: Any) -> Any:
    return ops.stop_gradient(x)


def _exp2(e: Any) -> Any:
    """``2**e`` in the dtype of ``e`` (exact for integer-valued ``e``)."""
    e = ops.convert_to_tensor(e)
    two = ops.convert_to_tensor(2.0, dtype=keras.backend.standardize_dtype(e.dtype))
    return ops.power(two, e)


def round_bits(f: Any, f_min: float, f_max: float) -> Any:
    """``floor(clip(f, f_min, f_max) + 1/2)`` with a straight-through gradient in ``f``."""
    fr = ops.floor(ops.clip(f, f_min, f_max) + 0.5)
    return _sg(fr) + (f - _sg(f))


def round_raw(y: Any, round_mode: Round) -> Any:
    """Integer-valued ``floor(y)`` (TRN) or ``floor(y + 1/2)`` (RND), exact in floating point."""
    if round_mode is Round.RND:
        return ops.floor((ops.floor(2.0 * y) + 1.0) * 0.5)
    if round_mode is Round.TRN:
        return ops.floor(y)
    raise TypeError(f"round_mode must be a Round, got {round_mode!r}")


def quantize(x: Any, fr: Any, round_mode: Round) -> Any:
    """Forward value ``round(x * 2**fr) / 2**fr`` (``fr`` integer-valued, broadcast to ``x``)."""
    scale = _exp2(_sg(fr))
    return round_raw(x * scale, round_mode) / scale


def with_surrogate(x: Any, xq: Any, fr: Any, grad_scale: Any = 1.0) -> Any:
    """The value ``xq`` with HGQ's gradients: 1 in ``x``, ``-ln2 (xq - x) grad_scale`` in ``fr``.

    The added terms are exact zeros in the forward pass (``x - x`` and ``fr - fr``).
    """
    d_f = _sg((xq - x) * (-LN2) * grad_scale)
    return _sg(xq) + (x - _sg(x)) + (fr - _sg(fr)) * d_f


def scale_grad(x: Any, scale: Any) -> Any:
    """``x`` unchanged in the forward pass (bit for bit), its gradient times ``scale``."""
    return _sg(x) + (x - _sg(x)) * scale


def apply_overflow(xq: Any, k: Any, i: Any, fr: Any, overflow: Overflow) -> Any:
    """WRAP or SAT of quantized values ``xq`` into the per-element type ``(k, i, fr)``.

    Width ``k + i + fr <= 0`` gives 0. Forward only (no meaningful gradient).
    """
    scale = _exp2(fr)
    raw = xq * scale
    width = k + i + fr
    if overflow is Overflow.WRAP:
        offset = k * _exp2(width - 1.0)
        raw = ops.mod(raw + offset, _exp2(ops.maximum(width, 0.0))) - offset
    elif overflow is Overflow.SAT:
        lo = -k * _exp2(width - 1.0)
        hi = _exp2(width - k) - 1.0
        raw = ops.minimum(ops.maximum(raw, lo), hi)
    else:
        raise TypeError(f"overflow must be an Overflow, got {overflow!r}")
    return ops.where(width > 0, raw, ops.zeros_like(raw)) / scale


def _ceil_log2(v: Any) -> Any:
    """Exact ``ceil(log2(v))`` for ``v > 0``; -128 elsewhere. ``log2`` gives it within one;
    comparing with the exact powers of two on either side corrects it."""
    safe = ops.where(v > 0, v, ops.ones_like(v))
    e = ops.ceil(ops.log2(safe))
    e = ops.where(_exp2(e - 1.0) >= safe, e - 1.0, e)
    e = ops.where(_exp2(e) < safe, e + 1.0, e)
    return ops.where(v > 0, e, _NEG_BITS * ops.ones_like(v))


def int_bits_from_range(vmin: Any, vmax: Any, fr: Any) -> tuple[Any, Any]:
    """Float ``(k, i)`` from a value range, as :func:`fixed_np.int_bits_from_range` (equal
    wherever ``vmax * 2**fr + 1`` is exact in the dtype). No gradient."""
    vmin, vmax, fr = _sg(vmin), _sg(vmax), _sg(fr)
    k = ops.cast(vmin < 0, vmin.dtype)
    i_neg = _ceil_log2(-vmin)
    i_pos = _ceil_log2(ops.maximum(vmax, 0.0) * _exp2(fr) + 1.0) - fr
    i = ops.maximum(ops.maximum(i_neg, i_pos), -fr - k)
    return k, i


def activation_bits(k: Any, i: Any, fr: Any) -> Any:
    """Differentiable bits of an activation element: ``k + relu(i + fr)`` (``i``, ``k`` fixed)."""
    return _sg(k) + ops.relu(_sg(i) + fr)


def weight_bits(wq: Any, fr: Any, *, sign: bool = True) -> Any:
    """Differentiable bits of quantized weights ``wq`` at ``fr`` fractional bits.

    ``relu(i + fr) + k`` with ``i = floor(log2|wq|) + 1`` and ``k = wq < 0`` held fixed; 0 for
    pruned (zero) weights. The value is the bit length of ``|raw|`` plus the sign bit (without
    it for ``sign=False``).
    """
    raw = _sg(ops.abs(wq) * _exp2(fr))
    live = raw > 0
    n_bits = ops.floor(ops.log2(ops.where(live, raw, ops.ones_like(raw)) + 0.5)) + 1.0
    i = _sg(n_bits - fr)
    bits = ops.relu(i + fr)
    if sign:
        bits = bits + ops.cast(wq < 0, wq.dtype)
    return ops.where(live, bits, ops.zeros_like(bits))
