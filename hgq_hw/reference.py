"""The integer reference: bit-exact evaluation of a spec on raw integer inputs.

This is the ground truth that training export, the generated RTL and the boards must match bit for
bit. Every tensor is a batch of raw integers together with the per-element :class:`TensorType`
from :func:`infer_types`. Arithmetic is exact: each layer computes in numpy ``int64`` when a bound
derived from the spec's bit widths proves every intermediate stays below ``2**62``, and in numpy
``object`` arrays of Python ints otherwise, so nothing ever overflows silently.

Type rules (part of the contract):

* ``Input``: the declared per-element type.
* ``Dense``: exact. Output element ``j`` has ``f = max(f_x[i] + f_w[i, j])`` over the weights that
  contribute (non-zero raw, input width > 0) and ``bias_f[j]`` when the bias is non-zero; ``k`` and
  ``i`` are the smallest that hold the output's value interval (interval arithmetic over the
  input types). An output with no contribution is the width-0 type ``(0, 0, 0)``.
* ``Requantize``: the declared type; rounding (TRN/RND) first, then overflow (WRAP/SAT).
* ``ReLU``: same ``i`` and ``f``, ``k = 0``.
* ``Output``: its input's type.

Width-0 types are normalised to ``(0, 0, 0)`` in inferred types; their raw value is always 0.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from hgq_hw.fixed import (
    SAFE_INT64_BITS,
    Overflow,
    Round,
    TensorType,
    int_dtype_for,
    requantize_raw,
    saturate_raw,
    type_for_range,
    wrap_raw,
)
from hgq_hw.spec import (
    DenseSpec,
    InputSpec,
    LayerSpec,
    ModelSpec,
    OutputSpec,
    ReLUSpec,
    RequantizeSpec,
)

__all__ = [
    "dense_effective",
    "evaluate",
    "infer_types",
    "input_bounds",
    "predict",
    "quantize_inputs",
    "to_real",
]


def _normalise(t: TensorType) -> TensorType:
    zero = (t.k + t.i + t.f) <= 0
    return TensorType(np.where(zero, 0, t.k), np.where(zero, 0, t.i), np.where(zero, 0, t.f))


def dense_effective(
    layer: DenseSpec, x_type: TensorType
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer form of a Dense layer on inputs of type ``x_type``.

    Returns ``(w_eff, b_eff, f_out)`` with ``y_raw = x_raw @ w_eff + b_eff`` exactly and ``y_raw``
    at fractional bits ``f_out`` (all object arrays of Python ints except ``f_out``, int64).
    Pruned weights and weights on width-0 inputs are 0 in ``w_eff``.
    """
    n_in, n_out = layer.weight_raw.shape
    live_in = x_type.width > 0
    contributes = (layer.weight_raw != 0) & live_in[:, None]
    exponent = x_type.f[:, None] + layer.weight_f
    f_out = np.zeros(n_out, dtype=np.int64)
    w_eff = np.zeros((n_in, n_out), dtype=object)
    b_eff = np.zeros(n_out, dtype=object)
    for j in range(n_out):
        candidates = exponent[contributes[:, j], j].tolist()
        if layer.bias_raw[j] != 0:
            candidates.append(int(layer.bias_f[j]))
        if not candidates:
            continue
        f_out[j] = max(candidates)
        for i in np.flatnonzero(contributes[:, j]):
            w_eff[i, j] = int(layer.weight_raw[i, j]) << int(f_out[j] - exponent[i, j])
        if layer.bias_raw[j] != 0:
            b_eff[j] = int(layer.bias_raw[j]) << int(f_out[j] - layer.bias_f[j])
    return w_eff, b_eff, f_out


def _dense_type(layer: DenseSpec, x_type: TensorType) -> TensorType:
    w_eff, b_eff, f_out = dense_effective(layer, x_type)
    x_lo, x_hi = x_type.raw_bounds()
    k, i, f = [], [], []
    for j in range(layer.n_out):
        lo = hi = b_eff[j]
        for row in np.flatnonzero(w_eff[:, j] != 0):
            a, b = x_lo[row] * w_eff[row, j], x_hi[row] * w_eff[row, j]
            lo += min(a, b)
            hi += max(a, b)
        t = type_for_range(lo, hi, int(f_out[j]))
        k.append(t.k)
        i.append(t.i)
        f.append(t.f)
    return TensorType(np.array(k), np.array(i), np.array(f))


def _layer_type(layer: LayerSpec, inputs: list[TensorType]) -> TensorType:
    if isinstance(layer, InputSpec):
        return layer.type
    if isinstance(layer, DenseSpec):
        return _dense_type(layer, inputs[0])
    if isinstance(layer, RequantizeSpec):
        return layer.type
    if isinstance(layer, ReLUSpec):
        t = inputs[0]
        return _normalise(TensorType(np.zeros_like(t.k), t.i, t.f))
    if isinstance(layer, OutputSpec):
        return inputs[0]
    raise TypeError(f"the reference does not know layer kind {layer.kind!r}")


def infer_types(spec: ModelSpec) -> dict[str, TensorType]:
    """Per-element fixed-point type of every tensor of ``spec`` (see the module's type rules)."""
    types: dict[str, TensorType] = {}
    for layer in spec.layers:
        types[layer.name] = _layer_type(layer, [types[s] for s in layer.inputs])
    return types


def input_bounds(spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest raw input per element (object arrays of Python ints)."""
    return spec.input.type.raw_bounds()


def _cast(raw: np.ndarray, t: TensorType) -> np.ndarray:
    """Store a tensor as int64 when its type allows, else as Python ints."""
    return raw.astype(int_dtype_for(t.max_abs_raw()))


def _check_input(spec: ModelSpec, x_raw: np.ndarray) -> np.ndarray:
    x = np.asarray(x_raw)
    shape = spec.input_shape
    if x.shape[1:] != shape:
        raise ValueError(
            f"spec {spec.name!r} expects raw inputs of shape (batch, {', '.join(map(str, shape))})"
            f", got {x.shape}"
        )
    if x.dtype.kind not in "iu" and x.dtype != object:
        raise TypeError(f"raw inputs must be integers, got dtype {x.dtype}")
    x = x.astype(object) if x.dtype == object or x.dtype.kind == "u" else x.astype(np.int64)
    lo, hi = input_bounds(spec)
    bad = (x < lo) | (x > hi)
    if np.any(bad):
        sample, *element = np.argwhere(bad)[0].tolist()
        t = spec.input.type.element(tuple(element))
        raise ValueError(
            f"raw input {x[(sample, *element)]} of sample {sample}, element {element} is outside "
            f"its type {t} (raw range [{t.raw_min}, {t.raw_max}])"
        )
    return _cast(x, spec.input.type)


def _eval_dense(layer: DenseSpec, x: np.ndarray, x_type: TensorType) -> np.ndarray:
    w_eff, b_eff, _ = dense_effective(layer, x_type)
    max_x = x_type.max_abs_raw()
    bound = max_x * int(np.sum(np.abs(w_eff))) + int(np.sum(np.abs(b_eff)))
    if int_dtype_for(bound) == np.int64:
        return x.astype(np.int64) @ w_eff.astype(np.int64) + b_eff.astype(np.int64)
    return x.astype(object) @ w_eff + b_eff


def _eval_requantize(layer: RequantizeSpec, x: np.ndarray, x_type: TensorType) -> np.ndarray:
    to = layer.type
    left = int(np.max(np.maximum(to.f - x_type.f, 0), initial=0))
    right = int(np.max(np.maximum(x_type.f - to.f, 0), initial=0))
    bound = (x_type.max_abs_raw() << left) + (1 << right)
    wide = int(np.max(to.width, initial=0)) > SAFE_INT64_BITS or right > SAFE_INT64_BITS
    dtype = object if wide else int_dtype_for(bound)
    return requantize_raw(x.astype(dtype), x_type.f, to, layer.round, layer.overflow)


def evaluate(
    spec: ModelSpec, x_raw: np.ndarray, *, all_tensors: bool = False
) -> np.ndarray | dict[str, np.ndarray]:
    """Run ``spec`` on a batch of raw inputs, exactly.

    ``x_raw`` has shape ``(batch, *spec.input_shape)`` and every value must lie in its element's
    input type (``ValueError`` naming the sample and element otherwise). Returns the raw output
    batch (dtype int64 when the output type fits, else object of Python ints), or with
    ``all_tensors=True`` a dict of every tensor by layer name.
    """
    types = infer_types(spec)
    values: dict[str, np.ndarray] = {}
    for layer in spec.layers:
        if isinstance(layer, InputSpec):
            out = _check_input(spec, x_raw)
        else:
            x = values[layer.inputs[0]]
            x_type = types[layer.inputs[0]]
            if isinstance(layer, DenseSpec):
                out = _eval_dense(layer, x, x_type)
            elif isinstance(layer, RequantizeSpec):
                out = _eval_requantize(layer, x, x_type)
            elif isinstance(layer, ReLUSpec):
                out = np.maximum(x, 0)
            elif isinstance(layer, OutputSpec):
                out = x
            else:
                raise TypeError(f"the reference does not know layer kind {layer.kind!r}")
        values[layer.name] = _cast(out, types[layer.name])
    return values if all_tensors else values[spec.output.name]


def quantize_inputs(spec: ModelSpec, x_real: np.ndarray) -> np.ndarray:
    """Real inputs -> raw integers exactly as the input quantizer does.

    Per element: ``floor(x * 2**f)`` (TRN) or ``floor(x * 2**f + 1/2)`` (RND), computed exactly
    from the float64 value of ``x``, then WRAP or SAT into the element's type. NaN or infinite
    inputs raise ``ValueError``.
    """
    layer = spec.input
    x = np.asarray(x_real, dtype=np.float64)
    if x.shape[1:] != spec.input_shape:
        raise ValueError(
            f"spec {spec.name!r} expects inputs of shape (batch, "
            f"{', '.join(map(str, spec.input_shape))}), got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("inputs contain NaN or infinite values")
    t = layer.type
    # floor(2 * x * 2**f) is exact in float64 (scaling by a power of two, then floor).
    doubled = np.floor(np.ldexp(x, np.broadcast_to(t.f + 1, x.shape).astype(np.int32)))
    # Underflow to -0.0 of a tiny negative value: the true floor is -1.
    doubled = np.where((doubled == 0) & (x < 0), -1.0, doubled)
    if np.all(np.abs(doubled) < 2.0**SAFE_INT64_BITS):
        q = doubled.astype(np.int64)
    else:
        q = np.empty(x.shape, dtype=object)
        for index in np.ndindex(*x.shape):
            scaled = Fraction(float(x[index])) * Fraction(2) ** int(t.f[index[1:]] + 1)
            q[index] = math.floor(scaled)
    q = (q + 1) >> 1 if layer.round is Round.RND else q >> 1
    dtype = object if q.dtype == object or np.max(t.width) > SAFE_INT64_BITS else np.int64
    q = q.astype(dtype)
    q = wrap_raw(q, t) if layer.overflow is Overflow.WRAP else saturate_raw(q, t)
    return _cast(q, t)


def predict(spec: ModelSpec, x_real: np.ndarray) -> np.ndarray:
    """Real output values (float64) of ``spec`` on real inputs: :func:`quantize_inputs`, then
    :func:`evaluate`, then :func:`to_real` with the output's per-element types.

    Compare outputs by these real values (argmax for a class), never by raw integers: elements
    of one output may have different fractional bits.
    """
    x = np.asarray(x_real, dtype=np.float64)
    x = x.reshape(len(x), *spec.input_shape)
    raw = evaluate(spec, quantize_inputs(spec, x))
    return to_real(raw, infer_types(spec)[spec.output.name])


def to_real(raw: np.ndarray, t: TensorType) -> np.ndarray:
    """Real values ``raw * 2**-f`` as float64 (exact while they fit in 53 bits)."""
    return np.ldexp(np.asarray(raw, dtype=np.float64), np.broadcast_to(-t.f, np.shape(raw)))
