"""Proof time of ``hgq prove`` against layer size, and how far it gets on the digits demo.

    .venv/bin/python benchmarks/prove_time.py [--sizes 2,4,8,16,32,64] [--timeout 60]
        [--budget 600] [--spec benchmarks/cost_model/front_specs/ebops_1e-04_60.json]
        [--split auto] [--levels 0] [--out runs/prove_time]

Part 1, random layers of growing size: for each ``n`` in ``--sizes``, the Dense layer of
``random_spec(0, sizes=[n, n])`` (default bit widths: 1-8 bit inputs, 1-6 bit weights, 30 %
pruned) is proved alone (``hgq prove --layer dense0 --split layer``) with the wall-clock limit
``--timeout`` per proof; the table gives adders, input and output bits, seconds and the
verdict. The sizes stop at the first timeout. Part 2, the digits demo spec (a committed trained
spec of the digits front, 64 inputs): every layer and the whole network with ``--split``
(``auto``: a layer that passes the limit is proved per output column), within ``--budget``
seconds in all for the part (``hgq prove --budget``); the script says which proofs it
finished in that time. Wall-clock seconds on a shared machine; the numbers are measured, never
judged (no pass/fail on time).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hgq_hw.prove import NETWORK, ProofResult, Verdict, format_table, prove_spec
from hgq_hw.random_spec import random_spec
from hgq_hw.spec import load

DIGITS = Path(__file__).resolve().parent / "cost_model" / "front_specs" / "ebops_1e-04_60.json"


def _row(n: int | str, r: ProofResult) -> str:
    column = "all" if r.column is None else str(r.column)
    return (
        f"  {n!s:>8}  {r.target:>12}  {column:>6}  {r.adders:>6}  {r.in_bits:>7}  "
        f"{r.out_bits:>8}  {r.latency:>7}  {r.seconds:>8.1f}  {r.verdict.value}"
    )


HEADER = (
    f"  {'size':>8}  {'target':>12}  {'column':>6}  {'adders':>6}  {'in bits':>7}  "
    f"{'out bits':>8}  {'latency':>7}  {'seconds':>8}  verdict"
)


def random_layers(sizes: list[int], timeout: float, levels: int, out: Path) -> None:
    print(f"random n x n Dense layers, random_spec(0, sizes=[n, n]), limit {timeout:g} s per proof")
    print(HEADER)
    for n in sizes:
        spec = random_spec(0, sizes=[n, n], name=f"rand{n}")
        report = prove_spec(
            spec,
            out / f"rand{n}",
            layers=["dense0"],
            pipeline_levels=levels,
            timeout_s=timeout,
            split="layer",
            say=lambda line: None,
        )
        (result,) = report.results
        print(_row(f"{n}x{n}", result), flush=True)
        if result.verdict is Verdict.TIMEOUT:
            print(f"  stopped: the {n}x{n} layer passed the {timeout:g} s limit")
            break


def digits(path: Path, timeout: float, budget: float, split: str, levels: int, out: Path) -> None:
    spec = load(path)
    from hgq_hw.plan import plan_network

    plan = plan_network(spec, pipeline_levels=levels)
    print(f"\ndigits demo spec {path.name}: layers {[lp.name for lp in plan.layers]}")
    print(f"limit {timeout:g} s per proof, {budget:g} s budget for the part, split {split}")
    start = time.monotonic()
    targets = [lp.name for lp in plan.layers] + [NETWORK]
    print(HEADER)
    report = prove_spec(
        spec,
        out / "digits",
        pipeline_levels=levels,
        timeout_s=timeout,
        split=split,
        budget_s=budget,
        say=lambda line: print(f"  ... {line.strip()}", flush=True),
    )
    done = list(report.results)
    for r in done:
        print(_row("digits", r), flush=True)
    elapsed = time.monotonic() - start
    proven = sorted({r.target for r in done if r.verdict is Verdict.PROVEN and r.column is None})
    whole = {r.target for r in done if r.column is None}
    by_column = {
        t
        for t in {r.target for r in done if r.column is not None}
        if all(r.verdict is Verdict.PROVEN for r in done if r.target == t and r.column is not None)
    }
    missing = [t for t in targets if t not in whole]
    print(
        f"  in {elapsed:.0f} s: proven whole {proven or 'none'}; proven column by column "
        f"{sorted(by_column) or 'none'}; not reached {missing or 'none'}; "
        f"{len(report.not_run)} proof(s) left out by the budget"
    )
    print(format_table(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,4,8,16,32,64")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--budget", type=float, default=600.0)
    parser.add_argument("--spec", default=str(DIGITS))
    parser.add_argument("--split", default="auto", choices=["auto", "layer", "column"])
    parser.add_argument("--levels", type=int, default=0)
    parser.add_argument("--out", default="runs/prove_time")
    parser.add_argument("--skip-random", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    if not args.skip_random:
        sizes = [int(s) for s in args.sizes.split(",") if s]
        random_layers(sizes, args.timeout, args.levels, out)
    if args.spec:
        digits(Path(args.spec), args.timeout, args.budget, args.split, args.levels, out)


if __name__ == "__main__":
    main()
