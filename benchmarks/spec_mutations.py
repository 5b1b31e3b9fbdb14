"""The door invariant at scale: mutate many valid specs, generate and lint every accepted one.

    .venv/bin/python benchmarks/spec_mutations.py [--count 2000] [--seed 0] [--lint all|N]
        [--depth 2] [--max-width 5] [--batch 50]

Each mutation (:mod:`hgq_hw.spec_mutations`) must be refused with a SpecError naming the file,
or be evaluated by the reference and the plan (bit-exactly equal) and then generate Verilog
(``pipeline_levels`` 1) that ``verilator --lint-only`` accepts; designs are linted ``--batch``
at a time in one Verilator process. Prints the counts (accepted, refused by reason, violations
with seed and edits) and the time of each phase; exits 1 when any mutation breaks the
invariant. The default test runs 300 mutations and lints 10 of the accepted ones.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time

from hgq_hw.spec_mutations import check_mutation, generate_verilog, lint_verilog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lint", default="all", help="'all' or how many accepted ones to lint")
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--max-width", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)
    options = {"depth": args.depth, "width": (1, args.max_width)}
    print(f"{args.count} mutations from seed {args.seed}, random_spec options {options}")

    start = time.perf_counter()
    results, violations = [], []
    for n in range(args.count):
        try:
            results.append(check_mutation(args.seed + n, **options))
        except AssertionError as err:
            violations.append(str(err))
    check_s = time.perf_counter() - start
    accepted = [r for r in results if r.refused is None]
    reasons = collections.Counter(
        r.refused.split(": ", 1)[1][:60] for r in results if r.refused is not None
    )
    print(f"load/check/reference/plan: {check_s:.1f} s for {args.count} mutations")
    print(f"accepted {len(accepted)}, refused {len(results) - len(accepted)}, violations "
          f"{len(violations)}")  # fmt: skip
    for reason, count in reasons.most_common(12):
        print(f"  {count:5d}  {reason}")

    to_lint = accepted if args.lint == "all" else accepted[: int(args.lint)]
    start = time.perf_counter()
    designs = {}
    for result in to_lint:
        try:
            designs[result.seed] = generate_verilog(result)
        except AssertionError as err:
            violations.append(str(err))
    gen_s = time.perf_counter() - start
    print(f"gen: {gen_s:.1f} s for {len(to_lint)} designs")
    start = time.perf_counter()
    seeds = sorted(designs)
    with tempfile.TemporaryDirectory(prefix="hgq-mutations-") as folder:
        for first in range(0, len(seeds), args.batch):
            batch = {s: designs[s] for s in seeds[first : first + args.batch]}
            for seed, lines in lint_verilog(batch, folder).items():
                what = next(r.description for r in accepted if r.seed == seed)
                violations.append(f"mutation seed {seed} ({what}): lint: {lines[0]}")
    print(f"lint: {time.perf_counter() - start:.1f} s for {len(designs)} designs")
    for line in violations:
        print("VIOLATION", line[:500])
    print(f"violations: {len(violations)}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
