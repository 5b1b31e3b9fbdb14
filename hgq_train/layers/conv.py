"""Quantized convolutions: :class:`QConv1D`, :class:`QConv2D` and their fused batch-norm twins.

A convolution is a dense layer applied at every output position to the window it reads, so
these layers are :class:`~hgq_train.layers.dense.QDense` with a kernel of shape
``(*window, c_in, filters)`` and a different linear map: the quantizer math (per-weight
trainable fractional bits, rounding, surrogate gradients, granularity, magnitude-aware start,
the integer weights of export) is QDense's own, not a copy. Channels last, no dilation,
``"valid"`` or ``"same"`` padding (:mod:`hgq_train.layers.windows`).

EBOPs count every multiplication at every output position: the bits of the input element read
there times the bits of the weight (padding reads a 0, which costs nothing), i.e.
``sum(conv(b_x, b_w))``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.spec import LayerSpec
from hgq_train.layers.base import Bits, SpecContext, spec_name
from hgq_train.layers.dense import FusedBatchNorm, QDense
from hgq_train.layers.windows import (
    axis_geometry,
    int_tuple,
    output_spatial,
    parse_padding,
    window_input_sums,
)
from hgq_train.quantizers import fixed_np

__all__ = ["QConv", "QConv1D", "QConv1DBatchNorm", "QConv2D", "QConv2DBatchNorm"]


class QConv(QDense):
    """Base of the quantized convolutions (``rank`` spatial dimensions; not registered).

    Parameters
    ----------
    filters:
        Output channels.
    kernel_size, strides:
        An int or ``rank`` ints (each >= 1).
    padding:
        ``"valid"`` (default) or ``"same"`` (zeros; Keras' split, the extra one after).
    **kwargs:
        As for :class:`~hgq_train.layers.dense.QDense` (``granularity="channel"`` shares one
        bit width per output channel).

    Inputs are ``(batch, *spatial, c_in)``, outputs ``(batch, *out_spatial, filters)``; the
    accumulator is exact (unquantized): a quantizer must follow, as after a QDense.
    """

    rank: int = 0
    spatial = True

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        *,
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        **kwargs: Any,
    ) -> None:
        kwargs.pop("units", None)
        super().__init__(filters, **kwargs)
        self.kernel_size = int_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = int_tuple(strides, self.rank, "strides")
        self.padding = parse_padding(padding)

    @property
    def filters(self) -> int:
        return self.units

    def kernel_shape_for(self, input_shape: tuple[int | None, ...]) -> tuple[int, ...]:
        kind = type(self).__name__
        if len(input_shape) != self.rank + 2 or any(d is None for d in input_shape[1:]):
            raise ValueError(
                f"{kind} {self.name!r} needs inputs of shape (batch, {self.rank} spatial "
                f"dimension(s), channels) with every dimension but the batch known, got "
                f"{tuple(input_shape)}"
            )
        spatial = tuple(int(n) for n in input_shape[1:-1])
        for axis, (n, w, s) in enumerate(zip(spatial, self.kernel_size, self.strides)):
            try:
                axis_geometry(n, w, s, self.padding)
            except ValueError as err:
                raise ValueError(f"{kind} {self.name!r}, spatial axis {axis}: {err}") from None
        self.input_spatial = spatial
        self.in_channels = int(input_shape[-1])
        return (*self.kernel_size, self.in_channels, self.units)

    def linear(self, x: Any, kernel: Any, bias: Any) -> Any:
        y = ops.conv(x, kernel, strides=self.strides, padding=self.padding)
        return y + bias

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        spatial = output_spatial(input_shape[1:-1], self.kernel_size, self.strides, self.padding)
        return (input_shape[0], *spatial, self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["filters"] = config.pop("units")
        return {
            **config,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }

    @property
    def output_spatial(self) -> tuple[int, ...]:
        return output_spatial(self.input_spatial, self.kernel_size, self.strides, self.padding)

    # -- the registry: EBOPs and spec -------------------------------------------------------------

    def ebops(self, input_bits: Any, source: Bits, *, sign_bits: bool | None = None) -> Any:
        """``sum(conv(b_x, b_w))``: at every output position, the bits of each input element
        read times the bits of the weight it meets (padding costs nothing)."""
        if input_bits is None:
            raise ValueError(
                f"convolution {self.name!r} has no quantizer before it (put a QInput or "
                "QActivation in front so its input bits are known)"
            )
        in_shape = (*self.input_spatial, self.in_channels)
        if source is Bits.TRAINING:
            bx = ops.reshape(input_bits, (1, *in_shape))
            w_bits = ops.cast(self.kernel_bits_tensor(), bx.dtype)
            return ops.sum(ops.conv(bx, w_bits, strides=self.strides, padding=self.padding))
        weight_raw, _, _, _ = self.integer_weights()
        sign = self.sign_bits if sign_bits is None else sign_bits
        w_bits = fixed_np.weight_bits(weight_raw, exact=source is Bits.EXACT, sign=sign)
        sums = window_input_sums(
            np.reshape(input_bits, in_shape), self.kernel_size, self.strides, self.padding
        )
        return float(np.sum(sums[..., None] * w_bits.astype(np.float64)))

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if not inputs:
            raise ValueError(
                "the model must start with a QInput layer so that its inputs are quantized; "
                f"found {type(self).__name__} {self.name!r} first"
            )
        from hgq_hw.spec import ConvSpec

        weight_raw, weight_f, bias_raw, bias_f = self.integer_weights()
        return [
            ConvSpec(
                name=spec_name(self.name),
                inputs=inputs,
                kernel_raw=weight_raw,
                kernel_f=weight_f,
                bias_raw=bias_raw,
                bias_f=bias_f,
                strides=self.strides,
                padding=self.padding,
            )
        ]


@keras.saving.register_keras_serializable(package="hgq_train")
class QConv1D(QConv):
    """1-d quantized convolution over ``(batch, steps, channels)``; see :class:`QConv`."""

    rank = 1


@keras.saving.register_keras_serializable(package="hgq_train")
class QConv2D(QConv):
    """2-d quantized convolution over ``(batch, rows, cols, channels)``; see :class:`QConv`."""

    rank = 2


@keras.saving.register_keras_serializable(package="hgq_train")
class QConv1DBatchNorm(FusedBatchNorm, QConv1D):
    """:class:`QConv1D` with a batch normalization folded into its kernel and bias before they
    are quantized (:class:`~hgq_train.layers.dense.FusedBatchNorm`); exported as a plain
    ``Conv``. Statistics over the batch and every output position."""


@keras.saving.register_keras_serializable(package="hgq_train")
class QConv2DBatchNorm(FusedBatchNorm, QConv2D):
    """:class:`QConv2D` with a fused, folded batch normalization (see
    :class:`QConv1DBatchNorm`)."""
