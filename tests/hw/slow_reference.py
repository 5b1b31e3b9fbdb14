"""A slow, obviously-correct model of the spec semantics with exact rationals (for tests only).

It works on real values (``fractions.Fraction``) straight from the definitions, one sample at a
time, with no shifts, no inferred types and no numpy: an independent check of
``hgq_hw.reference``, which works on raw integers.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hgq_hw.fixed import Overflow, Round
from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec, ReLUSpec, RequantizeSpec

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


def slow_evaluate(spec: ModelSpec, x_raw: list[int]) -> dict[str, list[Fraction]]:
    """Real values of every tensor for one sample of raw inputs (flat list, 1-d input)."""
    values: dict[str, list[Fraction]] = {}
    for layer in spec.layers:
        if isinstance(layer, InputSpec):
            out = [Fraction(int(r)) / Fraction(2) ** int(f) for r, f in zip(x_raw, layer.f)]
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
                for v, k, i, f in zip(x, layer.k, layer.i, layer.f)
            ]
        elif isinstance(layer, ReLUSpec):
            out = [max(v, Fraction(0)) for v in values[layer.inputs[0]]]
        elif isinstance(layer, OutputSpec):
            out = list(values[layer.inputs[0]])
        else:
            raise TypeError(layer.kind)
        values[layer.name] = out
    return values
