"""HGQ v1 (``hgq==0.2.6``, TensorFlow 2.15 / Keras 2) against hgq_train (Keras 3) on digits.

    .venv/bin/python benchmarks/peers/hgq1_vs_ours.py [--betas 1e-6,1e-5] [--epochs 60] \\
        [--seed 0] [--no-ours-fast] [--hgq1-python .venv-hgq1/bin/python]

Both train the same 64-32-10 MLP (per-weight and per-activation bit widths, initial fractional
bits 6, input 4, ReLU) on the same digits split (written once to an ``.npz`` that both read),
with the same beta, epochs, batch size, Adam learning rate and seed. Printed per beta and side:
test accuracy of the deployable model (ours: the exported spec through the bit-exact
``hgq_hw.reference.predict``; HGQ v1: its ``to_proxy_model`` proxy), exact EBOPs after
calibration on the training split (ours: the export; HGQ v1: ``trace_minmax``) counted both
ways (HGQ v1 counts no sign bit for weights, hgq_train one per negative weight), seconds per
epoch (the median over epochs 2..N, and the first epoch, which includes tracing/compilation),
and ours / theirs ratios.

HGQ v1 needs TensorFlow 2.15 and Keras 2, which cannot share a virtual environment with
Keras 3, so it runs in its own (``benchmarks/peers/README.md`` says how to make it), through
``hgq1_worker.py``. Without it the script says so and exits with status 2.

Known differences, not tuned away: HGQ v1 quantizes the logits too (its ``HDense`` always has an
output quantizer; ours leaves them exact), adds ``beta * BOPs`` per layer inside the layers
(ours adds ``beta * EBOPs`` of the model in the loss; the same sum), counts no weight sign bits
in its loss (ours does), and compiles its quantizers with XLA. Ours feeds ``fit`` through
``hgq_train.training.train_dataset`` (HGQ v1 gets numpy arrays, Keras 2's fast path) and, unless
``--no-ours-fast``, compiles with ``jit_compile=True, steps_per_execution=8``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).resolve().parent / "hgq1_worker.py"


def run_hgq1(python: Path, opts: dict[str, Any]) -> dict[str, Any]:
    """Train with HGQ v1 in its own interpreter; ``RuntimeError`` with its output on failure."""
    proc = subprocess.run(
        [str(python), str(WORKER), json.dumps(opts)], capture_output=True, text=True, cwd=ROOT
    )
    for line in proc.stdout.splitlines():
        if line.startswith("HGQ1_RESULT "):
            return json.loads(line.split(" ", 1)[1])
        if line.startswith("HGQ1_IMPORT_ERROR "):
            raise RuntimeError(f"HGQ v1 does not import in {python}: {line.split(' ', 1)[1]}")
    tail = proc.stdout[-2000:] + proc.stderr[-3000:]
    raise RuntimeError(f"HGQ v1 worker failed (exit {proc.returncode}):\n{tail}")


def run_ours(data: Any, opts: dict[str, Any]) -> dict[str, Any]:
    import keras
    import numpy as np

    from hgq_hw.reference import predict
    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.ebops import ebops
    from hgq_train.export import export_with_model
    from hgq_train.models import MLPConfig, build_mlp
    from hgq_train.training import compile_hgq, train_dataset

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.seconds.append(time.perf_counter() - self._start)

    keras.utils.set_random_seed(opts["seed"])
    config = MLPConfig(
        hidden=tuple(opts["hidden"]), f_init=opts["f_init"], input_f_init=opts["input_f_init"]
    )
    model = build_mlp(config, data.n_features, data.n_classes)
    fast = {"jit_compile": True, "steps_per_execution": 8} if opts.get("ours_fast") else {}
    compile_hgq(model, beta=opts["beta"], learning_rate=opts["lr"], **fast)
    timer = EpochTimes()
    start = time.perf_counter()
    model.fit(
        train_dataset(data.x_train, data.y_train, batch_size=opts["batch_size"]),
        shuffle=False,  # the dataset reshuffles itself every epoch
        epochs=opts["epochs"],
        callbacks=[*hgq_callbacks(str(opts["beta"])), timer],
        verbose=0,
    )
    fit_seconds = time.perf_counter() - start
    result = export_with_model(model, data.x_train)
    y = predict(result.spec, data.x_test)
    return {
        "accuracy": float(np.mean(np.argmax(y, axis=1) == data.y_test)),
        "ebops": float(result.ebops),
        "ebops_nosign": ebops(result.model64, exact=True, weight_sign=False),
        "fit_seconds": fit_seconds,
        "epoch_seconds": timer.seconds,
    }


def _epoch(r: dict[str, Any]) -> float:
    rest = r["epoch_seconds"][1:] or r["epoch_seconds"]
    return statistics.median(rest)


def _nosign(r: dict[str, Any]) -> float:
    """EBOPs without weight sign bits (HGQ v1's count)."""
    return float(r.get("ebops_nosign", r["ebops"]))


def _sign(r: dict[str, Any]) -> float:
    """EBOPs with a sign bit per negative weight (hgq_train's count)."""
    return float(r.get("ebops_sign", r["ebops"]))


def _rel(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    p = Path(path).absolute()
    return os.path.relpath(p) if p.is_relative_to(Path.cwd()) else path


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--betas", default="1e-6,1e-5")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hidden", default="32")
    parser.add_argument(
        "--ours-fast",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train ours with jit_compile=True, steps_per_execution=8 (default; "
        "--no-ours-fast: compile_hgq's defaults, no XLA, one step per execution)",
    )
    parser.add_argument("--hgq1-python", default=str(ROOT / ".venv-hgq1" / "bin" / "python"))
    args = parser.parse_args()
    print(
        "command: " + shlex.join([_rel(sys.executable), _rel(sys.argv[0]), *sys.argv[1:]]),
        flush=True,
    )

    python = Path(args.hgq1_python)
    if not python.exists():
        print(
            f"error: HGQ v1's interpreter {python} does not exist. Create it with\n"
            f"  python3.11 -m venv {python.parent.parent}\n"
            f"  {python.parent}/pip install 'tensorflow-cpu==2.15.*' 'keras==2.15.*' "
            "scikit-learn\n"
            f"  {python.parent}/pip install --no-deps hgq==0.2.6\n"
            "or pass --hgq1-python",
            file=sys.stderr,
        )
        return 2

    import numpy as np

    from hgq_train.data import load_digits_dataset

    data = load_digits_dataset(seed=args.seed)
    hidden = [int(h) for h in args.hidden.split(",")]
    print(f"{data.summary()}; MLP {data.n_features}-{'-'.join(map(str, hidden))}-10")
    print(f"{args.epochs} epochs, batch {args.batch_size}, Adam lr {args.lr}, seed {args.seed}")
    print(
        "ours compiled with "
        + ("jit_compile=True, steps_per_execution=8" if args.ours_fast else "compile_hgq defaults")
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "digits_split.npz"
        np.savez(
            split,
            x_train=data.x_train,
            y_train=data.y_train,
            x_test=data.x_test,
            y_test=data.y_test,
        )
        for beta in (float(b) for b in args.betas.split(",")):
            opts = {
                "data": str(split),
                "hidden": hidden,
                "beta": beta,
                "epochs": args.epochs,
                "batch_size": args.batch_size,
                "lr": args.lr,
                "seed": args.seed,
                "f_init": 6.0,
                "input_f_init": 4.0,
                "ours_fast": args.ours_fast,
            }
            try:
                theirs = run_hgq1(python, opts)
            except RuntimeError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            ours = run_ours(data, opts)
            rows.append((beta, ours, theirs))
            print(
                f"beta {beta:g}: ours acc {ours['accuracy']:.4f} EBOPs {_nosign(ours):.0f} "
                f"(with sign {_sign(ours):.0f}) {_epoch(ours):.3f} s/epoch; HGQ v1 "
                f"{theirs['version']} acc {theirs['accuracy']:.4f} EBOPs {_nosign(theirs):.0f} "
                f"(with sign {_sign(theirs):.0f}) "
                f"{_epoch(theirs):.3f} s/epoch",
                flush=True,
            )

    print()
    print(
        "| beta | side | test accuracy (%) | EBOPs, v1's count (no weight sign bit) | EBOPs, ours "
        "(sign bit per negative weight) | s/epoch (median of 2..N) | first epoch s | fit s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for beta, ours, theirs in rows:
        for side, r in (("hgq_train (ours)", ours), (f"HGQ v1 {theirs['version']}", theirs)):
            print(
                f"| {beta:g} | {side} | {100 * r['accuracy']:.2f} | {_nosign(r):.0f} | "
                f"{_sign(r):.0f} | {_epoch(r):.3f} | {r['epoch_seconds'][0]:.2f} | "
                f"{r['fit_seconds']:.1f} |"
            )
        print(
            f"| {beta:g} | ratio ours/theirs | {ours['accuracy'] / theirs['accuracy']:.3f} | "
            f"{_nosign(ours) / _nosign(theirs):.3f} | {_sign(ours) / _sign(theirs):.3f} | "
            f"{_epoch(ours) / _epoch(theirs):.2f} | "
            f"{ours['epoch_seconds'][0] / theirs['epoch_seconds'][0]:.2f} | "
            f"{ours['fit_seconds'] / theirs['fit_seconds']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
