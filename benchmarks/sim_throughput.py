"""Simulated samples per second of the cocotb regression, jet-sized network, both simulators.

    .venv/bin/python benchmarks/sim_throughput.py [--samples 2000] [--seed 0]

The network is a random spec shaped like the paper's jet tagger (16-64-32-32-5) with
HGQ-like bit widths (8-bit inputs, 1-4 bit weights with half pruned, 4-8 bit activations).
Verilator is compiled with C++ optimisation (``optimize=True``). Prints build time, samples
checked, simulated samples per second and cycles per second; nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from hgq_hw.random_spec import jet_like_spec
from sim.design import generate_design
from sim.runner import run_regression, simulator_available


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pipeline-levels", type=int, default=2)
    args = parser.parse_args()
    spec = jet_like_spec(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        start = time.perf_counter()
        design = generate_design(spec, work / "gen", pipeline_levels=args.pipeline_levels)
        print(
            f"jet-like 16-64-32-32-5, seed {args.seed}: generated in "
            f"{time.perf_counter() - start:.1f} s, latency {design.latency} cycles"
        )
        print(f"{'simulator':<10} {'build s':>8} {'checked':>8} {'samples/s':>10} {'cycles/s':>10}")
        for simulator in ("verilator", "icarus"):
            if simulator_available(simulator) is not None:
                print(f"{simulator:<10} not available")
                continue
            r = run_regression(
                spec,
                design,
                work_dir=work / simulator,
                simulator=simulator,
                samples=args.samples,
                seed=args.seed,
                optimize=True,
                gap_probability=0.0,
            )
            status = "" if r.passed else "  (FAILED: " + r.summary().splitlines()[-1] + ")"
            rate = r.vectors / r.seconds if r.seconds else 0.0
            print(
                f"{simulator:<10} {r.build_seconds:>8.1f} {r.checked:>8} {rate:>10,.0f} "
                f"{r.cycles_per_second:>10,.0f}{status}"
            )


if __name__ == "__main__":
    main()
