"""Export a trained HGQ model to the spec (:mod:`hgq_hw.spec`), bit-exactly.

:func:`export` calibrates the model on ``calibration_x`` and writes per-weight raw integers and
per-element ``(k, i, f)`` into a :class:`~hgq_hw.spec.ModelSpec`:

====================  ==========================================
Keras layer           spec layers
====================  ==========================================
QInput (first)        ``Input`` (its round and overflow modes)
QDense(BatchNorm)     ``Dense`` (batch norm folded; pruned = raw 0)
QActivation relu      ``ReLU`` then ``Requantize``
QActivation linear    ``Requantize``
Flatten/Reshape       nothing (spec tensors are flat, row-major)
Dropout               nothing (identity in inference)
(end)                 ``Output``
====================  ==========================================

**Bit-exactness.** The spec reproduces the model's quantized inference evaluated in float64
(:func:`float64_clone`): :func:`verify` checks ``reference.evaluate(spec, quantize_inputs(spec,
x))`` against it bit for bit. Export itself works on the float64 clone, so the numbers are the
clone's. The float32 model usually agrees too, but its accumulations round once they need more
than 24 bits; float64 is exact while a dense accumulation spans at most 53 bits.

Each layer gives its own spec layers (:meth:`hgq_train.layers.base.HGQLayer.to_spec`);
:func:`build_spec_layers` only wires them as the model's graph.

Spec inputs are flat: feed ``x.reshape(len(x), -1)`` to :func:`hgq_hw.reference.quantize_inputs`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from hgq_hw.fixed import Overflow
from hgq_hw.reference import evaluate, infer_types, quantize_inputs
from hgq_hw.spec import DenseSpec, LayerSpec, ModelSpec, OutputSpec
from hgq_train.ebops import ebops
from hgq_train.layers.base import SpecContext, model_graph, node_for, spec_name
from hgq_train.quantizers.config import parse_overflow
from hgq_train.training import calibrate, quantizers

__all__ = [
    "ExportResult",
    "build_spec_layers",
    "export",
    "export_with_model",
    "float64_clone",
    "keras_raw_outputs",
    "verify",
]


def float64_clone(model: keras.Model) -> keras.Model:
    """The same layers computing in float64, with the same weights (and calibration)."""

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        return type(layer).from_config({**layer.get_config(), "dtype": "float64"})

    inp = keras.Input(shape=tuple(model.input_shape[1:]), dtype="float64")
    clone_model = keras.models.clone_model(model, input_tensors=inp, clone_function=clone)
    for layer in model.layers:
        if not isinstance(layer, keras.layers.InputLayer):
            clone_model.get_layer(layer.name).set_weights(layer.get_weights())
    return clone_model


def build_spec_layers(model: keras.Model, context: SpecContext) -> list[LayerSpec]:
    """Every layer's own spec layers, wired as the model's graph, then ``Output``.

    Raises ``ValueError`` naming the first unsupported layer, or when the model input reaches a
    layer other than a :class:`~hgq_train.layers.QInput` before being quantized.
    """
    graph = model_graph(model)
    nodes = [node_for(layer) for layer, _ in graph]  # every layer known, before any work
    layers: list[LayerSpec] = []
    tensor: dict[str, str | None] = {}  # Keras layer -> spec tensor holding its output
    last: str | None = None
    for (layer, reads), node in zip(graph, nodes):
        source = tensor[reads[0]] if reads else None
        specs = node.to_spec(() if source is None else (source,), context)
        layers.extend(specs)
        tensor[layer.name] = specs[-1].name if specs else source
        last = tensor[layer.name]
    if last is None:
        raise ValueError(
            "the model must start with a QInput layer (after any Flatten/Reshape) so that its "
            "inputs are quantized; found no quantized layer"
        )
    layers.append(OutputSpec(name="output", inputs=(last,)))
    return layers


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_with_model` returns."""

    spec: ModelSpec
    model64: keras.Model
    """The calibrated float64 copy of the model that the spec reproduces bit for bit."""
    ebops: float
    """Exact EBOPs of the exported network (calibrated widths, weight bit spans)."""


def export_with_model(
    model: keras.Model,
    calibration_x: np.ndarray,
    *,
    overflow: Overflow | str | None = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    calibration_margin_bits: int = 0,
) -> ExportResult:
    """Like :func:`export`, also returning the calibrated float64 model the spec reproduces."""
    ovf = None if overflow is None else parse_overflow(overflow)
    for layer, _ in model_graph(model):
        node_for(layer)  # refuse unsupported layers before any work
    if ovf is not None:
        for layer in quantizers(model):
            layer.overflow = ovf
    model64 = float64_clone(model)
    calibrate(
        model64,
        np.asarray(calibration_x, dtype=np.float64),
        margin_bits=calibration_margin_bits,
    )
    # the calibration (and overflow mode) goes back to the caller's model
    for layer in quantizers(model):
        layer64 = model64.get_layer(layer.name)
        for var, var64 in zip(layer.non_trainable_variables, layer64.non_trainable_variables):
            var.assign(keras.ops.convert_to_numpy(var64).astype(var.dtype))
    spec_layers = build_spec_layers(model64, SpecContext(overflow=ovf))
    exact = ebops(model64, exact=True)
    n_weights = sum(
        int(layer.weight_raw.size) for layer in spec_layers if isinstance(layer, DenseSpec)
    )
    n_pruned = sum(
        int(np.count_nonzero(layer.weight_raw == 0))
        for layer in spec_layers
        if isinstance(layer, DenseSpec)
    )
    meta = {
        "producer": "hgq_train",
        "keras_model": model.name,
        "calibration_samples": len(calibration_x),
        "calibration_margin_bits": calibration_margin_bits,
        "ebops": exact,
        "weights": n_weights,
        "pruned_weights": n_pruned,
        **(dict(metadata) if metadata else {}),
    }
    spec = ModelSpec(name=spec_name(name or model.name), layers=tuple(spec_layers), metadata=meta)
    return ExportResult(spec, model64, exact)


def export(
    model: keras.Model,
    calibration_x: np.ndarray,
    *,
    overflow: Overflow | str | None = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    calibration_margin_bits: int = 0,
) -> ModelSpec:
    """Calibrate ``model`` on ``calibration_x`` and return its spec.

    ``overflow`` (``WRAP``/``SAT``) sets every quantizer's overflow mode, in the spec and in
    ``model``; None keeps each quantizer's own. ``model`` is modified in place: its quantizers
    are calibrated (integer bits from ``calibration_x``), so its inference then wraps or
    saturates like the spec. Raises ``ValueError`` naming the first unsupported layer.

    ``calibration_margin_bits`` (default 0): extra integer bits on every activation element
    beyond the range seen on ``calibration_x`` (see :func:`hgq_train.training.calibrate`);
    each costs one bit of width per element, and keeps inputs that reach up to ``2**m`` times
    further from wrapping or saturating.
    """
    return export_with_model(
        model,
        calibration_x,
        overflow=overflow,
        name=name,
        metadata=metadata,
        calibration_margin_bits=calibration_margin_bits,
    ).spec


def keras_raw_outputs(model64: keras.Model, spec: ModelSpec, x: np.ndarray) -> np.ndarray:
    """The float64 model's outputs on ``x`` as raw integers at the spec's output type
    (``ValueError`` if an output is not on that type's grid)."""
    y = np.asarray(model64.predict(np.asarray(x, dtype=np.float64), verbose=0, batch_size=1024))
    y = y.reshape(len(y), -1)
    f_out = infer_types(spec)[spec.output.name].f.reshape(-1)
    scaled = np.ldexp(y, np.broadcast_to(f_out, y.shape).astype(np.int32))
    raw = np.rint(scaled)
    if not np.array_equal(raw, scaled):
        bad = np.argwhere(raw != scaled)[0].tolist()
        raise ValueError(
            f"Keras output {y[tuple(bad)]!r} of sample {bad[0]}, element {bad[1]} is not on the "
            f"spec output grid 2**-{int(f_out[bad[1]])}"
        )
    return raw.astype(np.int64)


def verify(model64: keras.Model, spec: ModelSpec, x: np.ndarray) -> int:
    """Check the spec against the float64 model on ``x`` bit for bit; return the sample count.

    Raises ``ValueError`` naming the first mismatching sample and output.
    """
    x = np.asarray(x, dtype=np.float64)
    expected = keras_raw_outputs(model64, spec, x)
    got = np.asarray(evaluate(spec, quantize_inputs(spec, x.reshape(len(x), -1))))
    got = got.reshape(len(got), -1)
    if not np.array_equal(expected, got.astype(np.int64)):
        sample, index = np.argwhere(expected != got)[0].tolist()
        raise ValueError(
            f"spec and Keras model differ at sample {sample}, output {index}: "
            f"Keras raw {expected[sample, index]}, spec raw {got[sample, index]}"
        )
    return len(x)


class _CallableModule(types.ModuleType):
    """Lets ``hgq_train.export(model, x)`` work whether ``hgq_train.export`` resolves to this
    module (after ``import hgq_train.export``) or to the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> ModelSpec:
        return export(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
