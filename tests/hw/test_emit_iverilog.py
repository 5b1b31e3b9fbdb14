"""The emitted Verilog itself (not Amaranth's simulator) against the reference, with Icarus."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from hgq_hw.emit import generate
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate
from tests.hw.conftest import random_raw_inputs

TESTBENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 0;
  reg rst = 1;
  reg [{w_in}-1:0] in_payload = 0;
  reg in_valid = 0;
  wire [{w_out}-1:0] out_payload;
  wire out_valid;
  reg [{w_in}-1:0] mem [0:{n}-1];
  integer i;
  integer cycle = 0;
  {top} dut (.clk(clk), .rst(rst), .i_stream__payload(in_payload), .i_stream__valid(in_valid),
             .o_stream__payload(out_payload), .o_stream__valid(out_valid));
  always #5 clk = ~clk;
  always @(posedge clk) begin
    cycle <= cycle + 1;
    if (in_valid) $display("IN %0d", cycle);
    if (out_valid) $display("OUT %0d %h", cycle, out_payload);
  end
  initial begin
    $readmemh("in.hex", mem);
    @(negedge clk); @(negedge clk); rst = 0;
    for (i = 0; i < {n}; i = i + 1) begin
      in_payload = mem[i]; in_valid = (i % 3) != 2; @(negedge clk);
      if ((i % 3) == 2) begin in_valid = 1; @(negedge clk); end
    end
    in_valid = 0;
    repeat ({latency} + 3) @(negedge clk);
    $finish;
  end
endmodule
"""


@pytest.mark.sim
@pytest.mark.parametrize("levels", [0, 2])
def test_verilog_matches_reference_in_icarus(levels: int, tmp_path) -> None:
    iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
    if iverilog is None or vvp is None:
        pytest.skip("Icarus Verilog (iverilog, vvp) not installed")
    spec = random_spec(41, depth=2, width=(3, 6), zero_width=0.0)
    design = generate(spec, tmp_path, name="top", pipeline_levels=levels)
    net = design.plan
    assert net.in_layout.width > 0 and net.out_layout.width > 0
    x = random_raw_inputs(spec, 30, 41)
    y = evaluate(spec, x)
    words = net.in_layout.pack(x)
    digits = (net.in_layout.width + 3) // 4
    (tmp_path / "in.hex").write_text("".join(f"{w:0{digits}x}\n" for w in words))
    (tmp_path / "tb.v").write_text(
        TESTBENCH.format(
            w_in=net.in_layout.width,
            w_out=net.out_layout.width,
            n=len(words),
            top="top",
            latency=net.latency,
        )
    )
    subprocess.run([iverilog, "-g2001", "-o", "sim.vvp", "tb.v", "top.v"], cwd=tmp_path, check=True)
    out = subprocess.run(
        [vvp, "-n", "sim.vvp"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout
    starts = [int(line.split()[1]) for line in out.splitlines() if line.startswith("IN ")]
    outs = [line.split() for line in out.splitlines() if line.startswith("OUT ")]
    assert len(starts) == len(outs) == len(words)
    assert [int(o[1]) - s for o, s in zip(outs, starts)] == [net.latency] * len(words)
    got = net.out_layout.unpack([int(o[2], 16) for o in outs])
    for n, (a, b) in enumerate(zip(got, np.asarray(y, dtype=object))):
        assert np.array_equal(a, b), f"sample {n}: got {a}, want {b}"
