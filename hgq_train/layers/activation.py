"""Activation-side quantized layers: the network input quantizer and quantized ReLU / linear."""

from __future__ import annotations

from typing import Any

import keras

from hgq_train.quantizers.layer import Quantizer

__all__ = ["QActivation", "QInput"]


@keras.saving.register_keras_serializable(package="hgq_train")
class QInput(Quantizer):
    """Quantizes the network input (linear). Exported as the spec's ``Input`` layer."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("activation", None)
        super().__init__("linear", **kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activation")
        return config


@keras.saving.register_keras_serializable(package="hgq_train")
class QActivation(Quantizer):
    """``relu`` or ``linear``, then quantize. Exported as ``ReLU`` (for relu) + ``Requantize``."""
