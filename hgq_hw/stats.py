"""Bit-width statistics of a spec, for reports and plots (numpy only)."""

from __future__ import annotations

import numpy as np

from hgq_hw.reference import infer_types
from hgq_hw.spec import DenseSpec, ModelSpec, RequantizeSpec

__all__ = ["activation_bit_widths", "spec_stats", "weight_bit_widths"]


def weight_bit_widths(layer: DenseSpec) -> np.ndarray:
    """Two's complement width of every weight's raw value (0 for a pruned weight).

    A positive raw needs ``bit_length`` bits, a negative one a sign bit more:
    ``bit_length(|raw| - 1) + 1`` (so -1 needs 1 bit, -2 needs 2).
    """
    raw = layer.weight_raw
    out = np.zeros(raw.shape, dtype=np.int64)
    for index, value in np.ndenumerate(raw):
        value = int(value)
        if value > 0:
            out[index] = value.bit_length()
        elif value < 0:
            out[index] = (-value - 1).bit_length() + 1
    return out


def activation_bit_widths(spec: ModelSpec) -> dict[str, np.ndarray]:
    """Per-element widths of the input and of every Requantize output, by layer name."""
    types = infer_types(spec)
    names = [spec.input.name] + [
        layer.name for layer in spec.layers if isinstance(layer, RequantizeSpec)
    ]
    return {name: types[name].width for name in names}


def spec_stats(spec: ModelSpec) -> dict[str, object]:
    """JSON-friendly totals: weights kept/total, mean weight bits, activation bits per layer."""
    dense = spec.dense_layers()
    kept = sum(int(np.count_nonzero(layer.weight_raw)) for layer in dense)
    total = sum(int(layer.weight_raw.size) for layer in dense)
    layers = {}
    for layer in dense:
        bits = weight_bit_widths(layer)
        live = bits[bits > 0]
        layers[layer.name] = {
            "weights": int(bits.size),
            "kept": int(live.size),
            "mean_bits_kept": float(live.mean()) if live.size else 0.0,
            "max_bits": int(bits.max(initial=0)),
        }
    acts = {
        name: {"elements": int(w.size), "mean_bits": float(w.mean()), "max_bits": int(w.max())}
        for name, w in activation_bit_widths(spec).items()
    }
    return {
        "weights_kept": kept,
        "weights_total": total,
        "pruned_fraction": 1 - kept / total if total else 0.0,
        "dense": layers,
        "activations": acts,
    }
