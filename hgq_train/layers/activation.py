"""Activation-side quantized layers: the network input quantizer, quantized ReLU / linear, and
table activations.

``relu`` and ``linear`` cost no EBOPs themselves; their output bits feed the EBOPs of the dense
layer they precede. In the spec, a :class:`QInput` that reads the model input is the ``Input``
layer; anywhere else a quantizer is a ``Requantize`` (after a ``ReLU`` for ``relu``).

**Table activations.** ``QActivation("tanh")`` (or ``"sigmoid"``, ``"gelu"``, ``"swish"``,
``"softplus"``, or a callable of one tensor written with ``keras.ops``, which take numpy arrays
too) is a lookup table per element: the layer's own quantizer (trained fractional bits per
element, integer bits from the value range, as for ``linear``) quantizes the input, the
function is applied, and an output quantizer with its own trained bits quantizes the result.
It exports as ``Requantize`` (the input quantizer, named ``<layer>_in``) then ``Table`` (every
raw input value of each element tabulated through the float64 model itself, tables shared
between identical elements). An element's table has ``2**bi`` entries for an input of ``bi``
bits (at most :data:`hgq_hw.spec.MAX_TABLE_INPUT_BITS`; export refuses wider inputs, naming
the layer: lower ``f_max``).

Its cost, counted with the EBOPs (so ``beta`` shrinks tables as it shrinks multipliers), is

    ``table EBOPs = sum_e bo[e] * (2**bi[e] - 1) / 63``

with ``bi``/``bo`` the input and output bits of element ``e`` (``k + relu(i + f)``, as for any
activation): a 6-bit table is one LUT6 per output bit, every further input bit doubles it, a
constant (``bi = 0``) is free; differentiable in both widths. It equals the ``table_bits``
cost feature of the exported ``Table`` (:func:`hgq_hw.cost_features.table_bits`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.cost_features import table_bits
from hgq_hw.spec import (
    MAX_TABLE_INPUT_BITS,
    InputSpec,
    LayerSpec,
    ReLUSpec,
    RequantizeSpec,
    TableSpec,
)
from hgq_train.layers.base import Bits, HGQLayer, SpecContext, spec_int, spec_name
from hgq_train.quantizers.layer import Quantizer

__all__ = ["TABLE_FUNCTIONS", "QActivation", "QInput", "QuantizerLayer", "table_ebops_tensor"]

TABLE_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sigmoid": keras.activations.sigmoid,
    "tanh": keras.activations.tanh,
    "gelu": keras.activations.gelu,
    "swish": keras.activations.silu,
    "softplus": keras.activations.softplus,
}
"""Named unary functions a :class:`QActivation` tabulates (``keras.activations``; ``gelu``
exact, not the tanh approximation)."""

_LN2 = math.log(2.0)


def table_ebops_tensor(input_bits: Any, output_bits: Any) -> Any:
    """Differentiable table cost ``sum(bo * (2**bi - 1)) / 63`` (module docstring)."""
    bi = ops.reshape(ops.convert_to_tensor(input_bits), (-1,))
    bo = ops.cast(ops.reshape(ops.convert_to_tensor(output_bits), (-1,)), bi.dtype)
    return ops.sum(bo * (ops.exp(bi * _LN2) - 1.0)) / 63.0


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


def _function_config(fn: str | Callable[[Any], Any]) -> Any:
    """A table function in a layer config: its name, a registered callable serialized, or
    else the callable itself (enough to clone the layer; to save a ``.keras`` file, register
    it with ``keras.saving.register_keras_serializable``)."""
    if isinstance(fn, str):
        return fn
    name = keras.saving.get_registered_name(fn)
    if keras.saving.get_registered_object(name) is fn:
        return keras.saving.serialize_keras_object(fn)
    return fn


@keras.saving.register_keras_serializable(package="hgq_train")
class QActivation(QuantizerLayer):
    """``relu`` or ``linear``, then quantize (exported as ``ReLU`` for relu, then
    ``Requantize``); or a table activation (module docstring).

    Parameters (besides :class:`~hgq_train.quantizers.layer.Quantizer`'s, which configure the
    input quantizer of a table)
    ----------
    activation:
        ``"relu"``, ``"linear"``, a name in :data:`TABLE_FUNCTIONS`, or a callable.
    out_f_init, out_f_min, out_f_max:
        Initial and allowed fractional bits of a table's output quantizer (element
        granularity; its round mode, overflow and ``gamma`` are the layer's).

    Members
    -------
    function: the tabulated function (None for relu / linear)
    output_quantizer: the table's output :class:`Quantizer` (None for relu / linear)
    """

    def __init__(
        self,
        activation: str | Callable[[Any], Any] = "linear",
        *,
        out_f_init: float = 6.0,
        out_f_min: float = -8.0,
        out_f_max: float = 16.0,
        **kwargs: Any,
    ) -> None:
        if isinstance(activation, dict):  # a serialized callable (from get_config)
            activation = keras.saving.deserialize_keras_object(activation)
        function: Callable[[Any], Any] | None = None
        if isinstance(activation, str) and activation in TABLE_FUNCTIONS:
            function = TABLE_FUNCTIONS[activation]
        elif callable(activation):
            function = activation
        elif activation not in self.ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(self.ACTIVATIONS)}, a table function "
                f"({', '.join(TABLE_FUNCTIONS)}) or a callable, got {activation!r}"
            )
        super().__init__("linear" if function is not None else activation, **kwargs)
        self.function = function
        self.output_quantizer = None
        self.table_activation = activation if self.function is not None else None
        self.out_f_init, self.out_f_min, self.out_f_max = (
            float(out_f_init),
            float(out_f_min),
            float(out_f_max),
        )
        if self.function is not None:
            self.output_quantizer = Quantizer(
                "linear",
                granularity="element",
                f_init=out_f_init,
                f_min=out_f_min,
                f_max=out_f_max,
                round_mode=self.round_mode.value,
                overflow=self.overflow.value,
                gamma=self.gamma,
                grad_scale_on=self.grad_scale_on.value,
                dtype=self.dtype_policy,
                name=f"{self.name}_out",
            )

    @property
    def is_table(self) -> bool:
        return self.function is not None

    # the output quantizer follows the layer's calibration state and overflow mode
    @property
    def calibrating(self) -> bool:
        return self._calibrating

    @calibrating.setter
    def calibrating(self, value: bool) -> None:
        self._calibrating = value
        if getattr(self, "output_quantizer", None) is not None:
            self.output_quantizer.calibrating = value

    @property
    def overflow(self) -> Any:
        return self._overflow

    @overflow.setter
    def overflow(self, value: Any) -> None:
        self._overflow = value
        if getattr(self, "output_quantizer", None) is not None:
            self.output_quantizer.overflow = value

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        super().build(input_shape)
        if self.output_quantizer is not None:
            self.output_quantizer.build(input_shape)

    def call(self, x: Any, training: bool | None = None) -> Any:
        xq = super().call(x, training=training)
        if self.function is None:
            return xq
        return self.output_quantizer(self.function(xq), training=training)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self.function is not None:
            config["activation"] = _function_config(self.table_activation)
        config.update(
            out_f_init=self.out_f_init, out_f_min=self.out_f_min, out_f_max=self.out_f_max
        )
        return config

    def reset_range(self) -> None:
        super().reset_range()
        if self.output_quantizer is not None:
            self.output_quantizer.reset_range()

    def calibrate(self, *, margin_bits: int = 0) -> None:
        super().calibrate(margin_bits=margin_bits)
        if self.output_quantizer is not None:
            self.output_quantizer.calibrate(margin_bits=margin_bits)

    # -- cost and bits ------------------------------------------------------------------------

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        if self.output_quantizer is None:
            return super().output_bits(input_bits, source)
        out = self.output_quantizer
        if source is Bits.TRAINING:
            return ops.reshape(out.bits_tensor(), (-1,))
        return np.reshape(out.bits_np(calibrated=source is Bits.EXACT), -1)

    def table_input_bits(self, source: Bits) -> Any:
        """Bits per element of a table's input (its own quantizer), flat."""
        return super().output_bits(None, source)

    def ebops(self, input_bits: Any, source: Bits, *, sign_bits: bool | None = None) -> Any:
        if self.output_quantizer is None:
            return None
        bi, bo = self.table_input_bits(source), self.output_bits(None, source)
        if source is Bits.TRAINING:
            return table_ebops_tensor(bi, bo)
        return table_bits(bi, bo)

    # -- export -------------------------------------------------------------------------------

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if self.function is None:
            return super().to_spec(inputs, context)
        quantize_in = super().to_spec(inputs, context)[-1]
        name = spec_name(self.name)
        quantize_in = RequantizeSpec(
            name=f"{name}_in",
            inputs=quantize_in.inputs,
            k=quantize_in.k,
            i=quantize_in.i,
            f=quantize_in.f,
            round=quantize_in.round,
            overflow=quantize_in.overflow,
        )
        tables, table_of = self._tables(quantize_in)
        k, i, f = (spec_int(a, context) for a in self.output_quantizer.kif())
        return [
            quantize_in,
            TableSpec(
                name=name,
                inputs=(quantize_in.name,),
                tables=tables,
                table_of=table_of.reshape(k.shape),
                k=k,
                i=i,
                f=f,
            ),
        ]

    def _tables(self, quantize_in: RequantizeSpec) -> tuple[list[np.ndarray], np.ndarray]:
        """Every element's table, computed by this (calibrated) layer itself on a grid of all
        raw inputs: row ``n`` holds ``raw_min + n`` (modulo the element's range) everywhere.
        ``table_of`` is flat (row-major), whatever the tensor's shape."""
        t = quantize_in.type.flat()
        width = t.width
        widest = int(np.max(width, initial=0))
        if widest > MAX_TABLE_INPUT_BITS:
            e = int(np.argmax(width))
            raise ValueError(
                f"table activation {self.name!r}: element {e} has a {widest}-bit input, over "
                f"the cap of {MAX_TABLE_INPUT_BITS} bits ({1 << widest} entries); lower f_max "
                "or train with a larger beta"
            )
        lo = np.array([int(v) if w > 0 else 0 for v, w in zip(t.raw_bounds()[0], width)])
        span = np.where(width > 0, 1 << np.maximum(width, 0), 1)
        rows = np.arange(1 << widest)[:, None]
        raw_in = lo[None, :] + rows % span[None, :]
        real = np.ldexp(raw_in.astype(np.float64), -t.f[None, :].astype(np.int32))
        grid = real.reshape(len(rows), *self.feature_shape)
        y = ops.convert_to_numpy(
            self(ops.convert_to_tensor(grid, dtype=self.dtype), training=False)
        )
        f_out = self.output_quantizer.kif()[2].reshape(-1)
        y = np.asarray(y, dtype=np.float64).reshape(len(rows), -1)
        scaled = np.ldexp(y, np.broadcast_to(f_out, y.shape).astype(np.int32))
        raw_out = np.rint(scaled)
        if not np.array_equal(raw_out, scaled):
            raise RuntimeError(f"{self.name!r}: table outputs off the output quantizer's grid")
        tables: list[np.ndarray] = []
        index: dict[tuple[int, ...], int] = {}
        table_of = []
        for e in range(raw_out.shape[1]):
            entries = tuple(int(v) for v in raw_out[: int(span[e]), e])
            if entries not in index:
                index[entries] = len(tables)
                tables.append(np.array(entries, dtype=np.int64))
            table_of.append(index[entries])
        return tables, np.array(table_of, dtype=np.int64)
