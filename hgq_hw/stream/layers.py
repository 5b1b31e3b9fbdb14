"""The stream plans of the windowed spec kinds: Conv, MaxPool, AvgPool.

Each checks its layer and its input (shape; one type per channel, :func:`pixel_types`), takes
the window geometry (:class:`StreamGeometry`) and plans the window operation over one window of
``n_taps * c_in`` elements (taps in C order, then channels):

* **Conv**: the Dense layer of the kernel matrix ``kernel_raw.reshape(-1, c_out)`` with the
  Conv's bias (:func:`kernel_dense`), its CMVM adder graph planned by
  :func:`hgq_hw.plan.plan_dense`;
* **AvgPool**: the Dense layer with weight ``2**-log2(window)`` from each tap of a channel to
  that channel (:func:`avgpool_window_dense`), exact as the reference's rule;
* **MaxPool**: :func:`hgq_hw.plan.plan_max` with output channel ``c`` the maximum of the taps
  of channel ``c``; every tap has its channel's type, so the output type is the pixel type.

Output pixel types are the window operation's exact per-channel types (see :mod:`hgq_hw.stream`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hgq_hw.cmvm import dense_graph
from hgq_hw.fixed import TensorType, type_for_range
from hgq_hw.plan.dense import plan_dense
from hgq_hw.plan.max import plan_max
from hgq_hw.reference import dense_effective
from hgq_hw.spec import AvgPoolSpec, ConvSpec, DenseSpec, LayerSpec, MaxPoolSpec, SpecError
from hgq_hw.stream.window import StreamGeometry, StreamWindowPlan, pixel_types

__all__ = [
    "STREAMED_KINDS",
    "avgpool_window_dense",
    "kernel_dense",
    "plan_stream_avgpool",
    "plan_stream_conv",
    "plan_stream_layer",
    "plan_stream_maxpool",
]


def kernel_dense(layer: ConvSpec) -> DenseSpec:
    """The Dense layer of one window: ``(n_taps * c_in, c_out)`` kernel matrix (taps in C
    order, then channels) and the Conv's bias."""
    c_out = layer.c_out
    return DenseSpec(
        name=layer.name,
        inputs=layer.inputs,
        weight_raw=layer.kernel_raw.reshape(-1, c_out),
        weight_f=layer.kernel_f.reshape(-1, c_out),
        bias_raw=layer.bias_raw,
        bias_f=layer.bias_f,
    )


def avgpool_window_dense(layer: AvgPoolSpec, c: int) -> DenseSpec:
    """The Dense layer of one AvgPool window over ``c`` channels: weight ``1 * 2**-shift`` from
    every tap of channel ``ci`` to output ``ci``, no bias."""
    n_taps = math.prod(layer.pool_size)
    weight_raw = np.tile(np.eye(c, dtype=np.int64), (n_taps, 1))
    return DenseSpec(
        name=layer.name,
        inputs=layer.inputs,
        weight_raw=weight_raw,
        weight_f=np.where(weight_raw != 0, layer.shift, 0),
        bias_raw=np.zeros(c, dtype=np.int64),
        bias_f=np.zeros(c, dtype=np.int64),
    )


def _setup(
    layer: LayerSpec,
    window: Sequence[int],
    strides: Sequence[int],
    padding,
    in_shape: Sequence[int],
    in_type: TensorType,
    c_in: int | None,
    field: str,
) -> tuple[tuple[int, ...], StreamGeometry, TensorType, TensorType]:
    """Checked ``in_shape``, the geometry, the pixel type and the window's type."""
    in_shape = tuple(int(n) for n in in_shape)
    if len(in_shape) != len(window) + 1 or (c_in is not None and in_shape[-1] != c_in):
        want = f"(*spatial[{len(window)}], {c_in if c_in is not None else 'c'})"
        raise SpecError(
            f"expects an input of shape {want}, got {list(in_shape)}", layer=layer.name, field=field
        )
    if in_type.shape != (math.prod(in_shape),):
        raise ValueError(f"in_type has shape {in_type.shape}, expected ({math.prod(in_shape)},)")
    try:
        geometry = StreamGeometry.of(in_shape[:-1], window, strides, padding)
    except SpecError as err:
        raise SpecError(err.message, layer=layer.name, field=err.field) from None
    if geometry.tail > geometry.n_pixels:
        raise SpecError(
            f"stream mode needs the zeros padded after the image ({geometry.tail} slots) to be "
            f"at most the image ({geometry.n_pixels} pixels): the window is larger than the "
            "image (use parallel mode)",
            layer=layer.name,
            field="padding",
        )
    pixel = pixel_types(in_type, in_shape[:-1], "inputs", layer.name)
    n = geometry.n_taps
    window_type = TensorType(np.tile(pixel.k, n), np.tile(pixel.i, n), np.tile(pixel.f, n))
    return in_shape, geometry, pixel, window_type


def _dense_kernel(
    dense: DenseSpec, window_type: TensorType, pipeline_levels: int, depth_slack: int | None
):
    _, _, f_out = dense_effective(dense, window_type)
    graph = dense_graph(dense, window_type, depth_slack=depth_slack)
    types = [type_for_range(o.lo, o.hi, int(f)) for o, f in zip(graph.outputs, f_out)]
    out_type = TensorType(
        np.array([t.k for t in types]),
        np.array([t.i for t in types]),
        np.array([t.f for t in types]),
    )
    kernel = plan_dense(dense, window_type, out_type, pipeline_levels=pipeline_levels, graph=graph)
    return kernel, out_type


def plan_stream_conv(
    layer: ConvSpec,
    in_shape: Sequence[int],
    in_type: TensorType,
    *,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
) -> StreamWindowPlan:
    """The stream plan of a Conv on an input of spec shape ``in_shape`` (``(*spatial, c_in)``)
    and flattened type ``in_type``: :class:`SpecError` naming the layer when the input's type
    varies with position (field ``inputs``) or the shapes disagree (field ``kernel_raw``)."""
    if not isinstance(layer, ConvSpec):
        raise TypeError(f"layer must be a ConvSpec, got {type(layer).__name__}")
    _, geometry, pixel, window_type = _setup(
        layer, layer.window, layer.strides, layer.padding, in_shape, in_type, layer.c_in,
        "kernel_raw",
    )  # fmt: skip
    kernel, out_type = _dense_kernel(kernel_dense(layer), window_type, pipeline_levels, depth_slack)
    return StreamWindowPlan(layer.name, "Conv", geometry, pixel, out_type, kernel)


def plan_stream_avgpool(
    layer: AvgPoolSpec,
    in_shape: Sequence[int],
    in_type: TensorType,
    *,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
) -> StreamWindowPlan:
    """The stream plan of an AvgPool (as :func:`plan_stream_conv`; shape errors name the field
    ``pool_size``)."""
    if not isinstance(layer, AvgPoolSpec):
        raise TypeError(f"layer must be an AvgPoolSpec, got {type(layer).__name__}")
    shape, geometry, pixel, window_type = _setup(
        layer, layer.pool_size, layer.strides, layer.padding, in_shape, in_type, None,
        "pool_size",
    )  # fmt: skip
    kernel, out_type = _dense_kernel(
        avgpool_window_dense(layer, shape[-1]), window_type, pipeline_levels, depth_slack
    )
    return StreamWindowPlan(layer.name, "AvgPool", geometry, pixel, out_type, kernel)


def plan_stream_maxpool(
    layer: MaxPoolSpec,
    in_shape: Sequence[int],
    in_type: TensorType,
    *,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
) -> StreamWindowPlan:
    """The stream plan of a MaxPool (``"valid"`` padding only, as the spec has it): output
    channel ``c`` is the maximum of the window's taps of channel ``c``, at the pixel type."""
    if not isinstance(layer, MaxPoolSpec):
        raise TypeError(f"layer must be a MaxPoolSpec, got {type(layer).__name__}")
    shape, geometry, pixel, window_type = _setup(
        layer, layer.pool_size, layer.strides, layer.padding, in_shape, in_type, None,
        "pool_size",
    )  # fmt: skip
    if geometry.before != (0, 0) or geometry.tail:
        raise SpecError(
            "a streamed MaxPool takes 'valid' padding only", layer=layer.name, field="padding"
        )
    c = shape[-1]
    live = pixel.width > 0
    out_type = TensorType(
        np.where(live, pixel.k, 0), np.where(live, pixel.i, 0), np.where(live, pixel.f, 0)
    )
    sources = [[tap * c + ci for tap in range(geometry.n_taps)] for ci in range(c)]
    kernel = plan_max(
        layer.name,
        tuple(layer.inputs),
        window_type,
        out_type,
        sources,
        pipeline_levels=pipeline_levels,
    )
    return StreamWindowPlan(layer.name, "MaxPool", geometry, pixel, out_type, kernel)


STREAMED_KINDS = {
    ConvSpec: plan_stream_conv,
    AvgPoolSpec: plan_stream_avgpool,
    MaxPoolSpec: plan_stream_maxpool,
}
"""Spec class -> its stream planner."""


def plan_stream_layer(
    layer: LayerSpec,
    in_shape: Sequence[int],
    in_type: TensorType,
    *,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
) -> StreamWindowPlan:
    """The stream plan of any windowed layer (:data:`STREAMED_KINDS`); :class:`SpecError`
    naming the layer for a kind that has no stream form."""
    for cls in type(layer).__mro__:
        planner = STREAMED_KINDS.get(cls)
        if planner is not None:
            return planner(
                layer, in_shape, in_type, pipeline_levels=pipeline_levels, depth_slack=depth_slack
            )
    raise SpecError(
        f"layer kind {layer.kind!r} has no stream form (streamed: "
        f"{sorted(c.kind for c in STREAMED_KINDS)})",
        layer=layer.name,
        field="kind",
    )
