"""``QSoftmax``: a softmax that is bit-exact end to end, built from spec kinds that already are.

Over a 1-d tensor of ``n`` logits ``x`` (the output of a dense layer, say), in this order:

1. ``xq = q_in(x)``: the layer's own quantizer (trained bits per element);
2. ``m = max(xq)`` and ``d = xq - m`` (exact; every ``d <= 0``);
3. ``e = q_e(exp(q_d(d)))``: an exp table (a :class:`~hgq_train.layers.QActivation` named
   ``<layer>_exp`` with trained input and output bits per element);
4. ``s = sum(e)`` (exact) and ``r = q_r(1 / max(q_s(s), 1))``: a reciprocal table
   (``<layer>_recip``; one element; ``s >= 1`` always, as the largest logit's ``e`` is
   ``exp(0) = 1``; the ``max`` only keeps every table entry finite);
5. ``y = q_out(e * r)`` (a product of two variables, then the output quantizer ``<layer>_out``).

Every step is exact in float64 or a quantizer, so the spec reproduces the float64 model bit
for bit. It exports as exactly that subgraph of existing kinds (no new hardware):
``Requantize`` (``<layer>_in``) -> ``Reshape`` to ``(n, 1)`` -> ``MaxPool`` of ``n`` ->
``Reshape`` to ``(1,)`` -> ``Dense`` 1->n of ones (the broadcast) -> ``Subtract`` ->
``Requantize`` + ``Table`` (exp) -> ``Dense`` n->1 of ones (the sum) -> ``Requantize`` +
``Table`` (reciprocal) -> ``Dense`` 1->n of ones -> ``Multiply`` -> ``Requantize``.
The spec needs schema version 2 (its kinds), never shaped tensors elsewhere.

**Overflow.** All of the layer's quantizers take the layer's ``overflow`` (as a table
activation's do; ``export(overflow=...)`` sets them all). ``"SAT"`` is the sensible choice:
a difference below the calibrated range then saturates to the table's smallest input instead
of wrapping to a large ``exp``.

**Cost** (in the EBOPs, differentiable in every width): the two tables by their size
(:func:`~hgq_train.layers.activation.table_ebops_tensor`), the multiply as ``sum_e b_e[e] *
b_r``, and the max and the sum as a pool counts them: ``(n - 1)`` two-input operations each as
wide as the widest operand (``b_in`` for the max, ``b_e`` for the sum).

**Argmax.** A classifier that only needs the class reads the argmax of the output: the board
tops compute it exactly in hardware (:class:`boards.argmax.Argmax`, ties to the lowest index,
the rule of :func:`boards.protocol.argmax_exact`), so there is no argmax layer of its own.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.spec import (
    DenseSpec,
    LayerSpec,
    MaxPoolSpec,
    MultiplySpec,
    RequantizeSpec,
    ReshapeSpec,
    SubtractSpec,
)
from hgq_train.layers.activation import QActivation, QuantizerLayer
from hgq_train.layers.base import Bits, SpecContext, spec_int, spec_name
from hgq_train.quantizers.layer import Quantizer

__all__ = ["QSoftmax", "softmax_exp", "softmax_reciprocal"]


@keras.saving.register_keras_serializable(package="hgq_train")
def softmax_exp(x: Any) -> Any:
    """The exp table's function (``exp``)."""
    return ops.exp(x)


@keras.saving.register_keras_serializable(package="hgq_train")
def softmax_reciprocal(s: Any) -> Any:
    """The reciprocal table's function: ``1 / max(s, 1)`` (a softmax sum is at least 1)."""
    return 1.0 / ops.maximum(s, 1.0)


@keras.saving.register_keras_serializable(package="hgq_train")
class QSoftmax(QuantizerLayer):
    """A quantized softmax over the last axis of a ``(batch, n)`` tensor (module docstring).

    Parameters (besides :class:`~hgq_train.quantizers.layer.Quantizer`'s, which configure the
    input quantizer and are shared by the inner quantizers: round mode, overflow, ``gamma``)
    ----------
    exp_in_f_init, exp_out_f_init:
        Initial fractional bits of the exp table's input (the differences) and output.
    sum_f_init, recip_f_init:
        Initial fractional bits of the reciprocal table's input (the sum) and output.
    out_f_init:
        Initial fractional bits of the output quantizer.
    table_f_max:
        Largest fractional bits of the two tables' inputs (keeps them within
        :data:`hgq_hw.spec.MAX_TABLE_INPUT_BITS`).

    Members
    -------
    exp_table, recip_table: the two :class:`QActivation` tables
    output_quantizer: the final :class:`Quantizer`
    """

    def __init__(
        self,
        *,
        exp_in_f_init: float = 3.0,
        exp_out_f_init: float = 6.0,
        sum_f_init: float = 3.0,
        recip_f_init: float = 6.0,
        out_f_init: float = 6.0,
        table_f_max: float = 6.0,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("activation", None)
        super().__init__("linear", **kwargs)
        self.exp_in_f_init, self.exp_out_f_init = float(exp_in_f_init), float(exp_out_f_init)
        self.sum_f_init, self.recip_f_init = float(sum_f_init), float(recip_f_init)
        self.out_f_init, self.table_f_max = float(out_f_init), float(table_f_max)
        shared = {
            "round_mode": self.round_mode.value,
            "overflow": self.overflow.value,
            "gamma": self.gamma,
            "grad_scale_on": self.grad_scale_on.value,
            "dtype": self.dtype_policy,
        }
        self.exp_table = QActivation(
            softmax_exp,
            f_init=self.exp_in_f_init,
            f_max=self.table_f_max,
            out_f_init=self.exp_out_f_init,
            name=f"{self.name}_exp",
            **shared,
        )
        self.recip_table = QActivation(
            softmax_reciprocal,
            f_init=self.sum_f_init,
            f_max=self.table_f_max,
            out_f_init=self.recip_f_init,
            name=f"{self.name}_recip",
            **shared,
        )
        self.output_quantizer = Quantizer(
            "linear", f_init=self.out_f_init, name=f"{self.name}_out", **shared
        )

    def _inner(self) -> list[Quantizer]:
        return [
            q
            for q in (
                getattr(self, "exp_table", None),
                getattr(self, "recip_table", None),
                getattr(self, "output_quantizer", None),
            )
            if q is not None
        ]

    # the inner quantizers follow the layer's calibration state and overflow mode
    @property
    def calibrating(self) -> bool:
        return self._calibrating

    @calibrating.setter
    def calibrating(self, value: bool) -> None:
        self._calibrating = value
        for q in self._inner():
            q.calibrating = value

    @property
    def overflow(self) -> Any:
        return self._overflow

    @overflow.setter
    def overflow(self, value: Any) -> None:
        self._overflow = value
        for q in self._inner():
            q.overflow = value

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2 or input_shape[1] is None:
            raise ValueError(
                f"QSoftmax {self.name!r} needs inputs of shape (batch, n) with n known, got "
                f"{tuple(input_shape)} (put a Flatten before it)"
            )
        super().build(input_shape)
        self.exp_table.build(input_shape)
        self.recip_table.build((input_shape[0], 1))
        self.output_quantizer.build(input_shape)

    @property
    def n(self) -> int:
        return int(self.feature_shape[0])

    def call(self, x: Any, training: bool | None = None) -> Any:
        xq = super().call(x, training=training)
        d = xq - ops.max(xq, axis=-1, keepdims=True)
        e = self.exp_table(d, training=training)
        r = self.recip_table(ops.sum(e, axis=-1, keepdims=True), training=training)
        return self.output_quantizer(e * r, training=training)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activation")
        config.update(
            exp_in_f_init=self.exp_in_f_init,
            exp_out_f_init=self.exp_out_f_init,
            sum_f_init=self.sum_f_init,
            recip_f_init=self.recip_f_init,
            out_f_init=self.out_f_init,
            table_f_max=self.table_f_max,
        )
        return config

    def reset_range(self) -> None:
        super().reset_range()
        for q in self._inner():
            q.reset_range()

    def calibrate(self, *, margin_bits: int = 0) -> None:
        super().calibrate(margin_bits=margin_bits)
        for q in self._inner():
            q.calibrate(margin_bits=margin_bits)

    # -- cost and bits ------------------------------------------------------------------------

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        out = self.output_quantizer
        if source is Bits.TRAINING:
            return ops.reshape(out.bits_tensor(), (-1,))
        return np.reshape(out.bits_np(calibrated=source is Bits.EXACT), -1)

    def ebops(self, input_bits: Any, source: Bits, *, sign_bits: bool | None = None) -> Any:
        b_in = super().output_bits(None, source)
        b_e = self.exp_table.output_bits(None, source)
        b_r = self.recip_table.output_bits(None, source)
        tables = self.exp_table.ebops(None, source) + self.recip_table.ebops(None, source)
        lib = ops if source is Bits.TRAINING else np
        multiply = lib.sum(b_e * b_r[0])
        reduce = (self.n - 1) * (lib.max(b_in) + lib.max(b_e))
        total = tables + multiply + reduce
        return total if source is Bits.TRAINING else float(total)

    # -- export -------------------------------------------------------------------------------

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if not inputs:
            raise ValueError(
                f"QSoftmax {self.name!r} reads the model input; put a QInput (and a dense "
                "layer) before it"
            )
        name, n = spec_name(self.name), self.n
        q_in = super().to_spec(inputs, context)[-1]
        q_in = RequantizeSpec(
            name=f"{name}_in",
            inputs=q_in.inputs,
            k=q_in.k,
            i=q_in.i,
            f=q_in.f,
            round=q_in.round,
            overflow=q_in.overflow,
        )
        layers: list[LayerSpec] = [
            q_in,
            ReshapeSpec(name=f"{name}_col", inputs=(q_in.name,), shape=(n, 1)),
            MaxPoolSpec(
                name=f"{name}_maxpool", inputs=(f"{name}_col",), pool_size=(n,), strides=(n,)
            ),
            ReshapeSpec(name=f"{name}_max", inputs=(f"{name}_maxpool",), shape=(1,)),
            DenseSpec.ones(f"{name}_max_b", f"{name}_max", 1, n),
            SubtractSpec(name=f"{name}_diff", inputs=(q_in.name, f"{name}_max_b")),
        ]
        exp = self.exp_table.to_spec((f"{name}_diff",), context)
        layers += exp
        layers.append(DenseSpec.ones(f"{name}_sum", exp[-1].name, n, 1))
        recip = self.recip_table.to_spec((f"{name}_sum",), context)
        layers += recip
        layers.append(DenseSpec.ones(f"{name}_recip_b", recip[-1].name, 1, n))
        layers.append(MultiplySpec(name=f"{name}_mul", inputs=(exp[-1].name, f"{name}_recip_b")))
        k, i, f = (spec_int(a, context) for a in self.output_quantizer.kif())
        layers.append(
            RequantizeSpec(
                name=name,
                inputs=(f"{name}_mul",),
                k=k,
                i=i,
                f=f,
                round=self.round_mode,
                overflow=context.overflow or self.overflow,
            )
        )
        return layers
