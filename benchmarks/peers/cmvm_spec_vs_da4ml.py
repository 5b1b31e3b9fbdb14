"""The Dense kernels of exported specs through hgq_hw.cmvm and through da4ml: adders and depth.

    .venv/bin/python benchmarks/peers/cmvm_spec_vs_da4ml.py SPEC.json [SPEC.json ...]

For every Dense layer of each spec, both solvers get the same integer problem: the layer's
effective integer kernel on raw inputs (:func:`hgq_hw.reference.dense_effective`, pruned weights
and weights on width-0 inputs are 0) and each input's raw interval from
:func:`hgq_hw.reference.infer_types`; the bias is left out (both would add it the same way).
Ours: :func:`hgq_hw.cmvm.solve` with ``depth_slack`` None (fewest adders) and 0 (minimum
depth). da4ml (``pip install da4ml``; optional): ``da4ml.cmvm.solve`` with its defaults
(``hard_dc=-1``, no depth limit) and with ``hard_dc=0``; then ours again at equal depth,
``max_depth`` = the depth da4ml reached in each mode (``@da``, ``@da0``). Every solution is
checked against ``x @ w`` on random inputs before it counts. Prints one row per layer and totals
per spec, with ratios ours / da4ml at equal depth.

Yosys LUT counts of da4ml's own Verilog are not measured here: see ``README.md``.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: shared helpers
from da4ml_ops import count_adders

from hgq_hw.cmvm import solve
from hgq_hw.reference import dense_effective, infer_types
from hgq_hw.spec import DenseSpec, ModelSpec, load


def dense_problems(spec: ModelSpec) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """``(layer name, integer kernel, raw input lows, raw input highs)`` per Dense layer."""
    types = infer_types(spec)
    out = []
    for layer in spec.layers:
        if isinstance(layer, DenseSpec):
            x_type = types[layer.inputs[0]]
            w_eff, _, _ = dense_effective(layer, x_type)
            lo, hi = x_type.raw_bounds()
            out.append((layer.name, w_eff, np.asarray(lo), np.asarray(hi)))
    return out


def _samples(lo: np.ndarray, hi: np.ndarray, n: int = 50) -> np.ndarray:
    rng = np.random.default_rng(1)
    lo64, hi64 = lo.astype(np.int64), hi.astype(np.int64)
    x = rng.integers(lo64, hi64 + 1, (n, len(lo)))
    return np.vstack([x, lo64, hi64])


def ours(
    w: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    slack: int | None,
    max_depth: int | None = None,
) -> tuple[int, int, float]:
    start = time.process_time()
    g = solve(w, [int(v) for v in lo], [int(v) for v in hi], depth_slack=slack, max_depth=max_depth)
    seconds = time.process_time() - start
    x = _samples(lo, hi).astype(object)
    if not np.array_equal(np.asarray(g(x), dtype=object), x @ w):
        raise RuntimeError("hgq_hw.cmvm result differs from x @ w")
    return g.n_adders, g.depth, seconds


def da4ml_solve(
    w: np.ndarray, lo: np.ndarray, hi: np.ndarray, hard_dc: int
) -> tuple[int, int, float, object]:
    """``(adders, adder depth, seconds, pipeline)``: add/sub and constant-add ops of every
    stage of da4ml's solution."""
    from da4ml.cmvm import solve as da_solve

    w64 = np.asarray(w, dtype=np.float64)
    if np.any(np.abs(w64) >= 2**24):
        raise ValueError("kernel entries beyond 2**24 are not exact in da4ml's float32 input")
    start = time.perf_counter()
    pipe = da_solve(
        w64.astype(np.float32),
        qintervals=[(float(a), float(b), 1.0) for a, b in zip(lo, hi)],
        hard_dc=hard_dc,
    )
    seconds = time.perf_counter() - start
    adders, depth = count_adders(pipe, w.shape[0])
    x = _samples(lo, hi, 20)
    got = np.array([np.asarray(pipe(row.astype(np.float64))) for row in x])
    if not np.array_equal(got, (x.astype(object) @ w).astype(np.float64)):
        raise RuntimeError("da4ml result differs from x @ w")
    return adders, depth, seconds, pipe


def _rel(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    p = Path(path).absolute()
    return os.path.relpath(p) if p.is_relative_to(Path.cwd()) else path


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args()
    print(
        "command: " + shlex.join([_rel(sys.executable), _rel(sys.argv[0]), *sys.argv[1:]]),
        flush=True,
    )
    try:
        import da4ml.cmvm  # noqa: F401

        have_da = True
    except ImportError:
        have_da = False
        print("da4ml is not installed (pip install da4ml): printing our numbers only")

    head = "| spec | layer | shape | nonzero | ours | ours dc=0 |"
    if have_da:
        head += " da4ml | ours @da | da4ml dc=0 | ours @da0 | ratio | ratio dc=0 |"
    print("(adders/depth; ratio = ours adders / da4ml adders at equal depth)")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    totals: dict[str, list[int]] = {}
    for path in args.specs:
        spec = load(path)
        tot = [0, 0, 0, 0, 0, 0]
        for name, w, lo, hi in dense_problems(spec):
            a, d, _ = ours(w, lo, hi, None)
            a0, d0, _ = ours(w, lo, hi, 0)
            cells = [spec.name, name, f"{w.shape[0]}x{w.shape[1]}", str(int(np.sum(w != 0)))]
            cells += [f"{a}/{d}", f"{a0}/{d0}"]
            tot[0] += a
            tot[1] += a0
            if have_da:
                da, dd, _, _ = da4ml_solve(w, lo, hi, -1)
                da0, dd0, _, _ = da4ml_solve(w, lo, hi, 0)
                ea, ed, _ = ours(w, lo, hi, None, dd)
                ea0, ed0, _ = ours(w, lo, hi, None, dd0)
                tot[2] += da
                tot[3] += da0
                tot[4] += ea
                tot[5] += ea0
                cells += [f"{da}/{dd}", f"{ea}/{ed}", f"{da0}/{dd0}", f"{ea0}/{ed0}"]
                cells += [f"{ea / da:.3f}" if da else "—", f"{ea0 / da0:.3f}" if da0 else "—"]
            print("| " + " | ".join(cells) + " |", flush=True)
        totals[spec.name] = tot
    print()
    for name, (a, a0, da, da0, ea, ea0) in totals.items():
        line = f"{name}: total adders ours {a} (dc=0: {a0})"
        if have_da:
            line += f", da4ml {da} (dc=0: {da0}), ours at da4ml's depths {ea} (dc=0: {ea0}); "
            line += f"ratio {ea / da:.3f} (dc=0: {ea0 / da0:.3f})"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
