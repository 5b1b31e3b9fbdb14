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
QActivation table     ``Requantize`` (``<name>_in``) then ``Table`` (tanh, sigmoid, ...)
QConv1D/2D(BatchNorm) ``Conv`` (batch norm folded; pruned = raw 0)
QMaxPool1D/2D         ``MaxPool``
QAvgPool1D/2D         ``AvgPool`` (exact sum times 2**-log2(window))
Flatten/Reshape       nothing in a flat spec; ``Reshape`` in a shaped one
Add/Subtract          ``Add`` / ``Subtract`` (two quantized tensors)
Multiply/Concatenate  ``Multiply`` / ``Concatenate`` (``axis`` of one sample)
QSoftmax              ``Requantize``, ``Reshape``/``MaxPool``/``Reshape`` (the max), ``Dense``
                      of ones, ``Subtract``, exp ``Table``, ``Dense`` (the sum), reciprocal
                      ``Table``, ``Dense``, ``Multiply``, ``Requantize``
Dropout               nothing (identity in inference)
(end)                 ``Output``
====================  ==========================================

**Shapes.** A model with a convolution or a pool exports a *shaped* spec (schema version 2):
every tensor keeps the Keras shape of one sample (channels last), quantizer types are arrays
of that shape, and a ``Flatten``/``Reshape`` after the input quantizer is a spec ``Reshape``
(one before it is folded into the ``Input`` shape). Any other model exports flat tensors, as
before (schema version 1 when nothing else needs version 2).

**Bit-exactness.** The spec reproduces the model's quantized inference evaluated in float64
(:func:`float64_clone`): :func:`verify` checks ``reference.evaluate(spec, quantize_inputs(spec,
x))`` against it bit for bit. Export itself works on the float64 clone, so the numbers are the
clone's. The float32 model usually agrees too, but its accumulations round once they need more
than 24 bits; float64 is exact while a dense accumulation spans at most 53 bits.

Each layer gives its own spec layers (:meth:`hgq_train.layers.base.HGQLayer.to_spec`);
:func:`build_spec_layers` only wires them as the model's graph.

Feed ``x.reshape(len(x), *spec.input_shape)`` to :func:`hgq_hw.reference.quantize_inputs`
(files and hardware take each sample flattened, row-major).
"""

from __future__ import annotations

import dataclasses
import sys
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from hgq_hw.fixed import Overflow, Round
from hgq_hw.reference import evaluate, infer_types, quantize_inputs
from hgq_hw.spec import DenseSpec, LayerSpec, ModelSpec, OutputSpec, ReLUSpec, RequantizeSpec
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
    "fold_round_half",
    "keras_raw_outputs",
    "verify",
]


def float64_clone(model: keras.Model) -> keras.Model:
    """The same layers computing in float64, with the same weights (and calibration)."""

    def clone(layer: keras.layers.Layer) -> keras.layers.Layer:
        return type(layer).from_config({**layer.get_config(), "dtype": "float64"})

    inp = keras.Input(shape=tuple(model.input_shape[1:]), dtype="float64")
    with warnings.catch_warnings():  # the clone recompiles with the model's settings; under
        # op determinism Keras says it drops XLA there (the clone is never trained)
        warnings.filterwarnings("ignore", message="Model doesn't support `jit_compile=True`")
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
    if any(node.spatial for node in nodes):
        context = dataclasses.replace(context, shaped=True)
    layers: list[LayerSpec] = []
    tensor: dict[str, str | None] = {}  # Keras layer -> spec tensor holding its output
    last: str | None = None
    for (layer, reads), node in zip(graph, nodes):
        sources = tuple(tensor[name] for name in reads)
        if len(sources) > 1 and None in sources:
            raise ValueError(f"merge layer {layer.name!r} reads a tensor that is not quantized")
        source = sources[0] if len(sources) == 1 else None
        if len(sources) > 1:
            specs = node.to_spec(sources, context)  # type: ignore[arg-type]
        else:
            specs = node.to_spec(() if source is None else (source,), context)
        layers.extend(specs)
        tensor[layer.name] = specs[-1].name if specs else source  # type: ignore[assignment]
        last = tensor[layer.name]
    if last is None:
        raise ValueError(
            "the model must start with a QInput layer (after any Flatten/Reshape) so that its "
            "inputs are quantized; found no quantized layer"
        )
    layers.append(OutputSpec(name="output", inputs=(last,)))
    return layers


def _folded_bias(dense: DenseSpec, half_f: np.ndarray, fold: np.ndarray) -> DenseSpec:
    """``dense`` with ``2**-(half_f[j] + 1)`` added to bias ``j`` where ``fold[j]``."""
    raw, bias_f = dense.bias_raw.tolist(), dense.bias_f.tolist()
    for j in np.flatnonzero(fold):
        f_half = int(half_f[j]) + 1
        f_new = max(int(bias_f[j]), f_half) if raw[j] else f_half
        scaled = (int(raw[j]) << (f_new - int(bias_f[j]))) if raw[j] else 0
        raw[j], bias_f[j] = scaled + (1 << (f_new - f_half)), f_new
    return dataclasses.replace(
        dense, bias_raw=np.array(raw, dtype=np.int64), bias_f=np.array(bias_f, dtype=np.int64)
    )


def fold_round_half(spec: ModelSpec) -> ModelSpec:
    """Fold the half LSB of RND requantizers into the bias before them; they become TRN.

    A ``Requantize`` with ``round=RND`` that reads a ``Dense`` (directly or through a
    ``ReLU``), each read by nothing else, computes ``floor(y * 2**f + 1/2)``, which is
    ``floor((y + 2**-(f+1)) * 2**f)``, TRN of ``y`` with the half LSB added to the bias (with
    the ReLU between too: where ``-2**-(f+1) <= y < 0``, TRN of ``relu(y + 2**-(f+1))`` is 0,
    as RND of ``relu(y)``). Exact for every input, not only the calibration data: the bias
    only gains the fractional bit ``f + 1`` where the accumulator already has at least that
    many fractional bits (elsewhere RND drops no bits and equals TRN), so the accumulator never
    gains fractional bits (it loses some where the folded bias becomes 0). Requantizers that
    read anything else stay RND. The hardware saves the rounding increment of each such
    requantizer (and reads one low bit less); the half LSB costs a bias adder in the adder
    graph only where the bias was 0.
    """
    types = infer_types(spec)
    readers: dict[str, int] = {}
    for layer in spec.layers:
        for name in layer.inputs:
            readers[name] = readers.get(name, 0) + 1
    by_name = {layer.name: layer for layer in spec.layers}
    new: dict[str, LayerSpec] = {}
    for layer in spec.layers:
        if not isinstance(layer, RequantizeSpec) or layer.round is not Round.RND:
            continue
        path = [by_name[layer.inputs[0]]]
        if isinstance(path[0], ReLUSpec):
            path.append(by_name[path[0].inputs[0]])
        dense = path[-1]
        if not isinstance(dense, DenseSpec) or any(readers[p.name] != 1 for p in path):
            continue
        acc, to = types[dense.name], layer.type
        fold = (acc.width > 0) & (to.width > 0) & (acc.f > to.f)
        new[dense.name] = _folded_bias(dense, to.f, fold)
        new[layer.name] = dataclasses.replace(layer, round=Round.TRN)
    if not new:
        return spec
    layers = tuple(new.get(layer.name, layer) for layer in spec.layers)
    folded = [name for name, layer in new.items() if isinstance(layer, RequantizeSpec)]
    metadata = {**spec.metadata, "round_half_folded": folded}
    out = ModelSpec(name=spec.name, layers=layers, metadata=metadata)
    after = infer_types(out)
    for name in new:  # the contract above, checked (fewer bits where a bias became 0)
        if np.any(after[name].f > types[name].f):
            raise RuntimeError(f"folding the half LSB widened the accumulator of {name!r}")
    return out


def _kernel_raw(layer: LayerSpec) -> np.ndarray | None:
    """The raw weights of a Dense or Conv spec layer (None for other kinds)."""
    if isinstance(layer, DenseSpec):
        return layer.weight_raw
    raw = getattr(layer, "kernel_raw", None)
    return None if raw is None else np.asarray(raw)


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
    fold_rounding: bool = True,
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
    kernels = [_kernel_raw(layer) for layer in spec_layers]
    n_weights = sum(int(k.size) for k in kernels if k is not None)
    n_pruned = sum(int(np.count_nonzero(k == 0)) for k in kernels if k is not None)
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
    if fold_rounding:
        spec = fold_round_half(spec)
    return ExportResult(spec, model64, exact)


def export(
    model: keras.Model,
    calibration_x: np.ndarray,
    *,
    overflow: Overflow | str | None = None,
    name: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    calibration_margin_bits: int = 0,
    fold_rounding: bool = True,
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

    ``fold_rounding`` (default True): RND requantizers after a dense layer become TRN with
    the half LSB folded into the bias (:func:`fold_round_half`; same outputs, bit for bit).
    """
    return export_with_model(
        model,
        calibration_x,
        overflow=overflow,
        name=name,
        metadata=metadata,
        calibration_margin_bits=calibration_margin_bits,
        fold_rounding=fold_rounding,
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
    got = np.asarray(evaluate(spec, quantize_inputs(spec, x.reshape(len(x), *spec.input_shape))))
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
