"""Digits front with ``cost="ebops"`` against ``cost="luts"``: accuracy and real xc7 LUTs.

    PYTHONPATH=. .venv/bin/python benchmarks/cost_model/digits_front.py \\
        [--epochs 60] [--ebops-betas 1e-5,1e-4,3e-4] [--luts-betas 1e-5,1e-4,3e-4] [--no-synth]

Same network and settings as ``benchmarks/digits/sweep.py`` (64-32-10 MLP, the ``digits``
preset, batch 32, Adam 5e-3, seed 0), trained with XLA (``jit_compile=True,
steps_per_execution=8``). Every point is exported, checked bit-exactly against the float64
model on the training split, and measured: test accuracy of the spec, exact EBOPs, predicted
LUTs (the shipped cost model), adders, and xc7 LUTs of its combinational Verilog through Yosys
(cached like ``calibrate.py``). Rows go to ``benchmarks/cost_model/digits_front.json``.
Prints numbers, never fails on them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibrate import xc7

HERE = Path(__file__).resolve().parent


def synth_missing(out_path: Path, which: str) -> int:
    """Fill in ``xc7_luts`` of rows measured with ``--no-synth``."""
    from hgq_hw import spec as spec_io
    from hgq_hw.emit import build

    rows = json.loads(out_path.read_text())
    wanted = None if which == "all" else {tuple(w.split(":")) for w in which.split(",")}
    for row in rows:
        key = (row["cost"], f"{row['beta']:.0e}")
        if row["xc7_luts"] is not None or (wanted is not None and key not in wanted):
            continue
        design = build(spec_io.load(row["spec"]), name="net", pipeline_levels=0)
        row["xc7_luts"] = xc7(design.verilog, "net")["luts"]
        out_path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        print(f"{row['cost']:>5} {row['beta']:7.0e} {100 * row['accuracy']:6.2f} "
              f"xc7 LUTs {row['xc7_luts']}", flush=True)  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--ebops-betas", default="1e-5,1e-4,3e-4")
    parser.add_argument("--luts-betas", default="1e-5,1e-4,3e-4")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-synth", action="store_true", help="skip Yosys")
    parser.add_argument("--out", default=str(HERE / "digits_front.json"), help="rows (JSON)")
    parser.add_argument(
        "--synth-missing",
        default=None,
        help="only run Yosys on the rows without xc7 LUTs whose 'cost:beta' is listed "
        "(comma-separated, or 'all')",
    )
    args = parser.parse_args()
    if args.synth_missing:
        return synth_missing(Path(args.out), args.synth_missing)

    import keras
    import numpy as np

    from hgq_hw import spec as spec_io
    from hgq_hw.cost_features import load_cost_model
    from hgq_hw.emit import build
    from hgq_hw.reference import predict
    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.data import load_digits_dataset
    from hgq_train.export import export_with_model, verify
    from hgq_train.models import build_mlp, resolve_model_config
    from hgq_train.training import compile_hgq, train_dataset

    data = load_digits_dataset(seed=args.seed)
    config = resolve_model_config("digits", data.n_features, data.n_classes)
    cost_model = load_cost_model()
    print(f"seed {args.seed}; {data.summary()}; {args.epochs} epochs, batch 32, Adam 5e-3")
    out_path = Path(args.out)
    rows = json.loads(out_path.read_text()) if out_path.exists() else []
    done = {(r["cost"], r["beta"], r["epochs"]) for r in rows}
    print(
        f"{'cost':>5} {'beta':>7} {'acc %':>6} {'EBOPs':>6} {'pred LUT':>8} {'adders':>6} "
        f"{'xc7 LUT':>7} {'train s':>7}"
    )
    ebops_plan = [("ebops", float(b)) for b in args.ebops_betas.split(",") if b]
    luts_plan = [("luts", float(b)) for b in args.luts_betas.split(",") if b]
    plan = [p for pair in itertools.zip_longest(ebops_plan, luts_plan) for p in pair if p]
    for cost, beta in plan:
        if (cost, beta, args.epochs) in done:
            continue
        keras.utils.set_random_seed(args.seed)
        model = build_mlp(config, data.n_features, data.n_classes)
        compile_hgq(
            model,
            beta=beta,
            learning_rate=5e-3,
            cost=cost,
            jit_compile=True,
            steps_per_execution=8,
        )
        start = time.perf_counter()
        model.fit(
            train_dataset(data.x_train, data.y_train, batch_size=32, seed=args.seed),
            epochs=args.epochs,
            callbacks=hgq_callbacks(str(beta)),
            verbose=0,
        )
        seconds = time.perf_counter() - start
        result = export_with_model(model, data.x_train, name="digits")
        verify(result.model64, result.spec, data.x_train)
        y = predict(result.spec, data.x_test)
        accuracy = float(np.mean(np.argmax(y, axis=1) == data.y_test))
        spec_path = Path("runs") / "cost_model" / "digits" / f"{cost}_{beta:.0e}_{args.epochs}.json"
        spec_path.parent.mkdir(parents=True, exist_ok=True)
        spec_io.save(result.spec, spec_path)
        design = build(result.spec, name="net", pipeline_levels=0)
        luts = None if args.no_synth else xc7(design.verilog, "net")["luts"]
        row = {
            "cost": cost,
            "beta": beta,
            "epochs": args.epochs,
            "seed": args.seed,
            "accuracy": accuracy,
            "ebops": result.ebops,
            "predicted_luts": round(cost_model.predict_spec(result.spec), 1),
            "adders": design.report["adders"],
            "adder_bits": design.report["adder_bits"],
            "xc7_luts": luts,
            "train_s": round(seconds, 1),
            "spec": str(spec_path),
        }
        rows.append(row)
        out_path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        print(
            f"{cost:>5} {beta:7.0e} {100 * accuracy:6.2f} {result.ebops:6.0f} "
            f"{row['predicted_luts']:8.0f} {row['adders']:6d} {luts if luts else '-':>7} "
            f"{seconds:7.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
