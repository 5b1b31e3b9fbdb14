"""A whole network in stream mode: streamed stages, a gather, then the parallel Dense part.

:func:`plan_stream_network` splits a chain spec ``Input -> ... -> Reshape -> ... -> Output``:

1. **streamed part** (every layer before the first Reshape, on N-d channels-last tensors): each
   windowed layer (Conv, MaxPool, AvgPool) is a :class:`StreamWindowPlan`; each run of
   pixel-wise layers (ReLU, Requantize) between them is a :class:`PixelStage`, a
   :class:`~hgq_hw.plan.NetworkPlan` over one pixel (its own input and output registers, so
   ``valid`` simply travels). A Requantize must declare one type per channel.
2. **gather** (:class:`GatherStage`): a shift register of the last stage's pixels; after an
   image's last pixel it presents the whole flattened tensor (C order) for one cycle.
3. **parallel part**: the layers after the Reshape (which must flatten to 1-d), planned by
   :func:`hgq_hw.plan.plan_network` on the gathered tensor (its Input is named as the Reshape,
   so the layers keep their names and inputs).

Types are the hardware's: every stage reads the pixel type the stage before it makes (one type
per channel), so a "same" Conv's border outputs carry the full window's type; values equal the
reference's everywhere (compared as values, raw aligned by ``f``).

Timing between images: none needed. Every stage takes a pixel in any cycle (a window's tail
slots are the next image's first pixels, :mod:`hgq_hw.stream`), so images may follow back to
back and the initiation interval is ``n_pixels`` cycles per image.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.plan import NetworkPlan, plan_network
from hgq_hw.reference import infer_types
from hgq_hw.spec import (
    InputSpec,
    LayerSpec,
    ModelSpec,
    OutputSpec,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
    SpecError,
)
from hgq_hw.stream.layers import STREAMED_KINDS, plan_stream_layer
from hgq_hw.stream.window import StreamWindowPlan, counter_bits, pixel_types

__all__ = [
    "AUTO_STREAM_TAPS",
    "IO_MODES",
    "GatherStage",
    "PixelStage",
    "StreamNetworkPlan",
    "choose_io",
    "parallel_taps",
    "plan_stream_network",
]


def _tiled(pixel: TensorType, n: int) -> TensorType:
    return TensorType(np.tile(pixel.k, n), np.tile(pixel.i, n), np.tile(pixel.f, n))


@dataclass(frozen=True, eq=False)
class PixelStage:
    """Pixel-wise layers (``names``) as ``plan``, a NetworkPlan over one pixel."""

    names: tuple[str, ...]
    plan: NetworkPlan

    @property
    def out_pixel_type(self) -> TensorType:
        return self.plan.out_type

    @property
    def latency(self) -> int:
        return self.plan.latency

    def report(self) -> dict[str, Any]:
        return {
            "layer": "+".join(self.names),
            "kind": "StreamPixel",
            "latency": self.latency,
            "adders": self.plan.n_adders,
            "registers": self.plan.registers,
        }


@dataclass(frozen=True, eq=False)
class GatherStage:
    """``n_pixels`` pixels of ``pixel_type`` gathered into one flattened tensor."""

    n_pixels: int
    pixel_type: TensorType

    @property
    def pixel_layout(self) -> BusLayout:
        return BusLayout.of(self.pixel_type)

    @property
    def buffer_bits(self) -> int:
        return self.n_pixels * self.pixel_layout.width

    @property
    def registers(self) -> int:
        """The gathered word, the pixel counter and ``valid``."""
        return self.buffer_bits + counter_bits(self.n_pixels) + 1

    def report(self) -> dict[str, Any]:
        return {
            "kind": "StreamGather",
            "latency": 1,
            "buffer_bits": self.buffer_bits,
            "registers": self.registers,
        }


Stage = StreamWindowPlan | PixelStage


@dataclass(frozen=True, eq=False)
class StreamNetworkPlan:
    """A spec in stream mode (see the module). ``stages`` are the streamed stages in order,
    ``gather`` collects the last one's pixels, ``dense`` is the parallel rest (its output is
    the network's)."""

    name: str
    in_shape: tuple[int, ...]
    pixel_type: TensorType
    stages: tuple[Stage, ...]
    gather: GatherStage
    dense: NetworkPlan

    @property
    def c_in(self) -> int:
        return int(self.pixel_type.shape[0])

    @property
    def n_pixels(self) -> int:
        return math.prod(self.in_shape[:-1])

    @property
    def pixel_layout(self) -> BusLayout:
        return BusLayout.of(self.pixel_type)

    @property
    def out_type(self) -> TensorType:
        return self.dense.out_type

    @property
    def out_layout(self) -> BusLayout:
        return self.dense.out_layout

    @property
    def ii(self) -> int:
        """Cycles per image at full rate: one pixel per cycle, images back to back."""
        return self.n_pixels

    @property
    def latency(self) -> int:
        """Cycles from an image's last pixel to its output, when every window's last output
        fires on its last slot (see :attr:`StreamWindowPlan.latency`); at most this otherwise."""
        total = 1 + self.dense.latency
        for st in self.stages:
            total += st.latency
        return total

    @property
    def pixel_latency(self) -> int:
        return self.latency

    @property
    def buffer_bits(self) -> int:
        windows = sum(st.buffer_bits for st in self.stages if isinstance(st, StreamWindowPlan))
        return windows + self.gather.buffer_bits

    @property
    def registers(self) -> int:
        """Flip-flops of all stages (each stage's own input and output registers included)."""
        stages = sum(
            st.registers if isinstance(st, StreamWindowPlan) else st.plan.registers
            for st in self.stages
        )
        return stages + self.gather.registers + self.dense.registers

    @property
    def n_adders(self) -> int:
        kernels = sum(
            st.kernel.n_adders if isinstance(st, StreamWindowPlan) else st.plan.n_adders
            for st in self.stages
        )
        return kernels + self.dense.n_adders

    def report(self) -> dict[str, Any]:
        return {
            "io": "stream",
            "ii": self.ii,
            "latency": self.latency,
            "buffer_bits": self.buffer_bits,
            "registers": self.registers,
            "adders": self.n_adders,
            "stages": [st.report() for st in self.stages] + [self.gather.report()],
            "dense_latency": self.dense.latency,
        }

    # -- models -------------------------------------------------------------------------------

    def evaluate(self, x_raw: np.ndarray) -> np.ndarray:
        """Raw outputs ``(batch, n_out)`` at :attr:`out_type` of a batch of images."""
        x = np.asarray(x_raw).astype(object).reshape(len(x_raw), -1)
        batch = len(x)
        for st in self.stages:
            if isinstance(st, StreamWindowPlan):
                x = st.evaluate(x)
            else:
                c = int(st.plan.in_type.shape[0])
                x = st.plan(x.reshape(-1, c)).reshape(batch, -1)
        return self.dense(x)

    def run(
        self,
        valid: Sequence[bool],
        pixels: Sequence[Sequence[int]],
        rst: Sequence[bool] | None = None,
    ) -> tuple[list[bool], list[list[int]]]:
        """The cycle model: per cycle the output's ``valid`` and raw elements (meaningful where
        valid), exactly as :func:`hgq_hw.stream.netlist.write_stream_network` gives them."""
        resets = list(rst) if rst is not None else [False] * len(valid)
        v, data = [bool(b) for b in valid], [list(p) for p in pixels]
        for st in self.stages:
            if isinstance(st, StreamWindowPlan):
                out = st.run(v, data, resets)
                v, data = out.valid, out.pixels
            else:
                v, data = _delay_run(st.plan, v, data, resets)
        v, data = _gather_run(self.gather, v, data, resets)
        return _delay_run(self.dense, v, data, resets)


def _delay_run(
    plan: NetworkPlan, valid: list[bool], data: list[list[int]], rst: list[bool]
) -> tuple[list[bool], list[list[int]]]:
    """A NetworkPlan on a stream: output ``valid`` ``latency`` cycles after the input's unless
    a reset came in between (it clears every ``valid`` register)."""
    n, level = len(valid), plan.latency
    out_v = [False] * n
    n_out = int(plan.out_type.shape[0])
    out_d = [[0] * n_out for _ in range(n)]
    live = [t for t in range(n) if valid[t]]
    if live:
        ys = plan(np.array([data[t] for t in live], dtype=object).reshape(len(live), -1))
        for t, y in zip(live, ys):
            if t + level < n and not any(rst[t : t + level]):
                out_v[t + level] = True
                out_d[t + level] = [int(e) for e in y]
    return out_v, out_d


def _gather_run(
    gather: GatherStage, valid: list[bool], data: list[list[int]], rst: list[bool]
) -> tuple[list[bool], list[list[int]]]:
    n = gather.n_pixels
    count, word, out_valid = 0, [[0] * int(gather.pixel_type.shape[0])] * n, False
    out_v: list[bool] = []
    out_d: list[list[int]] = []
    for t in range(len(valid)):
        out_v.append(out_valid)
        out_d.append([e for px in word for e in px])
        if valid[t]:
            word = [*word[1:], list(data[t])]
        if rst[t]:
            count, out_valid = 0, False
        else:
            out_valid = bool(valid[t]) and count == n - 1
            if valid[t]:
                count = 0 if count == n - 1 else count + 1
    return out_v, out_d


def _chain(spec: ModelSpec) -> list[LayerSpec]:
    """The compute layers of a chain spec (each reads the one before); SpecError otherwise."""
    layers = spec.layers
    for prev, layer in itertools.pairwise(layers):
        if tuple(layer.inputs) != (prev.name,):
            raise SpecError(
                f"stream mode takes a chain of layers; this one reads {list(layer.inputs)}, "
                f"not the layer before it ({prev.name!r})",
                layer=layer.name,
                field="inputs",
            )
    return list(layers[1:-1])


def _pixel_stage(
    layers: list[LayerSpec], before: str, pixel: TensorType, levels: int, slack: int | None
) -> PixelStage:
    mini = ModelSpec(
        f"{layers[0].name}__pixel",
        [
            InputSpec(name=before, k=pixel.k, i=pixel.i, f=pixel.f),
            *layers,
            OutputSpec(name=f"{layers[-1].name}__pixel_out", inputs=(layers[-1].name,)),
        ],
    )
    plan = plan_network(mini, pipeline_levels=levels, depth_slack=slack)
    return PixelStage(tuple(layer.name for layer in layers), plan)


def plan_stream_network(
    spec: ModelSpec, *, pipeline_levels: int = 0, depth_slack: int | None = None
) -> StreamNetworkPlan:
    """The stream plan of ``spec`` (see the module); :class:`SpecError` naming the layer and
    field for what stream mode cannot build (a layer kind, types that vary with position, a
    branch, a Reshape that does not flatten, no windowed layer)."""
    layers = _chain(spec)
    shape = spec.input_shape
    if len(shape) < 2:
        raise SpecError(
            "stream mode needs an N-d (channels-last) input", layer=spec.input.name, field="k"
        )
    t = spec.input.type
    pixel = pixel_types(t.flat(), shape[:-1], "k", spec.input.name)
    in_pixel = pixel
    types = infer_types(spec)
    stages: list[Stage] = []
    pending: list[LayerSpec] = []
    before = spec.input.name
    index = 0
    while index < len(layers) and not isinstance(layers[index], ReshapeSpec):
        layer = layers[index]
        index += 1
        if isinstance(layer, ReLUSpec):
            pending.append(layer)
            continue
        if isinstance(layer, RequantizeSpec):
            q = pixel_types(
                layer.type.flat(),
                shape[:-1],
                "k",
                layer.name,
            )
            pending.append(
                RequantizeSpec(
                    name=layer.name,
                    inputs=layer.inputs,
                    k=q.k,
                    i=q.i,
                    f=q.f,
                    round=layer.round,
                    overflow=layer.overflow,
                )
            )
            continue
        if not any(isinstance(layer, cls) for cls in STREAMED_KINDS):
            raise SpecError(
                f"layer kind {layer.kind!r} cannot be streamed (stream: Conv, MaxPool, AvgPool, "
                "ReLU, Requantize, then a Reshape that flattens)",
                layer=layer.name,
                field="kind",
            )
        if pending:
            stage = _pixel_stage(pending, before, pixel, pipeline_levels, depth_slack)
            stages.append(stage)
            pixel = stage.out_pixel_type
            pending = []
        n_pos = math.prod(shape[:-1])
        window = plan_stream_layer(
            layer,
            shape,
            _tiled(pixel, n_pos),
            pipeline_levels=pipeline_levels,
            depth_slack=depth_slack,
        )
        stages.append(window)
        pixel = window.out_pixel_type
        shape = tuple(types[layer.name].shape)
        before = layer.name
    if pending:
        stage = _pixel_stage(pending, before, pixel, pipeline_levels, depth_slack)
        stages.append(stage)
        pixel = stage.out_pixel_type
        before = pending[-1].name
    if not any(isinstance(st, StreamWindowPlan) for st in stages):
        raise SpecError(
            "stream mode needs a Conv, MaxPool or AvgPool before the first Reshape",
            layer=spec.input.name,
            field="kind",
        )
    n_pos = math.prod(shape[:-1])
    gathered = _tiled(pixel, n_pos)
    rest = layers[index:]
    if rest:
        reshape = rest[0]
        assert isinstance(reshape, ReshapeSpec)
        if len(reshape.shape) != 1:
            raise SpecError(
                f"stream mode gathers into a 1-d tensor; this Reshape has shape "
                f"{list(reshape.shape)}",
                layer=reshape.name,
                field="shape",
            )
        head, rest = reshape.name, rest[1:]
    else:
        head = before
    dense_spec = ModelSpec(
        f"{spec.name}__dense",
        [
            InputSpec(name=head, k=gathered.k, i=gathered.i, f=gathered.f),
            *rest,
            OutputSpec(name=spec.output.name, inputs=spec.output.inputs),
        ],
    )
    dense = plan_network(dense_spec, pipeline_levels=pipeline_levels, depth_slack=depth_slack)
    return StreamNetworkPlan(
        spec.name, tuple(spec.input_shape), in_pixel, tuple(stages), GatherStage(n_pos, pixel),
        dense,
    )  # fmt: skip


IO_MODES = ("parallel", "stream", "auto")
"""``hgq gen --io``: fully unrolled, streamed, or chosen by :func:`choose_io`."""

AUTO_STREAM_TAPS = 4096
"""``--io auto`` streams a spec whose windowed layers would take more than this many
multiply (or compare) taps fully unrolled (see :func:`parallel_taps`)."""


def parallel_taps(spec: ModelSpec) -> int:
    """What the windowed layers cost fully unrolled, before any sharing: per Conv its live
    kernel weights times its output positions, per pool its window times its output elements."""
    from hgq_hw.spec import AvgPoolSpec, ConvSpec, MaxPoolSpec

    types = infer_types(spec)
    taps = 0
    for layer in spec.layers:
        out = types[layer.name].shape
        if isinstance(layer, ConvSpec):
            taps += int(np.count_nonzero(layer.kernel_raw)) * math.prod(out[:-1])
        elif isinstance(layer, AvgPoolSpec | MaxPoolSpec):
            taps += math.prod(layer.pool_size) * math.prod(out)
    return taps


def choose_io(spec: ModelSpec, io: str) -> tuple[str, str]:
    """``(mode, why)``: the mode ``hgq gen --io io`` builds ``spec`` in. ``auto`` streams when
    :func:`parallel_taps` exceeds :data:`AUTO_STREAM_TAPS` and stream mode takes the spec (one
    type per channel, a chain, ...), else builds it parallel; ``why`` says which rule decided."""
    if io not in IO_MODES:
        raise ValueError(f"io must be one of {', '.join(IO_MODES)}, got {io!r}")
    if io != "auto":
        return io, f"--io {io}"
    taps = parallel_taps(spec)
    if taps <= AUTO_STREAM_TAPS:
        return "parallel", f"auto: {taps} window taps unrolled <= {AUTO_STREAM_TAPS}"
    try:
        plan_stream_network(spec)
    except SpecError as err:
        return "parallel", f"auto: {taps} window taps, but stream mode refuses the spec ({err})"
    return "stream", f"auto: {taps} window taps unrolled > {AUTO_STREAM_TAPS}"
