"""Random streamed-Conv cases and a pixel-stream driver, shared by the stream tests."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import (
    AvgPoolSpec,
    ConvSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    Padding,
)
from hgq_hw.stream import StreamWindowPlan, plan_stream_layer

__all__ = ["Stream", "assert_same_values", "drive", "random_images", "random_stream_conv"]


def random_stream_conv(
    seed: int, *, levels: int | None = None, kind: str = "Conv"
) -> tuple[ModelSpec, StreamWindowPlan]:
    """``Input -> Conv -> Output`` with one type per channel (signed and unsigned, width-0
    channels, negative ``f``), a pruned kernel, 1 or 2 spatial dimensions, either padding,
    strides 1..2, and its stream plan (``levels``: pipeline levels, default from the seed).
    With ``kind="MaxPool"`` or ``"AvgPool"`` the layer is that pool instead ('valid', pool
    sizes 1..3, power-of-two windows for AvgPool, strides 1..3)."""
    rng = np.random.default_rng(seed)
    dims = 1 + seed % 2
    spatial = tuple(int(v) for v in rng.integers(2, 7, dims))
    window = tuple(int(min(v, n)) for v, n in zip(rng.integers(1, 4, dims), spatial))
    if kind == "AvgPool":
        window = tuple(2 if w == 3 else w for w in window)
    strides = tuple(int(v) for v in rng.integers(1, 3 if kind == "Conv" else 4, dims))
    padding = Padding.SAME if rng.random() < 0.6 and kind == "Conv" else Padding.VALID
    c_in, c_out = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kernel = rng.integers(-15, 16, (*window, c_in, c_out))
    kernel[rng.random(kernel.shape) < 0.3] = 0
    k = rng.integers(0, 2, c_in)
    width = np.where(rng.random(c_in) < 0.1, 0, rng.integers(1, 7, c_in))
    f = np.where(width > 0, rng.integers(-2, 5, c_in), 0)
    k = np.where(width > 0, k, 0)
    i = np.where(width > 0, width - k - f, 0)
    shape = (*spatial, c_in)
    tile = (*(1,) * dims, c_in)
    conv = ConvSpec(
        name="conv",
        inputs=("x",),
        kernel_raw=kernel,
        kernel_f=rng.integers(-1, 5, kernel.shape),
        bias_raw=np.where(rng.random(c_out) < 0.3, 0, rng.integers(-20, 21, c_out)),
        bias_f=rng.integers(-1, 5, c_out),
        strides=strides,
        padding=padding,
    )
    if kind != "Conv":
        pool = MaxPoolSpec if kind == "MaxPool" else AvgPoolSpec
        conv = pool(name="conv", inputs=("x",), pool_size=window, strides=strides, padding=padding)
    x = InputSpec(
        name="x",
        k=np.tile(k.reshape(tile), (*spatial, 1)),
        i=np.tile(i.reshape(tile), (*spatial, 1)),
        f=np.tile(f.reshape(tile), (*spatial, 1)),
    )
    spec = ModelSpec(f"stream_conv_{seed}", [x, conv, OutputSpec(name="out", inputs=("conv",))])
    t = spec.input.type
    flat = t.flat()
    plan = plan_stream_layer(
        conv, shape, flat, pipeline_levels=seed % 3 if levels is None else levels
    )
    return spec, plan


def random_images(spec: ModelSpec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` raw images (flattened), the first two all-minimum and all-maximum, then one with a
    single pixel at its maximum and the rest at the minimum, then uniform ones."""
    lo, hi = spec.input.type.raw_bounds()
    lo, hi = lo.ravel().astype(np.int64), hi.ravel().astype(np.int64)
    images = [lo.copy(), hi.copy()]
    single = lo.copy()
    c_in = spec.input_shape[-1]
    pos = int(rng.integers(0, len(lo) // c_in))
    single[pos * c_in : (pos + 1) * c_in] = hi[pos * c_in : (pos + 1) * c_in]
    images.append(single)
    while len(images) < n:
        images.append(rng.integers(lo, hi + 1))
    return np.array(images[:n], dtype=np.int64)


@dataclass
class Stream:
    """Per cycle ``rst``, ``valid``, pixel; and which image ordinal each complete image got."""

    rst: list[bool]
    valid: list[bool]
    pixels: list[list[int]]
    complete: dict[int, int]
    """ordinal of the image in the stream -> its index in the images given"""


def drive(
    plan,
    images: np.ndarray,
    rng: np.random.Generator,
    *,
    gap: float = 0.3,
    reset_at: tuple[int, int] | None = None,
    extra_idle: bool = True,
) -> Stream:
    """A stream of ``images`` for ``plan`` (a :class:`StreamWindowPlan` or a
    :class:`~hgq_hw.stream.StreamNetworkPlan`) with random gaps (probability ``gap`` before
    each pixel), half the images right after the one before (the next image's pixels fill the
    tail), the others after ``0 .. 2 * tail + 2`` idle cycles (none without ``extra_idle``),
    garbage payloads where not valid, two reset cycles first and, with ``reset_at = (image,
    pixel)``, a reset pulse before that pixel (that image is dropped; the image before it gets
    time to finish first, as its tail outputs would otherwise wait for the dropped image)."""
    c_in, n_pix = plan.c_in, plan.n_pixels
    windows = [plan] if isinstance(plan, StreamWindowPlan) else plan.stages
    tail = max((st.tail for st in windows if isinstance(st, StreamWindowPlan)), default=0)
    lo, hi = (np.asarray(v, dtype=np.int64) for v in plan.pixel_type.raw_bounds())
    s = Stream([], [], [], {})

    def cycle(rst: bool, valid: bool, pixel=None) -> None:
        s.rst.append(rst)
        s.valid.append(valid)
        s.pixels.append(
            [int(v) for v in (pixel if pixel is not None else rng.integers(lo, hi + 1))]
        )

    cycle(True, False)
    cycle(True, False)
    ordinal = 0
    for index, image in enumerate(images):
        pixels = np.asarray(image).reshape(n_pix, c_in)
        if reset_at is not None and reset_at[0] == index:
            for _ in range(plan.latency + 2):  # the image before finishes its tails on its own
                cycle(False, False)
        sent = 0
        for p in range(n_pix):
            if reset_at == (index, p):
                for _ in range(plan.latency + 2):
                    cycle(False, False)
                cycle(True, False)
                break
            while rng.random() < gap:
                cycle(False, False)
            cycle(False, True, pixels[p])
            sent += 1
        else:
            s.complete[ordinal] = index
        if sent:
            ordinal += 1
        idle = int(rng.integers(0, 2 * tail + 3)) if extra_idle and rng.random() < 0.5 else 0
        for _ in range(idle):
            cycle(False, False)
    for _ in range(plan.latency + 3):
        cycle(False, False)
    return s


def assert_same_values(
    spec: ModelSpec, plan: StreamWindowPlan, images: np.ndarray, got: dict[int, list[int]],
    what: str,
) -> None:  # fmt: skip
    """``got[position]`` (output pixels at the plan's per-channel type) equal the reference's
    outputs of the one image ``images[0]`` as values (raw aligned by ``f``), for every output
    position; a mismatch names ``what``, the pixel and the channel."""
    want = np.asarray(evaluate(spec, images[:1])).reshape(-1)
    t = infer_types(spec)[spec.output.name]
    f_ref = t.f.ravel()
    f_got = plan.out_pixel_type.f
    c_out = plan.c_out
    n_out = plan.geometry.n_outputs
    assert sorted(got) == list(range(n_out)), f"{what}: output pixels {sorted(got)} of {n_out}"
    for pos in range(n_out):
        for c in range(c_out):
            e = pos * c_out + c
            g, r = int(got[pos][c]), int(want[e])
            fg, fr = int(f_got[c]), int(f_ref[e])
            if g << max(fr - fg, 0) != r << max(fg - fr, 0):
                raise AssertionError(
                    f"{what}: pixel {pos}, channel {c}: expected raw {r} (f={fr}), got raw {g} "
                    f"(f={fg})"
                )


def _channel_type(rng: np.random.Generator, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    width = np.where(rng.random(c) < 0.1, 0, rng.integers(1, 7, c))
    f = np.where(width > 0, rng.integers(-1, 5, c), 0)
    k = np.where(width > 0, rng.integers(0, 2, c), 0)
    return k, np.where(width > 0, width - k - f, 0), f


def random_stream_network(seed: int, *, levels: int | None = None):
    """A CNN-shaped chain spec with one type per channel and its stream network plan:
    ``Input -> Conv -> Requantize [-> ReLU] [-> MaxPool | AvgPool -> Requantize]
    [-> Conv -> Requantize] -> Reshape -> Dense [-> Requantize -> Dense] -> Output``."""
    from hgq_hw.fixed import Overflow, Round
    from hgq_hw.spec import DenseSpec, ReLUSpec, RequantizeSpec, ReshapeSpec
    from hgq_hw.stream import plan_stream_network

    rng = np.random.default_rng(seed)
    dims = 1 + seed % 2
    spatial = (
        tuple(int(v) for v in rng.integers(4, 8, dims))
        if dims == 2
        else (int(rng.integers(6, 14)),)
    )
    c = int(rng.integers(1, 3))
    k, i, f = _channel_type(rng, c)
    tile = (*spatial, 1)
    layers: list = [InputSpec(name="x", k=np.tile(k, tile), i=np.tile(i, tile), f=np.tile(f, tile))]
    shape = (*spatial, c)

    def add(layer) -> None:
        nonlocal shape
        shape = layer.output_shape([shape])
        layers.append(layer)

    def conv(name: str) -> None:
        c_in, c_out = shape[-1], int(rng.integers(1, 4))
        window = tuple(int(min(v, n)) for v, n in zip(rng.integers(2, 4, dims), shape[:-1]))
        kernel = rng.integers(-7, 8, (*window, c_in, c_out))
        kernel[rng.random(kernel.shape) < 0.3] = 0
        add(
            ConvSpec(
                name=name,
                inputs=(layers[-1].name,),
                kernel_raw=kernel,
                kernel_f=rng.integers(0, 4, kernel.shape),
                bias_raw=rng.integers(-8, 9, c_out),
                bias_f=rng.integers(0, 3, c_out),
                strides=tuple(int(v) for v in rng.integers(1, 3, dims)),
                padding=Padding.SAME if rng.random() < 0.6 else Padding.VALID,
            )
        )

    def requantize(name: str) -> None:
        qk, qi, qf = _channel_type(rng, shape[-1])
        t = (*shape[:-1], 1)
        add(
            RequantizeSpec(
                name=name,
                inputs=(layers[-1].name,),
                k=np.tile(qk, t) if len(shape) > 1 else qk,
                i=np.tile(qi, t) if len(shape) > 1 else qi,
                f=np.tile(qf, t) if len(shape) > 1 else qf,
                round=Round.RND if rng.random() < 0.5 else Round.TRN,
                overflow=Overflow.SAT if rng.random() < 0.5 else Overflow.WRAP,
            )
        )

    def dense(name: str, n_out: int) -> None:
        (n_in,) = shape
        w = rng.integers(-7, 8, (n_in, n_out))
        w[rng.random(w.shape) < 0.4] = 0
        add(
            DenseSpec(
                name=name,
                inputs=(layers[-1].name,),
                weight_raw=w,
                weight_f=rng.integers(0, 4, w.shape),
                bias_raw=rng.integers(-8, 9, n_out),
                bias_f=rng.integers(0, 3, n_out),
            )
        )

    conv("conv1")
    requantize("q1")
    if rng.random() < 0.5:
        add(ReLUSpec(name="relu1", inputs=(layers[-1].name,)))
    if all(n >= 2 for n in shape[:-1]) and rng.random() < 0.7:
        pool = (2,) * dims
        if rng.random() < 0.5:
            add(MaxPoolSpec(name="pool", inputs=(layers[-1].name,), pool_size=pool,
                            strides=pool, padding=Padding.VALID))  # fmt: skip
        else:
            add(AvgPoolSpec(name="pool", inputs=(layers[-1].name,), pool_size=pool,
                            strides=pool, padding=Padding.VALID))  # fmt: skip
            requantize("qp")
    if all(n >= 3 for n in shape[:-1]) and rng.random() < 0.5:
        conv("conv2")
        requantize("q2")
    add(ReshapeSpec(name="flat", inputs=(layers[-1].name,), shape=(math.prod(shape),)))
    dense("dense1", int(rng.integers(2, 6)))
    if rng.random() < 0.5:
        requantize("qd")
        dense("dense2", int(rng.integers(1, 4)))
    layers.append(OutputSpec(name="out", inputs=(layers[-1].name,)))
    spec = ModelSpec(f"stream_net_{seed}", layers)
    plan = plan_stream_network(spec, pipeline_levels=seed % 3 if levels is None else levels)
    return spec, plan
