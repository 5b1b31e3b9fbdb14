"""Keras merging layers (``Add``, ``Subtract``, ``Multiply``, ``Concatenate`` of two tensors)
as the spec's merge kinds (:class:`~hgq_hw.spec.AddSpec`, ...).

The merges are exact in the spec and in float64 Keras alike (a sum or product of two
quantized values is exact in float64 while it spans at most 53 bits), so a merge needs no
quantizer of its own; a ``QActivation`` after it rounds, as after a dense layer. Both inputs
must be quantized tensors (the output of a ``QInput``, ``QActivation`` or a layer after one).

Bits for EBOPs and the cost features: a ``Multiply`` costs ``sum(bits_a * bits_b)`` EBOPs (a
multiplier of two variables) and its output has ``bits_a + bits_b`` bits; an ``Add`` /
``Subtract`` costs no EBOPs and its output is estimated at ``max(bits_a, bits_b) + 1`` bits
(exact when both operands share their fractional bits; the spec's inferred type is exact in
every case); a ``Concatenate`` joins its inputs' bits.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.lowering import concat_sources
from hgq_hw.spec import AddSpec, ConcatenateSpec, LayerSpec, MultiplySpec, SubtractSpec
from hgq_train.layers.base import Bits, HGQLayer, SpecContext, register_pass_through, spec_name

__all__ = ["MERGE_LAYERS", "Merge"]

MERGE_LAYERS: dict[type, type[LayerSpec]] = {
    keras.layers.Add: AddSpec,
    keras.layers.Subtract: SubtractSpec,
    keras.layers.Multiply: MultiplySpec,
    keras.layers.Concatenate: ConcatenateSpec,
}
"""Keras merging layer class -> the spec kind it exports to."""


def _sample_shape(tensor: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in tensor.shape[1:])


class Merge(HGQLayer):
    """Adapter of a Keras merging layer of two inputs (the module docstring)."""

    arity = 2

    def __init__(self, layer: keras.layers.Layer) -> None:
        self.layer = layer
        self.name = layer.name
        self.spec_class = MERGE_LAYERS[type(layer)]

    def _pair(self, input_bits: Any) -> tuple[Any, Any]:
        if (
            not isinstance(input_bits, tuple)
            or len(input_bits) != 2
            or any(b is None for b in input_bits)
        ):
            raise ValueError(
                f"merge layer {self.name!r} needs two quantized inputs (put a QInput or "
                "QActivation before each)"
            )
        return input_bits

    def _flat_axis(self) -> int:
        """The Concatenate axis of one sample (Keras counts the batch axis)."""
        axis = int(self.layer.axis)
        return axis if axis < 0 else axis - 1

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        a, b = self._pair(input_bits)
        if self.spec_class is MultiplySpec:
            return a + b
        if self.spec_class is ConcatenateSpec:
            shapes = [_sample_shape(t) for t in self.layer.input]
            sources = concat_sources(shapes, self._flat_axis())
            joined = (
                np.concatenate([np.asarray(a), np.asarray(b)])
                if source is not Bits.TRAINING
                else ops.concatenate([a, b])
            )
            offset = int(np.prod(shapes[0]))
            index = np.array([e + (offset if n else 0) for n, e in sources])
            return joined[index] if source is not Bits.TRAINING else ops.take(joined, index)
        if source is Bits.TRAINING:
            return ops.maximum(a, b) + 1.0
        return np.maximum(np.asarray(a), np.asarray(b)) + 1.0

    def ebops(self, input_bits: Any, source: Bits, *, sign_bits: bool | None = None) -> Any:
        if self.spec_class is not MultiplySpec:
            return None
        a, b = self._pair(input_bits)
        if source is Bits.TRAINING:
            return ops.sum(a * b)
        return float(np.sum(np.asarray(a) * np.asarray(b)))

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if len(inputs) != 2:
            raise ValueError(f"merge layer {self.name!r} must read two quantized tensors")
        extra = {"axis": self._flat_axis()} if self.spec_class is ConcatenateSpec else {}
        return [self.spec_class(name=spec_name(self.name), inputs=inputs, **extra)]


for _cls in MERGE_LAYERS:
    register_pass_through(_cls, Merge)
