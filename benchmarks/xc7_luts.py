"""Yosys xc7 LUTs of our adder-graph Verilog against da4ml's own Verilog, same matrices.

    .venv/bin/python benchmarks/xc7_luts.py [--seeds 0,1,2] [--keep DIR]

For each seed: a 16x64 matrix of 4-bit signed weights (-8..7, the matrix of
``benchmarks/cmvm_vs_da4ml.py``) on 16 8-bit signed inputs, built twice as purely combinational
Verilog:

- ours: :class:`hgq_hw.components.DenseLayer` with ``pipeline_levels=0`` (``hgq_hw.cmvm.solve``,
  fewest adders), converted by Amaranth;
- da4ml: its documented RTL flow: ``FixedVariableArrayInput`` quantized to 8-bit signed,
  ``@ w`` (the CMVM solver, default options), ``da4ml.trace.comb_trace`` to one
  :class:`~da4ml.types.CombLogic`, written by da4ml's own generator
  ``da4ml.codegen.rtl.verilog_comb_logic_gen`` plus the primitives it instantiates
  (``shift_adder`` / ``negative`` / ... from ``da4ml/codegen/rtl/verilog/source``).
  (``da4ml.cmvm.solve`` alone returns a two-stage ``Pipeline`` whose stage interfaces do not
  line up bit for bit when the stages are simply chained.)

Both go through ``yosys -p "synth_xilinx -family xc7 -flatten"``; the script prints the LUT
(LUT1..LUT6) and CARRY4 counts and the ratio ours / da4ml. It prints numbers, it never fails on
them. A Yosys run takes 1-3 minutes for ours and 10-40 minutes for da4ml's Verilog (many
parameterised primitive instances). da4ml is required (``pip install da4ml``).

The da4ml Verilog is checked for ``shift_adder`` instances whose output is wider than their sum
(Verilog would leave those top bits undefined and Yosys could simplify logic away); the count
is printed (0 for this flow; simulated with Icarus it matches ``x @ w`` bit for bit).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from hgq_hw.synth import TARGETS, run_tool

N_IN, N_OUT = 16, 64


def matrix(seed: int) -> np.ndarray:
    """The 16x64 matrix of ``benchmarks/cmvm_vs_da4ml.py`` for ``seed``."""
    return np.random.default_rng(seed).integers(-8, 8, (N_IN, N_OUT)).astype(np.int64)


def ours_verilog(w: np.ndarray, name: str) -> tuple[str, int]:
    """Combinational Verilog of ``x @ w`` (8-bit signed ``x``) from our generator, and its
    adder count."""
    from amaranth.back import verilog

    from hgq_hw.components import DenseLayer
    from hgq_hw.fixed import TensorType
    from hgq_hw.plan import plan_dense
    from hgq_hw.reference import infer_types
    from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec

    n_in, n_out = w.shape
    x = TensorType.uniform((n_in,), 1, 7, 0)
    dense = DenseSpec(
        name="dense",
        inputs=("x",),
        weight_raw=w,
        weight_f=np.zeros_like(w),
        bias_raw=np.zeros(n_out, dtype=np.int64),
        bias_f=np.zeros(n_out, dtype=np.int64),
    )
    spec = ModelSpec(
        name,
        [
            InputSpec(name="x", k=x.k, i=x.i, f=x.f),
            dense,
            OutputSpec(name="out", inputs=("dense",)),
        ],
    )
    plan = plan_dense(dense, x, infer_types(spec)["dense"], pipeline_levels=0)
    layer = DenseLayer(plan)
    ports = [layer.i_stream.payload, layer.o_stream.payload]
    return verilog.convert(layer, name=name, ports=ports, emit_src=False), plan.n_adders


def undefined_msb_ops(code: str) -> int:
    """``shift_adder`` instances of da4ml's Verilog whose output is wider than their sum."""
    count = 0
    for params in re.findall(r"shift_adder #\(([^)]*)\)", code):
        b0, b1, s0, s1, b_out, shift, sub = (int(p) for p in params.split(","))
        need0 = b0 - shift if shift < 0 else b0
        need1 = b1 + shift if shift > 0 else b1
        pad = sub + 1 if s0 != s1 else sub
        count += b_out > max(need0, need1) + pad + 1
    return count


def da4ml_verilog(w: np.ndarray, name: str, out: Path) -> tuple[list[str], int, int]:
    """da4ml's Verilog for ``x @ w`` written into ``out``.

    Returns ``(file names, top module's first; adders; ops with undefined top bits as
    shipped)``.
    """
    import da4ml.codegen.rtl as rtl
    from da4ml.codegen.rtl import verilog_comb_logic_gen
    from da4ml.trace import FixedVariableArrayInput, comb_trace

    inp = FixedVariableArrayInput((w.shape[0],))
    logic = comb_trace(inp, inp.quantize(k=1, i=7, f=0) @ w.astype(np.float64))
    x = np.random.default_rng(1).integers(-128, 128, (3, w.shape[0]))
    for row in x:
        if not np.array_equal(np.asarray(logic(row.astype(np.float64))), row @ w):
            raise RuntimeError("da4ml result differs from x @ w")
    code = verilog_comb_logic_gen(logic, name)
    top = f"{name}.v"
    (out / top).write_text(code, encoding="utf-8")
    files = [top]
    # only the primitives the module instantiates (lookup_table.v needs .mem files)
    used = set(re.findall(r"\b([A-Za-z_]\w*)\s+#\(", code))
    for src in sorted((Path(rtl.__file__).parent / "verilog" / "source").glob("*.v")):
        if src.stem in used:
            (out / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
            files.append(src.name)
    adders = sum(1 for op in logic.ops if op.opcode in (0, 1))
    return files, adders, undefined_msb_ops(code)


def xc7_cells(out: Path, files: list[str], top: str, reuse: bool = False) -> tuple[int, int, float]:
    """``(LUTs, CARRY4s, seconds)`` of ``synth_xilinx -family xc7 -flatten`` on ``files``
    (with ``reuse``, the statistics a previous run left in ``out``, 0 seconds)."""
    t = TARGETS["xc7"]
    stat = f"{top}_stat.json"
    seconds = 0.0
    if not (reuse and (out / stat).exists()):
        reads = "; ".join(f"read_verilog {f}" for f in files)
        script = f"{reads}; {t.yosys_command} -top {top}; tee -q -o {stat} stat -json"
        start = time.perf_counter()
        rc, _ = run_tool("yosys", ["-q", "-p", script], out, f"{top}_yosys.log")
        seconds = time.perf_counter() - start
        if rc != 0:
            raise RuntimeError(f"yosys failed (exit {rc}); see {out / f'{top}_yosys.log'}")
    cells = json.loads((out / stat).read_text(encoding="utf-8"))["design"]["num_cells_by_type"]
    luts = sum(int(n) for c, n in cells.items() if c.startswith(t.luts))
    carry = sum(int(n) for c, n in cells.items() if c.startswith(t.carry))
    return luts, carry, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--keep", default=None, help="write the Verilog and logs here")
    parser.add_argument(
        "--reuse-ours",
        action="store_true",
        help="take our numbers from a previous run's statistics in --keep DIR",
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="xc7_luts_"))
    print(
        f"16x64, 4-bit signed weights, 8-bit signed inputs, yosys synth_xilinx -family xc7 "
        f"-flatten (files in {root})"
    )
    print(
        f"{'seed':>4}  {'ours LUT':>8}  {'ours CARRY4':>11}  {'da4ml LUT':>9}  "
        f"{'da4ml CARRY4':>12}  {'LUT ratio':>9}  {'adders':>9}  {'yosys s':>9}  {'undef ops':>9}"
    )
    ratios = []
    for seed in seeds:
        w = matrix(seed)
        out = root / f"seed{seed}"
        out.mkdir(parents=True, exist_ok=True)
        text, our_adders = ours_verilog(w, "ours")
        (out / "ours.v").write_text(text, encoding="utf-8")
        ol, oc, ot = xc7_cells(out, ["ours.v"], "ours", reuse=args.reuse_ours)
        files, adders, undefined = da4ml_verilog(w, "da4ml", out)
        dl, dc, dt = xc7_cells(out, files, "da4ml")
        ratios.append(ol / dl)
        print(
            f"{seed:>4}  {ol:>8}  {oc:>11}  {dl:>9}  {dc:>12}  {ol / dl:>9.3f}  "
            f"{f'{our_adders}/{adders}':>9}  {f'{ot:.0f}+{dt:.0f}':>9}  {undefined:>9}",
            flush=True,
        )
    print("(adders: ours/da4ml; undef ops: da4ml ops whose Verilog leaves top bits undefined)")
    print(
        f"LUT ratio ours/da4ml: mean {statistics.mean(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {len(ratios)} seed(s)"
    )


if __name__ == "__main__":
    main()
