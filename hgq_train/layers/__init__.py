"""Quantized Keras layers (serializable; importing this module registers them with Keras).

``QInput`` (input quantizer), ``QDense`` / ``QDenseBatchNorm``, ``QConv1D`` / ``QConv2D`` (and
their ``...BatchNorm`` twins), ``QMaxPool1D/2D``, ``QAvgPool1D/2D`` (power-of-two windows),
``QActivation`` (quantized relu or linear, or a table activation: tanh, sigmoid, gelu, swish,
softplus or a callable), ``QSoftmax`` (a bit-exact softmax of tables,
:mod:`hgq_train.layers.softmax`). ``keras.layers.Flatten``, ``Reshape`` and ``Dropout`` are
supported by EBOPs and export as they are (a Flatten/Reshape is a spec ``Reshape`` in the
shaped spec of a model with convolutions or pools), and so are the merging layers ``Add``,
``Subtract``, ``Multiply`` and ``Concatenate`` of two quantized tensors in functional models
(:mod:`hgq_train.layers.merge`); other Keras layers are not.
"""

from __future__ import annotations

from hgq_train.layers.activation import QActivation, QInput, QuantizerLayer
from hgq_train.layers.base import HGQLayer, register_pass_through
from hgq_train.layers.conv import QConv, QConv1D, QConv1DBatchNorm, QConv2D, QConv2DBatchNorm
from hgq_train.layers.dense import FusedBatchNorm, QDense, QDenseBatchNorm
from hgq_train.layers.merge import MERGE_LAYERS, Merge
from hgq_train.layers.pool import QAvgPool1D, QAvgPool2D, QMaxPool1D, QMaxPool2D, QPool
from hgq_train.layers.softmax import QSoftmax
from hgq_train.quantizers.layer import Quantizer

__all__ = [
    "MERGE_LAYERS",
    "FusedBatchNorm",
    "HGQLayer",
    "Merge",
    "QActivation",
    "QAvgPool1D",
    "QAvgPool2D",
    "QConv",
    "QConv1D",
    "QConv1DBatchNorm",
    "QConv2D",
    "QConv2DBatchNorm",
    "QDense",
    "QDenseBatchNorm",
    "QInput",
    "QMaxPool1D",
    "QMaxPool2D",
    "QPool",
    "QSoftmax",
    "Quantizer",
    "QuantizerLayer",
    "register_pass_through",
]
