"""Exact Conv and AvgPool for the reference, computed over window taps (no im2col matrix).

The rules are those of a Dense layer over the flattened input (:mod:`hgq_hw.lowering`): output
element ``(o, co)`` has ``f`` the largest ``f_x + kernel_f`` over its live taps (a tap inside
the input, a non-zero weight, an input element of width > 0) and ``bias_f`` when the bias is
non-zero, and ``k``/``i`` the smallest holding its value interval; values are exact. Working
per ``(position, tap, channel)`` keeps memory at ``positions * taps * c_in * c_out`` instead of
the ``n_in * n_out`` of the Dense form, so a 32x32x3 image is fine.
"""

from __future__ import annotations

import math

import numpy as np

from hgq_hw.fixed import TensorType, int_dtype_for, type_for_range
from hgq_hw.lowering import window_taps
from hgq_hw.spec import AvgPoolSpec, ConvSpec, Padding

__all__ = ["avgpool_as_conv", "conv_effective", "conv_type", "eval_conv"]

_NONE = -(1 << 40)  # below every exponent: "no term"
_CHUNK = 1 << 22  # gathered elements per evaluation chunk


def avgpool_as_conv(layer: AvgPoolSpec, channels: int) -> ConvSpec:
    """The AvgPool as a Conv (same name and inputs): weight ``2**-log2(window)`` from each
    channel to itself, no bias."""
    taps = math.prod(layer.pool_size)
    eye = np.broadcast_to(np.eye(channels, dtype=np.int64), (taps, channels, channels))
    shape = (*layer.pool_size, channels, channels)
    return ConvSpec(
        name=layer.name,
        inputs=layer.inputs,
        kernel_raw=eye.reshape(shape),
        kernel_f=np.where(eye, layer.shift, 0).reshape(shape),
        bias_raw=np.zeros(channels, dtype=np.int64),
        bias_f=np.zeros(channels, dtype=np.int64),
        strides=layer.strides,
        padding=Padding.VALID,
    )


def conv_effective(
    layer: ConvSpec, in_type: TensorType
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Integer form of ``layer`` on an input of (N-d) type ``in_type``.

    Returns ``(taps, w_eff, b_eff, f_out)``: ``taps`` ``(P, T)`` flat spatial input positions
    (``-1``: padding, see :func:`hgq_hw.lowering.window_taps`), ``w_eff`` ``(P, T, c_in, c_out)``
    and ``b_eff`` ``(P, c_out)`` object arrays of Python ints with ``y[p, co] = sum_{t, ci}
    x[taps[p, t], ci] * w_eff[p, t, ci, co] + b_eff[p, co]`` exactly at ``f_out[p, co]``
    fractional bits (int64). Dead terms are 0 in ``w_eff``.
    """
    c_in, c_out = layer.c_in, layer.c_out
    taps = window_taps(in_type.shape, layer.window, layer.strides, layer.padding)
    n_taps = taps.shape[1]
    inside = taps >= 0
    index = np.where(inside, taps, 0)
    f_x = in_type.f.reshape(-1, c_in)[index]  # (P, T, c_in)
    live = inside[:, :, None] & (in_type.width.reshape(-1, c_in)[index] > 0)
    kernel = layer.kernel_raw.reshape(n_taps, c_in, c_out)
    exponent = f_x[..., None] + layer.kernel_f.reshape(n_taps, c_in, c_out)[None]
    contributes = live[..., None] & (kernel != 0)[None]
    bias_live = layer.bias_raw != 0
    best = np.where(contributes, exponent, _NONE).max(axis=(1, 2), initial=_NONE)
    best = np.maximum(best, np.where(bias_live, layer.bias_f, _NONE)[None, :])
    f_out = np.where(best == _NONE, 0, best).astype(np.int64)
    shift = np.where(contributes, f_out[:, None, None, :] - exponent, 0)
    w_eff = np.where(
        contributes, np.left_shift(kernel.astype(object)[None], shift.astype(object)), 0
    ).astype(object)
    b_shift = np.where(bias_live[None, :], f_out - layer.bias_f[None, :], 0)
    b_eff = np.where(
        bias_live[None, :], np.left_shift(layer.bias_raw.astype(object)[None], b_shift), 0
    ).astype(object)
    return taps, w_eff, b_eff, f_out


def conv_type(layer: ConvSpec, in_type: TensorType, out_shape: tuple[int, ...]) -> TensorType:
    """The output type of ``layer`` (see the module docstring), of shape ``out_shape``."""
    taps, w_eff, b_eff, f_out = conv_effective(layer, in_type)
    c_in = layer.c_in
    lo, hi = in_type.raw_bounds()
    index = np.where(taps >= 0, taps, 0)
    x_lo = lo.reshape(-1, c_in)[index][..., None]  # (P, T, c_in, 1)
    x_hi = hi.reshape(-1, c_in)[index][..., None]
    a, b = x_lo * w_eff, x_hi * w_eff
    low = np.minimum(a, b).sum(axis=(1, 2)) + b_eff
    high = np.maximum(a, b).sum(axis=(1, 2)) + b_eff
    k, i, f = (np.zeros(low.shape, dtype=np.int64) for _ in range(3))
    for p, co in np.ndindex(*low.shape):
        t = type_for_range(int(low[p, co]), int(high[p, co]), int(f_out[p, co]))
        k[p, co], i[p, co], f[p, co] = t.k, t.i, t.f
    return TensorType(k.reshape(out_shape), i.reshape(out_shape), f.reshape(out_shape))


def eval_conv(
    layer: ConvSpec, x: np.ndarray, in_type: TensorType, out_shape: tuple[int, ...]
) -> np.ndarray:
    """``layer`` on the raw batch ``x`` ``(batch, *in_shape)``, exactly: ``(batch,
    *out_shape)``, int64 when a bound from the types proves it safe, else Python ints."""
    taps, w_eff, b_eff, _ = conv_effective(layer, in_type)
    index = np.where(taps >= 0, taps, 0)
    bound = in_type.max_abs_raw() * int(np.max(np.abs(w_eff).sum(axis=(1, 2)), initial=0))
    bound += int(np.max(np.abs(b_eff), initial=0))
    dtype = int_dtype_for(bound)
    w = w_eff.astype(dtype)
    b = b_eff.astype(dtype)
    xs = np.asarray(x).reshape(len(x), -1, layer.c_in).astype(dtype)
    step = max(1, _CHUNK // max(w.shape[0] * w.shape[1] * w.shape[2], 1))
    parts = []
    for start in range(0, len(xs), step):
        gathered = xs[start : start + step][:, index, :]  # (B, P, T, c_in)
        parts.append(np.einsum("bptc,ptco->bpo", gathered, w) + b[None])
    y = np.concatenate(parts) if parts else np.zeros((0, *b.shape), dtype=dtype)
    return y.reshape(len(x), *out_shape)
