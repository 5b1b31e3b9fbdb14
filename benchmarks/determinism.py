"""Is training reproducible for a seed, and what does op determinism cost per epoch?

    python benchmarks/determinism.py [--epochs 10] [--seed 0] [--path xla|plain]
        [--deterministic/--no-deterministic] [--repeat 2]

Trains the digits MLP (``digits`` preset) ``--repeat`` times in this process, each from
:func:`hgq_train.determinism.seed_training`, on one of two paths: ``xla`` (what ``hgq train``
does: ``train_dataset``, ``jit_compile=True``, 8 steps per execution) or ``plain`` (numpy arrays
to ``fit``, no XLA: what ``benchmarks/peers/hgq2_vs_ours.py`` does without ``--ours-jit``).
Prints per run the SHA-256 of all weights (every variable, bit for bit), the final loss and the
median epoch seconds (epochs 2..N). Run it twice as separate processes to see run-to-run
differences as well.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def weights_digest(model: Any) -> str:
    """SHA-256 over every variable of ``model`` (trainable or not), in order, bit for bit."""
    import numpy as np

    h = hashlib.sha256()
    for v in model.variables:
        h.update(v.path.encode())
        h.update(np.ascontiguousarray(np.asarray(v)).tobytes())
    return h.hexdigest()


def train_once(args: argparse.Namespace) -> dict[str, Any]:
    """One training run; its digest, final loss and epoch seconds."""
    import keras

    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.data import load_dataset
    from hgq_train.determinism import seed_training
    from hgq_train.models import PRESETS, build_mlp
    from hgq_train.training import compile_hgq, train_dataset

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.seconds.append(time.perf_counter() - self._start)

    data = load_dataset("digits", None, seed=args.seed)
    seed_training(args.seed, deterministic=args.deterministic)
    model = build_mlp(PRESETS["digits"], data.n_features, data.n_classes)
    timer = EpochTimes()
    callbacks = [*hgq_callbacks(str(args.beta)), timer]
    if args.path == "xla":
        compile_hgq(model, beta=args.beta, jit_compile=True, steps_per_execution=8)
        ds = train_dataset(data.x_train, data.y_train, batch_size=args.batch_size, seed=args.seed)
        hist = model.fit(ds, epochs=args.epochs, callbacks=callbacks, verbose=0, shuffle=False)
    else:
        compile_hgq(model, beta=args.beta)
        hist = model.fit(
            data.x_train,
            data.y_train,
            epochs=args.epochs,
            batch_size=args.batch_size,
            callbacks=callbacks,
            verbose=0,
        )
    return {
        "digest": weights_digest(model),
        "loss": float(hist.history["loss"][-1]),
        "epoch_s": statistics.median(timer.seconds[1:] or timer.seconds),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beta", type=float, default=3e-4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--path", choices=("xla", "plain"), default="xla")
    p.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)
    print(
        f"path {args.path}, deterministic {args.deterministic}, seed {args.seed}, "
        f"{args.epochs} epochs, batch {args.batch_size}, beta {args.beta}",
        flush=True,
    )
    digests = []
    for i in range(args.repeat):
        r = train_once(args)
        digests.append(r["digest"])
        print(
            f"run {i}: weights {r['digest'][:16]} loss {r['loss']!r} "
            f"median epoch {r['epoch_s']:.3f} s",
            flush=True,
        )
    print(f"identical within the process: {len(set(digests)) == 1}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
