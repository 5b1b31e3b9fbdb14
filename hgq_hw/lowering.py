"""Windowed layers over the flattened tensor: the index tables and Dense forms they reduce to.

Every tensor below the spec is flattened in C (row-major, channels-last) order: element
``(*position, channel)`` of a tensor of shape ``(*spatial, channels)`` has flat index
``ravel(position) * channels + channel``. Over that order

* a ``Conv`` is a Dense layer whose ``(n_in, n_out)`` weight matrix is the im2col form of the
  kernel (:func:`conv_as_dense`): output element ``(o, co)`` reads input ``(o*s + d - lo, ci)``
  with weight ``K[d, ci, co]``; taps that fall in the zero padding are absent (raw 0);
* an ``AvgPool`` is a Dense layer with weight ``2**-log2(window)`` on each window element of its
  channel and no bias (:func:`avgpool_as_dense`);
* a ``MaxPool`` output element is the maximum of the input elements :func:`pool_sources` lists;
* a ``Reshape`` is the identity, and ``Requantize``/``ReLU``/``Output`` are element-wise;
* ``Add``/``Subtract``/``Multiply`` are element-wise on two tensors of one shape, and a
  ``Concatenate`` output element is one element of one input (:func:`concat_sources`).

:func:`flat_layer` gives the layer that does over the flattened tensors what a spec layer does
over its N-d ones: what the planner, the prove reference writer and the cost features work on.

The reference, the planner and the tests share these tables, so every stage agrees on the
geometry that :func:`hgq_hw.spec.window_geometry` defines.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hgq_hw.spec import (
    AvgPoolSpec,
    ConcatenateSpec,
    ConvSpec,
    DenseSpec,
    LayerSpec,
    MaxPoolSpec,
    RequantizeSpec,
    window_geometry,
)

__all__ = [
    "FlatAvgPoolSpec",
    "FlatConcatenateSpec",
    "FlatConvSpec",
    "FlatMaxPoolSpec",
    "avgpool_as_dense",
    "concat_sources",
    "conv_as_dense",
    "flat_layer",
    "pool_sources",
    "window_taps",
]


@dataclass(frozen=True, eq=False, kw_only=True)
class FlatConvSpec(DenseSpec):
    """A ``Conv`` as the Dense layer it is over the flattened input (:func:`conv_as_dense`).
    Never in a spec file; the planner gives it a ``Conv`` plan (reports say ``ConvLayer``)."""


@dataclass(frozen=True, eq=False, kw_only=True)
class FlatAvgPoolSpec(DenseSpec):
    """An ``AvgPool`` as the Dense layer it is over the flattened input
    (:func:`avgpool_as_dense`). Never in a spec file; planned as an ``AvgPool`` plan."""


@dataclass(frozen=True, eq=False, kw_only=True)
class FlatMaxPoolSpec(MaxPoolSpec):
    """A ``MaxPool`` over its flattened input of spec shape ``in_shape``: output element ``j``
    is the maximum of the input elements ``sources[j]`` (:func:`pool_sources`). Never in a spec
    file; planned as a ``Max`` plan (:func:`hgq_hw.plan.plan_max`)."""

    in_shape: tuple[int, ...]

    @property
    def sources(self) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(int(e) for e in row) for row in pool_sources(self, self.in_shape))


@dataclass(frozen=True, eq=False, kw_only=True)
class FlatConcatenateSpec(ConcatenateSpec):
    """A ``Concatenate`` over its flattened inputs of spec shapes ``in_shapes``: output element
    ``j`` is element ``sources[j][1]`` of input ``sources[j][0]`` (:func:`concat_sources`).
    Never in a spec file; planned as a ``Concatenate`` plan (wiring)."""

    in_shapes: tuple[tuple[int, ...], ...]

    @property
    def sources(self) -> tuple[tuple[int, int], ...]:
        return concat_sources(self.in_shapes, self.axis)


def concat_sources(in_shapes: Sequence[Sequence[int]], axis: int) -> tuple[tuple[int, int], ...]:
    """``(input, flat element)`` of every element of the flattened (C order) concatenation of
    tensors of ``in_shapes`` along ``axis`` (negative counts from the end), in output order.
    Along the last axis the inputs' rows interleave: ``a[0, :], b[0, :], a[1, :], ...``."""
    shapes = [tuple(int(n) for n in s) for s in in_shapes]
    ndim = len(shapes[0])
    axis = axis % ndim
    parts = [
        np.stack(np.broadcast_arrays(n, np.arange(math.prod(s)).reshape(s)), axis=-1)
        for n, s in enumerate(shapes)
    ]
    joined = np.concatenate(parts, axis=axis).reshape(-1, 2)
    return tuple((int(n), int(e)) for n, e in joined)


def window_taps(
    in_shape: Sequence[int], window: Sequence[int], strides: Sequence[int], padding
) -> np.ndarray:
    """Flat spatial input position of every window tap: an int64 array of shape
    ``(n_out_positions, prod(window))`` (output positions and taps both in C order), ``-1``
    where the tap lies in the zero padding. ``in_shape`` is ``(*spatial, channels)``."""
    spatial = tuple(int(n) for n in in_shape[:-1])
    out, before = window_geometry(spatial, window, strides, padding)
    grids = []
    for n_out, w, s, lo in zip(out, window, strides, before, strict=True):
        # coordinate of tap d at output position o: o*s + d - lo
        grids.append(np.arange(n_out)[:, None] * s + np.arange(w)[None, :] - lo)
    n_pos, n_taps = math.prod(out), math.prod(window)
    if len(grids) == 1:
        coords = [grids[0]]
    else:  # (o0, o1, d0, d1) -> rows (o0, o1), columns (d0, d1)
        a, b = grids
        coords = [
            np.broadcast_to(a[:, None, :, None], (out[0], out[1], window[0], window[1])),
            np.broadcast_to(b[None, :, None, :], (out[0], out[1], window[0], window[1])),
        ]
    coords = [c.reshape(n_pos, n_taps) for c in coords]
    inside = np.ones((n_pos, n_taps), dtype=bool)
    for c, n in zip(coords, spatial, strict=True):
        inside &= (c >= 0) & (c < n)
    flat = np.zeros((n_pos, n_taps), dtype=np.int64)
    for c, n in zip(coords, spatial, strict=True):
        flat = flat * n + np.clip(c, 0, n - 1)
    return np.where(inside, flat, -1)


def conv_as_dense(layer: ConvSpec, in_shape: Sequence[int]) -> FlatConvSpec:
    """The Dense layer (same name and inputs) that ``layer`` is over its flattened input of
    shape ``in_shape``: ``weight_raw``/``weight_f`` of shape ``(prod(in_shape),
    prod(out_shape))``, exact by construction (absent taps are pruned weights, raw 0)."""
    taps = window_taps(in_shape, layer.window, layer.strides, layer.padding)
    c_in, c_out = layer.c_in, layer.c_out
    n_pos, n_taps = taps.shape
    n_in = math.prod(in_shape)
    kernel = layer.kernel_raw.reshape(n_taps, c_in, c_out)
    kernel_f = layer.kernel_f.reshape(n_taps, c_in, c_out)
    weight_raw = np.zeros((n_in, n_pos * c_out), dtype=np.int64)
    weight_f = np.zeros((n_in, n_pos * c_out), dtype=np.int64)
    pos, tap = np.nonzero(taps >= 0)
    for ci in range(c_in):
        rows = taps[pos, tap] * c_in + ci
        for co in range(c_out):
            cols = pos * c_out + co
            weight_raw[rows, cols] = kernel[tap, ci, co]
            weight_f[rows, cols] = kernel_f[tap, ci, co]
    return FlatConvSpec(
        name=layer.name,
        inputs=layer.inputs,
        weight_raw=weight_raw,
        weight_f=weight_f,
        bias_raw=np.tile(layer.bias_raw, n_pos),
        bias_f=np.tile(layer.bias_f, n_pos),
    )


def pool_sources(layer: AvgPoolSpec | MaxPoolSpec, in_shape: Sequence[int]) -> np.ndarray:
    """Flat input element of every window tap of every output element: int64 array of shape
    ``(prod(out_shape), prod(pool_size))`` (output elements in C order, channels last). Pools
    have ``"valid"`` padding only, so every tap is an input element."""
    taps = window_taps(in_shape, layer.pool_size, layer.strides, layer.padding)
    channels = int(in_shape[-1])
    out = taps[:, None, :] * channels + np.arange(channels)[None, :, None]
    return out.reshape(-1, taps.shape[1])


def avgpool_as_dense(layer: AvgPoolSpec, in_shape: Sequence[int]) -> FlatAvgPoolSpec:
    """The Dense layer (same name and inputs) that ``layer`` is over its flattened input:
    weight ``1 * 2**-log2(window)`` on each window element, no bias."""
    sources = pool_sources(layer, in_shape)
    n_in, n_out = math.prod(in_shape), sources.shape[0]
    weight_raw = np.zeros((n_in, n_out), dtype=np.int64)
    weight_raw[sources, np.arange(n_out)[:, None]] = 1
    return FlatAvgPoolSpec(
        name=layer.name,
        inputs=layer.inputs,
        weight_raw=weight_raw,
        weight_f=np.where(weight_raw != 0, layer.shift, 0),
        bias_raw=np.zeros(n_out, dtype=np.int64),
        bias_f=np.zeros(n_out, dtype=np.int64),
    )


def flat_layer(layer: LayerSpec, in_shapes: Sequence[Sequence[int]]) -> LayerSpec:
    """``layer`` over flattened (C-order) tensors, its inputs of N-d shapes ``in_shapes``:
    a Conv or AvgPool as its Dense form, a Requantize with flattened ``k``/``i``/``f``; every
    MaxPool a :class:`FlatMaxPoolSpec` (its window sources), every Concatenate a
    :class:`FlatConcatenateSpec`; every other layer as it is
    (element-wise kinds, Reshape, Dense)."""
    if isinstance(layer, ConvSpec):
        return conv_as_dense(layer, in_shapes[0])
    if isinstance(layer, AvgPoolSpec):
        return avgpool_as_dense(layer, in_shapes[0])
    if isinstance(layer, MaxPoolSpec) and not isinstance(layer, FlatMaxPoolSpec):
        return FlatMaxPoolSpec(
            name=layer.name,
            inputs=layer.inputs,
            pool_size=layer.pool_size,
            strides=layer.strides,
            padding=layer.padding,
            in_shape=tuple(int(n) for n in in_shapes[0]),
        )
    if isinstance(layer, ConcatenateSpec) and not isinstance(layer, FlatConcatenateSpec):
        return FlatConcatenateSpec(
            name=layer.name,
            inputs=layer.inputs,
            axis=layer.axis,
            in_shapes=tuple(tuple(int(n) for n in s) for s in in_shapes),
        )
    if isinstance(layer, RequantizeSpec) and layer.k.ndim != 1:
        return RequantizeSpec(
            name=layer.name,
            inputs=layer.inputs,
            k=layer.k.ravel(),
            i=layer.i.ravel(),
            f=layer.f.ravel(),
            round=layer.round,
            overflow=layer.overflow,
        )
    return layer
