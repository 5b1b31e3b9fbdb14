"""Effective bit operations (EBOPs): the HGQ resource estimate of a quantized network.

For a dense layer with input bits ``b_x`` (per input element) and kernel bits ``b_w`` (per
weight), ``EBOPs = sum(b_x @ b_w)``: every multiplication costs the product of its operands'
bit widths. Bits are ``relu(i + f)`` plus 1 for a sign bit where there is one; a pruned weight or
a width-0 input costs nothing. A convolution counts every multiplication at every output
position (the bits of the input element read there times the weight's bits; zero padding costs
nothing): ``sum(conv(b_x, b_w))``. A pool has no multiplication; its ``window - 1`` comparisons
(max) or additions (average) per output element are counted as wide as the widest input of the
window (:mod:`hgq_train.layers.pool`).

* :func:`ebops_tensor` is differentiable in the bit widths (for the loss); activation integer
  bits come from the running value range of the current epoch.
* :func:`ebops` evaluates the same in numpy; with ``exact=True`` (after calibration) it uses the
  calibrated activation widths and each weight's actual bit span (trailing zeros removed).

Every layer computes its own cost and its output bits (:class:`hgq_train.layers.base.HGQLayer`);
this module only evaluates the model's graph (:func:`hgq_train.layers.base.model_graph`) and
hands each layer the output bits of the layer it reads.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from hgq_train.layers.base import Bits, model_graph, node_for, read_values, unsupported_layer

__all__ = [
    "ebops",
    "ebops_per_layer",
    "ebops_tensor",
    "layer_costs",
    "unsupported_layer",
]


def layer_costs(
    model: keras.Model, source: Bits, *, sign_bits: bool | None = None
) -> dict[str, Any]:
    """Cost of every layer that has one, by layer name, in evaluation order."""
    bits: dict[str, Any] = {}
    costs: dict[str, Any] = {}
    for layer, reads in model_graph(model):
        node = node_for(layer)
        input_bits = read_values(bits, reads)
        cost = node.ebops(input_bits, source, sign_bits=sign_bits)
        if cost is not None:
            costs[layer.name] = cost
        bits[layer.name] = node.output_bits(input_bits, source)
    return costs


def ebops_tensor(model: keras.Model) -> Any:
    """Differentiable EBOPs of ``model`` (a scalar tensor) for the loss."""
    costs = list(layer_costs(model, Bits.TRAINING).values())
    if not costs:
        return ops.convert_to_tensor(0.0)
    total = costs[0]
    for cost in costs[1:]:
        total = total + cost
    return total


def ebops_per_layer(
    model: keras.Model, *, exact: bool = False, weight_sign: bool | None = None
) -> dict[str, float]:
    """EBOPs of every dense layer (numpy), by layer name; see :func:`ebops`."""
    source = Bits.EXACT if exact else Bits.ESTIMATE
    return {k: float(v) for k, v in layer_costs(model, source, sign_bits=weight_sign).items()}


def ebops(model: keras.Model, *, exact: bool = False, weight_sign: bool | None = None) -> float:
    """EBOPs of ``model`` as a float.

    ``exact=False``: activation bits from the running range of the quantizers (what the loss
    sees during training), weight bits from the bit length of each raw weight.
    ``exact=True``: the model must be calibrated; calibrated activation widths and each weight's
    bit span (trailing zeros removed), i.e. what the exported spec costs.
    ``weight_sign``: count a sign bit per negative weight (True) or not (False, HGQ v1's
    convention); None keeps each layer's own setting.
    """
    return float(sum(ebops_per_layer(model, exact=exact, weight_sign=weight_sign).values()))
