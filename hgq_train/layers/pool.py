"""Pooling that hardware computes exactly: ``QMaxPool1D``/``2D``, ``QAvgPool1D``/``2D``.

Channels last, ``"valid"`` padding only (the spec's ``MaxPool`` and ``AvgPool`` kinds),
strides default to the pool size. Neither pool quantizes: a max is one of its inputs, and an
average is the exact window sum times ``2**-log2(window)``, which is why the window size (the
product of ``pool_size``) of an average must be a power of two (refused at construction
otherwise); the fractional bits grow by ``log2(window)``, so put a quantizer (``QActivation``)
after an average as after a dense layer.

**EBOPs.** EBOPs count multiplications, and pools have none; their hardware is
``window - 1`` two-input operations per output element (comparisons with a select for the max,
additions for the average). Each is counted as wide as the widest input of its window, the
way EBOPs count a ``b``-bit addition of the adder graph: ``sum_j (window - 1) * max_{i in W_j}
b_i`` over every output element ``j``.

**Output bits** (what the next layer's EBOPs see): the widest input of the window for a max;
that plus ``log2(window)`` for an average (the sum's growth).
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.spec import LayerSpec
from hgq_train.layers.base import Bits, HGQLayer, SpecContext, spec_name
from hgq_train.layers.windows import int_tuple, output_spatial, parse_padding, window_views

__all__ = ["QAvgPool1D", "QAvgPool2D", "QMaxPool1D", "QMaxPool2D", "QPool"]


class QPool(keras.layers.Layer, HGQLayer):
    """Base of the pools (``rank`` spatial dimensions; not registered).

    Parameters
    ----------
    pool_size:
        An int or ``rank`` ints (each >= 1), default 2.
    strides:
        An int or ``rank`` ints; None (default): ``pool_size``.
    padding:
        ``"valid"`` only (accepted for Keras compatibility; ``"same"`` is refused).
    """

    rank: int = 0
    spatial = True

    def __init__(
        self,
        pool_size: int | tuple[int, ...] = 2,
        strides: int | tuple[int, ...] | None = None,
        padding: str = "valid",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.pool_size = int_tuple(pool_size, self.rank, "pool_size")
        given = self.pool_size if strides is None else strides
        self.strides = int_tuple(given, self.rank, "strides")
        try:
            self.padding = parse_padding(padding, allowed=("valid",))
        except ValueError as err:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: {err} (hardware pools without padding)"
            ) from None

    @property
    def window(self) -> int:
        return math.prod(self.pool_size)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        kind = type(self).__name__
        if len(input_shape) != self.rank + 2 or any(d is None for d in input_shape[1:]):
            raise ValueError(
                f"{kind} {self.name!r} needs inputs of shape (batch, {self.rank} spatial "
                f"dimension(s), channels) with every dimension but the batch known, got "
                f"{tuple(input_shape)}"
            )
        self.input_spatial = tuple(int(n) for n in input_shape[1:-1])
        self.channels = int(input_shape[-1])
        try:
            self.output_spatial = output_spatial(
                self.input_spatial, self.pool_size, self.strides, "valid"
            )
        except ValueError as err:
            raise ValueError(f"{kind} {self.name!r}: {err}") from None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        spatial = output_spatial(input_shape[1:-1], self.pool_size, self.strides, "valid")
        return (input_shape[0], *spatial, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }

    # -- bits and EBOPs ---------------------------------------------------------------------------

    def _window_max_bits(self, input_bits: Any, source: Bits) -> Any:
        """Per output element (flat), the bits of the widest input of its window."""
        shape = (1, *self.input_spatial, self.channels)
        lib = ops if source is Bits.TRAINING else np
        bits = lib.reshape(input_bits, shape)
        widest = None
        for _, view in window_views(bits, self.pool_size, self.strides):
            widest = view if widest is None else lib.maximum(widest, view)
        return lib.reshape(widest, (-1,))

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        if input_bits is None:
            return None
        return self._window_max_bits(input_bits, source) + self.growth_bits()

    def growth_bits(self) -> int:
        """Bits the output is wider than the widest input of its window."""
        return 0

    def ebops(self, input_bits: Any, source: Bits, *, sign_bits: bool | None = None) -> Any:
        """``sum_j (window - 1) * max_{i in W_j} b_i`` (see the module docstring)."""
        if input_bits is None:
            raise ValueError(
                f"pool {self.name!r} has no quantizer before it (put a QInput or QActivation "
                "in front so its input bits are known)"
            )
        widest = self._window_max_bits(input_bits, source)
        if source is Bits.TRAINING:
            return ops.sum(widest) * float(self.window - 1)
        return float(np.sum(widest) * (self.window - 1))

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if not inputs:
            raise ValueError(
                "the model must start with a QInput layer so that its inputs are quantized; "
                f"found {type(self).__name__} {self.name!r} first"
            )
        return [self.make_spec(spec_name(self.name), inputs)]

    def make_spec(self, name: str, inputs: tuple[str, ...]) -> LayerSpec:
        raise NotImplementedError


class _MaxPool(QPool):
    """Per-channel maximum over each window, exact."""

    def call(self, x: Any) -> Any:
        out = None
        for _, view in window_views(x, self.pool_size, self.strides):
            out = view if out is None else ops.maximum(out, view)
        return out

    def make_spec(self, name: str, inputs: tuple[str, ...]) -> LayerSpec:
        from hgq_hw.spec import MaxPoolSpec

        return MaxPoolSpec(
            name=name,
            inputs=inputs,
            pool_size=self.pool_size,
            strides=self.strides,
            padding=self.padding,
        )


class _AvgPool(QPool):
    """Exact window sum times ``2**-log2(window)`` (window a power of two)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        window = self.window
        if window & (window - 1):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the window {list(self.pool_size)} holds "
                f"{window} elements, not a power of two; hardware divides exactly only by a "
                "power of two (use a pool size such as 2, 4 or (2, 2))"
            )

    def growth_bits(self) -> int:
        return self.window.bit_length() - 1

    def call(self, x: Any) -> Any:
        total = None
        for _, view in window_views(x, self.pool_size, self.strides):
            total = view if total is None else total + view
        return total * (1.0 / self.window)

    def make_spec(self, name: str, inputs: tuple[str, ...]) -> LayerSpec:
        from hgq_hw.spec import AvgPoolSpec

        return AvgPoolSpec(
            name=name,
            inputs=inputs,
            pool_size=self.pool_size,
            strides=self.strides,
            padding=self.padding,
        )


@keras.saving.register_keras_serializable(package="hgq_train")
class QMaxPool1D(_MaxPool):
    """Max pooling over ``(batch, steps, channels)``; see :class:`QPool`."""

    rank = 1


@keras.saving.register_keras_serializable(package="hgq_train")
class QMaxPool2D(_MaxPool):
    """Max pooling over ``(batch, rows, cols, channels)``; see :class:`QPool`."""

    rank = 2


@keras.saving.register_keras_serializable(package="hgq_train")
class QAvgPool1D(_AvgPool):
    """Average pooling (power-of-two window) over ``(batch, steps, channels)``."""

    rank = 1


@keras.saving.register_keras_serializable(package="hgq_train")
class QAvgPool2D(_AvgPool):
    """Average pooling (power-of-two window) over ``(batch, rows, cols, channels)``."""

    rank = 2
