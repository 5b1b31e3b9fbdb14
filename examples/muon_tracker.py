"""A muon-tracker-shaped network end to end: Conv1D branches with tanh tables and a skip `Add`.

    .venv/bin/python examples/muon_tracker.py [--epochs 30] [--out runs/muon] [--synth xc7,ecp5]

Steps: a synthetic hit-pattern regression (16 strips x 3 planes, regress the track slope; the
task is documented in :mod:`hgq_train.muon`, deterministic from ``--seed``, no network) ->
a functional Keras model (QConv1D -> tanh table -> QConv1D -> tanh table, added to the first
branch, -> strided QConv1D -> tanh table -> Flatten -> QDense -> ReLU -> QDense to one output)
trained with the EBOPs penalty -> export (checked bit-exact against the Keras model) -> the
spec's slope resolution -> pipelined Verilog (``hgq gen``) -> cocotb on Verilator and Icarus ->
Yosys synthesis (``hgq synth``; ECP5 also places and routes with nextpnr). Prints every number.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--beta", type=float, default=1e-6, help="EBOPs weight in the loss")
    parser.add_argument("--samples", type=int, default=8000, help="training tracks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/muon")
    parser.add_argument(
        "--simulators", default="verilator,icarus", help="comma-separated; empty: no cocotb"
    )
    parser.add_argument(
        "--synth", default="xc7,ecp5", help="comma-separated hgq synth targets; empty: none"
    )
    args = parser.parse_args()
    out = Path(args.out)

    import keras
    import numpy as np

    from hgq_hw.emit import format_report, generate, read_report
    from hgq_hw.reference import predict
    from hgq_hw.spec import save
    from hgq_hw.synth import synthesize_entry
    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.export import export_with_model, verify
    from hgq_train.muon import MuonTask, build_muon_tracker, muon_hits, muon_metrics
    from hgq_train.training import compile_hgq
    from sim.design import design_from_dir
    from sim.runner import run_regression

    keras.utils.set_random_seed(args.seed)
    print(f"seed {args.seed}")
    task = MuonTask()
    # 1. Data: train / validation / test tracks from three seeds derived from --seed.
    x_train, y_train = muon_hits(args.samples, 3 * args.seed, task)
    x_val, y_val = muon_hits(max(args.samples // 8, 10), 3 * args.seed + 1, task)
    x_test, y_test = muon_hits(max(args.samples // 4, 10), 3 * args.seed + 2, task)
    print(
        f"muon task: {task.strips} strips x {task.layers} planes, slope in "
        f"+-{task.max_slope} strips/plane; {len(x_train)} train / {len(x_val)} val / "
        f"{len(x_test)} test tracks"
    )

    # 2. The model, trained on MSE + beta * EBOPs.
    model = build_muon_tracker(task)
    compile_hgq(model, beta=args.beta, learning_rate=3e-3, task="mse", metrics=["mae"])
    model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        epochs=args.epochs,
        batch_size=64,
        callbacks=hgq_callbacks(str(args.beta)),
        verbose=2,
    )

    # 3. Export, checked bit for bit against the calibrated float64 Keras model.
    result = export_with_model(model, x_train, metadata={"dataset": "muon (synthetic)"})
    checked = verify(result.model64, result.spec, np.concatenate([x_train, x_test]))
    out.mkdir(parents=True, exist_ok=True)
    spec_path = save(result.spec, out / "spec.json")
    metrics = muon_metrics(y_test, predict(result.spec, x_test), tolerance=task.tolerance)
    print(
        f"spec {spec_path}: EBOPs {result.ebops:.0f}, bit-exact against Keras on {checked} "
        f"samples; test {metrics.summary()}"
    )

    # 4. Verilog (what `hgq gen spec.json --pipeline-levels 2` writes).
    design = generate(result.spec, out / "gen", pipeline_levels=2)
    print(format_report(design.report))

    # 5. cocotb: the RTL against the integer reference on each simulator.
    passed = True
    for simulator in filter(None, args.simulators.split(",")):
        sim = run_regression(
            result.spec,
            design_from_dir(out / "gen", result.spec),
            work_dir=out / "sim",
            simulator=simulator,
            samples=200,
            seed=args.seed,
            data=x_test,
        )
        print(sim.summary())
        passed &= sim.passed

    # 6. Synthesis (what `hgq synth gen --target T` does).
    targets = list(filter(None, args.synth.split(",")))
    for target in targets:
        synthesize_entry(out / "gen", target, progress=print)
    if targets:
        print(format_report(read_report(out / "gen")))
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
