"""Generation time per 1,000 adders (issue #10 target: at most 1 s of CPU per 1,000 adders).

    .venv/bin/python benchmarks/gen_time.py [--levels 0,2] [--specs jet,mlp] [--repeat 1]

Two specs: ``jet`` is :func:`hgq_hw.random_spec.jet_like_spec` ``(0)`` (16-64-32-32-5) and
``mlp`` is ``random_spec(0, sizes=[64, 128, 64, 10])`` (default bit widths). For each spec and
``pipeline_levels`` the script times :func:`hgq_hw.emit.build` as a whole (wall-clock seconds
and CPU seconds of this process plus its children, e.g. a Yosys subprocess) and prints the CPU
seconds per 1,000 adders. Then, in a separate run, the split: planning
(:func:`hgq_hw.plan.plan_network`: CMVM solve, scheduling, retiming), Amaranth elaboration to
RTLIL (``amaranth.back.rtlil``) and the Verilog conversion (``verilog.convert`` minus the RTLIL
time). On a shared machine the wall time can be several times the CPU time; the CPU time is
what an idle machine would take. A tiny design is built first so that imports and first-use
costs are not counted. The numbers are measured, never judged: the script does not fail on time.
"""

from __future__ import annotations

import argparse
import resource
import time

from hgq_hw.random_spec import jet_like_spec, random_spec
from hgq_hw.spec import ModelSpec

SPECS = {
    "jet": ("jet-shaped 16-64-32-32-5, jet_like_spec(0)", lambda: jet_like_spec(0)),
    "mlp": (
        "random 64-128-64-10, random_spec(0, sizes=[64, 128, 64, 10])",
        lambda: random_spec(0, sizes=[64, 128, 64, 10], name="mlp"),
    ),
}


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def split(spec: ModelSpec, levels: int) -> dict[str, float]:
    """CPU seconds of each generation step (plan, elaboration to RTLIL, Verilog)."""
    from amaranth.back import rtlil, verilog

    from hgq_hw.components import Network
    from hgq_hw.plan import plan_network

    start = cpu_seconds()
    plan = plan_network(spec, pipeline_levels=levels)
    plan_s = cpu_seconds() - start
    net = Network(plan)
    ports = [net.i_stream.payload, net.i_stream.valid, net.o_stream.payload, net.o_stream.valid]
    start = cpu_seconds()
    rtlil.convert(net, name="top", ports=ports, emit_src=False)
    rtlil_s = cpu_seconds() - start
    net = Network(plan)  # a fresh component for the full conversion
    ports = [net.i_stream.payload, net.i_stream.valid, net.o_stream.payload, net.o_stream.valid]
    start = cpu_seconds()
    verilog.convert(net, name="top", ports=ports, emit_src=False)
    verilog_s = cpu_seconds() - start
    return {"plan": plan_s, "elaborate": rtlil_s, "verilog": max(verilog_s - rtlil_s, 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="0,2", help="pipeline_levels values")
    parser.add_argument("--specs", default="jet,mlp", help=f"comma-separated of {sorted(SPECS)}")
    parser.add_argument("--repeat", type=int, default=1, help="build() runs per level (best)")
    parser.add_argument("--no-split", action="store_true", help="only time build() as a whole")
    args = parser.parse_args()
    from hgq_hw.emit import build

    build(random_spec(0, depth=1, width=(2, 2)), name="warmup")  # imports and first-use costs
    head = f"{'levels':>6}  {'adders':>6}  {'build wall':>10}  {'build CPU':>9}  {'CPU/1k add':>10}"
    head += f"  {'plan':>5}  {'elab':>5}  {'verilog':>7}  {'latency':>7}  {'registers':>9}"
    for key in args.specs.split(","):
        title, make = SPECS[key]
        spec = make()
        print(f"{key}: {title}; seconds (split: plan, elab = RTLIL, verilog = Yosys write)")
        print(head)
        for levels in (int(s) for s in args.levels.split(",")):
            wall = cpu = float("inf")
            for _ in range(args.repeat):
                start, start_cpu = time.perf_counter(), cpu_seconds()
                design = build(spec, name="top", pipeline_levels=levels)
                wall = min(wall, time.perf_counter() - start)
                cpu = min(cpu, cpu_seconds() - start_cpu)
            r = design.report
            parts = (
                {"plan": float("nan"), "elaborate": float("nan"), "verilog": float("nan")}
                if args.no_split
                else split(spec, levels)
            )
            per_k = 1000 * cpu / r["adders"] if r["adders"] else float("nan")
            print(
                f"{levels:>6}  {r['adders']:>6}  {wall:>10.2f}  {cpu:>9.2f}  {per_k:>10.3f}  "
                f"{parts['plan']:>5.2f}  {parts['elaborate']:>5.2f}  {parts['verilog']:>7.2f}  "
                f"{r['latency']:>7}  {r['registers']:>9}",
                flush=True,
            )


if __name__ == "__main__":
    main()
