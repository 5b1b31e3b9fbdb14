"""Stream networks (streamed stages, gather, parallel Dense part): per-image evaluation and the
cycle model against the reference, the input gap and initiation interval, refusals; the
Verilog against the cycle model in Icarus."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import (
    ConvSpec,
    DenseSpec,
    InputSpec,
    ModelSpec,
    OutputSpec,
    Padding,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
    SpecError,
)
from hgq_hw.stream import StreamWindowPlan, plan_stream_network
from hgq_hw.stream.netlist import write_stream_network
from tests.hw.stream_cases import drive, random_images, random_stream_network
from tests.hw.test_stream_window import run_verilog, verilog_register_bits

SEEDS = list(range(12))


def check_values(spec: ModelSpec, plan, got, x: np.ndarray, what: str) -> None:
    """``got[b]`` (raw at the plan's output type) equal the reference on ``x[b]`` as values;
    a mismatch names the image and output element."""
    want = np.asarray(evaluate(spec, x)).reshape(len(x), -1)
    f_ref = infer_types(spec)[spec.output.name].f.ravel()
    f_got = plan.out_type.f
    assert len(got) == len(want), f"{what}: {len(got)} outputs for {len(want)} images"
    for b in range(len(want)):
        for e in range(want.shape[1]):
            g, r, fg, fr = int(got[b][e]), int(want[b, e]), int(f_got[e]), int(f_ref[e])
            assert g << max(fr - fg, 0) == r << max(fg - fr, 0), (
                f"{what}: image {b}, output {e}: expected raw {r} (f={fr}), got {g} (f={fg})"
            )


def expected_images(stream, n_got: int, cut: int) -> list[int]:
    """The images whose outputs come out, in order: every complete one, and the image ``cut``
    short by the reset when its output came out anyway (a window that needs only its first rows,
    as a 'valid' pool that drops the last row, completes on the pixels it got, correctly)."""
    kept = [stream.complete[k] for k in sorted(stream.complete)]
    return sorted([*kept, cut]) if n_got == len(kept) + 1 else kept


@pytest.mark.parametrize("seed", SEEDS)
def test_evaluate_equals_reference(seed: int) -> None:
    spec, plan = random_stream_network(seed)
    x = random_images(spec, 10, np.random.default_rng(seed))
    check_values(spec, plan, plan.evaluate(x), x, f"seed {seed}")


@pytest.mark.parametrize("seed", SEEDS)
def test_cycle_model_equals_reference_with_gaps_and_reset(seed: int) -> None:
    spec, plan = random_stream_network(seed)
    rng = np.random.default_rng(3000 + seed)
    images = random_images(spec, 5, rng)
    stream = drive(plan, images, rng, gap=0.3, reset_at=(2, int(rng.integers(0, plan.n_pixels))))
    valid, outs = plan.run(stream.valid, stream.pixels, stream.rst)
    got = [o for v, o in zip(valid, outs) if v]
    kept = expected_images(stream, len(got), 2)
    check_values(spec, plan, got, images[kept], f"seed {seed} (images {kept})")


@pytest.mark.parametrize("seed", [1, 3, 9])
def test_back_to_back_at_the_initiation_interval(seed: int) -> None:
    """Images at exactly ``ii`` cycles apart all come out right; the last pixel -> output delay
    is the reported latency where every window fires last on its last slot, at most it else."""
    spec, plan = random_stream_network(seed)
    assert plan.ii == plan.n_pixels
    rng = np.random.default_rng(seed)
    images = random_images(spec, 3, rng)
    stream = drive(plan, images, rng, gap=0.0, extra_idle=False)
    valid, outs = plan.run(stream.valid, stream.pixels, stream.rst)
    got = [o for v, o in zip(valid, outs) if v]
    check_values(spec, plan, got, images, f"seed {seed}")
    pixels = [t for t, v in enumerate(stream.valid) if v]
    firsts = pixels[:: plan.n_pixels]
    assert [b - a for a, b in itertools.pairwise(firsts)] == [plan.ii] * 2
    last_pixel = pixels[plan.n_pixels - 1]
    first_out = next(t for t, v in enumerate(valid) if v)
    measured = first_out - last_pixel
    exact = all(
        st.geometry.trigger(st.geometry.out[0] - 1, st.geometry.out[1] - 1)
        >= st.geometry.n_pixels - 1
        for st in plan.stages
        if isinstance(st, StreamWindowPlan)
    )
    print(f"seed {seed}: measured latency {measured}, reported {plan.latency}, exact {exact}")
    assert measured == plan.latency if exact else measured <= plan.latency


def test_what_stream_mode_refuses_names_layer_and_field() -> None:
    spec, _ = random_stream_network(0)
    q1 = spec.layer("q1")
    f = q1.f.copy()
    f.reshape(-1)[-1] += 1  # the last position's type differs
    varying = [dataclasses.replace(q1, f=f) if layer is q1 else layer for layer in spec.layers]
    with pytest.raises(SpecError, match="one type per channel") as err:
        plan_stream_network(ModelSpec(spec.name, varying))
    assert (err.value.layer, err.value.field) == ("q1", "k")
    x = spec.input
    pixel_only = [
        x,
        ReLUSpec(name="relu", inputs=(x.name,)),
        OutputSpec(name="out", inputs=("relu",)),
    ]
    with pytest.raises(SpecError, match="needs a Conv, MaxPool or AvgPool"):
        plan_stream_network(ModelSpec("pixel_only", pixel_only))
    branch = [*spec.layers[:-1], OutputSpec(name="out", inputs=(spec.layers[1].name,))]
    with pytest.raises(SpecError, match="chain") as err:
        plan_stream_network(ModelSpec("branch", branch))
    assert err.value.field == "inputs"


@pytest.mark.sim
@pytest.mark.parametrize(
    ("seed", "sim"), [(0, "icarus"), (1, "icarus"), (4, "icarus"), (5, "icarus"), (9, "icarus"),
                      (4, "verilator")]
)  # fmt: skip
def test_verilog_equals_cycle_model(seed: int, sim: str, tmp_path) -> None:
    spec, plan = random_stream_network(seed)
    rng = np.random.default_rng(4000 + seed)
    print(f"seed {seed}: {plan.report()}")
    images = random_images(spec, 4, rng)
    stream = drive(plan, images, rng, gap=0.3, reset_at=(1, int(rng.integers(0, 4))))
    valid, outs = plan.run(stream.valid, stream.pixels, stream.rst)
    verilog = write_stream_network(plan, "dut")
    assert verilog_register_bits(verilog) == plan.registers
    got = run_verilog(plan, stream, tmp_path, verilog, sim=sim)
    n = 0
    for t, ((gv, gp), mv, mo) in enumerate(zip(got, valid, outs)):
        assert gv == mv, f"seed {seed}, cycle {t}: valid {gv}, model {mv}"
        if mv:
            word = plan.out_layout.pack(np.array([mo], dtype=object))[0] if gp or mo else 0
            got_out = plan.out_layout.unpack([gp])[0]
            bad = [e for e in range(len(mo)) if int(got_out[e]) != int(mo[e])]
            assert gp == word, (
                f"seed {seed}, cycle {t}: image {n} (in order of completion), output {bad[0]}: "
                f"expected {mo[bad[0]]}, got {got_out[bad[0]]}"
            )
            n += 1
    assert len(stream.complete) == 3 and n == len(expected_images(stream, n, 1))


def _one_by_one_then_same() -> ModelSpec:
    """``Input 5x6x1 -> Conv 1x1 'valid' -> Requantize -> Conv 3x3 'same' -> Reshape -> Dense``:
    the first window has no tail and no slack (``T(0, 0) = 0``, fires last on the last pixel),
    so the second window's tail slots come straight from the next image."""
    rng = np.random.default_rng(5)
    shape = (5, 6, 1)
    layers = [
        InputSpec(name="x", k=np.ones(shape, int), i=np.full(shape, 2), f=np.ones(shape, int)),
        ConvSpec(name="c1", inputs=("x",), kernel_raw=np.array([[[[3, -2]]]]),
                 kernel_f=np.ones((1, 1, 1, 2), int), bias_raw=np.array([1, 0]),
                 bias_f=np.zeros(2, int), strides=(1, 1), padding=Padding.VALID),
        RequantizeSpec(name="q", inputs=("c1",), k=np.ones((5, 6, 2), int),
                       i=np.full((5, 6, 2), 2), f=np.ones((5, 6, 2), int)),
        ConvSpec(name="c2", inputs=("q",), kernel_raw=rng.integers(-3, 4, (3, 3, 2, 1)),
                 kernel_f=np.ones((3, 3, 2, 1), int), bias_raw=np.zeros(1, int),
                 bias_f=np.zeros(1, int), strides=(1, 1), padding=Padding.SAME),
        ReshapeSpec(name="flat", inputs=("c2",), shape=(30,)),
        DenseSpec(name="d", inputs=("flat",), weight_raw=rng.integers(-2, 3, (30, 2)),
                  weight_f=np.zeros((30, 2), int), bias_raw=np.zeros(2, int),
                  bias_f=np.zeros(2, int)),
        OutputSpec(name="out", inputs=("d",)),
    ]  # fmt: skip
    return ModelSpec("gap_from_a_later_stage", layers)


def test_back_to_back_through_two_tails() -> None:
    """The second window's tail (a row + 1) is filled by the next image's pixels as they come
    out of the first window: images back to back, every output right."""
    spec = _one_by_one_then_same()
    plan = plan_stream_network(spec)
    first, second = (st for st in plan.stages if isinstance(st, StreamWindowPlan))
    assert (first.tail, second.tail, plan.ii) == (0, 7, 30)
    images = random_images(spec, 4, np.random.default_rng(6))
    for gap in (0.0, 0.3):
        stream = drive(plan, images, np.random.default_rng(7), gap=gap, extra_idle=False)
        valid, outs = plan.run(stream.valid, stream.pixels, stream.rst)
        got = [o for v, o in zip(valid, outs) if v]
        check_values(spec, plan, got, images, f"gap {gap}")
