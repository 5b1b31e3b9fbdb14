"""Where the LUTs of the SVHN-shaped stream design go, and how far it is from an ECP5-85F.

The spec is ``benchmarks/stream_svhn.py``'s SVHN-shaped chain (32x32x3, Conv 16 - Pool - Conv 16
- Pool - Conv 24 - Pool - Dense 42 - Dense 64 - Dense 10), drawn with ``--prune`` (probability a
weight is zero) and ``--weight-max`` (nonzero raw weights in ``[-M, M]``: 3 is a 3-bit signed
weight, 7 a 4-bit one; that script's own draw is prune 0.5, M 7). Prints the plan per stage
(adders, registers, buffer bits). With ``--synth DIR`` it writes the stream Verilog
(``hgq gen --io stream``) to DIR and runs Yosys ``synth_ecp5 -nodsp -noflatten`` on it once,
printing the cells of every module (LUT4, CCU2C carry, TRELLIS_FF, DP16KD / TRELLIS_DPR16X4
memories) and the estimated combinational cells ``LUT4 + 2 * CCU2C`` (a CCU2C fills both
TRELLIS_COMB of a slice) of the whole design against the 83,640 of the LFE5U-85F (no place and
route: nextpnr's count after packing differs a little).

    python benchmarks/svhn_fit.py [--seed 0] [--prune 0.7] [--weight-max 3] [--synth DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stream_svhn import svhn_like

ECP5_85F_COMB = 83640
"""TRELLIS_COMB cells (LUT4 sites) of the LFE5U-85F: 41,820 slices of two."""

_KINDS = {
    "LUT4": ("LUT4",),
    "CCU2C": ("CCU2C",),
    "FF": ("TRELLIS_FF",),
    "RAM": ("DP16KD", "TRELLIS_DPR16X4", "PDPW16KD"),
}


def _counts(cells: dict[str, int]) -> dict[str, int]:
    out = {
        k: sum(n for c, n in cells.items() if c.startswith(names)) for k, names in _KINDS.items()
    }
    out["comb"] = out["LUT4"] + 2 * out["CCU2C"]
    return out


def _synth(out_dir: Path, top: str, timeout_s: float) -> dict[str, dict[str, int]]:
    """Per-module cell counts of ``synth_ecp5 -nodsp -noflatten`` (and ``"<design>"``: the
    whole hierarchy, every instance counted)."""
    from hgq_hw.synth import run_tool

    files = sorted(p.name for p in out_dir.glob("*.v"))
    reads = "; ".join(f"read_verilog {f}" for f in files)
    script = f"{reads}; synth_ecp5 -nodsp -noflatten -top {top}; tee -q -o stat.json stat -json"
    start = time.perf_counter()
    rc, _ = run_tool("yosys", ["-q", "-p", script], out_dir, "svhn_fit_yosys.log")
    print(f"yosys: {time.perf_counter() - start:.0f} s, exit {rc}", flush=True)
    if rc != 0:
        raise SystemExit(f"yosys failed (exit {rc}); see {out_dir / 'svhn_fit_yosys.log'}")
    stat = json.loads((out_dir / "stat.json").read_text(encoding="utf-8"))
    result = {
        name: _counts({c: int(n) for c, n in m["num_cells_by_type"].items()})
        for name, m in stat["modules"].items()
    }
    result["<design>"] = _counts(
        {c: int(n) for c, n in stat["design"]["num_cells_by_type"].items()}
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prune", type=float, default=0.7)
    parser.add_argument("--weight-max", type=int, default=3)
    parser.add_argument("--pipeline-levels", type=int, default=2)
    parser.add_argument("--synth", default=None, metavar="DIR", help="write and synthesize here")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    if not 0.0 <= args.prune < 1.0 or args.weight_max < 1:
        raise SystemExit("--prune must be in [0, 1) and --weight-max >= 1")

    from hgq_hw.stream import plan_stream_network

    spec = svhn_like(args.seed, prune=args.prune, weight_max=args.weight_max)
    t0 = time.perf_counter()
    plan = plan_stream_network(spec, pipeline_levels=args.pipeline_levels)
    print(
        f"spec {spec.name}: prune {args.prune}, weights in [-{args.weight_max}, "
        f"{args.weight_max}], pipeline_levels {args.pipeline_levels}; plan "
        f"{time.perf_counter() - t0:.1f} s"
    )
    report = plan.report()
    for key in ("ii", "latency", "buffer_bits", "registers", "adders"):
        print(f"  {key}: {report[key]}")
    for st in report["stages"]:
        print("  stage", {k: v for k, v in st.items() if k != "adder_depth"})
    print(f"  dense part: latency {plan.dense.latency}, adders {plan.dense.n_adders}")
    print(f"  stream part: adders {plan.n_adders - plan.dense.n_adders}", flush=True)
    if not args.synth:
        return

    from hgq_hw.emit import generate

    out = Path(args.synth)
    design = generate(spec, out, io="stream", pipeline_levels=args.pipeline_levels)
    top = str(design.report["name"])
    print(f"wrote {out} (top {top})", flush=True)
    cells = _synth(out, top, args.timeout)
    print(f"{'module':<48} {'LUT4':>7} {'CCU2C':>6} {'FF':>7} {'RAM':>4} {'comb':>7}")
    for name, c in sorted(cells.items(), key=lambda item: -item[1]["comb"]):
        print(
            f"{name[:48]:<48} {c['LUT4']:>7} {c['CCU2C']:>6} {c['FF']:>7} {c['RAM']:>4} "
            f"{c['comb']:>7}"
        )
    total = cells["<design>"]["comb"]
    print(
        f"estimated combinational cells: {total} = {100 * total / ECP5_85F_COMB:.1f}% of the "
        f"LFE5U-85F's {ECP5_85F_COMB}"
    )


if __name__ == "__main__":
    main()
