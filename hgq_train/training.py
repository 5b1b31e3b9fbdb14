"""The HGQ training objective: ``task loss + beta * cost + gamma * sum(f)``.

``cost`` is EBOPs (default) or the predicted xc7 LUTs of :mod:`hgq_train.cost`
(``cost="luts"``). ``gamma * sum(f)`` is a regularizer on every bit-width variable (set per
layer). The cost term needs the whole model, so it lives in :class:`HGQLoss`, a Keras loss that
wraps the task loss and holds ``beta`` in a variable that callbacks change between epochs
without retracing.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from hgq_hw.cost_features import load_cost_model
from hgq_train.cost import Cost, luts_tensor
from hgq_train.determinism import allow_xla
from hgq_train.ebops import ebops_tensor
from hgq_train.quantizers.layer import Quantizer

__all__ = [
    "HGQLoss",
    "calibrate",
    "compile_hgq",
    "get_hgq_loss",
    "quantizers",
    "reset_ranges",
    "train_dataset",
]


@keras.saving.register_keras_serializable(package="hgq_train")
class HGQLoss(keras.losses.Loss):
    """``task(y_true, y_pred) + beta * cost(model)`` (per sample; the mean adds it once).

    ``cost``: ``"ebops"`` (EBOPs; ``beta`` is the loss per EBOP) or ``"luts"`` (predicted xc7
    LUTs, :func:`hgq_train.cost.luts_tensor`; ``beta`` is the loss per predicted LUT). With
    the shipped coefficients a trained digits MLP predicts 1.3 LUTs per EBOP, so
    ``beta_luts = beta_ebops / 1.3`` puts the same weight on the resource term (with Adam the
    scale of beta matters less than its sign and the step count).
    ``model`` may be None (e.g. after deserialization): then only the task loss is computed.
    ``beta`` is a non-trainable ``keras.Variable``; assign to it to change the trade-off.
    """

    def __init__(
        self,
        task: Any = "sparse_categorical_crossentropy_logits",
        model: keras.Model | None = None,
        beta: float = 0.0,
        name: str = "hgq_loss",
        cost: Cost | str = Cost.EBOPS,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.cost = Cost.parse(cost)
        self.cost_model = load_cost_model() if self.cost is Cost.LUTS else None
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.task_name = task if isinstance(task, str) else None
        if task == "sparse_categorical_crossentropy_logits":
            task = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.task = keras.losses.get(task) if isinstance(task, str | dict) else task
        self.model = model
        self.beta = keras.Variable(float(beta), trainable=False, name="beta", dtype="float32")

    def call(self, y_true: Any, y_pred: Any) -> Any:
        task = self.task(y_true, y_pred)
        if self.model is None:
            return task
        if self.cost is Cost.LUTS:
            resource = luts_tensor(self.model, self.cost_model)
        else:
            resource = ebops_tensor(self.model)
        reg = keras.ops.cast(resource, task.dtype)
        return task + keras.ops.cast(self.beta, task.dtype) * reg

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task_name or keras.losses.serialize(self.task),
            "beta": float(keras.ops.convert_to_numpy(self.beta)),
            "cost": self.cost.value,
        }


def _ends_with_probabilities(model: keras.Model) -> bool:
    """Whether ``model`` outputs probabilities (its last layer is a ``QSoftmax``)."""
    from hgq_train.layers.softmax import QSoftmax

    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    return bool(layers) and isinstance(layers[-1], QSoftmax)


def compile_hgq(
    model: keras.Model,
    *,
    beta: float = 0.0,
    learning_rate: float = 3e-3,
    optimizer: keras.optimizers.Optimizer | None = None,
    task: Any = "sparse_categorical_crossentropy_logits",
    metrics: list[Any] | None = None,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
    cost: Cost | str = Cost.EBOPS,
) -> HGQLoss:
    """Compile ``model`` with the HGQ loss (Adam by default); returns the loss (its ``beta``).

    The fast setting on a CPU is ``jit_compile=True, steps_per_execution=8``: about half the
    time per epoch of the default, for 5-10 s of XLA compilation up front (and again for a last
    partial batch), so it pays off for long runs. ``steps_per_execution > 1`` needs
    ``jit_compile=True``: without XLA, Keras 3.15 (TensorFlow backend) lets consecutive steps of
    one execution overlap, and training came out different from run to run (measured: EBOPs
    30271 / 30279 / 30288 after 5 epochs with the same seed), so that combination is refused.
    Callbacks see every ``steps_per_execution``-th batch (``beta`` and the value ranges change
    per epoch only). ``"auto"`` is Keras' rule (XLA on GPUs only).

    The default ``task`` is the cross-entropy of logits; a model whose last layer is a
    :class:`~hgq_train.layers.QSoftmax` gets the cross-entropy of probabilities instead.

    ``cost`` picks the resource term: ``"ebops"`` (default, ``beta`` per EBOP) or ``"luts"``
    (``beta`` per predicted xc7 LUT, see :class:`HGQLoss`).
    """
    if steps_per_execution < 1:
        raise ValueError(f"steps_per_execution must be >= 1, got {steps_per_execution}")
    if steps_per_execution > 1 and jit_compile is not True:
        raise ValueError(
            "steps_per_execution > 1 needs jit_compile=True (without XLA, steps of one "
            "execution overlap in Keras 3's TensorFlow trainer and training is not reproducible)"
        )
    if task == "sparse_categorical_crossentropy_logits" and _ends_with_probabilities(model):
        task = "sparse_categorical_crossentropy"
    loss = HGQLoss(task, model, beta, cost=cost)
    with allow_xla(jit_compile):  # Keras drops XLA under TF's op determinism otherwise
        model.compile(
            optimizer=optimizer or keras.optimizers.Adam(learning_rate),
            loss=loss,
            metrics=metrics if metrics is not None else ["accuracy"],
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
        )
    return loss


def train_dataset(
    x: np.ndarray, y: np.ndarray, *, batch_size: int = 32, seed: int | None = None
) -> Any:
    """A cached ``tf.data`` pipeline of shuffled batches (reshuffled every epoch) for
    ``model.fit``: with the TensorFlow backend, much cheaper per epoch than passing numpy arrays
    (Keras 3 rebuilds its gather pipeline every epoch). Pass it as ``x`` to
    ``fit`` without ``batch_size``. Needs TensorFlow (any Keras backend)."""
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and equally long, got {len(x)} and {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if x.dtype == np.float64:
        x = x.astype(keras.backend.floatx())
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def get_hgq_loss(model: keras.Model) -> HGQLoss:
    """The :class:`HGQLoss` a model was compiled with (``ValueError`` if none)."""
    loss = getattr(model, "loss", None)
    if not isinstance(loss, HGQLoss):
        raise ValueError(
            f"model {model.name!r} is not compiled with an HGQLoss (use hgq_train.compile_hgq)"
        )
    return loss


def quantizers(model: keras.Model) -> list[Quantizer]:
    """Every activation quantizer of ``model`` (QInput, QActivation), in layer order."""
    return [layer for layer in model.layers if isinstance(layer, Quantizer)]


def reset_ranges(model: keras.Model) -> None:
    """Forget the recorded value range of every quantizer."""
    for q in quantizers(model):
        q.reset_range()


def calibrate(
    model: keras.Model, x: np.ndarray, *, batch_size: int = 1024, margin_bits: int = 0
) -> None:
    """Record each quantizer's value range on ``x`` (inference mode, no overflow), then set
    their integer bits from it; afterwards inference applies WRAP/SAT outside that range.

    ``margin_bits``: extra integer bits per (unpruned) activation element beyond what ``x``
    needs, for inputs that reach further than the calibration data (default 0: exactly the
    range of ``x``)."""
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"calibration data must be a non-empty batch, got shape {x.shape}")
    qs = quantizers(model)
    reset_ranges(model)
    for q in qs:
        q.calibrating = True
    try:
        for start in range(0, len(x), batch_size):
            model(x[start : start + batch_size], training=False)
    finally:
        for q in qs:
            q.calibrating = False
    for q in qs:
        q.calibrate(margin_bits=margin_bits)
