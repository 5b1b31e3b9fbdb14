"""Generation time of the jet-shaped 16-64-32-32-5 network (issue #4 target: under 10 s).

    .venv/bin/python benchmarks/gen_time.py [--levels 0,1,2,4] [--repeat 1]

The spec is ``random_spec(0, sizes=[16, 64, 32, 32, 5], input_bits=(8, 8), weight_bits=(1, 4),
act_bits=(4, 8), f_range=(0, 4), prune=0.5, zero_width=0.0, relu=1.0)``. For each
``pipeline_levels`` the script times :func:`hgq_hw.emit.build` as a whole and then its parts
in a separate run: CMVM solve (``dense_graph`` of every Dense layer), the rest of
``Network(...)`` (scheduling, retiming), Amaranth elaboration to RTLIL (``amaranth.back.rtlil``)
and the Verilog conversion (Yosys ``write_verilog`` via ``amaranth.back.verilog``, measured as
``verilog.convert`` minus the RTLIL time). It also prints latency and register bits. The
numbers are measured, never judged: the script does not fail on time.

``build`` is given twice: wall-clock seconds and CPU seconds (this process plus its children,
e.g. a Yosys subprocess). On a shared machine the wall time can be several times the CPU time;
the CPU time is what an idle machine would take. The split is in CPU seconds.
"""

from __future__ import annotations

import argparse
import resource
import time

from hgq_hw.random_spec import jet_like_spec
from hgq_hw.spec import ModelSpec


def jet_spec() -> ModelSpec:
    """The jet-shaped random spec of issue #4 (:data:`hgq_hw.random_spec.JET_LIKE`)."""
    return jet_like_spec(0)


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def split(spec: ModelSpec, levels: int) -> dict[str, float]:
    """CPU seconds of each generation step (CMVM solve, network, elaboration, Verilog)."""
    from amaranth.back import rtlil, verilog

    import hgq_hw.components.dense as dense_module
    from hgq_hw.components import Network

    solve_s = 0.0
    real = dense_module.dense_graph

    def timed(*args, **kwargs):
        nonlocal solve_s
        start = cpu_seconds()
        try:
            return real(*args, **kwargs)
        finally:
            solve_s += cpu_seconds() - start

    dense_module.dense_graph = timed
    try:
        start = cpu_seconds()
        net = Network(spec, pipeline_levels=levels)
        network_s = cpu_seconds() - start
    finally:
        dense_module.dense_graph = real
    ports = [net.i_stream.payload, net.i_stream.valid, net.o_stream.payload, net.o_stream.valid]
    start = cpu_seconds()
    rtlil.convert(net, name="jet", ports=ports, emit_src=False)
    rtlil_s = cpu_seconds() - start
    net = Network(spec, pipeline_levels=levels)  # a fresh component for the full conversion
    ports = [net.i_stream.payload, net.i_stream.valid, net.o_stream.payload, net.o_stream.valid]
    start = cpu_seconds()
    verilog.convert(net, name="jet", ports=ports, emit_src=False)
    verilog_s = cpu_seconds() - start
    return {
        "cmvm": solve_s,
        "network": network_s - solve_s,
        "elaborate": rtlil_s,
        "verilog": max(verilog_s - rtlil_s, 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--levels", default="0,1,2,4", help="pipeline_levels values")
    parser.add_argument("--repeat", type=int, default=1, help="build() runs per level (best)")
    args = parser.parse_args()
    from hgq_hw.emit import build

    spec = jet_spec()
    print("jet-shaped 16-64-32-32-5 network, random_spec(0, ...); build wall / CPU seconds, then")
    print("the CPU seconds of each step (solve = CMVM, net = rest of Network(), elab = RTLIL)")
    head = f"{'levels':>6}  {'build wall':>10}  {'build CPU':>9}  {'solve':>5}  {'net':>5}"
    print(head + f"  {'elab':>5}  {'verilog':>7}  {'latency':>7}  {'registers':>9}  {'adders':>6}")
    for levels in (int(s) for s in args.levels.split(",")):
        wall = cpu = float("inf")
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), cpu_seconds()
            design = build(spec, name="jet", pipeline_levels=levels)
            wall = min(wall, time.perf_counter() - start)
            cpu = min(cpu, cpu_seconds() - start_cpu)
        parts = split(spec, levels)
        r = design.report
        print(
            f"{levels:>6}  {wall:>10.2f}  {cpu:>9.2f}  {parts['cmvm']:>5.2f}  "
            f"{parts['network']:>5.2f}  {parts['elaborate']:>5.2f}  {parts['verilog']:>7.2f}  "
            f"{r['latency']:>7}  {r['registers']:>9}  {r['adders']:>6}",
            flush=True,
        )


if __name__ == "__main__":
    main()
