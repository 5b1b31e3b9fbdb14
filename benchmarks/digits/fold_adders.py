"""Adders saved by folding the RND half LSB into the bias, on the specs of a sweep.

    .venv/bin/python benchmarks/digits/fold_adders.py runs/digits_sweep [more sweep dirs]

For every ``pNN/spec.json`` under each sweep directory: the spec as exported without folding
(:func:`hgq_train.export.fold_round_half` undone is not needed: a spec exported with
``fold_rounding=False`` or by an older version has RND requantizers), and the same spec after
``fold_round_half``; both are generated at ``--pipeline-levels 2`` and their adders printed,
after checking on the digits test split that both give the same raw outputs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("sweeps", nargs="+", help="sweep --work directories")
    parser.add_argument("--pipeline-levels", type=int, default=2)
    args = parser.parse_args(argv)

    import numpy as np

    from hgq_hw.emit import generate
    from hgq_hw.fixed import Round
    from hgq_hw.reference import evaluate, quantize_inputs
    from hgq_hw.spec import RequantizeSpec, load
    from hgq_train.data import load_digits_dataset
    from hgq_train.export import fold_round_half

    data = load_digits_dataset(seed=0)
    print(f"{'spec':40} {'RND req.':>8} {'adders':>7} {'folded':>7} {'saved':>6}")
    for sweep in args.sweeps:
        for path in sorted(Path(sweep).glob("p*/spec.json")):
            spec = load(path)
            folded = fold_round_half(spec)
            x = quantize_inputs(spec, data.x_test.reshape(len(data.x_test), -1))
            if not np.array_equal(evaluate(spec, x), evaluate(folded, x)):
                raise SystemExit(f"{path}: folded spec differs on the test split")
            n_rnd = sum(isinstance(s, RequantizeSpec) and s.round is Round.RND for s in spec.layers)
            with tempfile.TemporaryDirectory() as tmp:
                a = generate(spec, Path(tmp) / "a", pipeline_levels=args.pipeline_levels)
                b = generate(folded, Path(tmp) / "b", pipeline_levels=args.pipeline_levels)
            na, nb = int(a.report["adders"]), int(b.report["adders"])
            print(f"{path!s:40} {n_rnd:8d} {na:7d} {nb:7d} {na - nb:6d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
