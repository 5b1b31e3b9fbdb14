"""Bit-width statistics of a spec, for reports and plots (numpy only)."""

from __future__ import annotations

import numpy as np

from hgq_hw.reference import infer_types, rule_for
from hgq_hw.spec import LayerSpec, ModelSpec

__all__ = ["activation_bit_widths", "spec_stats", "weight_bit_widths"]


def weight_bit_widths(layer: LayerSpec) -> np.ndarray:
    """Two's complement width of every weight's raw value (0 for a pruned weight).

    A positive raw needs ``bit_length`` bits, a negative one a sign bit more:
    ``bit_length(|raw| - 1) + 1`` (so -1 needs 1 bit, -2 needs 2). The weights are those the
    layer's reference rule names (:attr:`hgq_hw.reference.ReferenceRule.weights`); a layer
    without weights gives an empty array.
    """
    raw = rule_for(layer).weights(layer)
    if raw is None:
        return np.zeros((0,), dtype=np.int64)
    out = np.zeros(raw.shape, dtype=np.int64)
    for index, value in np.ndenumerate(raw):
        value = int(value)
        if value > 0:
            out[index] = value.bit_length()
        elif value < 0:
            out[index] = (-value - 1).bit_length() + 1
    return out


def activation_bit_widths(spec: ModelSpec) -> dict[str, np.ndarray]:
    """Per-element widths of the input and of every Requantize output (every layer whose type
    is declared, :attr:`hgq_hw.reference.ReferenceRule.declares_type`), by layer name."""
    types = infer_types(spec)
    names = [layer.name for layer in spec.layers if rule_for(layer).declares_type]
    return {name: types[name].width for name in names}


def spec_stats(spec: ModelSpec) -> dict[str, object]:
    """JSON-friendly totals: weights kept/total, mean weight bits, activation bits per layer."""
    dense = [
        (layer, raw) for layer in spec.layers if (raw := rule_for(layer).weights(layer)) is not None
    ]
    kept = sum(int(np.count_nonzero(raw)) for _, raw in dense)
    total = sum(int(raw.size) for _, raw in dense)
    layers = {}
    for layer, _ in dense:
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
