"""Keras wrappers over the quantizer math: the activation :class:`Quantizer` layer, the bit-width
regularizer (``gamma * sum(f)``) and the constraint that keeps ``f`` in its range."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from hgq_train.quantizers import fixed_np, fixed_ops
from hgq_train.quantizers.config import (
    GradScaleOn,
    Granularity,
    f_shape,
    grad_scale,
    parse_overflow,
    parse_round,
)

__all__ = ["BitRange", "BitsRegularizer", "Quantizer"]

_PACKAGE = "hgq_train"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BitsRegularizer(keras.regularizers.Regularizer):
    """``gamma * sum(f)``: a small pull of every trainable bit width towards fewer bits."""

    def __init__(self, gamma: float = 1e-6) -> None:
        if gamma < 0:
            raise ValueError(f"gamma must be >= 0, got {gamma}")
        self.gamma = float(gamma)

    def __call__(self, f: Any) -> Any:
        return self.gamma * ops.sum(f)

    def get_config(self) -> dict[str, Any]:
        return {"gamma": self.gamma}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class BitRange(keras.constraints.Constraint):
    """Keeps a bit-width variable inside ``[f_min - 1/2, f_max + 1/2]`` after each update."""

    def __init__(self, f_min: float, f_max: float) -> None:
        if f_min > f_max:
            raise ValueError(f"f_min ({f_min}) must not exceed f_max ({f_max})")
        self.f_min, self.f_max = float(f_min), float(f_max)

    def __call__(self, f: Any) -> Any:
        return ops.clip(f, self.f_min - 0.5, self.f_max + 0.49)

    def get_config(self) -> dict[str, Any]:
        return {"f_min": self.f_min, "f_max": self.f_max}


@keras.saving.register_keras_serializable(package=_PACKAGE)
class Quantizer(keras.layers.Layer):
    """Quantizes activations element-wise with trainable fractional bits (HGQ).

    Parameters
    ----------
    activation:
        ``"linear"`` or ``"relu"``, applied before quantizing.
    granularity:
        ``"element"`` (one ``f`` per element, shared over the batch), ``"channel"`` or
        ``"layer"``.
    f_init, f_min, f_max:
        Initial real bit width and the range the bits in use are clipped to.
    round_mode:
        ``"RND"`` (round half up) or ``"TRN"`` (floor).
    overflow:
        ``"WRAP"`` or ``"SAT"``: what happens, after calibration, to values outside the
        integer bits found on the calibration data. Training never overflows (the integer bits
        follow the running range of the values).
    gamma:
        Weight of the ``gamma * sum(f)`` regularizer.
    grad_scale_on:
        ``"ebops"`` (default, as HGQ) or ``"task"``: which gradient of a shared ``f`` (channel
        or layer granularity) is scaled by ``1/sqrt(n)``, see
        :class:`~hgq_train.quantizers.config.GradScaleOn`.

    Members
    -------
    ``f`` (trainable), and per element ``vmin``/``vmax`` (running range of the quantized values,
    reset by :meth:`reset_range`), ``k``/``i`` (calibrated sign and integer bits) and the flag
    ``calibrated``. In inference after :meth:`calibrate`, values get WRAP/SAT to ``(k, i, f)``.
    """

    ACTIVATIONS = ("linear", "relu")

    def __init__(
        self,
        activation: str = "linear",
        *,
        granularity: str = "element",
        f_init: float = 6.0,
        f_min: float = -8.0,
        f_max: float = 16.0,
        round_mode: str = "RND",
        overflow: str = "WRAP",
        gamma: float = 1e-6,
        grad_scale_on: str = "ebops",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if activation not in self.ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(self.ACTIVATIONS)}, got {activation!r}"
            )
        if not f_min <= f_init <= f_max:
            raise ValueError(f"f_init ({f_init}) must lie in [f_min, f_max] = [{f_min}, {f_max}]")
        self.activation = activation
        self.granularity = Granularity.parse(granularity)
        self.f_init, self.f_min, self.f_max = float(f_init), float(f_min), float(f_max)
        self.round_mode = parse_round(round_mode)
        self.overflow = parse_overflow(overflow)
        self.gamma = float(gamma)
        self.grad_scale_on = GradScaleOn.parse(grad_scale_on)
        self.calibrating = False
        """While True, inference calls record the value range and never overflow."""

    # -- Keras plumbing -----------------------------------------------------------------------

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        feat = tuple(int(d) for d in input_shape[1:])
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"{self.name}: all dimensions but the batch must be known")
        self.feature_shape = feat

        def const(value: float) -> keras.initializers.Initializer:
            return keras.initializers.Constant(value)

        self.f = self.add_weight(
            name="f",
            shape=f_shape(feat, self.granularity),
            initializer=const(self.f_init),
            regularizer=BitsRegularizer(self.gamma) if self.gamma else None,
            constraint=BitRange(self.f_min, self.f_max),
        )
        self.vmin = self.add_weight(
            name="vmin", shape=feat, initializer=const(np.inf), trainable=False
        )
        self.vmax = self.add_weight(
            name="vmax", shape=feat, initializer=const(-np.inf), trainable=False
        )
        self.k = self.add_weight(name="k", shape=feat, initializer="zeros", trainable=False)
        self.i = self.add_weight(name="i", shape=feat, initializer="zeros", trainable=False)
        self.calibrated = self.add_weight(
            name="calibrated", shape=(), initializer="zeros", trainable=False
        )

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "activation": self.activation,
            "granularity": self.granularity.value,
            "f_init": self.f_init,
            "f_min": self.f_min,
            "f_max": self.f_max,
            "round_mode": self.round_mode.value,
            "overflow": self.overflow.value,
            "gamma": self.gamma,
            "grad_scale_on": self.grad_scale_on.value,
        }

    # -- the computation ----------------------------------------------------------------------

    def bits_in_use(self) -> Any:
        """Integer-valued fractional bits (broadcastable to the element shape), STE in ``f``."""
        return fixed_ops.round_bits(self.f, self.f_min, self.f_max)

    def call(self, x: Any, training: bool | None = None) -> Any:
        if self.activation == "relu":
            x = ops.relu(x)
        fr = self.bits_in_use()
        xq = fixed_ops.quantize(x, fr, self.round_mode)
        if training or self.calibrating:
            self.vmin.assign(ops.minimum(self.vmin, ops.min(xq, axis=0)))
            self.vmax.assign(ops.maximum(self.vmax, ops.max(xq, axis=0)))
        if training:
            # the old place of the 1/sqrt(n) of a shared f (n elements of one sample; never the
            # batch: the task loss is a batch mean, so its per-sample sum is an average)
            scale = self._shared_scale() if self.grad_scale_on is GradScaleOn.TASK else 1.0
            return fixed_ops.with_surrogate(x, xq, fr, scale)
        if self.calibrating:
            return xq
        wrapped = fixed_ops.apply_overflow(xq, self.k, self.i, fr, self.overflow)
        return ops.where(self.calibrated > 0, wrapped, xq)

    # -- range, calibration, bits ---------------------------------------------------------------

    def reset_range(self) -> None:
        """Forget the recorded value range (done at the start of every epoch)."""
        self.vmin.assign(np.full(self.feature_shape, np.inf))
        self.vmax.assign(np.full(self.feature_shape, -np.inf))

    def f_np(self) -> np.ndarray:
        """Fractional bits in use per element (int64, element shape)."""
        fr = fixed_np.round_bits(ops.convert_to_numpy(self.f), self.f_min, self.f_max)
        return np.broadcast_to(fr, self.feature_shape).copy()

    def calibrate(self, *, margin_bits: int = 0) -> None:
        """Set ``k``/``i`` from the recorded range (exactly, in numpy) and switch overflow on.

        ``margin_bits`` extra integer bits on every element that is not pruned (each doubles
        the range that fits before WRAP/SAT acts, for one more bit of width); pruned elements
        (only zeros seen) stay pruned.
        """
        if not isinstance(margin_bits, int | np.integer) or margin_bits < 0:
            raise ValueError(f"margin_bits must be a non-negative integer, got {margin_bits!r}")
        f = self.f_np()
        k, i = fixed_np.int_bits_from_range(
            ops.convert_to_numpy(self.vmin), ops.convert_to_numpy(self.vmax), f
        )
        i = np.where(k + i + f > 0, i + int(margin_bits), i)
        self.k.assign(k.astype(np.float64))
        self.i.assign(i.astype(np.float64))
        self.calibrated.assign(1.0)

    def kif(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Calibrated per-element ``(k, i, f)`` as int64 arrays (after :meth:`calibrate`)."""
        if float(ops.convert_to_numpy(self.calibrated)) <= 0:
            raise ValueError(f"quantizer {self.name!r} is not calibrated (run calibration first)")
        k = np.rint(ops.convert_to_numpy(self.k)).astype(np.int64)
        i = np.rint(ops.convert_to_numpy(self.i)).astype(np.int64)
        return k, i, self.f_np()

    def _shared_scale(self) -> float:
        """``1/sqrt(n)``: ``n`` elements of one sample share each ``f``."""
        return grad_scale(self.feature_shape, self.granularity)

    def bits_tensor(self) -> Any:
        """Differentiable bits per element from the running range (for the EBOPs loss); with
        ``grad_scale_on="ebops"`` their gradient is scaled by ``1/sqrt(n)``."""
        fr = ops.broadcast_to(self.bits_in_use(), self.feature_shape)
        k, i = fixed_ops.int_bits_from_range(self.vmin, self.vmax, fr)
        bits = fixed_ops.activation_bits(k, i, fr)
        if self.grad_scale_on is GradScaleOn.EBOPS:
            bits = fixed_ops.scale_grad(bits, self._shared_scale())
        return bits

    def bits_np(self, *, calibrated: bool | None = None) -> np.ndarray:
        """Bits per element as numpy: calibrated widths when calibrated, else from the range."""
        if calibrated is None:
            calibrated = float(ops.convert_to_numpy(self.calibrated)) > 0
        if calibrated:
            k, i, f = self.kif()
        else:
            f = self.f_np()
            k, i = fixed_np.int_bits_from_range(
                ops.convert_to_numpy(self.vmin), ops.convert_to_numpy(self.vmax), f
            )
        return (k + np.maximum(i + f, 0)).astype(np.float64)
