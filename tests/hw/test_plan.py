"""The hardware plan in numpy: equal to the reference, JSON round trip, and each pass alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hgq_hw.cmvm import dense_graph
from hgq_hw.fixed import Overflow, Round, TensorType, requantize_raw
from hgq_hw.plan import (
    NetworkPlan,
    PlanError,
    check_placement,
    load_plan,
    plan_dense,
    plan_network,
    plan_relu,
    plan_requantize,
    save_plan,
    schedule,
    unread_low_bits,
)
from hgq_hw.plan.adder_form import hardware_adders
from hgq_hw.plan.dense import count_registers
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import (
    DenseSpec,
    InputSpec,
    LayerSpec,
    ModelSpec,
    OutputSpec,
    RequantizeSpec,
    SpecError,
)
from tests.hw.conftest import non_chain_spec, random_raw_inputs

# (random_spec options, pipeline_levels, depth_slack) swept over many seeds
SWEEP = [
    (dict(depth=2, width=(1, 8)), 0, None),
    (dict(depth=2, width=(1, 8), relu=1.0, f_range=(0, 5)), 1, None),
    (dict(depth=3, width=(1, 6)), 2, 0),
    (dict(depth=1, width=(2, 8), prune=0.7, zero_width=0.3), 1, 1),
    (dict(depth=2, width=(1, 4), input_bits=(20, 48), act_bits=(20, 60), weight_bits=(20, 40),
          f_range=(-20, 30)), 3, None),
    (dict(depth=0, width=(1, 8)), 1, None),
]  # fmt: skip
SEEDS = range(90)


@pytest.mark.parametrize("case", range(len(SWEEP)))
def test_plan_equals_reference_on_random_specs(case: int) -> None:
    """6 x 90 = 540 random specs: the pipelined plan (dropped bits, narrowing, retiming
    included) gives exactly the reference's outputs."""
    options, levels, slack = SWEEP[case]
    for seed in SEEDS:
        spec = random_spec(1000 * case + seed, **options)
        plan = plan_network(spec, pipeline_levels=levels, depth_slack=slack)
        x = random_raw_inputs(spec, 24, seed)
        got, want = plan(x), np.asarray(evaluate(spec, x), dtype=object)
        assert np.array_equal(got, want), f"seed {1000 * case + seed}, levels {levels}"


@pytest.mark.parametrize("levels", [0, 2])
def test_plan_json_round_trip(levels: int, tmp_path) -> None:
    spec = random_spec(7, depth=3, width=(3, 8), relu=1.0, f_range=(0, 4))
    plan = plan_network(spec, pipeline_levels=levels, depth_slack=1)
    again = load_plan(save_plan(plan, tmp_path / "plan.json"))
    assert again == plan and again.to_json() == plan.to_json()
    x = random_raw_inputs(spec, 30, 1)
    assert np.array_equal(again(x), plan(x))
    assert plan_network(spec, pipeline_levels=levels) != plan_network(
        spec, pipeline_levels=levels + 1
    )


def test_plan_json_refuses_unknown_missing_and_inconsistent_fields() -> None:
    plan = plan_network(random_spec(3, depth=2, width=(2, 5)), pipeline_levels=1)
    obj = plan.to_json()
    with pytest.raises(PlanError, match="unknown field"):
        NetworkPlan.from_json({**obj, "extra": 1})
    missing = dict(obj)
    del missing["latency"]
    with pytest.raises(PlanError, match="missing field"):
        NetworkPlan.from_json(missing)
    layer = dict(obj["layers"][0])
    del layer["registers"]
    with pytest.raises(PlanError, match="missing field"):
        NetworkPlan.from_json({**obj, "layers": [layer, *obj["layers"][1:]]})
    with pytest.raises(PlanError, match="unknown plan kind"):
        NetworkPlan.from_json({**obj, "layers": [{**obj["layers"][0], "kind": "Softmax"}]})
    with pytest.raises(PlanError, match="do not match"):
        NetworkPlan.from_json({**obj, "registers": obj["registers"] + 1})
    with pytest.raises(PlanError, match="format"):
        NetworkPlan.from_json({**obj, "format": "hgqflow-spec"})
    assert NetworkPlan.from_json(json.loads(json.dumps(obj))) == plan


def test_plan_numbers_are_what_reports_need() -> None:
    spec = random_spec(11, depth=3, width=(6, 8), weight_bits=(4, 8))
    plan = plan_network(spec, pipeline_levels=1)
    dense = [layer for layer in plan.layers if layer.kind == "Dense"]
    # real adders: the graphs' ops less those that are only wires (test_adder_wiring.py)
    assert plan.n_adders == sum(hardware_adders(layer.graph) for layer in dense) > 0
    assert plan.n_adders <= sum(layer.graph.n_adders for layer in dense)
    assert plan.adder_depth == sum(layer.graph.depth for layer in dense)
    assert plan.latency == 2 + sum(layer.latency for layer in plan.layers) > 4
    io = plan.in_layout.width + plan.out_layout.width + 2
    assert plan.registers == io + sum(layer.registers for layer in plan.layers)
    assert [row["layer"] for row in plan.rows()] == [layer.name for layer in spec.layers[1:-1]]
    assert plan.out_type == infer_types(spec)[spec.output.name]


# -- the graph ---------------------------------------------------------------------------------


def test_non_chain_spec_reads_the_named_tensor() -> None:
    """q reads x (not the Dense layer before it): the dead branch is dropped, not wired in."""
    spec = non_chain_spec()
    x = random_raw_inputs(spec, 50, 3)
    want = requantize_raw(x, spec.input.f, spec.layer("q").type, Round.RND, Overflow.SAT)
    assert np.array_equal(np.asarray(evaluate(spec, x), dtype=object), want)
    for levels in (0, 1):
        plan = plan_network(spec, pipeline_levels=levels)
        assert [layer.name for layer in plan.layers] == ["q"] and plan.unused == ("d",)
        assert plan.layers[0].inputs == ("x",)
        assert np.array_equal(plan(x), want)


class _Pair(LayerSpec):
    """A two-input kind no planner knows."""

    kind = "Pair"
    arity = 2

    def output_shape(self, input_shapes):
        return input_shapes[0]


def test_specs_the_hardware_cannot_build_are_refused_naming_the_layer() -> None:
    spec = non_chain_spec()
    layers = list(spec.layers)
    layers[2] = _Pair(name="p", inputs=("x", "x"))
    layers[3] = OutputSpec(name="out", inputs=("p",))
    with pytest.raises(SpecError, match=r"layer 'p'.*kind"):
        plan_network(ModelSpec("pair", layers))


# -- each pass alone -------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [1, 2, 3])
@pytest.mark.parametrize("seed", range(6))
def test_retiming_keeps_latency_values_and_causality(seed: int, levels: int) -> None:
    spec = random_spec(seed, depth=1, width=(10, 16), input_bits=(4, 8), weight_bits=(2, 5))
    layer = spec.dense_layers()[0]
    types = infer_types(spec)
    g = dense_graph(layer, types["x"])
    asap, lat_a, t_a = schedule(g, levels, 5, retime=False)
    placed, lat, t_out = schedule(g, levels, 5)
    assert (lat, t_out) == (lat_a, t_a)
    check_placement(g, asap, levels, lat, 5)
    check_placement(g, placed, levels, lat, 5)
    drops = (0,) * layer.n_out
    assert count_registers(g, placed, lat, drops) <= count_registers(g, asap, lat, drops)
    retimed = plan_dense(layer, types["x"], types[layer.name], pipeline_levels=levels, t_in=5)
    plain = plan_dense(
        layer, types["x"], types[layer.name], pipeline_levels=levels, t_in=5, retime=False
    )
    x = random_raw_inputs(spec, 40, seed)
    assert np.array_equal(retimed.evaluate([x]), plain.evaluate([x]))
    assert (retimed.latency, retimed.t_out) == (plain.latency, plain.t_out)
    bad = list(placed)
    last = g.n_in + g.n_adders - 1
    bad[last] = (bad[last][0], bad[last][1] + 1)
    with pytest.raises(ValueError, match="delay"):
        check_placement(g, bad, levels, lat, 5)


def test_dropped_low_bits_are_cleared_and_save_registers() -> None:
    spec = random_spec(5, depth=1, width=(5, 6), input_bits=(4, 6), f_range=(0, 4), prune=0.2)
    types = infer_types(spec)
    layer = spec.dense_layers()[0]
    t_out = types[layer.name]
    drops = [int(min(j % 4, t_out.width[j] - t_out.k[j])) for j in range(layer.n_out)]
    kw = dict(pipeline_levels=1, t_in=20)
    dropped = plan_dense(layer, types["x"], t_out, out_drop=drops, **kw)
    exact = plan_dense(layer, types["x"], t_out, graph=dropped.graph, **kw)
    x = random_raw_inputs(spec, 40, 5)
    y = evaluate(spec, x, all_tensors=True)[layer.name]
    want = np.array([[(int(v) >> d) << d for v, d in zip(row, drops)] for row in y], dtype=object)
    assert np.array_equal(dropped.evaluate([x]), want)
    assert np.array_equal(exact.evaluate([x]), np.asarray(y, dtype=object))
    assert dropped.registers < exact.registers
    relu = plan_relu(t_out, pipeline_levels=1, t_in=32, out_drop=drops)
    cleared = np.array([[(max(int(v), 0) >> d) << d for v, d in zip(r, drops)] for r in y])
    assert np.array_equal(relu.evaluate([y]), cleared.astype(object))


def test_unread_low_bits_take_the_minimum_over_consumers() -> None:
    x_type = TensorType.uniform((2,), 1, 3, 6)

    def q(name: str, f: list[int], round_mode: Round) -> RequantizeSpec:
        return RequantizeSpec(
            name=name, inputs=("x",), k=[1, 1], i=[3, 3], f=f, round=round_mode,
            overflow=Overflow.WRAP,
        )  # fmt: skip

    layers = [InputSpec(name="x", k=x_type.k, i=x_type.i, f=x_type.f)]
    layers += [q("a", [1, 4], Round.TRN), q("b", [3, 0], Round.RND)]
    types = {"x": x_type, "a": layers[1].type, "b": layers[2].type}
    assert list(unread_low_bits(layers[1:2], types, "a")["x"]) == [5, 2]
    assert list(unread_low_bits(layers[2:3], types, "b")["x"]) == [2, 5]
    assert list(unread_low_bits(layers[1:3], types, "b")["x"]) == [2, 2]


@pytest.mark.parametrize("overflow", list(Overflow))
@pytest.mark.parametrize("round_mode", list(Round))
def test_wrap_narrowing_in_the_plan_is_exact(round_mode: Round, overflow: Overflow) -> None:
    """A registered requantizer holds only the narrowed bits; its plan still evaluates exactly,
    and WRAP to few bits keeps fewer bits than the input has."""
    t_in = TensorType(np.array([1, 0, 1, 1]), np.array([9, 8, 3, 0]), np.array([4, 2, 0, 3]))
    to = TensorType(np.array([1, 0, 1, 0]), np.array([1, 2, 3, 1]), np.array([1, 0, 2, -1]))
    plan = plan_requantize(t_in, to, round_mode, overflow, pipeline_levels=1, t_in=32)
    # TRN + WRAP is wiring only (no stage needed); the others get a register stage
    registered = round_mode is Round.RND or overflow is Overflow.SAT
    assert plan.latency == int(registered)
    live = [int(w) > 0 for w in to.width]  # the last element has width 0: nothing to hold
    assert [n is not None for n in plan.narrowed] == [registered and v for v in live]
    lo, hi = t_in.raw_bounds()
    rng = np.random.default_rng(0)
    x = np.array(
        [[int(rng.integers(int(a), int(b) + 1)) for a, b in zip(lo, hi)] for _ in range(300)]
        + [list(lo), list(hi)],
        dtype=object,
    )
    want = requantize_raw(x, t_in.f, to, round_mode, overflow)
    assert np.array_equal(plan.evaluate([x]), want)
    if registered and overflow is Overflow.WRAP:
        assert plan.narrowed[0].keep is not None
        assert plan.registers < 1 + int(t_in.width.sum())


def test_planners_check_their_arguments() -> None:
    with pytest.raises(ValueError, match="pipeline_levels"):
        plan_network(random_spec(1), pipeline_levels=-1)
    with pytest.raises(ValueError, match="depth_slack"):
        plan_network(random_spec(1), depth_slack=-2)
    with pytest.raises(TypeError, match="ModelSpec"):
        plan_network("spec")  # type: ignore[arg-type]
    spec = random_spec(2, depth=1)
    with pytest.raises(TypeError, match="DenseSpec"):
        plan_dense(spec.input, spec.input.type, spec.input.type)  # type: ignore[arg-type]
    assert isinstance(spec.layers[1], DenseSpec)


def test_the_plan_does_not_import_amaranth() -> None:
    import subprocess
    import sys

    code = (
        "import sys, hgq_hw.plan, hgq_hw.plan.network; "
        "from hgq_hw.random_spec import random_spec; "
        "hgq_hw.plan.plan_network(random_spec(1), pipeline_levels=1); "
        "assert 'amaranth' not in sys.modules, sorted(m for m in sys.modules if 'amaranth' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
