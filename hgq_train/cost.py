"""The LUT cost of a quantized model: :mod:`hgq_hw.cost_features` in ``keras.ops``.

The features (EBOPs, input bits times fan-out, weight bits, nonzero weights, output column
widths, requantizer widths; see :mod:`hgq_hw.cost_features` for the formulas) are computed from
the same bit widths the EBOPs loss uses: per weight the bit length of its quantized value
(:meth:`QDense.kernel_bits_tensor`, without a sign bit), per activation element
``k + relu(i + f)`` from the quantizer's range. Which weights are nonzero, and the ``max`` that
picks an output column's widest product, are held fixed in the gradient (straight-through in
the widths). A fitted :class:`~hgq_hw.cost_features.CostModel` turns them into predicted xc7
LUTs.

At the exported bit widths (after calibration) the features equal
:func:`hgq_hw.cost_features.spec_features` of the exported spec exactly.

Layer kinds answer through :data:`FEATURE_RULES` (one entry per kind): a new kind that costs
hardware registers a rule, otherwise ``cost="luts"`` refuses the model with a ``ValueError``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.cost_features import FEATURES, CostModel, load_cost_model
from hgq_hw.spec import ConcatenateSpec, MultiplySpec
from hgq_train.layers.activation import QActivation, QuantizerLayer, table_ebops_tensor
from hgq_train.layers.base import (
    Bits,
    HGQLayer,
    PassThrough,
    model_graph,
    node_for,
    read_values,
)
from hgq_train.layers.conv import QConv
from hgq_train.layers.dense import QDense
from hgq_train.layers.merge import MERGE_LAYERS, Merge
from hgq_train.layers.pool import QPool
from hgq_train.quantizers import fixed_np

__all__ = [
    "FEATURE_RULES",
    "Cost",
    "dense_features_tensor",
    "luts_tensor",
    "model_features",
    "predicted_luts",
    "register_feature_rule",
]


class Cost(enum.Enum):
    """The resource term of the HGQ loss (``beta * cost``)."""

    EBOPS = "ebops"
    """EBOPs (:func:`hgq_train.ebops.ebops_tensor`); ``beta`` is the loss per EBOP."""
    LUTS = "luts"
    """Predicted xc7 LUTs (:func:`luts_tensor`); ``beta`` is the loss per predicted LUT."""

    @classmethod
    def parse(cls, value: Cost | str) -> Cost:
        if isinstance(value, Cost):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ValueError(
                f"cost must be one of {[c.value for c in cls]}, got {value!r}"
            ) from None


def dense_features_tensor(input_bits: Any, weight_bits: Any, negative: Any) -> dict[str, Any]:
    """:data:`~hgq_hw.cost_features.DENSE_FEATURES` of one dense layer as scalar tensors, from
    input bits ``(n_in,)``, weight bits ``(n_in, n_out)`` and which weights are negative
    (boolean ``(n_in, n_out)``; tensors or arrays)."""
    bx = ops.reshape(ops.convert_to_tensor(input_bits), (-1, 1))
    bw = ops.convert_to_tensor(weight_bits)
    bx = ops.cast(bx, bw.dtype)
    live = ops.stop_gradient(ops.cast((bw > 0) & (bx > 0), bw.dtype))
    neg = ops.stop_gradient(ops.cast(ops.convert_to_tensor(negative), bw.dtype))
    product = live * (bx + bw)
    return {
        "ebops": ops.sum(bx * bw),
        "fanout_bits": ops.sum(live * bx),
        "neg_bits": ops.sum(live * neg * bx),
        "weight_bits": ops.sum(live * bw),
        "weights": ops.sum(live),
        "out_bits": ops.sum(ops.max(product, axis=0)),
    }


def _dense_weight_bits(layer: QDense, source: Bits) -> tuple[Any, Any]:
    """Weight bits without sign bits (differentiable for TRAINING, exact numpy otherwise) and
    which weights are negative."""
    if source is Bits.TRAINING:
        wq, _, _, _ = layer.quantized_weights(None, False)
        bits = layer.kernel_bits_tensor()
        negative = wq < 0
        if layer.sign_bits:  # the features never count a sign bit
            bits = bits - ops.cast(negative, bits.dtype)
        return bits, negative
    weight_raw, _, _, _ = layer.integer_weights()
    bits = fixed_np.weight_bits(weight_raw, exact=False, sign=False).astype(np.float32)
    return bits, weight_raw < 0


def _dense_rule(layer: QDense, input_bits: Any, source: Bits) -> dict[str, Any]:
    if input_bits is None:
        raise ValueError(
            f"dense layer {layer.name!r} has no quantizer before it (put a QInput or "
            "QActivation in front so its input bits are known)"
        )
    return dense_features_tensor(input_bits, *_dense_weight_bits(layer, source))


def _activation_rule(layer: QActivation, input_bits: Any, source: Bits) -> dict[str, Any]:
    """A QActivation reads a quantized tensor, so it is a ``Requantize`` (``act_bits``); a
    table activation's ``Requantize`` is its input quantizer, and it adds ``table_bits``."""
    if not layer.is_table:
        return {"act_bits": ops.sum(layer.output_bits(input_bits, source))}
    bits_in = layer.table_input_bits(source)
    bits_out = layer.output_bits(input_bits, source)
    return {"act_bits": ops.sum(bits_in), "table_bits": table_ebops_tensor(bits_in, bits_out)}


FeatureRule = Callable[[Any, Any, Bits], dict[str, Any]]


def _no_model_rule(layer: Any, input_bits: Any, source: Bits) -> dict[str, Any]:
    raise ValueError(
        f"layer {layer.name!r} ({type(layer).__name__}): the LUT cost model is fitted on dense "
        "layers only; train convolutional or pooling models with cost='ebops' (--cost ebops)"
    )


FEATURE_RULES: dict[type, FeatureRule] = {
    QDense: _dense_rule,
    QConv: _no_model_rule,
    QPool: _no_model_rule,
    QActivation: _activation_rule,
}
"""Layer class -> ``rule(layer, input_bits, source)`` giving its cost features (subclasses
find their base class's rule)."""


def register_feature_rule(cls: type, rule: FeatureRule) -> None:
    """Register the cost features of a layer kind that costs hardware."""
    FEATURE_RULES[cls] = rule


def _merge_rule(layer: Any, input_bits: Any, source: Bits) -> dict[str, Any]:
    """A Multiply adds ``sum(bits_a * bits_b)`` to ``ebops``; an Add / Subtract adds its
    (estimated, :mod:`hgq_train.layers.merge`) output bits to ``add_bits``; a Concatenate
    costs nothing."""
    node = Merge(layer)
    if node.spec_class is ConcatenateSpec:
        return {}
    if node.spec_class is MultiplySpec:
        return {"ebops": node.ebops(input_bits, source)}
    return {"add_bits": ops.sum(node.output_bits(input_bits, source))}


for _cls in MERGE_LAYERS:
    register_feature_rule(_cls, _merge_rule)


def _rule_for(layer: Any) -> FeatureRule | None:
    for cls in type(layer).__mro__:
        if cls in FEATURE_RULES:
            return FEATURE_RULES[cls]
    return None


def _walk(model: keras.Model, source: Bits) -> Iterator[tuple[Any, HGQLayer, bool, Any]]:
    """``(layer, node, after_hardware, input_bits)`` in evaluation order; the bits travel as in
    :func:`hgq_train.ebops.layer_costs`. ``after_hardware``: some layer upstream exports spec
    layers (so a quantizer here is a ``Requantize``, not the spec's ``Input``)."""
    bits: dict[str, Any] = {}
    hardware: dict[str, bool] = {}
    for layer, reads in model_graph(model):
        node = node_for(layer)
        input_bits = read_values(bits, reads)
        after = any(hardware[name] for name in reads)
        yield layer, node, after, input_bits
        bits[layer.name] = node.output_bits(input_bits, source)
        hardware[layer.name] = after or not isinstance(node, PassThrough)


def model_features(model: keras.Model, source: Bits = Bits.TRAINING) -> dict[str, Any]:
    """The :data:`~hgq_hw.cost_features.FEATURES` of ``model`` as scalar tensors.

    ``source`` as for EBOPs: :attr:`Bits.TRAINING` (differentiable, activation widths from the
    running range) or :attr:`Bits.EXACT` (calibrated widths, the exported spec's).
    """
    total: dict[str, Any] = {}

    def add(name: str, value: Any) -> None:
        value = ops.cast(value, "float32")
        total[name] = total[name] + value if name in total else value

    for layer, node, after_hardware, input_bits in _walk(model, source):
        rule = _rule_for(layer)
        if rule is not None:
            for name, value in rule(layer, input_bits, source).items():
                add(name, value)
        elif isinstance(node, QuantizerLayer):
            if after_hardware:  # a Requantize in the spec; the input quantizer is free
                add("act_bits", ops.sum(node.output_bits(input_bits, source)))
        elif not isinstance(node, PassThrough):
            raise ValueError(
                f"layer {layer.name!r} ({type(layer).__name__}) has no cost feature rule; "
                "register one with hgq_train.cost.register_feature_rule or use cost='ebops'"
            )
    zero = ops.convert_to_tensor(0.0, dtype="float32")
    return {name: total.get(name, zero) for name in FEATURES}


def luts_tensor(model: keras.Model, cost_model: CostModel | None = None) -> Any:
    """Differentiable predicted LUTs of ``model`` (scalar tensor) for the loss."""
    cost_model = cost_model or load_cost_model()
    features = model_features(model, Bits.TRAINING)
    total = ops.convert_to_tensor(0.0, dtype="float32")
    for name in FEATURES:
        c = cost_model.coefficient(name)
        if c:
            total = total + c * features[name]
    return total


def predicted_luts(model: keras.Model, cost_model: CostModel | None = None) -> float:
    """Predicted LUTs of a calibrated ``model`` at its exported widths (a float)."""
    cost_model = cost_model or load_cost_model()
    features = model_features(model, Bits.EXACT)
    return cost_model.predict({k: float(ops.convert_to_numpy(v)) for k, v in features.items()})
