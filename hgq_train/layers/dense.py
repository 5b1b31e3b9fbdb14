"""Quantized dense layers: every weight and bias element has its own trainable bit width."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_hw.spec import DenseSpec, LayerSpec
from hgq_train.layers.base import Bits, HGQLayer, SpecContext, spec_name
from hgq_train.quantizers import fixed_np, fixed_ops
from hgq_train.quantizers.config import GradScaleOn, Granularity, f_shape, grad_scale, parse_round
from hgq_train.quantizers.layer import BitRange, BitsRegularizer

__all__ = ["FusedBatchNorm", "QDense", "QDenseBatchNorm"]


@keras.saving.register_keras_serializable(package="hgq_train")
class QDense(keras.layers.Layer, HGQLayer):
    """``y = x @ wq + bq`` with quantized kernel ``wq`` and bias ``bq`` (no activation).

    Parameters
    ----------
    units:
        Number of outputs.
    granularity:
        Bit-width sharing of the kernel: ``"element"`` (per weight), ``"channel"`` (per output)
        or ``"layer"``. The bias always has one bit width per element.
    f_init, f_min, f_max, round_mode, gamma:
        As for :class:`hgq_train.quantizers.Quantizer`. Weights never overflow: their integer
        bits follow their quantized values.
    sign_bits:
        Count a sign bit per negative weight in EBOPs. Default False, as the HGQ paper and HGQ
        v1 count: a negative constant costs a subtraction in the adder graph, not a bit.
    kernel_f_init:
        Initial fractional bits of every weight (None: ``f_init``, which then also starts the
        bias).
    kernel_init_bits:
        Magnitude-aware start of the kernel bit widths (as HGQ v1): each weight starts with
        this many significant bits for its initial magnitude, ``f = bits - 1 -
        floor(log2|w|)`` (for shared widths, the largest of the sharing weights gets them),
        clipped to ``[f_min, f_max]``. None (default): every weight starts at
        ``kernel_f_init``.
        The bias always starts at ``f_init``.
    grad_scale_on:
        ``"ebops"`` (default, as HGQ) or ``"task"``: which gradient of a shared kernel ``f``
        is scaled by ``1/sqrt(n)`` (see :class:`~hgq_train.quantizers.config.GradScaleOn`).

    The input must be 1-d per sample ``(batch, n_in)``; put a ``Flatten`` first otherwise.
    A weight that quantizes to 0 is pruned.
    """

    def __init__(
        self,
        units: int,
        *,
        use_bias: bool = True,
        granularity: str = "element",
        f_init: float = 6.0,
        f_min: float = -8.0,
        f_max: float = 16.0,
        round_mode: str = "RND",
        gamma: float = 1e-6,
        sign_bits: bool = False,
        kernel_f_init: float | None = None,
        kernel_init_bits: float | None = None,
        grad_scale_on: str = "ebops",
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(units, int | np.integer) or units < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}")
        if not f_min <= f_init <= f_max:
            raise ValueError(f"f_init ({f_init}) must lie in [f_min, f_max] = [{f_min}, {f_max}]")
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.granularity = Granularity.parse(granularity)
        self.f_init, self.f_min, self.f_max = float(f_init), float(f_min), float(f_max)
        self.round_mode = parse_round(round_mode)
        self.gamma = float(gamma)
        self.sign_bits = bool(sign_bits)
        self.grad_scale_on = GradScaleOn.parse(grad_scale_on)
        if kernel_init_bits is not None and not kernel_init_bits > 0:
            raise ValueError(f"kernel_init_bits must be positive or None, got {kernel_init_bits}")
        self.kernel_init_bits = None if kernel_init_bits is None else float(kernel_init_bits)
        if kernel_f_init is not None and not f_min <= kernel_f_init <= f_max:
            raise ValueError(
                f"kernel_f_init ({kernel_f_init}) must lie in [f_min, f_max] = [{f_min}, {f_max}]"
            )
        self.kernel_f_init = None if kernel_f_init is None else float(kernel_f_init)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def kernel_shape_for(self, input_shape: tuple[int | None, ...]) -> tuple[int, ...]:
        """The kernel's shape for inputs of ``input_shape`` (``ValueError`` if they do not fit);
        the last axis is the output (``units``)."""
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} needs inputs of shape (batch, features), "
                f"got {tuple(input_shape)}; add a Flatten layer before it"
            )
        return (int(input_shape[-1]), self.units)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.kernel_shape = self.kernel_shape_for(input_shape)
        regularizer = BitsRegularizer(self.gamma) if self.gamma else None
        constraint = BitRange(self.f_min, self.f_max)
        init = keras.initializers.Constant(self.f_init)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_shape, initializer=self.kernel_initializer
        )
        kernel_f0 = self.f_init if self.kernel_f_init is None else self.kernel_f_init
        self.kernel_f = self.add_weight(
            name="kernel_f",
            shape=f_shape(self.kernel_shape, self.granularity),
            initializer=keras.initializers.Constant(kernel_f0),
            regularizer=regularizer,
            constraint=constraint,
        )
        if self.kernel_init_bits is not None:
            self.kernel_f.assign(self.magnitude_f(ops.convert_to_numpy(self.kernel)))
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer=self.bias_initializer
            )
            self.bias_f = self.add_weight(
                name="bias_f",
                shape=(self.units,),
                initializer=init,
                regularizer=regularizer,
                constraint=constraint,
            )
        self._build_extra(self.units)

    def magnitude_f(self, kernel: np.ndarray) -> np.ndarray:
        """Fractional bits that give every weight of ``kernel`` ``kernel_init_bits`` significant
        bits (shape of ``kernel_f``); zero weights get ``f_init``."""
        w = np.abs(np.asarray(kernel, dtype=np.float64))
        with np.errstate(divide="ignore"):
            f = np.where(
                w > 0, self.kernel_init_bits - 1 - np.floor(np.log2(w)), np.float64(self.f_init)
            )
        shape = f_shape(self.kernel_shape, self.granularity)
        shared = tuple(a for a, n in enumerate(shape) if n == 1 and self.kernel_shape[a] > 1)
        if shared:
            f = np.min(f, axis=shared, keepdims=True)
        return np.clip(f.reshape(shape), self.f_min, self.f_max).astype(np.float32)

    def _build_extra(self, units: int) -> None:
        """Hook for subclasses that add variables."""

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "granularity": self.granularity.value,
            "f_init": self.f_init,
            "f_min": self.f_min,
            "f_max": self.f_max,
            "round_mode": self.round_mode.value,
            "gamma": self.gamma,
            "sign_bits": self.sign_bits,
            "grad_scale_on": self.grad_scale_on.value,
            "kernel_f_init": self.kernel_f_init,
            "kernel_init_bits": self.kernel_init_bits,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }

    # -- the computation ----------------------------------------------------------------------

    def real_weights(self, x: Any = None, training: bool | None = None) -> tuple[Any, Any]:
        """The real kernel and bias before quantization (``bias`` is zeros without a bias)."""
        bias = self.bias if self.use_bias else ops.zeros((self.units,), dtype=self.kernel.dtype)
        return self.kernel, bias

    def kernel_bits_in_use(self) -> Any:
        return fixed_ops.round_bits(self.kernel_f, self.f_min, self.f_max)

    def quantized_weights(
        self, x: Any = None, training: bool | None = None
    ) -> tuple[Any, Any, Any, Any]:
        """``(wq, bq, fr_w, fr_b)``: quantized kernel/bias and their bits in use (broadcast)."""
        w, b = self.real_weights(x, training)
        fr_w = self.kernel_bits_in_use()
        wq = fixed_ops.quantize(w, fr_w, self.round_mode)
        if training:
            task_side = self.grad_scale_on is GradScaleOn.TASK
            scale = grad_scale(self.kernel_shape, self.granularity) if task_side else 1.0
            wq = fixed_ops.with_surrogate(w, wq, fr_w, scale)
        if self.use_bias:
            fr_b = fixed_ops.round_bits(self.bias_f, self.f_min, self.f_max)
            bq = fixed_ops.quantize(b, fr_b, self.round_mode)
            if training:
                bq = fixed_ops.with_surrogate(b, bq, fr_b)
        else:
            fr_b = ops.zeros((self.units,), dtype=w.dtype)
            bq = b
        return wq, bq, ops.broadcast_to(fr_w, self.kernel_shape), fr_b

    def linear(self, x: Any, kernel: Any, bias: Any) -> Any:
        """The layer's linear map with a given kernel and bias: ``x @ kernel + bias``."""
        return ops.matmul(x, kernel) + bias

    def call(self, x: Any, training: bool | None = None) -> Any:
        wq, bq, _, _ = self.quantized_weights(x, training)
        return self.linear(x, wq, bq)

    # -- bits -------------------------------------------------------------------------------------

    def kernel_bits_tensor(self) -> Any:
        """Differentiable bits per weight (for the EBOPs loss), from inference-mode weights."""
        wq, _, fr_w, _ = self.quantized_weights(None, False)
        bits = fixed_ops.weight_bits(wq, fr_w, sign=self.sign_bits)
        if self.grad_scale_on is GradScaleOn.EBOPS:
            bits = fixed_ops.scale_grad(bits, grad_scale(self.kernel_shape, self.granularity))
        return bits

    def integer_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(weight_raw, weight_f, bias_raw, bias_f)`` as int64 arrays, exactly the values the
        layer uses in inference (computed by the layer itself, in its own dtype)."""
        wq, bq, fr_w, fr_b = (ops.convert_to_numpy(t) for t in self.quantized_weights(None, False))
        weight_f = np.rint(fr_w).astype(np.int64)
        bias_f = np.rint(fr_b).astype(np.int64)
        weight_raw = fixed_np.to_raw(wq, weight_f, fixed_np.Round.TRN)
        bias_raw = fixed_np.to_raw(bq, bias_f, fixed_np.Round.TRN)
        if not np.array_equal(np.ldexp(weight_raw.astype(np.float64), -weight_f), wq):
            raise ValueError(f"{self.name}: quantized kernel is not exact at its bit widths")
        return weight_raw, weight_f, bias_raw, bias_f

    # -- the registry: EBOPs and spec -------------------------------------------------------------

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        return None  # the accumulator is exact, not quantized: a quantizer must follow

    def ebops(self, input_bits: Any, source: Bits, *, sign_bits: bool | None = None) -> Any:
        """``sum(b_x @ b_w)``: input bits per element times the bits of every weight it meets."""
        if input_bits is None:
            raise ValueError(
                f"dense layer {self.name!r} has no quantizer before it (put a QInput or "
                "QActivation in front so its input bits are known)"
            )
        if source is Bits.TRAINING:
            w_bits = self.kernel_bits_tensor()
            return ops.sum(ops.matmul(ops.reshape(input_bits, (1, -1)), w_bits))
        weight_raw, _, _, _ = self.integer_weights()
        sign = self.sign_bits if sign_bits is None else sign_bits
        w_bits = fixed_np.weight_bits(weight_raw, exact=source is Bits.EXACT, sign=sign)
        return float(np.reshape(input_bits, -1) @ w_bits.astype(np.float64).sum(axis=1))

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if not inputs:
            raise ValueError(
                "the model must start with a QInput layer (after any Flatten/Reshape) so that "
                f"its inputs are quantized; found {type(self).__name__} {self.name!r} first"
            )
        weight_raw, weight_f, bias_raw, bias_f = self.integer_weights()
        return [
            DenseSpec(
                name=spec_name(self.name),
                inputs=inputs,
                weight_raw=weight_raw,
                weight_f=weight_f,
                bias_raw=bias_raw,
                bias_f=bias_f,
            )
        ]


class FusedBatchNorm:
    """Mixin: a batch normalization after the layer's linear map, folded into the kernel and
    bias before they are quantized (so the exported layer is the plain quantized layer).

    Training normalizes with the batch statistics of the linear map ``linear(x, kernel, bias)``
    (over the batch and, for a convolution, every output position) and updates the moving
    mean / variance (``momentum``); inference folds the moving statistics:
    ``w = kernel * s``, ``b = (bias - mean) * s + beta`` with ``s = gamma_bn / sqrt(var + eps)``
    per output channel (the kernel's last axis). Mix in before the layer class.
    """

    def __init__(
        self, *args: Any, momentum: float = 0.99, epsilon: float = 1e-3, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        if epsilon <= 0:
            raise ValueError(f"epsilon must be positive, got {epsilon}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def _build_extra(self, units: int) -> None:
        self.bn_gamma = self.add_weight(name="bn_gamma", shape=(units,), initializer="ones")
        self.bn_beta = self.add_weight(name="bn_beta", shape=(units,), initializer="zeros")
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=(units,), initializer="zeros", trainable=False
        )
        self.moving_var = self.add_weight(
            name="moving_var", shape=(units,), initializer="ones", trainable=False
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}

    def real_weights(self, x: Any = None, training: bool | None = None) -> tuple[Any, Any]:
        kernel, bias = super().real_weights()
        if training and x is not None:
            y = self.linear(x, kernel, bias)
            axes = tuple(range(len(y.shape) - 1))
            mean = ops.mean(y, axis=axes)
            var = ops.var(y, axis=axes)
            m = self.momentum
            self.moving_mean.assign(m * self.moving_mean + (1 - m) * ops.stop_gradient(mean))
            self.moving_var.assign(m * self.moving_var + (1 - m) * ops.stop_gradient(var))
        else:
            mean, var = self.moving_mean, self.moving_var
        s = self.bn_gamma / ops.sqrt(var + self.epsilon)
        return kernel * s, (bias - mean) * s + self.bn_beta


@keras.saving.register_keras_serializable(package="hgq_train")
class QDenseBatchNorm(FusedBatchNorm, QDense):
    """:class:`QDense` followed by a batch normalization that is folded into the kernel and bias
    before they are quantized (so the exported layer is a plain quantized Dense); see
    :class:`FusedBatchNorm`. Extra parameters ``momentum`` (default 0.99) and ``epsilon``
    (1e-3)."""
