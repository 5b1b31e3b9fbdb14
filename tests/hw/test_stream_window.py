"""The streamed windowed layers (Conv, MaxPool, AvgPool): per-image evaluation and the cycle
model against the reference, their numbers, the per-channel type rule; the Verilog against the
cycle model in Icarus."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from hgq_hw.fixed import TensorType
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import ConvSpec, Padding, SpecError
from hgq_hw.stream import StreamGeometry, plan_stream_conv
from hgq_hw.stream.netlist import write_stream_layer
from hgq_hw.stream.testbench import run_stream_verilog
from tests.hw.stream_cases import assert_same_values, drive, random_images, random_stream_conv

SEEDS = list(range(24))
CASES = [("Conv", s) for s in SEEDS] + [(k, s) for k in ("MaxPool", "AvgPool") for s in range(10)]


def _value_equal(plan, spec, got: np.ndarray, want: np.ndarray, what: str) -> None:
    f_ref = infer_types(spec)[spec.output.name].f.ravel()
    f_got = np.tile(plan.out_pixel_type.f, plan.geometry.n_outputs)
    for b in range(len(want)):
        for e in range(want.shape[1]):
            g, r, fg, fr = int(got[b, e]), int(want[b, e]), int(f_got[e]), int(f_ref[e])
            assert g << max(fr - fg, 0) == r << max(fg - fr, 0), (
                f"{what}: image {b}, pixel {e // plan.c_out}, channel {e % plan.c_out}: "
                f"expected raw {r} (f={fr}), got {g} (f={fg})"
            )


@pytest.mark.parametrize(("kind", "seed"), CASES)
def test_evaluate_equals_reference(kind: str, seed: int) -> None:
    spec, plan = random_stream_conv(seed, kind=kind)
    x = random_images(spec, 12, np.random.default_rng(seed))
    want = np.asarray(evaluate(spec, x)).reshape(len(x), -1)
    _value_equal(plan, spec, plan.evaluate(x), want, f"{kind} seed {seed}")


@pytest.mark.parametrize(("kind", "seed"), CASES)
def test_cycle_model_equals_reference_with_gaps_and_reset(kind: str, seed: int) -> None:
    spec, plan = random_stream_conv(seed, kind=kind)
    rng = np.random.default_rng(1000 + seed)
    images = random_images(spec, 5, rng)
    reset_at = (2, int(rng.integers(0, plan.geometry.n_pixels)))
    stream = drive(plan, images, rng, gap=0.3 if seed % 2 else 0.0, reset_at=reset_at)
    run = plan.run(stream.valid, stream.pixels, stream.rst)
    by_image = run.images()
    assert len(stream.complete) == 4
    for ordinal, index in stream.complete.items():
        what = f"{kind} seed {seed}, image {index} (stream ordinal {ordinal})"
        assert_same_values(spec, plan, images[index : index + 1], by_image.get(ordinal, {}), what)


def test_back_to_back_images_at_the_initiation_interval() -> None:
    """Without gaps, one image starts every ``ii = H*W`` cycles (its first pixels fill the tail
    of the one before) and every output comes out."""
    spec, plan = random_stream_conv(15)  # 6x5, 3x3 'same': a tail
    assert plan.tail == 6
    images = random_images(spec, 3, np.random.default_rng(7))
    rng = np.random.default_rng(7)
    stream = drive(plan, images, rng, gap=0.0, extra_idle=False)
    run = plan.run(stream.valid, stream.pixels, stream.rst)
    starts = [t for t, v in enumerate(stream.valid) if v]
    firsts = starts[:: plan.geometry.n_pixels]
    assert plan.ii == plan.n_pixels
    assert [b - a for a, b in itertools.pairwise(firsts)] == [plan.ii] * 2
    for ordinal, index in stream.complete.items():
        assert_same_values(spec, plan, images[index:], run.images()[ordinal], f"image {index}")


def test_numbers_of_a_3x3_same_conv() -> None:
    """32x32x3, 3x3 'same', stride 1: line buffer of 2 rows + 3 pixels, tail of a row + 1."""
    g = StreamGeometry.of((32, 32), (3, 3), (1, 1), Padding.SAME)
    assert (g.out, g.before, g.buffer_len, g.tail, g.n_slots) == ((32, 32), (1, 1), 67, 33, 1057)
    assert g.trigger(0, 0) == 33 and g.row_step == 1
    assert (g.row_range(0), g.row_range(2), g.col_range(1)) == ((1, 31), (0, 30), (0, 31))
    g = StreamGeometry.of((7,), (3,), (2,), Padding.VALID)
    assert (g.out, g.tail, g.trigger(0, 0), g.trigger(0, 2), g.buffer_len) == ((1, 3), 0, 2, 6, 3)


def test_position_varying_types_are_refused_by_layer_and_field() -> None:
    spec, _ = random_stream_conv(3)
    conv = spec.layers[1]
    assert isinstance(conv, ConvSpec)
    t = spec.input.type
    f = t.f.copy()
    f.reshape(-1)[-1] += 1
    flat = TensorType(t.k, t.i, f).flat()
    with pytest.raises(SpecError, match="one type per channel") as err:
        plan_stream_conv(conv, t.shape, flat)
    assert err.value.layer == "conv" and err.value.field == "inputs"


# -- Verilog in Icarus ------------------------------------------------------------------------


def verilog_register_bits(text: str) -> int:
    """Flip-flops declared in Verilog text: the widths of every ``reg`` (testbench-free)."""
    total = 0
    for m in re.finditer(r"^\s*reg\s+(?:\[(\d+):0\]\s+)?\w+", text, flags=re.M):
        total += int(m.group(1)) + 1 if m.group(1) is not None else 1
    return total


def run_verilog(
    plan, stream, tmp_path, verilog: str, *, sim: str = "icarus"
) -> list[tuple[bool, int]]:
    """``verilog`` (module ``dut``: ``plan``'s ports) run on ``stream`` in ``sim``
    (:func:`hgq_hw.stream.testbench.run_stream_verilog`; skipped without the simulator)."""
    try:
        return run_stream_verilog(
            verilog, plan.pixel_layout, plan.out_layout, stream.valid, stream.pixels,
            stream.rst, tmp_path, sim=sim,
        )  # fmt: skip
    except FileNotFoundError as err:
        pytest.skip(str(err))


VERILOG_CASES = [("Conv", s) for s in (1, 4, 5, 7, 13, 15, 19, 23)] + [
    (k, s) for k in ("MaxPool", "AvgPool") for s in (1, 4, 5, 7)
]


@pytest.mark.sim
@pytest.mark.parametrize(("kind", "seed"), VERILOG_CASES)
def test_verilog_equals_cycle_model(kind: str, seed: int, tmp_path) -> None:
    spec, plan = random_stream_conv(seed, kind=kind)
    rng = np.random.default_rng(2000 + seed)
    print(f"{kind} seed {seed}: {plan.report()}")
    images = random_images(spec, 4, rng)
    stream = drive(plan, images, rng, gap=0.3, reset_at=(1, int(rng.integers(0, 4))))
    run = plan.run(stream.valid, stream.pixels, stream.rst)
    verilog = write_stream_layer(plan, "dut")
    assert verilog_register_bits(verilog) == plan.registers
    got = run_verilog(plan, stream, tmp_path, verilog)
    checked = 0
    for t, ((gv, gp), mv, mp, tag) in enumerate(zip(got, run.valid, run.pixels, run.tags)):
        assert gv == mv, f"{kind} seed {seed}, cycle {t}: valid {gv}, model {mv} (model tag {tag})"
        if not mv:
            continue
        want = plan.out_layout.pack(np.array([mp], dtype=object))[0] if plan.out_layout.width else 0
        if gp != want:
            image, pixel = tag
            got_px = plan.out_layout.unpack([gp])[0]
            bad = [c for c in range(plan.c_out) if int(got_px[c]) != int(mp[c])]
            raise AssertionError(
                f"{kind} seed {seed}, cycle {t}: image {image}, pixel {pixel}, channel {bad[0]}: "
                f"expected {mp[bad[0]]}, got {got_px[bad[0]]}"
            )
        checked += 1
    assert checked == sum(run.valid) and checked >= 3 * plan.geometry.n_outputs
    for ordinal, index in stream.complete.items():
        assert_same_values(
            spec, plan, images[index:], run.images()[ordinal], f"{kind} seed {seed}, image {index}"
        )
