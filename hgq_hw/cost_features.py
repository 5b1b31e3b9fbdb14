"""Cost features of a spec and the LUTs a fitted linear model predicts from them (numpy only).

The features are the ones :mod:`hgq_train.cost` computes differentiably from a Keras model's
bit widths; both follow the same formulas, so at the exported bit widths they agree exactly.
For every Dense layer with input element widths ``bx[i]`` (from :func:`hgq_hw.reference.
infer_types`) and weight widths ``bw[i, j]`` (bit length of ``|weight_raw|``, no sign bit), with
``live[i, j] = (weight_raw != 0) & (bx > 0)`` (a weight that meets a width-0 input is pruned in
hardware too):

``ebops``        ``sum(bx[i] * bw[i, j])``: HGQ's EBOPs (sign bits not counted);
``fanout_bits``  ``sum(live * bx[i])``: every input bit wire times the weights it meets (one
                 shifted term of an adder tree per nonzero weight);
``weight_bits``  ``sum(live * bw)``;
``neg_bits``     ``sum(live * (weight_raw < 0) * bx[i])``: as ``fanout_bits`` for the negative
                 weights only (a subtracted term; an output column of only negative terms
                 also needs a negation);
``weights``      ``sum(live)``: nonzero weights;
``out_bits``     ``sum_j max_i(live * (bx[i] + bw[i, j]))``: a width per output column (the
                 widest product it sums);
``act_bits``     (network, not per layer) the element widths of every Requantize output: the
                 rounding / overflow logic behind each dense layer;
``table_bits``   per Table element with input width ``bi`` and output width ``bo``:
                 ``bo * (2**bi - 1) / 63`` (:func:`table_bits`): a table of 6 input bits is one
                 LUT6 per output bit, each further input bit doubles it, a constant (``bi = 0``)
                 is free. :mod:`hgq_train` charges a table activation the same;
``compare_bits`` for every maximum over a window (MaxPool, :func:`max_features`), the output
                 element's width times the comparisons it needs (distinct sources - 1): one
                 comparator and one multiplexer of about that width each;
``add_bits``     for every ``Add``/``Subtract`` of two tensors (:func:`merge_features`), the
                 width of each output element that needs an adder (both operands live; for a
                 Subtract also a lone negated second operand).

A ``Multiply`` of two tensors adds ``sum(bits_a * bits_b)`` to ``ebops`` (element widths of
both operands, sign bits included: a multiplier of two variables, EBOPs-style); a
``Concatenate`` is wiring and costs nothing.

:class:`CostModel` is a non-negative linear model ``LUTs ~ sum(c[name] * feature[name])`` fitted
by ``benchmarks/cost_model/fit.py`` on generated designs (xc7 LUTs through Yosys); the
coefficients that ship with the package are in ``cost_xc7.json`` next to this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.lowering import flat_layer, pool_sources
from hgq_hw.reference import infer_types
from hgq_hw.spec import (
    AddSpec,
    AvgPoolSpec,
    ConvSpec,
    DenseSpec,
    LayerSpec,
    MaxPoolSpec,
    ModelSpec,
    MultiplySpec,
    RequantizeSpec,
    SubtractSpec,
    TableSpec,
)

__all__ = [
    "DENSE_FEATURES",
    "FEATURES",
    "CostModel",
    "dense_features",
    "load_cost_model",
    "max_features",
    "merge_features",
    "register_features",
    "spec_features",
    "table_bits",
]

DENSE_FEATURES = ("ebops", "fanout_bits", "neg_bits", "weight_bits", "weights", "out_bits")
"""Features of one Dense layer, in order."""
FEATURES = (*DENSE_FEATURES, "act_bits", "table_bits", "compare_bits", "add_bits")
"""Features of a network, in order (the Dense ones summed over its layers)."""

DEFAULT_COEFFICIENTS = Path(__file__).with_name("cost_xc7.json")


def _bit_length(raw: np.ndarray) -> np.ndarray:
    """Bit length of ``|raw|`` (0 for 0), exactly, for int64 arrays."""
    a = np.abs(np.asarray(raw, dtype=np.int64))
    out = np.zeros(a.shape, dtype=np.int64)
    while np.any(a):
        out += a > 0
        a = a >> 1
    return out


def dense_features(input_bits: np.ndarray, weight_raw: np.ndarray) -> dict[str, float]:
    """The :data:`DENSE_FEATURES` of one dense layer from its input element widths ``(n_in,)``
    and its raw weights ``(n_in, n_out)``."""
    bx = np.asarray(input_bits, dtype=np.float64).reshape(-1)
    raw = np.asarray(weight_raw, dtype=np.int64)
    if raw.ndim != 2 or raw.shape[0] != bx.size:
        raise ValueError(
            f"weights of shape (n_in, n_out) with n_in = {bx.size} input widths expected, "
            f"got {raw.shape}"
        )
    bw = _bit_length(raw).astype(np.float64)
    live = ((raw != 0) & (bx[:, None] > 0)).astype(np.float64)
    product = live * (bx[:, None] + bw)
    return {
        "ebops": float(np.sum(bx[:, None] * bw)),
        "fanout_bits": float(np.sum(live * bx[:, None])),
        "neg_bits": float(np.sum(live * (raw < 0) * bx[:, None])),
        "weight_bits": float(np.sum(live * bw)),
        "weights": float(np.sum(live)),
        "out_bits": float(np.sum(np.max(product, axis=0, initial=0.0))),
    }


def max_features(out_type: TensorType, sources: Sequence[Sequence[int]]) -> dict[str, float]:
    """``compare_bits`` of a layer whose output element ``j`` is the maximum of the input
    elements ``sources[j]`` (for a MaxPool kind's :func:`register_features` entry):
    ``sum_j (len(set(sources[j])) - 1) * out_type.width[j]``."""
    widths = np.asarray(out_type.width).reshape(-1)
    if len(sources) != widths.size:
        raise ValueError(f"{len(sources)} source lists for {widths.size} output elements")
    total = sum((len(set(s)) - 1) * int(w) for s, w in zip(sources, widths))
    return {"compare_bits": float(total)}


LayerFeatures = Callable[..., dict[str, float]]
"""``(layer, types) -> {feature: value}``: what one layer adds to a network's features
(``types`` as :func:`hgq_hw.reference.infer_types` gives them)."""

_LAYER_FEATURES: dict[type[LayerSpec], LayerFeatures] = {}


def register_features(kind: type[LayerSpec], features: LayerFeatures) -> None:
    """Make ``features`` the cost features of layers of class ``kind`` (a kind without an
    entry adds none: ReLU, Input and Output cost nothing in the model)."""
    _LAYER_FEATURES[kind] = features


def _dense_layer_features(layer: DenseSpec, types: dict[str, TensorType]) -> dict[str, float]:
    return dense_features(types[layer.inputs[0]].width, layer.weight_raw)


def _requantize_features(layer: RequantizeSpec, types: dict[str, TensorType]) -> dict[str, float]:
    return {"act_bits": float(np.sum(types[layer.name].width))}


def table_bits(input_bits: np.ndarray, output_bits: np.ndarray) -> float:
    """``sum(bo * (2**bi - 1)) / 63`` over the elements of a table (see the module docstring)."""
    bi = np.asarray(input_bits, dtype=np.float64).reshape(-1)
    bo = np.asarray(output_bits, dtype=np.float64).reshape(-1)
    return float(np.sum(bo * (np.exp2(bi) - 1.0)) / 63.0)


def _table_features(layer: TableSpec, types: dict[str, TensorType]) -> dict[str, float]:
    return {"table_bits": table_bits(types[layer.inputs[0]].width, types[layer.name].width)}


def _window_dense_features(
    layer: ConvSpec | AvgPoolSpec, types: dict[str, TensorType]
) -> dict[str, float]:
    """A Conv or AvgPool counts as its Dense form over the flattened input (every
    multiplication at every output position)."""
    t = types[layer.inputs[0]]
    return dense_features(t.width.ravel(), flat_layer(layer, [t.shape]).weight_raw)


def _maxpool_features(layer: MaxPoolSpec, types: dict[str, TensorType]) -> dict[str, float]:
    sources = pool_sources(layer, types[layer.inputs[0]].shape)
    return max_features(types[layer.name].flat(), sources.tolist())


def merge_features(
    kind: str, a: TensorType, b: TensorType, out_type: TensorType
) -> dict[str, float]:
    """What an element-wise merge of tensors of types ``a`` and ``b`` (output ``out_type``)
    adds: ``ebops`` for a ``"Multiply"`` (``bits_a * bits_b`` per element), ``add_bits`` for an
    ``"Add"`` or ``"Subtract"`` (the module docstring)."""
    wa, wb = (np.asarray(t.width).reshape(-1) for t in (a, b))
    wo = np.asarray(out_type.width).reshape(-1)
    if kind == "Multiply":
        return {"ebops": float(np.sum(wa * wb))}
    needs = (wo > 0) & (wb > 0) & ((wa > 0) | (kind == "Subtract"))
    return {"add_bits": float(np.sum(np.where(needs, wo, 0)))}


def _merge_layer_features(layer: LayerSpec, types: dict[str, TensorType]) -> dict[str, float]:
    a, b = (types[s] for s in layer.inputs)
    return merge_features(layer.kind, a, b, types[layer.name])


register_features(DenseSpec, _dense_layer_features)
register_features(TableSpec, _table_features)
register_features(AddSpec, _merge_layer_features)
register_features(SubtractSpec, _merge_layer_features)
register_features(MultiplySpec, _merge_layer_features)
register_features(RequantizeSpec, _requantize_features)
register_features(ConvSpec, _window_dense_features)
register_features(AvgPoolSpec, _window_dense_features)
register_features(MaxPoolSpec, _maxpool_features)


def spec_features(spec: ModelSpec) -> dict[str, float]:
    """The :data:`FEATURES` of a spec: each layer's (:func:`register_features`), summed."""
    types = infer_types(spec)
    total = dict.fromkeys(FEATURES, 0.0)
    for layer in spec.layers:
        features = _LAYER_FEATURES.get(type(layer))
        for name, value in (features(layer, types) if features else {}).items():
            total[name] += value
    return total


@dataclass(frozen=True)
class CostModel:
    """``LUTs = sum(coefficients[name] * features[name])`` (non-negative coefficients).

    ``target`` names what was fitted (e.g. ``"xc7 LUTs, synth_xilinx -flatten"``); ``fit``
    holds the fit's statistics as recorded by the calibration (informational).
    """

    coefficients: dict[str, float]
    target: str = "xc7_luts"
    fit: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.coefficients) - set(FEATURES))
        if unknown:
            raise ValueError(f"unknown cost features {unknown} (known: {list(FEATURES)})")
        negative = {k: v for k, v in self.coefficients.items() if not v >= 0}
        if negative:
            raise ValueError(f"cost coefficients must be >= 0, got {negative}")

    def coefficient(self, name: str) -> float:
        """The coefficient of feature ``name`` (0 for a feature the model does not use)."""
        return float(self.coefficients.get(name, 0.0))

    def predict(self, features: dict[str, float]) -> float:
        """Predicted cost of a feature dict (as from :func:`spec_features`)."""
        return float(sum(self.coefficient(n) * float(features.get(n, 0.0)) for n in FEATURES))

    def predict_spec(self, spec: ModelSpec) -> float:
        """Predicted cost (e.g. xc7 LUTs) of a spec."""
        return self.predict(spec_features(spec))

    def to_json(self) -> str:
        return json.dumps(
            {"format": "hgqflow-cost-model", "version": 1, "target": self.target,
             "coefficients": self.coefficients, "fit": self.fit},
            indent=2,
        ) + "\n"  # fmt: skip


def load_cost_model(path: str | os.PathLike[str] | None = None) -> CostModel:
    """A :class:`CostModel` from a coefficients file (default: the one shipped, xc7 LUTs)."""
    path = Path(path) if path is not None else DEFAULT_COEFFICIENTS
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"cost model file {path} not found") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"cost model file {path} is not valid JSON: {err}") from None
    if not isinstance(obj, dict) or obj.get("format") != "hgqflow-cost-model":
        raise ValueError(f"{path} is not an hgqflow cost model (format 'hgqflow-cost-model')")
    coefficients = obj.get("coefficients")
    if not isinstance(coefficients, dict) or not all(
        isinstance(v, int | float) for v in coefficients.values()
    ):
        raise ValueError(f"{path}: 'coefficients' must map feature names to numbers")
    try:
        return CostModel(
            {str(k): float(v) for k, v in coefficients.items()},
            str(obj.get("target", "xc7_luts")),
            dict(obj.get("fit", {})),
        )
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
