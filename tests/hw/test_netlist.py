"""The direct Verilog writer (hgq_hw.netlist) against the Amaranth writer and the plan.

Both writers' Verilog of the same random spec run side by side in one Icarus testbench: every
cycle (reset in the middle included) their ``valid`` and payload must be equal, and each valid
output equal to ``plan(x)`` (which the plan tests prove equal to the reference).
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from hgq_hw.emit import WRITERS, build
from hgq_hw.fixed import Overflow, Round
from hgq_hw.netlist import network_ports, write_network
from hgq_hw.plan import plan_network
from hgq_hw.random_spec import jet_like_spec, random_spec
from hgq_hw.reference import evaluate
from sim.icarus import icarus_kick
from tests.hw.conftest import non_chain_spec, random_raw_inputs

TESTBENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 0;
  reg rst = 1;
  reg [{w_in_decl}:0] in_payload = 0;
  reg in_valid = 0;
  wire [{w_out_decl}:0] out_d, out_a;
  wire valid_d, valid_a;
  reg [{w_in_decl}:0] mem [0:{n}-1];
  integer i;
  integer cycle = 0;
  top_d dut_d (.clk(clk), .rst(rst), {in_port}.i_stream__valid(in_valid),
               {out_port_d}.o_stream__valid(valid_d));
  top_a dut_a (.clk(clk), .rst(rst), {in_port}.i_stream__valid(in_valid),
               {out_port_a}.o_stream__valid(valid_a));
  always #5 clk = ~clk;
  always @(posedge clk) begin
    cycle <= cycle + 1;
    $display("C %0d %0d %0d %h %h %0d", cycle, valid_d, valid_a, out_d, out_a, in_valid);
  end
  initial begin
    $readmemh("in.hex", mem);
    @(negedge clk); @(negedge clk); rst = 0;
    for (i = 0; i < {n}; i = i + 1) begin
      in_payload = mem[i]; in_valid = (i % 5) != 3;
      rst = (i == {reset_at});
      @(negedge clk);
    end
    rst = 0; in_valid = 0;
    repeat ({latency} + 3) @(negedge clk);
    $finish;
  end
endmodule
"""


def _tools() -> tuple[str, str]:
    iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
    if iverilog is None or vvp is None:
        pytest.skip("Icarus Verilog (iverilog, vvp) not installed")
    return iverilog, vvp


def run_both_writers(spec, levels: int, tmp_path, seed: int) -> int:
    """Simulate both writers on ``spec``; returns how many valid outputs were checked."""
    iverilog, vvp = _tools()
    tmp_path.mkdir(parents=True, exist_ok=True)
    direct = build(spec, name="top_d", pipeline_levels=levels)
    amaranth = build(spec, name="top_a", pipeline_levels=levels, writer="amaranth")
    assert direct.report["ports"] == amaranth.report["ports"]
    plan = direct.plan
    (tmp_path / "top_d.v").write_text(direct.verilog)
    (tmp_path / "top_a.v").write_text(icarus_kick(amaranth.verilog))
    x = random_raw_inputs(spec, 40, seed)
    x = x.reshape(len(x), -1)  # the hardware's bus is the flattened (C-order) sample
    want = plan(x)
    reference = np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)
    assert np.asarray(want, dtype=object).tolist() == reference.tolist(), "plan != reference"
    words = plan.in_layout.pack(x)
    w_in, w_out = plan.in_layout.width, plan.out_layout.width
    digits = max((w_in + 3) // 4, 1)
    (tmp_path / "in.hex").write_text("".join(f"{w:0{digits}x}\n" for w in words))
    reset_at = len(words) // 2
    (tmp_path / "tb.v").write_text(
        TESTBENCH.format(
            w_in_decl=max(w_in, 1) - 1,
            w_out_decl=max(w_out, 1) - 1,
            n=len(words),
            in_port=".i_stream__payload(in_payload), " if w_in else "",
            out_port_d=".o_stream__payload(out_d), " if w_out else "",
            out_port_a=".o_stream__payload(out_a), " if w_out else "",
            reset_at=reset_at,
            latency=plan.latency,
        )
    )
    cmd = [iverilog, "-g2001", "-o", "sim.vvp", "tb.v", "top_d.v", "top_a.v"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    out = subprocess.run(
        [vvp, "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout
    rows = [line.split()[1:] for line in out.splitlines() if line.startswith("C ")]
    assert rows, out
    for cycle, (_, vd, va, pd, pa, _) in enumerate(rows):
        assert (vd, pd) == (va, pa), (
            f"seed {seed}, levels {levels}, cycle {cycle}: direct valid={vd} payload={pd}, "
            f"amaranth valid={va} payload={pa}"
        )
    got = [int(pd, 16) if w_out else 0 for _, vd, _, pd, _, _ in rows if vd == "1"]
    lost = {reset_at - k for k in range(plan.latency)}  # in flight at the reset pulse
    expected = []
    for i in range(len(words)):
        if (i % 5) != 3 and i not in lost:
            expected.append(plan.out_layout.pack(want[i : i + 1])[0] if w_out else 0)
    assert got == expected, f"seed {seed}, levels {levels}: outputs differ from plan(x)"
    return len(got)


CASES = [(seed, levels) for seed in range(10) for levels in (0, 1 + seed % 3)]


@pytest.mark.sim
@pytest.mark.parametrize(("seed", "levels"), CASES)
def test_direct_equals_amaranth_and_plan(seed: int, levels: int, tmp_path) -> None:
    print(f"seed {seed}")
    spec = random_spec(seed, depth=1 + seed % 3, width=(1, 7))
    assert run_both_writers(spec, levels, tmp_path, seed) > 0


@pytest.mark.sim
@pytest.mark.parametrize(("round_mode", "overflow"), [(r, o) for r in Round for o in Overflow])
def test_direct_equals_amaranth_per_mode(round_mode, overflow, tmp_path) -> None:
    spec = random_spec(77, depth=2, width=(2, 6), rounds=(round_mode,), overflows=(overflow,))
    for levels in (0, 1):
        (tmp_path / str(levels)).mkdir()
        assert run_both_writers(spec, levels, tmp_path / str(levels), 77) > 0


CONV_CASES = [
    (1, 0, 0),  # spatial, seed, pipeline levels
    (1, 5, 2),
    (2, 4, 1),
    (2, 0, 0),
]


@pytest.mark.sim
@pytest.mark.parametrize(("spatial", "seed", "levels"), CONV_CASES)
def test_direct_equals_amaranth_and_plan_on_conv_specs(spatial, seed, levels, tmp_path) -> None:
    """Conv1D / Conv2D specs with pools and a Reshape before a Dense, both writers."""
    spec = random_spec(seed, spatial=spatial, conv_depth=2, depth=1, width=(1, 4), pool=0.8)
    kinds = [layer.kind for layer in spec.layers]
    print(f"seed {seed}, spatial {spatial}, levels {levels}: {kinds}")
    assert "Conv" in kinds and "Reshape" in kinds
    assert run_both_writers(spec, levels, tmp_path, seed) > 0


@pytest.mark.sim
def test_direct_non_chain_spec(tmp_path) -> None:
    assert run_both_writers(non_chain_spec(), 1, tmp_path, 5) > 0


def test_direct_text_is_deterministic_and_has_the_ports() -> None:
    spec = jet_like_spec(0)
    plan = plan_network(spec, pipeline_levels=2)
    text = write_network(plan, "jet")
    assert text == write_network(plan_network(spec, pipeline_levels=2), "jet")
    assert text.startswith("/* Generated by hgqflow")
    assert "module jet(" in text and text.endswith("endmodule\n")
    for port, direction, width in network_ports(plan):
        decl = f"  {direction} {f'[{width - 1}:0] ' if width > 1 else ''}{port};"
        assert decl in text.splitlines()


def test_writer_option_is_checked() -> None:
    assert WRITERS[0] == "direct"
    with pytest.raises(ValueError, match="writer must be one of"):
        build(random_spec(0, depth=1), writer="yosys")


def test_report_names_the_writer() -> None:
    spec = random_spec(3, depth=1)
    assert build(spec).report["generator"]["writer"] == "direct"
    assert build(spec, writer="amaranth").report["generator"]["writer"] == "amaranth"


def test_a_kind_without_a_direct_writer_is_refused_by_name(monkeypatch) -> None:
    from hgq_hw.netlist import WRITERS
    from hgq_hw.plan import ReLUPlan

    monkeypatch.delitem(WRITERS, ReLUPlan)
    spec = random_spec(5, depth=1, relu=1.0)
    assert any(layer.kind == "ReLU" for layer in spec.layers)
    with pytest.raises(ValueError, match=r"layer kind 'ReLU'.*--writer amaranth"):
        build(spec)
    assert "module" in build(spec, writer="amaranth").verilog
