"""Adder count, adder depth and solve time of hgq_hw.cmvm against da4ml's CMVM, same matrices.

    .venv/bin/python benchmarks/cmvm_vs_da4ml.py [--seeds 3] [--families 16x64,32x32,128x128,jet]

Families (each ``--seeds`` seeds, seed printed per row):

- ``16x64``: 4-bit signed weights (-8..7) on 8-bit signed inputs;
- ``32x32``: mixed widths: each weight 1..8 bits signed, 40% of them zero; each input 3..10 bits,
  half signed, half unsigned;
- ``128x128``: sparse: 6-bit signed weights, 75% zero, 8-bit signed inputs;
- ``dense128``: dense 128x128, 4-bit signed weights on 8-bit signed inputs: our solve time
  only (da4ml needs minutes per mode on it);
- ``jet``: the Dense kernels of ``hgq_hw.random_spec.jet_like_spec(seed)`` (effective integer
  kernel on raw inputs, bias left out), one row per layer.

da4ml (``da4ml.cmvm.solve``, 0.6) runs in three modes: ``dc0`` (``hard_dc=0``: its minimum
depth), ``dc2`` (``hard_dc=2``) and ``free`` (``hard_dc=-1``: no depth limit, da4ml's default).
Ours runs at equal depth -- ``solve(..., max_depth=D)`` with ``D`` the depth da4ml reached in
that mode -- and free (``depth_slack=None``). Cells are ``adders/depth``; ``ratio`` is our adders
over da4ml's in the same column (below 1: we need fewer). Solve seconds are summed per family.
Every solution is checked against ``x @ w`` on random and corner inputs before it counts.
da4ml is optional (``pip install da4ml``); without it only our numbers are printed.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from da4ml_ops import count_adders  # benchmarks/da4ml_ops.py, beside this script

from hgq_hw.cmvm import solve
from hgq_hw.random_spec import jet_like_spec
from hgq_hw.reference import dense_effective, infer_types
from hgq_hw.spec import DenseSpec

DA4ML_MODES = {"dc0": 0, "dc2": 2, "free": -1}

Problem = tuple[str, np.ndarray, np.ndarray, np.ndarray]  # label, kernel, input lo, input hi


def da4ml_available() -> bool:
    try:
        import da4ml.cmvm  # noqa: F401
    except ImportError:
        return False
    return True


def _samples(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    x = rng.integers(lo, hi + 1, (n, len(lo)))
    return np.vstack([x, lo, hi]).astype(np.int64)


def da4ml_solve(w: np.ndarray, lo: np.ndarray, hi: np.ndarray, hard_dc: int) -> tuple[int, int]:
    """``(adders, adder depth)`` of da4ml on ``w``, checked against ``x @ w``."""
    from da4ml.cmvm import solve as da_solve

    pipe = da_solve(
        w.astype(np.float32),
        qintervals=[(float(a), float(b), 1.0) for a, b in zip(lo, hi)],
        hard_dc=hard_dc,
    )
    for x in _samples(lo, hi, 4):
        if not np.array_equal(np.asarray(pipe(x.astype(np.float64))), x @ w):
            raise RuntimeError("da4ml result differs from x @ w")
    return count_adders(pipe, w.shape[0])


_HAS_MAX_DEPTH = "max_depth" in inspect.signature(solve).parameters


def ours_solve(
    w: np.ndarray, lo: np.ndarray, hi: np.ndarray, max_depth: int | None
) -> tuple[int, int]:
    """``(adders, adder depth)`` of hgq_hw.cmvm, checked against ``x @ w``.

    ``max_depth=None``: fewest adders (``depth_slack=None``). Before ``solve`` had ``max_depth``
    (the "before" measurement), the fewer adders of ``depth_slack`` None and 0 whose depth is at
    most ``max_depth`` (both modes gave the same depth there).
    """
    lo_l, hi_l = [int(v) for v in lo], [int(v) for v in hi]
    if max_depth is None or _HAS_MAX_DEPTH:
        kwargs = {} if max_depth is None else {"max_depth": max_depth}
        graphs = [solve(w, lo_l, hi_l, **kwargs)]
    else:
        graphs = [solve(w, lo_l, hi_l, depth_slack=s) for s in (None, 0)]
        fits = [g for g in graphs if g.depth <= max_depth]
        graphs = [min(fits or graphs, key=lambda g: g.n_adders if fits else g.depth)]
    g = graphs[0]
    x = _samples(lo, hi, 20).astype(object)
    if not np.array_equal(g(x), x @ w.astype(object)):
        raise RuntimeError("hgq_hw.cmvm result differs from x @ w")
    return g.n_adders, g.depth


def random_problems(family: str, seed: int) -> list[Problem]:
    rng = np.random.default_rng(seed)
    if family == "16x64":
        w = rng.integers(-8, 8, (16, 64))
        lo, hi = np.full(16, -128), np.full(16, 127)
    elif family == "32x32":
        bits = rng.integers(1, 9, (32, 32))
        w = rng.integers(-(1 << (bits - 1)), 1 << (bits - 1))
        w[rng.random((32, 32)) < 0.4] = 0
        in_bits = rng.integers(3, 11, 32)
        signed = rng.random(32) < 0.5
        lo = np.where(signed, -(1 << (in_bits - 1)), 0)
        hi = np.where(signed, (1 << (in_bits - 1)) - 1, (1 << in_bits) - 1)
    elif family == "128x128":
        w = rng.integers(-32, 32, (128, 128))
        w[rng.random((128, 128)) < 0.75] = 0
        lo, hi = np.full(128, -128), np.full(128, 127)
    elif family == "dense128":
        w = rng.integers(-8, 8, (128, 128))
        lo, hi = np.full(128, -128), np.full(128, 127)
    elif family == "jet":
        spec = jet_like_spec(seed)
        types = infer_types(spec)
        out = []
        for layer in spec.layers:
            if isinstance(layer, DenseSpec):
                x_type = types[layer.inputs[0]]
                w_eff, _, _ = dense_effective(layer, x_type)
                lo_t, hi_t = x_type.raw_bounds()
                out.append((f"{seed} {layer.name}", w_eff, np.asarray(lo_t), np.asarray(hi_t)))
        return [
            (label, w.astype(np.int64), lo.astype(np.int64), hi.astype(np.int64))
            for label, w, lo, hi in out
        ]
    else:
        raise ValueError(f"unknown family {family!r} (16x64, 32x32, 128x128, dense128, jet)")
    return [(str(seed), w.astype(np.int64), lo.astype(np.int64), hi.astype(np.int64))]


def _timed(fn: Callable[..., tuple[int, int]], *args: object) -> tuple[int, int, float]:
    """``fn(*args)`` and the CPU seconds this process spent on it."""
    start = time.process_time()
    a, d = fn(*args)
    return a, d, time.process_time() - start


def run_family(family: str, seeds: int, have_da: bool) -> Iterator[str]:
    have_da = have_da and family != "dense128"
    head = f"{'case':>10}  {'ours free':>10}"
    if have_da:
        for mode in DA4ML_MODES:
            head += f"  {'da ' + mode:>10}  {'ours@' + mode:>10}  {'ratio':>6}"
    yield head
    ratios: dict[str, list[float]] = {m: [] for m in DA4ML_MODES}
    t_ours: list[float] = []
    t_da = 0.0
    for seed in range(seeds):
        for label, w, lo, hi in random_problems(family, seed):
            a, d, t = _timed(ours_solve, w, lo, hi, None)
            t_ours.append(t)
            line = f"{label:>10}  {f'{a}/{d}':>10}"
            if have_da:
                for mode, dc in DA4ML_MODES.items():
                    da, dd, dt = _timed(da4ml_solve, w, lo, hi, dc)
                    t_da += dt
                    if mode == "free":
                        oa, od = a, d
                    else:
                        oa, od, ot = _timed(ours_solve, w, lo, hi, dd)
                        t_ours.append(ot)
                    ratio = oa / da if da else 1.0
                    ratios[mode].append(ratio)
                    line += f"  {f'{da}/{dd}':>10}  {f'{oa}/{od}':>10}  {ratio:>6.3f}"
            yield line
    summary = f"{family}: our solve CPU s {sum(t_ours):.2f} (slowest {max(t_ours):.2f})"
    if have_da:
        summary += f", da4ml {t_da:.2f}; mean ratio ours/da4ml at equal depth: "
        summary += ", ".join(f"{m} {statistics.mean(r):.3f}" for m, r in ratios.items())
    yield summary


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--families", default="16x64,32x32,128x128,jet")
    args = parser.parse_args()
    print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]), flush=True)
    have_da = da4ml_available()
    if not have_da:
        print("da4ml is not installed (pip install da4ml): printing our numbers only")
    print(
        "(adders/depth; ours@M: ours at max_depth = da4ml's depth in mode M; "
        "ratio = ours / da4ml adders; free: ours depth_slack=None vs da4ml hard_dc=-1)"
    )
    for family in args.families.split(","):
        print(f"\n## {family}, seeds 0..{args.seeds - 1}", flush=True)
        for line in run_family(family, args.seeds, have_da):
            print(line, flush=True)


if __name__ == "__main__":
    main()
