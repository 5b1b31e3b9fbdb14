"""Registers spent on delay balancing in random graph specs (merges of branches of different
latency), per pipeline level.

    .venv/bin/python benchmarks/merge_balance.py [--seeds 20] [--merges 3]

For each pipeline level and both ``share_delays`` settings, over ``random_spec(seed,
depth=2, width=(2, 8), merges=M)`` for seeds ``0..N-1``: the total flip-flops of the plans,
those that balance delays (a merge's own chains, ``delays[n] * bus width``, plus the shared
delay lines, valid included), their share, the merges that read a delayed input, and the mean
latency. Every plan is checked against the reference on random inputs before it counts.
"""

from __future__ import annotations

import argparse

import numpy as np

from hgq_hw.inputs import random_raw
from hgq_hw.layout import BusLayout
from hgq_hw.plan import DelayPlan, MergePlan, plan_network
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, input_bounds


def delay_bits(plan: MergePlan) -> int:
    """Flip-flops that carry a merge's earlier inputs to its stage."""
    seen: dict[str, int] = {}
    for n, name in enumerate(plan.inputs):
        seen.setdefault(name, plan.delays[n] * BusLayout.of(plan.in_types[n]).width)
    return sum(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--merges", type=int, default=3)
    args = parser.parse_args()
    print(f"seeds 0..{args.seeds - 1}, merges {args.merges}")
    print(f"{'levels':>6} {'shared':>6} {'registers':>10} {'delay regs':>10} {'share':>6} "
          f"{'delayed/merges':>15} {'latency':>8}")  # fmt: skip
    for levels, shared in ((lv, sh) for lv in (1, 2, 3) for sh in (False, True)):
        total = delays = delayed = merges = latency = 0
        for seed in range(args.seeds):
            spec = random_spec(seed, depth=2, width=(2, 8), merges=args.merges)
            plan = plan_network(spec, pipeline_levels=levels, share_delays=shared)
            lo, hi = input_bounds(spec)
            x = random_raw(lo, hi, 32, np.random.default_rng(seed))
            want = np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)
            if not np.array_equal(plan(x), want):
                raise SystemExit(f"seed {seed}, levels {levels}: plan differs from the reference")
            found = [p for p in plan.layers if isinstance(p, MergePlan)]
            total += plan.registers
            delays += sum(delay_bits(p) for p in found)
            delays += sum(p.registers for p in plan.layers if isinstance(p, DelayPlan))
            delayed += sum(
                max(p.delays) > 0 or any(s.endswith(f"_s{p.stage}") for s in p.inputs)
                for p in found
            )
            merges += len(found)
            latency += plan.latency
        print(
            f"{levels:>6} {shared!s:>6} {total:>10} {delays:>10} {delays / total:>6.1%} "
            f"{f'{delayed}/{merges}':>15} {latency / args.seeds:>8.2f}"
        )


if __name__ == "__main__":
    main()
