"""Quantized Keras layers (serializable; importing this module registers them with Keras).

``QInput`` (input quantizer), ``QDense`` / ``QDenseBatchNorm``, ``QActivation`` (quantized relu
or linear, or a table activation: tanh, sigmoid, gelu, swish, softplus or a callable).
``keras.layers.Flatten``, ``Reshape`` and ``Dropout`` are supported by EBOPs and export as they
are; other layers (convolutions, pooling) are not yet.
"""

from __future__ import annotations

from hgq_train.layers.activation import QActivation, QInput, QuantizerLayer
from hgq_train.layers.base import HGQLayer, register_pass_through
from hgq_train.layers.dense import QDense, QDenseBatchNorm
from hgq_train.quantizers.layer import Quantizer

__all__ = [
    "HGQLayer",
    "QActivation",
    "QDense",
    "QDenseBatchNorm",
    "QInput",
    "Quantizer",
    "QuantizerLayer",
    "register_pass_through",
]
