"""A slow, obviously-correct model of the spec semantics with exact rationals (for tests only).

It works on real values (``fractions.Fraction``) straight from the definitions, one sample at a
time, with no shifts, no inferred types and no numpy: an independent check of
``hgq_hw.reference``, which works on raw integers.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hgq_hw.fixed import Overflow, Round
from hgq_hw.spec import (
    AvgPoolSpec,
    ConvSpec,
    DenseSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
)

__all__ = ["quantize_real", "slow_evaluate"]


def quantize_real(
    value: Fraction, k: int, i: int, f: int, round_mode: Round, overflow: Overflow
) -> Fraction:
    """The real value of ``value`` quantized to ``(k, i, f)`` by the definitions."""
    scaled = value * Fraction(2) ** f
    raw = math.floor(scaled) if round_mode is Round.TRN else math.floor(scaled + Fraction(1, 2))
    width = k + i + f
    if width <= 0:
        return Fraction(0)
    lo = -(2 ** (width - 1)) if k else 0
    hi = 2 ** (width - 1) - 1 if k else 2**width - 1
    if overflow is Overflow.SAT:
        raw = min(max(raw, lo), hi)
    else:
        raw = (raw - lo) % 2**width + lo
    return Fraction(raw) / Fraction(2) ** f


def _real(raw: int, f: int) -> Fraction:
    return Fraction(int(raw)) / Fraction(2) ** int(f)


def _positions(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every index of ``shape`` in C order (itertools.product, written out)."""
    out: list[tuple[int, ...]] = [()]
    for n in shape:
        out = [(*p, v) for p in out for v in range(n)]
    return out


def _flat_index(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    flat = 0
    for v, n in zip(index, shape):
        flat = flat * n + v
    return flat


def _window_geometry(n: int, w: int, s: int, same: bool) -> tuple[int, int]:
    """(output size, zeros before) straight from the Keras definitions."""
    if not same:
        return math.ceil((n - w + 1) / s), 0
    out = math.ceil(n / s)
    return out, max((out - 1) * s + w - n, 0) // 2


def _window_values(x, in_shape, window, strides, same, out_pos, channel):
    """Values of one channel under the window at output position ``out_pos`` (None: padding)."""
    got = []
    for tap in _positions(window):
        coord = []
        for o, d, s, n, w in zip(out_pos, tap, strides, in_shape[:-1], window):
            _, lo = _window_geometry(n, w, s, same)
            coord.append(o * s + d - lo)
        if all(0 <= c < n for c, n in zip(coord, in_shape[:-1])):
            got.append(x[_flat_index((*coord, channel), in_shape)])
        else:
            got.append(None)
    return got


def _conv(layer: ConvSpec, x: list[Fraction], in_shape: tuple[int, ...]) -> list[Fraction]:
    same = layer.padding.value == "same"
    window = layer.window
    out_spatial = tuple(
        _window_geometry(n, w, s, same)[0] for n, w, s in zip(in_shape[:-1], window, layer.strides)
    )
    out = []
    for pos in _positions(out_spatial):
        for co in range(layer.c_out):
            acc = _real(layer.bias_raw[co], layer.bias_f[co])
            for ci in range(layer.c_in):
                taps = _window_values(x, in_shape, window, layer.strides, same, pos, ci)
                for tap, value in zip(_positions(window), taps):
                    if value is not None:
                        index = (*tap, ci, co)
                        acc += value * _real(layer.kernel_raw[index], layer.kernel_f[index])
            out.append(acc)
    return out


def _pool(layer, x: list[Fraction], in_shape: tuple[int, ...], reduce) -> list[Fraction]:
    out_spatial = tuple(
        _window_geometry(n, w, s, False)[0]
        for n, w, s in zip(in_shape[:-1], layer.pool_size, layer.strides)
    )
    out = []
    for pos in _positions(out_spatial):
        for c in range(in_shape[-1]):
            out.append(
                reduce(_window_values(x, in_shape, layer.pool_size, layer.strides, False, pos, c))
            )
    return out


def slow_evaluate(spec: ModelSpec, x_raw: list[int]) -> dict[str, list[Fraction]]:
    """Real values of every tensor for one sample of raw inputs, each a flat list in C order
    (``x_raw`` is the flattened input sample)."""
    values: dict[str, list[Fraction]] = {}
    for layer in spec.layers:
        shape = spec.shape(layer.inputs[0]) if layer.inputs else ()
        if isinstance(layer, InputSpec):
            out = [_real(r, f) for r, f in zip(x_raw, layer.f.ravel())]
        elif isinstance(layer, ConvSpec):
            out = _conv(layer, values[layer.inputs[0]], shape)
        elif isinstance(layer, MaxPoolSpec):
            out = _pool(layer, values[layer.inputs[0]], shape, max)
        elif isinstance(layer, AvgPoolSpec):
            out = _pool(layer, values[layer.inputs[0]], shape, lambda v: sum(v) / Fraction(len(v)))
        elif isinstance(layer, ReshapeSpec):
            out = list(values[layer.inputs[0]])
        elif isinstance(layer, DenseSpec):
            x = values[layer.inputs[0]]
            out = []
            for j in range(layer.n_out):
                acc = Fraction(int(layer.bias_raw[j])) / Fraction(2) ** int(layer.bias_f[j])
                for i in range(layer.n_in):
                    w = Fraction(int(layer.weight_raw[i, j])) / Fraction(2) ** int(
                        layer.weight_f[i, j]
                    )
                    acc += x[i] * w
                out.append(acc)
        elif isinstance(layer, RequantizeSpec):
            x = values[layer.inputs[0]]
            out = [
                quantize_real(v, int(k), int(i), int(f), layer.round, layer.overflow)
                for v, k, i, f in zip(x, layer.k.ravel(), layer.i.ravel(), layer.f.ravel())
            ]
        elif isinstance(layer, ReLUSpec):
            out = [max(v, Fraction(0)) for v in values[layer.inputs[0]]]
        elif isinstance(layer, OutputSpec):
            out = list(values[layer.inputs[0]])
        else:
            raise TypeError(layer.kind)
        values[layer.name] = out
    return values
