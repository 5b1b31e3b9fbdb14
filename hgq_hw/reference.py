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
* ``Table``: the declared type. Element ``e`` maps raw input ``v`` to
  ``tables[table_of[e]][v - raw_min(in_type[e])]``; a table whose length is not
  ``2**width(in_type[e])`` is a :class:`SpecError` naming the layer and ``tables``.
* ``Output``: its input's type.
* ``Conv``: the ``Dense`` rule applied to its im2col form over the flattened input
  (:func:`hgq_hw.lowering.conv_as_dense`; computed over window taps by
  :mod:`hgq_hw.window_reference`), reshaped to the output shape: per output element,
  ``f`` is the largest of ``f_x + kernel_f`` over the live taps (and ``bias_f`` when the bias is
  non-zero), ``k``/``i`` the smallest holding its interval.
* ``AvgPool``: the ``Dense`` rule with weight ``2**-log2(window)`` on each window element
  (:func:`hgq_hw.lowering.avgpool_as_dense`): ``f`` is the largest live ``f_x`` of the window
  plus ``log2(window)``, exact.
* ``MaxPool``: a type covering every element of the window (what the hardware's
  compare-and-select needs): ``f`` the largest live ``f_x``, ``k``/``i`` the smallest holding
  ``[min of the minima, max of the maxima]`` (a width-0 element counts as the value 0).
* ``Reshape``: the input's types, reshaped (C order).
* ``Add`` / ``Subtract``: exact, per element ``f = max(f_a, f_b)`` over the live operands
  (width > 0; a width-0 operand is the value 0), ``k``/``i`` the smallest holding
  ``[lo_a + lo_b, hi_a + hi_b]`` (``[lo_a - hi_b, hi_a - lo_b]``) at that ``f``; both operands
  width 0 give the width-0 type.
* ``Multiply``: exact, ``f = f_a + f_b``, ``k``/``i`` the smallest holding the interval of the
  product (the extremes of the four corner products); width 0 when either operand is.
* ``Concatenate``: the inputs' types, concatenated along ``axis``.

Tensors keep their N-d shapes here: :func:`evaluate` takes ``(batch, *input_shape)`` or the
flattened ``(batch, prod(input_shape))`` and returns ``(batch, *output_shape)``; every file
format and every stage below (plans, hardware, sim vectors) uses the flattened C-order vector.

Width-0 types are normalised to ``(0, 0, 0)`` in inferred types; their raw value is always 0.

Each layer kind is one :class:`ReferenceRule` in :data:`RULES` (:func:`register_rule`): a new
kind adds a rule and nothing here changes. Every layer reads the tensors its ``inputs`` name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

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
from hgq_hw.lowering import FlatConcatenateSpec, FlatMaxPoolSpec, pool_sources
from hgq_hw.spec import (
    AddSpec,
    AvgPoolSpec,
    ConcatenateSpec,
    ConvSpec,
    DenseSpec,
    InputSpec,
    LayerSpec,
    MaxPoolSpec,
    ModelSpec,
    MultiplySpec,
    OutputSpec,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
    SpecError,
    SubtractSpec,
    TableSpec,
)
from hgq_hw.window_reference import avgpool_as_conv, conv_type, eval_conv

__all__ = [
    "RULES",
    "ReferenceRule",
    "check_input",
    "dense_effective",
    "evaluate",
    "infer_types",
    "input_bounds",
    "merge_type",
    "overflow_edges",
    "predict",
    "quantize_inputs",
    "register_rule",
    "rule_for",
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


@dataclass(frozen=True)
class ReferenceRule:
    """How the reference handles one layer kind: its type rule and its exact evaluation.

    ``infer(layer, in_types)`` gives the output type from the input tensors' types;
    ``evaluate(layer, xs, in_types)`` the raw output batch from the input batches (exact; the
    result is cast to the inferred type afterwards). Optional hooks: ``declares_type`` (the
    layer's output type is declared in the spec, as for an activation quantizer, rather than
    derived), ``weights(layer)`` (its raw weight matrix, or None) and ``edges(layer, xs,
    in_types)`` (boolean columns of overflow-edge classes per sample, see
    :func:`overflow_edges`).
    """

    infer: Callable[[Any, list[TensorType]], TensorType]
    evaluate: Callable[[Any, list[np.ndarray], list[TensorType]], np.ndarray]
    declares_type: bool = False
    weights: Callable[[Any], np.ndarray | None] = lambda layer: None
    edges: Callable[[Any, list[np.ndarray], list[TensorType]], list[np.ndarray]] = (
        lambda layer, xs, in_types: []
    )


RULES: dict[type[LayerSpec], ReferenceRule] = {}
"""Layer class -> its :class:`ReferenceRule` (see :func:`register_rule`)."""


def register_rule(kind: type[LayerSpec], rule: ReferenceRule) -> None:
    """Make the reference handle layer class ``kind`` (replaces an earlier rule for it)."""
    if not (isinstance(kind, type) and issubclass(kind, LayerSpec)):
        raise TypeError(f"kind must be a LayerSpec subclass, got {kind!r}")
    if not isinstance(rule, ReferenceRule):
        raise TypeError(f"rule must be a ReferenceRule, got {type(rule).__name__}")
    RULES[kind] = rule


def rule_for(layer: LayerSpec) -> ReferenceRule:
    """The rule of ``layer``'s class (or of its nearest registered base class)."""
    for cls in type(layer).__mro__:
        rule = RULES.get(cls)
        if rule is not None:
            return rule
    raise SpecError(
        f"the reference does not know layer kind {layer.kind!r}", layer=layer.name, field="kind"
    )


def infer_types(spec: ModelSpec) -> dict[str, TensorType]:
    """Per-element fixed-point type of every tensor of ``spec`` (see the module's type rules)."""
    types: dict[str, TensorType] = {}
    for layer in spec.layers:
        types[layer.name] = rule_for(layer).infer(layer, [types[s] for s in layer.inputs])
    return types


def input_bounds(spec: ModelSpec) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest raw input per element (object arrays of Python ints)."""
    return spec.input.type.raw_bounds()


def _cast(raw: np.ndarray, t: TensorType) -> np.ndarray:
    """Store a tensor as int64 when its type allows, else as Python ints."""
    return raw.astype(int_dtype_for(t.max_abs_raw()))


def _unflatten(spec: ModelSpec, x: np.ndarray, what: str) -> np.ndarray:
    """A batch of shape ``(batch, *input_shape)``, or flattened ``(batch, size)``, as the
    former (ValueError for any other shape)."""
    shape = spec.input_shape
    size = math.prod(shape)
    if x.ndim == 2 and x.shape[1] == size and len(shape) > 1:
        return x.reshape(len(x), *shape)
    if x.shape[1:] != shape:
        flat = f" or (batch, {size})" if len(shape) > 1 else ""
        raise ValueError(
            f"spec {spec.name!r} expects {what} of shape (batch, {', '.join(map(str, shape))})"
            f"{flat}, got {x.shape}"
        )
    return x


def check_input(spec: ModelSpec, x_raw: np.ndarray) -> np.ndarray:
    """``x_raw`` (shape ``(batch, *input_shape)`` or flattened ``(batch, size)``) checked
    against the input types (``ValueError``/``TypeError`` naming the sample and element) and
    returned as ``(batch, *input_shape)``, int64 when the input type allows, else Python ints."""
    x = _unflatten(spec, np.asarray(x_raw), "raw inputs")
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


def _requantize_edges(
    layer: RequantizeSpec, xs: list[np.ndarray], in_types: list[TensorType]
) -> list[np.ndarray]:
    """Per element of a requantizer: its value after rounding (before overflow handling) is
    below its range, at its minimum, at its maximum, above its range."""
    src, src_type, to = xs[0].astype(object), in_types[0].flat(), layer.type.flat()
    src = src.reshape(len(src), -1)
    lo, hi = to.raw_bounds()
    columns: list[np.ndarray] = []
    for e in range(to.shape[0]):
        if to.width[e] == 0:
            continue
        shift = int(to.f[e] - src_type.f[e])
        col = src[:, e]
        if shift >= 0:
            rounded = [int(v) << shift for v in col]
        else:
            half = (1 << (-shift - 1)) if layer.round is Round.RND else 0
            rounded = [(int(v) + half) >> -shift for v in col]
        r = np.array(rounded, dtype=object)
        columns += [r < lo[e], r == lo[e], r == hi[e], r > hi[e]]
    return [np.asarray(c, dtype=bool) for c in columns]


def _relu_type(layer: ReLUSpec, in_types: list[TensorType]) -> TensorType:
    t = in_types[0]
    return _normalise(TensorType(np.zeros_like(t.k), t.i, t.f))


def _table_type(layer: TableSpec, in_types: list[TensorType]) -> TensorType:
    """The declared output type, once every table's length is checked against the input."""
    t = in_types[0]
    for index in np.ndindex(*t.shape):
        width = int(t.width[index])
        size = len(layer.table(index))
        if size != 1 << max(width, 0):
            raise SpecError(
                f"element {list(index)} reads table {int(layer.table_of[index])} of {size} "
                f"entries, but its input type {t.element(index)} has "
                f"{1 << max(width, 0)} values (a table has 2**width entries, from raw_min up)",
                layer=layer.name,
                field="tables",
            )
    return _normalise(layer.type)


def _eval_table(layer: TableSpec, x: np.ndarray, x_type: TensorType) -> np.ndarray:
    """Exact lookup per element (``x`` of shape ``(batch, *shape)``)."""
    lo, _ = x_type.raw_bounds()
    out = np.zeros(x.shape, dtype=object)
    for index in np.ndindex(*x_type.shape):
        table = np.asarray(layer.table(index), dtype=object)
        where = (slice(None), *index)
        offset = np.asarray(x[where], dtype=object) - (lo[index] if x_type.width[index] > 0 else 0)
        out[where] = table[offset.astype(np.int64)]
    return out


def _no_evaluation(layer: LayerSpec, xs: list[np.ndarray], in_types: list[TensorType]) -> None:
    raise TypeError(f"layer {layer.name!r} has no inputs to evaluate")


register_rule(InputSpec, ReferenceRule(lambda layer, _: layer.type, _no_evaluation, True))
register_rule(
    DenseSpec,
    ReferenceRule(
        lambda layer, t: _dense_type(layer, t[0]),
        lambda layer, xs, t: _eval_dense(layer, xs[0], t[0]),
        weights=lambda layer: layer.weight_raw,
    ),
)
register_rule(
    RequantizeSpec,
    ReferenceRule(
        lambda layer, _: layer.type,
        lambda layer, xs, t: _eval_requantize(layer, xs[0], t[0]),
        declares_type=True,
        edges=_requantize_edges,
    ),
)
register_rule(ReLUSpec, ReferenceRule(_relu_type, lambda layer, xs, t: np.maximum(xs[0], 0)))
register_rule(OutputSpec, ReferenceRule(lambda layer, t: t[0], lambda layer, xs, t: xs[0]))
register_rule(
    TableSpec,
    ReferenceRule(_table_type, lambda layer, xs, t: _eval_table(layer, xs[0], t[0]), True),
)


def _reshaped(t: TensorType, shape: tuple[int, ...]) -> TensorType:
    return TensorType(t.k.reshape(shape), t.i.reshape(shape), t.f.reshape(shape))


def _out_shape(layer: LayerSpec, in_types: list[TensorType]) -> tuple[int, ...]:
    return layer.output_shape([t.shape for t in in_types])


def _as_conv(layer: ConvSpec | AvgPoolSpec, t: TensorType) -> ConvSpec:
    return layer if isinstance(layer, ConvSpec) else avgpool_as_conv(layer, t.shape[-1])


def _windowed_type(layer: ConvSpec | AvgPoolSpec, in_types: list[TensorType]) -> TensorType:
    t = in_types[0]
    return conv_type(_as_conv(layer, t), t, _out_shape(layer, in_types))


def _eval_windowed(
    layer: ConvSpec | AvgPoolSpec, xs: list[np.ndarray], in_types: list[TensorType]
) -> np.ndarray:
    t = in_types[0]
    return eval_conv(_as_conv(layer, t), xs[0], t, _out_shape(layer, in_types))


def _maxpool_type(layer: MaxPoolSpec, in_types: list[TensorType]) -> TensorType:
    t = in_types[0]
    flat = t.flat()
    lo, hi = flat.raw_bounds()
    live = flat.width > 0
    k, i, f = [], [], []
    for row in pool_sources(layer, t.shape):
        live_row = [int(e) for e in row if live[e]]
        if not live_row:
            k.append(0), i.append(0), f.append(0)
            continue
        f_out = max(int(flat.f[e]) for e in live_row)
        shifts = {e: f_out - int(flat.f[e]) for e in live_row}
        los = [lo[e] << shifts[e] for e in live_row]
        his = [hi[e] << shifts[e] for e in live_row]
        if len(live_row) < len(row):
            los.append(0), his.append(0)
        out = type_for_range(min(los), max(his), f_out)
        k.append(out.k), i.append(out.i), f.append(out.f)
    return _reshaped(TensorType(np.array(k), np.array(i), np.array(f)), _out_shape(layer, in_types))


def _eval_maxpool(
    layer: MaxPoolSpec, xs: list[np.ndarray], in_types: list[TensorType]
) -> np.ndarray:
    x, t = xs[0], in_types[0]
    out_type = _maxpool_type(layer, in_types).flat()
    flat = t.flat()
    sources = pool_sources(layer, t.shape)
    # align every tap to its output's f (width-0 taps are the value 0, already raw 0)
    shift = np.where(flat.width[sources] > 0, out_type.f[:, None] - flat.f[sources], 0)
    bound = t.max_abs_raw() << int(np.max(shift, initial=0))
    dtype = int_dtype_for(bound)
    xf = x.reshape(len(x), -1).astype(dtype)
    gathered = xf[:, sources]  # (batch, n_out, taps)
    if dtype == np.int64:
        aligned = np.left_shift(gathered, shift[None].astype(np.int64))
    else:
        aligned = gathered * np.vectorize(lambda s: 1 << int(s), otypes=[object])(shift)[None]
    return aligned.max(axis=2).reshape(len(x), *_out_shape(layer, in_types))


register_rule(
    ConvSpec,
    ReferenceRule(_windowed_type, _eval_windowed, weights=lambda layer: layer.kernel_raw),
)
register_rule(AvgPoolSpec, ReferenceRule(_windowed_type, _eval_windowed))
register_rule(MaxPoolSpec, ReferenceRule(_maxpool_type, _eval_maxpool))


def _flat_maxpool_type(layer: FlatMaxPoolSpec, in_types: list[TensorType]) -> TensorType:
    return _maxpool_type(layer, [_reshaped(in_types[0], layer.in_shape)]).flat()


def _eval_flat_maxpool(
    layer: FlatMaxPoolSpec, xs: list[np.ndarray], in_types: list[TensorType]
) -> np.ndarray:
    x = xs[0].reshape(len(xs[0]), *layer.in_shape)
    out = _eval_maxpool(layer, [x], [_reshaped(in_types[0], layer.in_shape)])
    return out.reshape(len(out), -1)


register_rule(FlatMaxPoolSpec, ReferenceRule(_flat_maxpool_type, _eval_flat_maxpool))
register_rule(
    ReshapeSpec,
    ReferenceRule(
        lambda layer, t: _reshaped(t[0], layer.shape),
        lambda layer, xs, t: xs[0].reshape(len(xs[0]), *layer.shape),
    ),
)


def merge_type(kind: str, a: TensorType, b: TensorType) -> TensorType:
    """The exact type of ``a + b``, ``a - b`` or ``a * b`` (``kind`` ``"Add"``, ``"Subtract"``,
    ``"Multiply"``) element by element, for tensors of one shape (the module's type rules)."""
    fa, fb = a.flat(), b.flat()
    alo, ahi = fa.raw_bounds()
    blo, bhi = fb.raw_bounds()
    k, i, f = [], [], []
    for e in range(fa.shape[0]):
        live_a, live_b = int(fa.width[e]) > 0, int(fb.width[e]) > 0
        al, ah, bl, bh = int(alo[e]), int(ahi[e]), int(blo[e]), int(bhi[e])
        if kind == "Multiply":
            if not (live_a and live_b):
                t = type_for_range(0, 0, 0)
            else:
                corners = [al * bl, al * bh, ah * bl, ah * bh]
                t = type_for_range(min(corners), max(corners), int(fa.f[e] + fb.f[e]))
        else:
            fs = [int(x.f[e]) for x, live in ((fa, live_a), (fb, live_b)) if live]
            f_out = max(fs, default=0)
            sa = f_out - int(fa.f[e]) if live_a else 0
            sb = f_out - int(fb.f[e]) if live_b else 0
            al, ah, bl, bh = al << sa, ah << sa, bl << sb, bh << sb
            lo, hi = (al + bl, ah + bh) if kind == "Add" else (al - bh, ah - bl)
            t = type_for_range(lo, hi, f_out) if fs else type_for_range(0, 0, 0)
        k.append(t.k), i.append(t.i), f.append(t.f)
    return _reshaped(TensorType(np.array(k), np.array(i), np.array(f)), a.shape)


def _merge_kind(layer: LayerSpec) -> str:
    return {AddSpec: "Add", SubtractSpec: "Subtract", MultiplySpec: "Multiply"}[type(layer)]


def _eval_merge(layer: LayerSpec, xs: list[np.ndarray], in_types: list[TensorType]) -> np.ndarray:
    """Exact ``a + b``, ``a - b`` or ``a * b`` at the output's fractional bits."""
    kind = _merge_kind(layer)
    a_t, b_t = in_types
    out_t = merge_type(kind, a_t, b_t)
    a, b = (x.astype(object) for x in xs)
    if kind == "Multiply":
        live = (a_t.width > 0) & (b_t.width > 0)
        return np.where(live, a * b, 0)
    shift_a = np.where(a_t.width > 0, out_t.f - a_t.f, 0)
    shift_b = np.where(b_t.width > 0, out_t.f - b_t.f, 0)
    pow_a = np.vectorize(lambda s: 1 << int(s), otypes=[object])(shift_a)
    pow_b = np.vectorize(lambda s: 1 << int(s), otypes=[object])(shift_b)
    a, b = a * pow_a, b * pow_b
    return a + b if kind == "Add" else a - b


for _kind in (AddSpec, SubtractSpec, MultiplySpec):
    register_rule(
        _kind,
        ReferenceRule(lambda layer, t: merge_type(_merge_kind(layer), t[0], t[1]), _eval_merge),
    )


def _concat_type(layer: ConcatenateSpec, in_types: list[TensorType]) -> TensorType:
    a, b = in_types
    axis = layer.resolved_axis(len(a.shape))
    return TensorType(
        *(np.concatenate([getattr(a, key), getattr(b, key)], axis=axis) for key in "kif")
    )


def _eval_concat(
    layer: ConcatenateSpec, xs: list[np.ndarray], in_types: list[TensorType]
) -> np.ndarray:
    axis = layer.resolved_axis(len(in_types[0].shape))
    a, b = xs
    if a.dtype != b.dtype:
        a, b = a.astype(object), b.astype(object)
    return np.concatenate([a, b], axis=axis + 1)


def _flat_concat_type(layer: FlatConcatenateSpec, in_types: list[TensorType]) -> TensorType:
    flat = [t.flat() for t in in_types]
    return TensorType(
        *(
            np.array([int(getattr(flat[n], key)[e]) for n, e in layer.sources], dtype=np.int64)
            for key in "kif"
        )
    )


def _eval_flat_concat(
    layer: FlatConcatenateSpec, xs: list[np.ndarray], in_types: list[TensorType]
) -> np.ndarray:
    flat = [x.reshape(len(x), -1).astype(object) for x in xs]
    columns = [flat[n][:, e] for n, e in layer.sources]
    return np.stack(columns, axis=1) if columns else np.zeros((len(xs[0]), 0), dtype=object)


register_rule(ConcatenateSpec, ReferenceRule(_concat_type, _eval_concat))
register_rule(FlatConcatenateSpec, ReferenceRule(_flat_concat_type, _eval_flat_concat))


def overflow_edges(spec: ModelSpec, x_raw: np.ndarray) -> np.ndarray:
    """Boolean matrix (sample x overflow-edge class) over every layer whose rule has ``edges``
    (for a requantizer: below, at the minimum, at the maximum, above its range per element)."""
    tensors = evaluate(spec, x_raw, all_tensors=True)
    types = infer_types(spec)
    columns: list[np.ndarray] = []
    for layer in spec.layers:
        xs = [tensors[s] for s in layer.inputs]
        columns += rule_for(layer).edges(layer, xs, [types[s] for s in layer.inputs])
    if not columns:
        return np.zeros((len(x_raw), 0), dtype=bool)
    return np.stack(columns, axis=1)


def evaluate(
    spec: ModelSpec, x_raw: np.ndarray, *, all_tensors: bool = False
) -> np.ndarray | dict[str, np.ndarray]:
    """Run ``spec`` on a batch of raw inputs, exactly.

    ``x_raw`` has shape ``(batch, *spec.input_shape)`` or the flattened ``(batch, size)``, and
    every value must lie in its element's input type (``ValueError`` naming the sample and element
    otherwise). Returns the raw output batch of shape ``(batch, *spec.output_shape)`` (dtype
    int64 when the output type fits, else object of Python ints), or with ``all_tensors=True``
    a dict of every tensor by layer name (each ``(batch, *shape)``).
    """
    types = infer_types(spec)
    values: dict[str, np.ndarray] = {}
    for layer in spec.layers:
        if not layer.inputs:
            out = check_input(spec, x_raw)
        else:
            xs = [values[s] for s in layer.inputs]
            out = rule_for(layer).evaluate(layer, xs, [types[s] for s in layer.inputs])
        values[layer.name] = _cast(out, types[layer.name])
    return values if all_tensors else values[spec.output.name]


def quantize_inputs(spec: ModelSpec, x_real: np.ndarray) -> np.ndarray:
    """Real inputs -> raw integers exactly as the input quantizer does.

    ``x_real`` has shape ``(batch, *input_shape)`` or ``(batch, size)``; the result
    ``(batch, *input_shape)``. Per element: ``floor(x * 2**f)`` (TRN) or
    ``floor(x * 2**f + 1/2)`` (RND), computed exactly from the float64 value of ``x``, then
    WRAP or SAT into the element's type. NaN or infinite inputs raise ``ValueError``.
    """
    layer = spec.input
    x = _unflatten(spec, np.asarray(x_real, dtype=np.float64), "inputs")
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
    x = x.reshape(len(x), *spec.input_shape)  # flattened samples are fine too
    raw = evaluate(spec, quantize_inputs(spec, x))
    return to_real(raw, infer_types(spec)[spec.output.name])


def to_real(raw: np.ndarray, t: TensorType) -> np.ndarray:
    """Real values ``raw * 2**-f`` as float64 (exact while they fit in 53 bits)."""
    return np.ldexp(np.asarray(raw, dtype=np.float64), np.broadcast_to(-t.f, np.shape(raw)))
