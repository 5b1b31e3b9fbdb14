"""HGQ on scikit-learn digits: a beta sweep and its Pareto front (test accuracy vs EBOPs).

Each beta trains a fresh quantized MLP, exports it (calibrated on the training split) and
measures the exported spec with the integer reference, so accuracy and EBOPs are those of the
bit-exact hardware model. Prints every point, the Pareto front, the best accuracy and the EBOPs
where accuracy drops below 90%.

    .venv/bin/python benchmarks/train_digits.py [--epochs 60] [--betas 1e-7,1e-6,...]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DEFAULT_BETAS = "1e-7,3e-7,1e-6,3e-6,1e-5,3e-5,1e-4,1e-3,1e-2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--betas", default=DEFAULT_BETAS)
    parser.add_argument("--hidden", default="32", help="hidden widths, comma separated")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import keras
    import numpy as np

    from hgq_hw.reference import predict
    from hgq_train.callbacks import dominates, hgq_callbacks
    from hgq_train.data import load_digits_dataset
    from hgq_train.export import export_with_model, verify
    from hgq_train.models import MLPConfig, build_mlp
    from hgq_train.training import compile_hgq

    data = load_digits_dataset(seed=args.seed)
    hidden = tuple(int(h) for h in args.hidden.split(","))
    print(f"seed {args.seed}; {data.summary()}; MLP 64-{'-'.join(map(str, hidden))}-10")
    print(f"{args.epochs} epochs, batch {args.batch_size}, Adam lr {args.lr}")
    print(f"{'beta':>8} {'test acc':>8} {'EBOPs':>8} {'pruned':>7} {'checked':>7} {'time s':>6}")
    points = []
    for beta in (float(b) for b in args.betas.split(",")):
        start = time.perf_counter()
        keras.utils.set_random_seed(args.seed)
        model = build_mlp(MLPConfig(hidden=hidden), data.n_features, data.n_classes)
        compile_hgq(model, beta=beta, learning_rate=args.lr)
        model.fit(
            data.x_train,
            data.y_train,
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=hgq_callbacks(str(beta)),
            verbose=0,
        )
        result = export_with_model(model, data.x_train)
        checked = verify(result.model64, result.spec, data.x_train)
        y = predict(result.spec, data.x_test)  # real values: output elements differ in f
        accuracy = float(np.mean(np.argmax(y, axis=1) == data.y_test))
        meta = result.spec.metadata
        pruned = meta["pruned_weights"] / meta["weights"]
        seconds = time.perf_counter() - start
        points.append((accuracy, result.ebops, beta))
        print(
            f"{beta:8.0e} {accuracy:8.4f} {result.ebops:8.0f} {pruned:7.1%} {checked:7d} "
            f"{seconds:6.1f}",
            flush=True,
        )
    front = sorted(
        (p for p in points if not any(dominates(q[:2], p[:2]) for q in points)),
        key=lambda p: p[1],
    )
    print("\nPareto front (test accuracy of the exported spec vs exact EBOPs):")
    for accuracy, cost, beta in front:
        print(f"  beta {beta:8.0e}  accuracy {accuracy:.4f}  EBOPs {cost:8.0f}")
    best = max(points)
    print(f"best accuracy {best[0]:.4f} at {best[1]:.0f} EBOPs (beta {best[2]:.0e})")
    above = [p for p in front if p[0] >= 0.90]
    below = [p for p in front if p[0] < 0.90]
    if above and below:
        print(
            f"accuracy drops below 90% under {min(p[1] for p in above):.0f} EBOPs "
            f"({max(below, key=lambda p: p[1])[0]:.4f} at {max(p[1] for p in below):.0f})"
        )
    elif above:
        print(f"accuracy stays >= 90% down to {min(p[1] for p in above):.0f} EBOPs (lowest seen)")
    else:
        print("no point reaches 90% accuracy")


if __name__ == "__main__":
    main()
