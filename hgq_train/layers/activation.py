"""Activation-side quantized layers: the network input quantizer and quantized ReLU / linear.

Both cost no EBOPs themselves; their output bits feed the EBOPs of the dense layer they
precede. In the spec, a :class:`QInput` that reads the model input is the ``Input`` layer;
anywhere else a quantizer is a ``Requantize`` (after a ``ReLU`` for ``relu``).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.spec import InputSpec, LayerSpec, ReLUSpec, RequantizeSpec
from hgq_train.layers.base import Bits, HGQLayer, SpecContext, spec_int, spec_name
from hgq_train.quantizers.layer import Quantizer

__all__ = ["QActivation", "QInput", "QuantizerLayer"]


class QuantizerLayer(Quantizer, HGQLayer):
    """A :class:`Quantizer` that answers for itself in EBOPs and export."""

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        if source is Bits.TRAINING:
            return ops.reshape(self.bits_tensor(), (-1,))
        return np.reshape(self.bits_np(calibrated=source is Bits.EXACT), -1)

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        name = spec_name(self.name)
        if not inputs:
            raise ValueError(
                "the model must start with a QInput layer (after any Flatten/Reshape) so that "
                f"its inputs are quantized; found {type(self).__name__} {self.name!r} first"
            )
        layers: list[LayerSpec] = []
        source = inputs[0]
        if self.activation == "relu":
            layers.append(ReLUSpec(name=f"{name}_relu", inputs=(source,)))
            source = layers[-1].name
        k, i, f = self.kif()
        layers.append(
            RequantizeSpec(
                name=name,
                inputs=(source,),
                k=spec_int(k, context),
                i=spec_int(i, context),
                f=spec_int(f, context),
                round=self.round_mode,
                overflow=context.overflow or self.overflow,
            )
        )
        return layers


@keras.saving.register_keras_serializable(package="hgq_train")
class QInput(QuantizerLayer):
    """Quantizes the network input (linear). Exported as the spec's ``Input`` layer."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("activation", None)
        super().__init__("linear", **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activation")
        return config

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if inputs:
            return super().to_spec(inputs, context)
        k, i, f = self.kif()
        return [
            InputSpec(
                name=spec_name(self.name),
                k=spec_int(k, context),
                i=spec_int(i, context),
                f=spec_int(f, context),
                round=self.round_mode,
                overflow=context.overflow or self.overflow,
            )
        ]


@keras.saving.register_keras_serializable(package="hgq_train")
class QActivation(QuantizerLayer):
    """``relu`` or ``linear``, then quantize. Exported as ``ReLU`` (for relu) + ``Requantize``."""
