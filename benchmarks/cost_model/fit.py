"""Fit the LUT cost model on the designs ``calibrate.py`` measured, and say how well it predicts.

    PYTHONPATH=. .venv/bin/python benchmarks/cost_model/fit.py [--write] [--splits 200]

Reads ``benchmarks/cost_model/measured.json``, recomputes every design's cost features from its
spec (:func:`hgq_hw.cost_features.spec_features`; random specs are regenerated from their
arguments, trained ones read from ``specs/``) and fits non-negative linear models of the xc7
LUTs (``scipy.optimize.nnls`` on rows scaled by ``1/LUTs``, i.e. least relative error):

- ``ebops``: ``c * EBOPs`` alone (what the EBOPs loss assumes);
- ``adder_bits``: ``c * adder bits`` from the generator's report (not differentiable; how well
  the adder graph's own count explains LUTs);
- ``features``: every feature of :data:`hgq_hw.cost_features.FEATURES`.

Cross-validation: ``--splits`` random halves (seeded), fit on one half, test on the other;
prints the mean over splits of the test half's mean and max relative error. With ``--write``
the ``features`` model fitted on all designs goes to ``hgq_hw/cost_xc7.json`` (the package's
default coefficients). Prints numbers, never fails on them.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

from hgq_hw import spec as spec_io
from hgq_hw.cost_features import (
    DEFAULT_COEFFICIENTS,
    FEATURES,
    CostModel,
    load_cost_model,
    spec_features,
)
from hgq_hw.random_spec import random_spec
from hgq_hw.spec import ModelSpec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate import trained_designs, variants

HERE = Path(__file__).resolve().parent


def spec_of(row: dict) -> ModelSpec:
    """The spec a measured row was generated from."""
    origin = row["origin"]
    if "variant" in origin:
        return _variants()[row["name"]]
    if "file" in origin:
        return _load(origin)
    seed = int(row["name"].removeprefix("random"))
    args = {k: tuple(v) if isinstance(v, list) and k != "sizes" else v for k, v in origin.items()}
    return random_spec(seed, name=row["name"], **args)


@functools.cache
def _variants() -> dict[str, ModelSpec]:
    return {name: spec for name, _, spec in variants(trained_designs())}


def _load(origin: dict) -> ModelSpec:
    return spec_io.load(HERE / origin["file"])


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative coefficients minimising the relative squared error."""
    coef, _ = nnls(x / y[:, None], np.ones_like(y))
    return coef


def rel_errors(x: np.ndarray, y: np.ndarray, coef: np.ndarray) -> np.ndarray:
    return np.abs(x @ coef - y) / y


def cross_validate(x: np.ndarray, y: np.ndarray, splits: int, seed: int = 0) -> tuple[float, float]:
    """Mean over random half splits of the test half's (mean, max) relative error."""
    rng = np.random.default_rng(seed)
    means, maxes = [], []
    for _ in range(splits):
        order = rng.permutation(len(y))
        train, test = order[: len(y) // 2], order[len(y) // 2 :]
        err = rel_errors(x[test], y[test], fit(x[train], y[train]))
        means.append(err.mean())
        maxes.append(err.max())
    return float(np.mean(means)), float(np.mean(maxes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="write hgq_hw/cost_xc7.json")
    parser.add_argument(
        "--population",
        choices=("trained", "all"),
        default="trained",
        help="designs the written coefficients are fitted on (default: trained specs and their "
        "variants, the networks training produces)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild every design's Verilog and check its sha256 against the measured one",
    )
    parser.add_argument(
        "--held-out",
        default=None,
        help="a measured.json the shipped coefficients were fitted on: print the shipped "
        "model's error on the designs measured since",
    )
    args = parser.parse_args()
    rows = json.loads((HERE / "measured.json").read_text())
    if args.held_out:
        seen = {r["name"] for r in json.loads(Path(args.held_out).read_text())}
        shipped = load_cost_model()
        for kind in ("trained", "random"):
            new = [
                r
                for r in rows
                if r["name"] not in seen and (r["kind"] == "random") == (kind == "random")
            ]
            if new:
                err = np.array(
                    [abs(shipped.predict_spec(spec_of(r)) - r["luts"]) / r["luts"] for r in new]
                )
                ratio = np.array([r["luts"] / spec_features(spec_of(r))["ebops"] for r in new])
                print(
                    f"held out ({kind}, {len(new)} designs measured after the fit): shipped model "
                    f"mean rel err {err.mean():.3f}, max {err.max():.3f}; "
                    f"LUTs/EBOPs {ratio.min():.2f}..{ratio.max():.2f}"
                )
    if args.check:
        from hgq_hw.emit import build

        bad = [
            r["name"]
            for r in rows
            if hashlib.sha256(build(spec_of(r), name="net").verilog.encode()).hexdigest()
            != r["sha256"]
        ]
        print(f"checked {len(rows)} designs: {len(bad)} differ from what was measured {bad}")
    feats = [spec_features(spec_of(row)) for row in rows]
    y = np.array([row["luts"] for row in rows], dtype=np.float64)
    # trained specs and their variants are one population: what training produces
    kinds = np.array(["random" if row["kind"] == "random" else "trained" for row in rows])
    models = {
        "ebops": np.array([[f["ebops"]] for f in feats]),
        "adder_bits": np.array([[row["adder_bits"]] for row in rows], dtype=np.float64),
        "features": np.array([[f[n] for n in FEATURES] for f in feats]),
    }
    print(
        f"{len(rows)} designs ({np.sum(kinds == 'random')} random, "
        f"{np.sum(kinds == 'trained')} trained digits or variants), "
        f"xc7 LUTs {int(y.min())}..{int(y.max())}"
    )
    print(f"{'model':>11}  {'CV mean rel err':>15}  {'CV max rel err':>14}  "
          f"{'all: mean':>9}  {'max':>6}  {'trained: mean':>13}  {'random: mean':>12}")  # fmt: skip
    fitted = {}
    for name, x in models.items():
        cv_mean, cv_max = cross_validate(x, y, args.splits)
        coef = fit(x, y)
        fitted[name] = coef
        err = rel_errors(x, y, coef)
        by_kind = {k: err[kinds == k].mean() if np.any(kinds == k) else float("nan")
                   for k in ("trained", "random")}  # fmt: skip
        print(
            f"{name:>11}  {cv_mean:>15.3f}  {cv_max:>14.3f}  {err.mean():>9.3f}  "
            f"{err.max():>6.3f}  {by_kind['trained']:>13.3f}  {by_kind['random']:>12.3f}"
        )
    for kind in ("trained", "random"):
        sel = kinds == kind
        if sel.sum() >= 4:
            for name in ("ebops", "features"):
                cv_mean, cv_max = cross_validate(models[name][sel], y[sel], args.splits)
                print(f"  {kind} only, {name}: CV mean {cv_mean:.3f}, CV max {cv_max:.3f}")
    print("coefficients (all designs):")
    print(f"  ebops: LUTs = {fitted['ebops'][0]:.4f} * EBOPs")
    print(f"  adder_bits: LUTs = {fitted['adder_bits'][0]:.4f} * adder bits")
    coefficients = {n: float(c) for n, c in zip(FEATURES, fitted["features"])}
    print("  features: " + ", ".join(f"{n} {c:.4f}" for n, c in coefficients.items()))
    if args.write:
        sel = kinds == "trained" if args.population == "trained" else np.ones(len(y), bool)
        x_w, y_w = models["features"][sel], y[sel]
        coef = fit(x_w, y_w)
        cv_mean, cv_max = cross_validate(x_w, y_w, args.splits)
        err = rel_errors(x_w, y_w, coef)
        err_random = rel_errors(models["features"][kinds == "random"], y[kinds == "random"], coef)
        model = CostModel(
            {n: round(float(c), 6) for n, c in zip(FEATURES, coef) if c > 0},
            "xc7_luts",
            {
                "designs": int(sel.sum()),
                "population": args.population,
                "target": "yosys synth_xilinx -family xc7 -flatten, LUT1..LUT6, pipeline_levels 0",
                "mean_rel_err": round(float(err.mean()), 4),
                "max_rel_err": round(float(err.max()), 4),
                "cv_mean_rel_err": round(cv_mean, 4),
                "cv_max_rel_err": round(cv_max, 4),
                "random_specs_mean_rel_err": round(float(err_random.mean()), 4)
                if err_random.size
                else None,
                "script": f"benchmarks/cost_model/fit.py --write --population {args.population}",
            },
        )
        DEFAULT_COEFFICIENTS.write_text(model.to_json(), encoding="utf-8")
        print(f"wrote {DEFAULT_COEFFICIENTS}: {model.coefficients}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
