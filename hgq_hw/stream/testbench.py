"""Run a streamed design's Verilog in Icarus or Verilator on a pixel stream, cycle by cycle.

:func:`run_stream_verilog` writes a testbench that drives ``rst``, ``i_stream__valid`` and the
pixel payload from a per-cycle table, prints ``o_stream`` every cycle before the clock edge
(the registered outputs, as :meth:`~hgq_hw.stream.window.StreamWindowPlan.run` and
:meth:`~hgq_hw.stream.network.StreamNetworkPlan.run` list them), and returns what it printed.
Used by the tests and ``benchmarks/stream_svhn.py``; not a cocotb testbench.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hgq_hw.layout import BusLayout

__all__ = ["TESTBENCH", "run_stream_verilog"]

TESTBENCH = """`timescale 1ns/1ps
module tb;
  reg clk = 1'b0;
  reg [{w_stim}:0] stim [0:{last}];
  reg [{w_stim}:0] word;
  reg rst, valid;
  reg [{w_in_decl}:0] payload;
  wire o_valid;
  wire [{w_out_decl}:0] o_payload;
  integer t;
  dut u(.clk(clk), .rst(rst), {in_port}.i_stream__valid(valid),
        {out_port}.o_stream__valid(o_valid));
  initial begin
    $readmemh("stim.hex", stim);
    for (t = 0; t <= {last}; t = t + 1) begin
      word = stim[t];
      rst = word[0];
      valid = word[1];
      payload = word >> 2;
      #1;
      $display("C %0d %b %h", t, o_valid, {o_payload});
      #4 clk = 1'b1;
      #5 clk = 1'b0;
    end
    $finish;
  end
endmodule
"""


def run_stream_verilog(
    verilog: str,
    in_layout: BusLayout,
    out_layout: BusLayout,
    valid: Sequence[bool],
    pixels: Sequence[Sequence[int]],
    rst: Sequence[bool],
    workdir: str | Path,
    *,
    sim: str = "icarus",
) -> list[tuple[bool, int]]:
    """Per cycle ``(o_stream.valid, o_stream.payload)`` (payload 0 where not valid) of module
    ``dut`` in ``verilog`` driven by ``valid``/``pixels``/``rst``, in ``sim`` (``"icarus"`` or
    ``"verilator"``, ``--binary --timing``). ``FileNotFoundError`` when the simulator is not
    installed, ``RuntimeError`` with the tool's output when it fails."""
    import shutil

    from hgq_hw.toolchain.find import find_tool, tool_env

    work = Path(workdir)
    work.mkdir(parents=True, exist_ok=True)
    if sim == "icarus":
        iverilog, vvp = shutil.which("iverilog"), shutil.which("vvp")
        if iverilog is None or vvp is None:
            raise FileNotFoundError("Icarus Verilog (iverilog, vvp) not installed")
        build_cmd = [iverilog, "-g2001", "-o", "sim.vvp", "tb.v", "dut.v"]
        run_cmd = [vvp, "-n", "sim.vvp"]
    elif sim == "verilator":
        verilator = find_tool("verilator")
        if verilator is None:
            raise FileNotFoundError("Verilator not installed")
        build_cmd = [
            verilator, "--binary", "--timing", "-CFLAGS", "-fcoroutines", "-Wno-fatal",
            "-Wno-lint", "-Wno-style", "--top-module", "tb", "tb.v", "dut.v", "-o", "vtb",
        ]  # fmt: skip
        run_cmd = [str(work / "obj_dir" / "vtb")]
    else:
        raise ValueError(f"sim must be 'icarus' or 'verilator', got {sim!r}")
    words = in_layout.pack(np.array(pixels, dtype=object)) if in_layout.width else [0] * len(pixels)
    stim = [(w << 2) | (int(v) << 1) | int(r) for w, v, r in zip(words, valid, rst)]
    w_stim = in_layout.width + 2
    digits = (w_stim + 3) // 4
    (work / "stim.hex").write_text("".join(f"{s:0{digits}x}\n" for s in stim))
    (work / "dut.v").write_text(verilog)
    (work / "tb.v").write_text(
        TESTBENCH.format(
            w_stim=w_stim - 1,
            last=len(stim) - 1,
            w_in_decl=max(in_layout.width, 1) - 1,
            w_out_decl=max(out_layout.width, 1) - 1,
            in_port=".i_stream__payload(payload), " if in_layout.width else "",
            out_port=".o_stream__payload(o_payload), " if out_layout.width else "",
            o_payload="o_payload" if out_layout.width else "1'b0",
        )
    )
    env = tool_env()
    build = subprocess.run(build_cmd, cwd=work, capture_output=True, text=True, env=env)
    if build.returncode:
        raise RuntimeError(f"{sim} build failed: {(build.stdout + build.stderr)[-3000:]}")
    run = subprocess.run(run_cmd, cwd=work, capture_output=True, text=True, env=env)
    rows = [line.split() for line in run.stdout.splitlines() if line.startswith("C ")]
    if run.returncode or len(rows) != len(stim):
        raise RuntimeError(f"{sim} run failed: {(run.stdout + run.stderr)[-3000:]}")
    return [(v == "1", int(p, 16) if v == "1" else 0) for _, _, v, p in rows]
