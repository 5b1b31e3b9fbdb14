"""Effective bit operations (EBOPs): the HGQ resource estimate of a quantized network.

For a dense layer with input bits ``b_x`` (per input element) and kernel bits ``b_w`` (per
weight), ``EBOPs = sum(b_x @ b_w)``: every multiplication costs the product of its operands'
bit widths. Bits are ``relu(i + f)`` plus 1 for a sign bit where there is one; a pruned weight or
a width-0 input costs nothing.

* :func:`ebops_tensor` is differentiable in the bit widths (for the loss); activation integer
  bits come from the running value range of the current epoch.
* :func:`ebops` evaluates the same in numpy; with ``exact=True`` (after calibration) it uses the
  calibrated activation widths and each weight's actual bit span (trailing zeros removed).

Both walk the model as a chain of layers (Sequential, or a functional model whose layers form
a chain): the bits of the last quantizer seen feed the next dense layer, through ``Flatten``,
``Reshape`` and ``Dropout``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_train.layers.dense import QDense
from hgq_train.quantizers import fixed_np
from hgq_train.quantizers.layer import Quantizer

__all__ = [
    "PASS_THROUGH",
    "ebops",
    "ebops_per_layer",
    "ebops_tensor",
    "layer_chain",
    "unsupported_layer",
]

PASS_THROUGH: tuple[type, ...] = (keras.layers.Flatten, keras.layers.Reshape, keras.layers.Dropout)
"""Layers that only move values around (or are the identity in inference)."""


def layer_chain(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, without input layers (a chain of single-input layers)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def unsupported_layer(layer: keras.layers.Layer) -> ValueError:
    """The error for a layer that EBOPs and export do not know (names the layer)."""
    return ValueError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not supported by hgq_train yet "
        "(supported: QInput, QActivation, QDense, QDenseBatchNorm, Flatten, Reshape, Dropout)"
    )


def _walk(model: keras.Model, input_bits: Any, dense_cost: Any, reshape: Any) -> list[Any]:
    """Pair every QDense with the bits of its input; return the per-dense costs."""
    bits = None
    costs = []
    for layer in layer_chain(model):
        if isinstance(layer, Quantizer):
            bits = input_bits(layer)
        elif isinstance(layer, QDense):
            if bits is None:
                raise ValueError(
                    f"dense layer {layer.name!r} has no quantizer before it (put a QInput or "
                    "QActivation in front so its input bits are known)"
                )
            costs.append((layer.name, dense_cost(layer, reshape(bits))))
            bits = None
        elif isinstance(layer, PASS_THROUGH):
            continue
        else:
            raise unsupported_layer(layer)
    return costs


def ebops_tensor(model: keras.Model) -> Any:
    """Differentiable EBOPs of ``model`` (a scalar tensor) for the loss."""
    costs = _walk(
        model,
        lambda q: q.bits_tensor(),
        lambda d, b: ops.sum(ops.matmul(b[None, :], d.kernel_bits_tensor())),
        lambda b: ops.reshape(b, (-1,)),
    )
    if not costs:
        return ops.convert_to_tensor(0.0)
    total = costs[0][1]
    for _, cost in costs[1:]:
        total = total + cost
    return total


def ebops_per_layer(
    model: keras.Model, *, exact: bool = False, weight_sign: bool = True
) -> dict[str, float]:
    """EBOPs of every dense layer (numpy), by layer name; see :func:`ebops`."""

    def dense_cost(layer: QDense, b: np.ndarray) -> float:
        weight_raw, _, _, _ = layer.integer_weights()
        w_bits = fixed_np.weight_bits(weight_raw, exact=exact, sign=weight_sign)
        w_bits = w_bits.astype(np.float64)
        return float(b @ w_bits.sum(axis=1))

    def input_bits(q: Quantizer) -> np.ndarray:
        return q.bits_np(calibrated=True) if exact else q.bits_np(calibrated=False)

    costs = _walk(model, input_bits, dense_cost, lambda b: np.reshape(b, -1))
    return dict(costs)


def ebops(model: keras.Model, *, exact: bool = False, weight_sign: bool = True) -> float:
    """EBOPs of ``model`` as a float.

    ``exact=False``: activation bits from the running range of the quantizers (what the loss
    sees during training), weight bits from the bit length of each raw weight.
    ``exact=True``: the model must be calibrated; calibrated activation widths and each weight's
    bit span (trailing zeros removed), i.e. what the exported spec costs.
    ``weight_sign=False``: no sign bit for negative weights (HGQ v1 counts EBOPs that way).
    """
    return float(sum(ebops_per_layer(model, exact=exact, weight_sign=weight_sign).values()))
