"""``hgq train`` (HGQ training with a beta schedule and a Pareto front) and ``hgq export``
(trained ``.keras`` model -> spec JSON, verified bit-exact on the calibration data).

A run directory holds ``config.json`` (the settings), ``model.keras`` (latest epoch),
``history.json`` (per-epoch loss, accuracy, EBOPs, beta), ``state.json`` (epochs done, for
``--resume``) and ``pareto/*.keras`` with ``pareto/front.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["register"]


def _add_data_args(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--dataset",
        required=required,
        help="digits (bundled), jets (hls4ml HLF) or a path to an .npz file with x and y",
    )
    parser.add_argument("--data", help="data file for --dataset jets (.npz or .csv)")


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a quantized MLP with HGQ",
        description="Train per-weight fixed-point networks (HGQ). Loss = task + beta*EBOPs + "
        "gamma*sum(f). Writes RUN/model.keras, RUN/pareto/*.keras and RUN/history.json.",
    )
    _add_data_args(train, required=False)
    train.set_defaults(dataset="digits")
    train.add_argument(
        "--model", help="preset (jet, digits) or a .toml file; default: sized from the data"
    )
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument(
        "--beta",
        default="1e-6",
        help="beta schedule: 1e-6 | linear:1e-7:1e-5 | log:1e-7:1e-4[:E0:E1] | target:EBOPS",
    )
    train.add_argument("--out", required=True, help="run directory")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    train.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2), help="Keras verbosity")
    train.add_argument(
        "--jit",
        action="store_true",
        help="XLA and 8 steps per execution: about half the time per epoch after 5-10 s of "
        "compilation (worth it for long runs)",
    )
    train.set_defaults(func=_train)

    export = subparsers.add_parser(
        "export",
        help="export a trained .keras model to a spec (JSON)",
        description="Calibrate on the training split, write the spec, verify bit-exactness.",
    )
    export.add_argument("model", help="a .keras file written by hgq train")
    export.add_argument("-o", "--output", required=True, help="spec file to write")
    _add_data_args(export, required=False)
    export.add_argument("--overflow", choices=("WRAP", "SAT"), help="override overflow mode")
    export.add_argument("--seed", type=int, help="data split seed (default: the run's seed)")
    export.add_argument("--name", help="spec name (default: the model's name)")
    export.set_defaults(func=_export)


# -- hgq train ----------------------------------------------------------------------------------


def _read_json(path: Path, default: Any) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else default


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def _train(args: argparse.Namespace) -> int:
    if args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be >= 1, got {args.batch_size}")
    from hgq_train.callbacks import parse_beta_schedule

    schedule = parse_beta_schedule(args.beta)  # fail early on a bad schedule
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    import hgq_train
    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.data import load_dataset
    from hgq_train.ebops import ebops
    from hgq_train.models import build_mlp, resolve_model_config
    from hgq_train.training import compile_hgq, train_dataset

    run = Path(args.out)
    state_path, history_path = run / "state.json", run / "history.json"
    config_path, model_path = run / "config.json", run / "model.keras"
    done = 0
    if args.resume and state_path.exists() and model_path.exists():
        config = _read_json(config_path, {})
        done = int(_read_json(state_path, {}).get("epochs_done", 0))
        for key in ("dataset", "data", "model", "seed", "batch_size", "lr", "beta"):
            setattr(args, key, config.get(key, getattr(args, key)))
        schedule = parse_beta_schedule(args.beta)
    elif run.exists() and any(run.iterdir()) and not args.resume:
        raise ValueError(f"run directory {run} is not empty (use --resume or a new --out)")
    print(f"seed {args.seed}")
    keras.utils.set_random_seed(args.seed + done)
    data = load_dataset(args.dataset, args.data, seed=args.seed)
    print(data.summary())
    model_config = resolve_model_config(args.model, data.n_features, data.n_classes)
    run.mkdir(parents=True, exist_ok=True)
    if done:
        print(f"resuming {run} after epoch {done}")
        model = hgq_train.load_model(str(model_path), compile=True)
    else:
        model = build_mlp(model_config, data.n_features, data.n_classes)
        _write_json(
            config_path,
            {
                "dataset": args.dataset,
                "data": args.data,
                "model": args.model,
                "model_config": model_config.to_dict(),
                "epochs": args.epochs,
                "beta": args.beta,
                "seed": args.seed,
                "batch_size": args.batch_size,
                "lr": args.lr,
            },
        )
    optimizer = model.optimizer if done else None  # resume keeps the optimizer state
    fast = {"jit_compile": True, "steps_per_execution": 8} if args.jit else {}
    loss = compile_hgq(
        model,
        beta=schedule(done, args.epochs),
        learning_rate=args.lr,
        optimizer=optimizer,
        **fast,
    )
    if done:
        state = _read_json(state_path, {})
        if "beta" in state:
            loss.beta.assign(state["beta"])
    if done >= args.epochs:
        print(f"{run}: already trained for {done} epochs")
        return 0
    history = _read_json(history_path, [])

    class RunCheckpoint(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            entry = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
            history.append(entry)
            self.model.save(model_path)
            _write_json(history_path, history)
            _write_json(
                state_path,
                {"epochs_done": epoch + 1, "beta": float(keras.ops.convert_to_numpy(loss.beta))},
            )

    callbacks = [
        *hgq_callbacks(schedule, pareto_dir=run / "pareto", epochs=args.epochs),
        RunCheckpoint(),
    ]
    model.fit(
        train_dataset(
            data.x_train, data.y_train, batch_size=args.batch_size, seed=args.seed + done
        ),
        shuffle=False,  # the dataset reshuffles itself every epoch
        validation_data=(data.x_val, data.y_val),
        epochs=args.epochs,
        initial_epoch=done,
        callbacks=callbacks,
        verbose=args.verbose,
    )
    _, test_acc = model.evaluate(data.x_test, data.y_test, verbose=0)
    print(
        f"done: test accuracy {test_acc:.4f}, EBOPs (training estimate) {ebops(model):.0f}; "
        f"wrote {model_path}, {history_path}, {run / 'pareto'}"
    )
    return 0


# -- hgq export ---------------------------------------------------------------------------------


def _run_config(model_path: Path) -> dict[str, Any]:
    for directory in (model_path.parent, model_path.parent.parent):
        path = directory / "config.json"
        if path.exists():
            return _read_json(path, {})
    return {}


def _export(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    import hgq_train
    from hgq_hw.reference import predict
    from hgq_hw.spec import save
    from hgqflow.cli.spec_cmds import spec_summary
    from hgq_train.data import load_dataset
    from hgq_train.export import export_with_model, verify

    model_path = Path(args.model)
    if not model_path.exists():
        raise FileNotFoundError(f"model file {model_path} does not exist")
    run_config = _run_config(model_path)
    dataset = args.dataset or run_config.get("dataset")
    if dataset is None:
        raise ValueError("no calibration data: pass --dataset (no config.json next to the model)")
    data_file = args.data or (run_config.get("data") if not args.dataset else None)
    seed = args.seed if args.seed is not None else int(run_config.get("seed", 0))
    data = load_dataset(dataset, data_file, seed=seed)
    print(f"{data.summary()} (split seed {seed}); calibrating on the training split")
    model = hgq_train.load_model(str(model_path))
    metadata = {
        "dataset": dataset,
        "seed": seed,
        **{
            k: run_config[k]
            for k in ("epochs", "beta", "model", "lr", "batch_size")
            if k in run_config
        },
        "source": model_path.name,
    }
    result = export_with_model(
        model, data.x_train, overflow=args.overflow, name=args.name, metadata=metadata
    )
    checked = verify(result.model64, result.spec, data.x_train)
    out = save(result.spec, args.output)
    dense = result.spec.dense_layers()
    weights = sum(layer.weight_raw.size for layer in dense)
    pruned = sum(int(np.count_nonzero(layer.weight_raw == 0)) for layer in dense)
    print(spec_summary(out))
    y_real = predict(result.spec, data.x_test)
    accuracy = float(np.mean(np.argmax(y_real, axis=1) == data.y_test))
    print(
        f"EBOPs {result.ebops:.0f}; pruned {pruned}/{weights} weights "
        f"({pruned / max(weights, 1):.1%}); spec test accuracy {accuracy:.4f}"
    )
    print(f"bit-exact against the Keras model (float64) on {checked} calibration samples")
    print(f"wrote {out}")
    return 0
