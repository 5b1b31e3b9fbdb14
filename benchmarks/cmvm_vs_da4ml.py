"""Adder count and depth of hgq_hw.cmvm against da4ml's CMVM on the same random matrices.

    .venv/bin/python benchmarks/cmvm_vs_da4ml.py [--seeds 10] [--sizes 16,32,64,128]

Part 1: 16x64 matrices of 4-bit signed weights (-8..7) on 8-bit signed inputs, ``--seeds``
seeds: adders and adder depth of ours (``depth_slack`` None and 0) and of da4ml
(``da4ml.cmvm.solve``, default options, and ``hard_dc=0``), and the ratio ours / da4ml.
Part 2: solve time and adders for NxN matrices (same weight and input types).
da4ml is optional (``pip install da4ml``); without it only our numbers are printed.
Every solution is checked against ``x @ w`` on random inputs before it is counted.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from da4ml_ops import count_adders  # benchmarks/da4ml_ops.py, beside this script

from hgq_hw.cmvm import solve


def da4ml_available() -> bool:
    try:
        import da4ml.cmvm  # noqa: F401
    except ImportError:
        return False
    return True


def da4ml_solve(w: np.ndarray, hard_dc: int = -1) -> tuple[int, int, float]:
    """``(adders, adder depth, seconds)`` of da4ml on ``w`` with 8-bit signed inputs."""
    from da4ml.cmvm import solve as da_solve

    start = time.perf_counter()
    pipe = da_solve(
        w.astype(np.float32), qintervals=[(-128.0, 127.0, 1.0)] * w.shape[0], hard_dc=hard_dc
    )
    seconds = time.perf_counter() - start
    adders, depth = count_adders(pipe, w.shape[0])
    rng = np.random.default_rng(1)
    for x in rng.integers(-128, 128, (3, w.shape[0])):
        got = np.asarray(pipe(x.astype(np.float64)))
        if not np.array_equal(got, x @ w):
            raise RuntimeError("da4ml result differs from x @ w")
    return adders, depth, seconds


def ours(w: np.ndarray, slack: int | None) -> tuple[int, int, float]:
    """``(adders, adder depth, seconds)`` of hgq_hw.cmvm on ``w`` with 8-bit signed inputs."""
    start = time.perf_counter()
    g = solve(w, [-128] * w.shape[0], [127] * w.shape[0], depth_slack=slack)
    seconds = time.perf_counter() - start
    x = np.random.default_rng(1).integers(-128, 128, (20, w.shape[0]))
    if not np.array_equal(g(x), (x @ w).astype(object)):
        raise RuntimeError("hgq_hw.cmvm result differs from x @ w")
    return g.n_adders, g.depth, seconds


def matrix(seed: int, n_in: int, n_out: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-8, 8, (n_in, n_out)).astype(np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--sizes", default="16,32,64,128")
    args = parser.parse_args()
    have_da = da4ml_available()
    if not have_da:
        print("da4ml is not installed (pip install da4ml): printing our numbers only")

    print(f"16x64, 4-bit signed weights, 8-bit signed inputs, seeds 0..{args.seeds - 1}")
    head = f"{'seed':>4}  {'ours':>10}  {'ours dc=0':>10}"
    if have_da:
        head += f"  {'da4ml':>10}  {'da4ml dc=0':>10}  {'ratio':>6}  {'ratio dc=0':>10}"
    print(head + "   (adders/depth)")
    ratios, ratios0 = [], []
    for seed in range(args.seeds):
        w = matrix(seed, 16, 64)
        a, d, _ = ours(w, None)
        a0, d0, _ = ours(w, 0)
        line = f"{seed:>4}  {f'{a}/{d}':>10}  {f'{a0}/{d0}':>10}"
        if have_da:
            da, dd, _ = da4ml_solve(w)
            da0, dd0, _ = da4ml_solve(w, hard_dc=0)
            ratios.append(a / da)
            ratios0.append(a0 / da0)
            line += f"  {f'{da}/{dd}':>10}  {f'{da0}/{dd0}':>10}  {a / da:>6.3f}  {a0 / da0:>10.3f}"
        print(line)
    if have_da:
        print(
            f"adder ratio ours/da4ml: mean {statistics.mean(ratios):.3f} "
            f"(min {min(ratios):.3f}, max {max(ratios):.3f}); "
            f"with depth constraint 0: mean {statistics.mean(ratios0):.3f}"
        )

    print("\nNxN growth (seed 0): adders, depth, solve seconds")
    print(f"{'N':>5}  {'ours':>22}" + (f"  {'da4ml':>22}" if have_da else ""))
    for n in (int(s) for s in args.sizes.split(",")):
        w = matrix(0, n, n)
        a, d, t = ours(w, None)
        line = f"{n:>5}  {f'{a} / {d} / {t:.2f}s':>22}"
        if have_da:
            da, dd, dt = da4ml_solve(w)
            line += f"  {f'{da} / {dd} / {dt:.2f}s':>22}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
