"""Train an HGQ model, export its spec, generate Verilog and prove it bit-exact in cocotb.

The Python API in one script (copy it and change the model or the data):

    .venv/bin/python examples/train_and_generate.py [--epochs 40] [--beta 3e-6] [--out runs/example]

Steps: digits data -> quantized Keras model (every weight and activation its own bit width) ->
training with the EBOPs penalty -> export to a spec (checked bit-exact against the Keras model)
-> pipelined, multiplier-free Verilog -> cocotb regression on Verilator -> printed report.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--beta", type=float, default=3e-6, help="EBOPs weight in the loss")
    parser.add_argument("--out", default="runs/example")
    parser.add_argument("--simulator", default="verilator", choices=["verilator", "icarus"])
    args = parser.parse_args()
    out = Path(args.out)

    import keras
    import numpy as np

    from hgq_hw.emit import format_report, generate
    from hgq_hw.reference import predict
    from hgq_hw.spec import save
    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.data import load_dataset
    from hgq_train.export import export_with_model, verify
    from hgq_train.layers import QActivation, QDense, QInput
    from hgq_train.training import compile_hgq
    from sim.design import design_from_dir
    from sim.runner import run_regression

    keras.utils.set_random_seed(0)
    print("seed 0")
    data = load_dataset("digits")  # bundled with scikit-learn: no network
    print(data.summary())

    # 1. A quantized MLP: every weight and activation learns its own fractional bits.
    model = keras.Sequential(
        [
            keras.Input(shape=(data.n_features,)),
            QInput(name="inp_q"),
            QDense(32, name="dense0"),
            QActivation("relu", name="relu0"),
            QDense(data.n_classes, name="logits"),
        ],
        name="example",
    )

    # 2. Loss = cross-entropy + beta * EBOPs (+ a tiny gamma * sum of bit widths).
    compile_hgq(model, beta=args.beta, learning_rate=5e-3)
    model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_val, data.y_val),
        epochs=args.epochs,
        batch_size=32,
        callbacks=hgq_callbacks(str(args.beta)),
        verbose=2,
    )

    # 3. Export: calibrate the activation ranges, write per-weight raw integers and types.
    result = export_with_model(model, data.x_train, metadata={"dataset": "digits"})
    checked = verify(result.model64, result.spec, data.x_train)
    out.mkdir(parents=True, exist_ok=True)
    spec_path = save(result.spec, out / "spec.json")
    accuracy = float(np.mean(np.argmax(predict(result.spec, data.x_test), axis=1) == data.y_test))
    print(
        f"spec {spec_path}: EBOPs {result.ebops:.0f}, test accuracy {accuracy:.4f}, "
        f"bit-exact against Keras on {checked} samples"
    )

    # 4. Verilog: fully unrolled, pipelined adder graphs (no multipliers).
    design = generate(result.spec, out / "gen", pipeline_levels=2)
    print(format_report(design.report))

    # 5. cocotb: the RTL against the integer reference, on corners, edges, random and test data.
    sim = run_regression(
        result.spec,
        design_from_dir(out / "gen"),
        work_dir=out / "sim",
        simulator=args.simulator,
        samples=200,
        seed=0,
        data=data.x_test,
    )
    print(sim.summary())
    raise SystemExit(0 if sim.passed else 1)


if __name__ == "__main__":
    main()
