"""Generation time per 1,000 adders (issue #10 target: at most 1 s of CPU per 1,000 adders).

    .venv/bin/python benchmarks/gen_time.py [--levels 0,2] [--specs jet,mlp] [--repeat 1]
        [--writer direct|amaranth] [--no-split]

Two specs: ``jet`` is :func:`hgq_hw.random_spec.jet_like_spec` ``(0)`` (16-64-32-32-5) and
``mlp`` is ``random_spec(0, sizes=[64, 128, 64, 10])`` (default bit widths). For each spec and
``pipeline_levels`` the script times :func:`hgq_hw.emit.build` with ``--writer`` (default
``direct``, as ``hgq gen``) as a whole (wall-clock seconds and CPU seconds of this process plus
its children, e.g. a Yosys subprocess) and prints the CPU seconds per 1,000 adders. Then, in a
separate run, the split: planning (:func:`hgq_hw.plan.plan_network`: CMVM solve, scheduling,
retiming) and writing the Verilog: for ``direct`` :func:`hgq_hw.netlist.write_network`
(``write``), for ``amaranth`` the elaboration to RTLIL (``amaranth.back.rtlil``, ``elab``) and
the Verilog conversion by Yosys (``verilog.convert`` minus the RTLIL time, ``yosys``). It also
checks that a second build gives byte-identical Verilog (``same``). On a shared machine the wall
time can be several times the CPU time; the CPU time is what an idle machine would take. A tiny
design is built first so that imports and first-use costs are not counted. The numbers are
measured, never judged: the script does not fail on time.
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


def split(spec: ModelSpec, levels: int, writer: str) -> dict[str, float]:
    """CPU seconds of each generation step (plan; then write, or elab and yosys)."""
    from hgq_hw.plan import plan_network

    start = cpu_seconds()
    plan = plan_network(spec, pipeline_levels=levels)
    parts = {"plan": cpu_seconds() - start}
    if writer == "direct":
        from hgq_hw.netlist import write_network

        start = cpu_seconds()
        write_network(plan, "top")
        parts["write"] = cpu_seconds() - start
        return parts
    from amaranth.back import rtlil, verilog

    from hgq_hw.components import Network

    net = Network(plan)
    ports = [net.i_stream.payload, net.i_stream.valid, net.o_stream.payload, net.o_stream.valid]
    start = cpu_seconds()
    rtlil.convert(net, name="top", ports=ports, emit_src=False)
    parts["elab"] = cpu_seconds() - start
    net = Network(plan)  # a fresh component for the full conversion
    ports = [net.i_stream.payload, net.i_stream.valid, net.o_stream.payload, net.o_stream.valid]
    start = cpu_seconds()
    verilog.convert(net, name="top", ports=ports, emit_src=False)
    parts["yosys"] = max(cpu_seconds() - start - parts["elab"], 0.0)
    parts["write"] = parts["elab"] + parts["yosys"]
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="0,2", help="pipeline_levels values")
    parser.add_argument("--specs", default="jet,mlp", help=f"comma-separated of {sorted(SPECS)}")
    parser.add_argument("--repeat", type=int, default=1, help="build() runs per level (best)")
    parser.add_argument("--writer", default="direct", choices=("direct", "amaranth"))
    parser.add_argument("--no-split", action="store_true", help="only time build() as a whole")
    args = parser.parse_args()
    from hgq_hw.emit import build

    build(random_spec(0, depth=1, width=(2, 2)), name="warmup", writer=args.writer)  # imports
    head = f"{'levels':>6}  {'adders':>6}  {'build wall':>10}  {'build CPU':>9}  {'CPU/1k add':>10}"
    head += f"  {'plan':>5}  {'write':>5}  {'elab':>5}  {'yosys':>5}  {'same':>4}"
    head += f"  {'latency':>7}  {'registers':>9}"
    print(f"writer: {args.writer}")
    for key in args.specs.split(","):
        title, make = SPECS[key]
        spec = make()
        print(f"{key}: {title}; CPU seconds (split: plan, write = elab + yosys for amaranth)")
        print(head)
        for levels in (int(s) for s in args.levels.split(",")):
            wall = cpu = float("inf")
            for _ in range(args.repeat):
                start, start_cpu = time.perf_counter(), cpu_seconds()
                design = build(spec, name="top", pipeline_levels=levels, writer=args.writer)
                wall = min(wall, time.perf_counter() - start)
                cpu = min(cpu, cpu_seconds() - start_cpu)
            r = design.report
            again = build(spec, name="top", pipeline_levels=levels, writer=args.writer)  # untimed
            nan = float("nan")
            parts = {} if args.no_split else split(spec, levels, args.writer)
            per_k = 1000 * cpu / r["adders"] if r["adders"] else nan
            same = "yes" if again.verilog == design.verilog else "NO"
            print(
                f"{levels:>6}  {r['adders']:>6}  {wall:>10.2f}  {cpu:>9.2f}  {per_k:>10.3f}  "
                f"{parts.get('plan', nan):>5.2f}  {parts.get('write', nan):>5.2f}  "
                f"{parts.get('elab', nan):>5.2f}  {parts.get('yosys', nan):>5.2f}  {same:>4}  "
                f"{r['latency']:>7}  {r['registers']:>9}",
                flush=True,
            )


if __name__ == "__main__":
    main()
