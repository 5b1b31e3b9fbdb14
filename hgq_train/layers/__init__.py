"""Quantized Keras layers (serializable; importing this module registers them with Keras).

``QInput`` (input quantizer), ``QDense`` / ``QDenseBatchNorm``, ``QActivation`` (quantized relu
or linear). ``keras.layers.Flatten``, ``Reshape`` and ``Dropout`` are supported by EBOPs and
export as they are, and so are the merging layers ``Add``, ``Subtract``, ``Multiply`` and
``Concatenate`` of two quantized tensors in functional models (:mod:`hgq_train.layers.merge`);
other layers (convolutions, pooling) are not yet.
"""

from __future__ import annotations

from hgq_train.layers.activation import QActivation, QInput, QuantizerLayer
from hgq_train.layers.base import HGQLayer, register_pass_through
from hgq_train.layers.dense import QDense, QDenseBatchNorm
from hgq_train.layers.merge import MERGE_LAYERS, Merge
from hgq_train.quantizers.layer import Quantizer

__all__ = [
    "MERGE_LAYERS",
    "HGQLayer",
    "Merge",
    "QActivation",
    "QDense",
    "QDenseBatchNorm",
    "QInput",
    "Quantizer",
    "QuantizerLayer",
    "register_pass_through",
]
