"""A training run on disk: :func:`run_training` (train with a beta schedule into a run directory,
checkpoint every epoch, resume) and :func:`export_checkpoint` (a checkpoint of a run -> spec
JSON, proven bit-exact on the calibration data).

A run directory holds::

    config.json        the settings (what --resume reads back)
    model.keras        the model after the latest epoch (with its optimizer state)
    history.json       per-epoch loss, accuracy, EBOPs, beta
    state.json         epochs done, the current beta and the model's SHA-256 (for --resume)
    pareto/*.keras     the Pareto checkpoints, listed in pareto/front.json

Every file is written to a temporary file and renamed into place, and an epoch is committed in
the order of :mod:`hgq_train.run_state` (model, history, state, rename): a kill at any point
leaves a run that ``--resume`` continues from the last complete epoch and ``hgq export`` reads.

Training uses XLA by default (``jit_compile=True`` and 8 steps per execution, about half the
time per epoch on a CPU after a few seconds of compilation). When XLA cannot compile the model,
one line says so and the run continues without it. The float64 copy that export checks the spec
against is rebuilt from the weights, so the XLA path changes nothing in the bit-exactness proof.

Importing this module is cheap: TensorFlow and Keras load inside the functions.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hgq_hw.errors import InputFileError
from hgq_train.archive import check_keras_archive
from hgq_train.lr_schedule import adam, parse_lr_schedule

__all__ = [
    "XLA_STEPS_PER_EXECUTION",
    "CheckpointExport",
    "RunResult",
    "TrainOptions",
    "export_checkpoint",
    "fit_with_xla_fallback",
    "read_run_config",
    "run_training",
]

XLA_STEPS_PER_EXECUTION = 8
"""Steps per execution on the XLA path (Keras needs XLA for more than one, see compile_hgq)."""

_RESUMED_KEYS = ("dataset", "data", "model", "seed", "batch_size", "lr", "beta", "lr_schedule")
"""Settings a resumed run takes from its config.json (the command line cannot change them)."""

T = TypeVar("T")


@dataclass(frozen=True)
class TrainOptions:
    """Everything a training run can be told (``hgq train``'s options).

    ``out`` is the run directory. ``dataset`` is ``digits``, ``jets`` (with ``data`` as its
    file) or a path to an ``.npz``; ``model`` a preset name or ``.toml`` file (None: sized from
    the data). ``beta`` is a schedule string (see ``hgq_train.callbacks.parse_beta_schedule``).
    ``jit``: XLA (with an automatic fallback) when True. ``sign_bits``, ``weight_f_init``,
    ``weight_init_bits`` and ``grad_scale_on`` override the model preset's
    :class:`~hgq_train.models.MLPConfig` field of the same name (None: the preset's value).
    """

    out: Path
    dataset: str = "digits"
    data: str | None = None
    model: str | None = None
    epochs: int = 20
    beta: str = "1e-6"
    seed: int = 0
    batch_size: int = 64
    lr: float = 3e-3
    resume: bool = False
    verbose: int = 1
    jit: bool = True
    deterministic: bool = True
    """TensorFlow's op determinism (:func:`hgq_train.determinism.seed_training`): the same
    seed gives the same weights bit for bit."""
    sign_bits: bool | None = None
    weight_f_init: float | None = None
    weight_init_bits: float | None = None
    grad_scale_on: str | None = None
    cost: str = "ebops"
    """The resource term of the loss: ``"ebops"`` or ``"luts"`` (predicted xc7 LUTs)."""
    lr_schedule: str = "constant"
    """Adam's rate over the run: ``"constant"``, ``"cosine"`` or ``"cosine:F"`` (down to ``F``
    times ``lr`` at the last step; :mod:`hgq_train.lr_schedule`)."""

    def model_overrides(self) -> dict[str, Any]:
        """The :class:`~hgq_train.models.MLPConfig` fields these options set."""
        names = ("sign_bits", "weight_f_init", "weight_init_bits", "grad_scale_on")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def check(self) -> None:
        """``ValueError`` naming the option for a value no run can use (no heavy import)."""
        if self.epochs < 1:
            raise ValueError(f"--epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ValueError(f"--batch-size must be >= 1, got {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"--lr must be > 0, got {self.lr}")
        parse_lr_schedule(self.lr_schedule)
        if self.cost not in ("ebops", "luts"):
            raise ValueError(f"--cost must be ebops or luts, got {self.cost!r}")
        if self.grad_scale_on not in (None, "ebops", "task"):
            raise ValueError(f"--grad-scale-on must be ebops or task, got {self.grad_scale_on!r}")
        if self.weight_init_bits is not None and self.weight_init_bits < 0:
            raise ValueError(f"--weight-init-bits must be >= 0, got {self.weight_init_bits}")
        if self.verbose not in (0, 1, 2):
            raise ValueError(f"--verbose must be 0, 1 or 2, got {self.verbose}")
        if self.dataset.endswith(".npz") and not Path(self.dataset).exists():
            raise FileNotFoundError(f"dataset file {self.dataset} does not exist")
        if self.data is not None and not Path(self.data).exists():
            if self.dataset == "svhn":
                from hgq_train.data import svhn_not_found

                raise svhn_not_found(self.data)  # where to download it
            raise FileNotFoundError(f"data file {self.data} does not exist")
        if (
            self.model is not None
            and self.model.endswith(".toml")
            and not Path(self.model).exists()
        ):
            raise FileNotFoundError(f"model file {self.model} does not exist")


@dataclass(frozen=True)
class RunResult:
    """What a finished :func:`run_training` left in its run directory."""

    run_dir: Path
    epochs_done: int
    resumed_from: int
    """Epochs that were already done when this call started (0 for a new run)."""
    test_accuracy: float | None
    """None when nothing was trained (the run was already complete)."""
    ebops: float | None
    jit: bool
    """Whether the epochs trained by this call used XLA."""

    @property
    def model_path(self) -> Path:
        return self.run_dir / "model.keras"

    @property
    def history_path(self) -> Path:
        return self.run_dir / "history.json"

    @property
    def pareto_dir(self) -> Path:
        return self.run_dir / "pareto"


def _check_data_fits(model: Any, data: Any, model_path: Path) -> None:
    """A resumed model must take the dataset's features and predict its classes."""
    n_in, n_out = model.input_shape[-1], model.output_shape[-1]
    if (n_in, n_out) != (data.n_features, data.n_classes):
        raise ValueError(
            f"{model_path}: the model takes {n_in} features and predicts {n_out} classes, but "
            f"{data.name} has {data.n_features} features and {data.n_classes} classes (the "
            "dataset changed since the run began: start a new run)"
        )


def _read_json(path: Path, default: Any) -> Any:
    """The JSON in ``path`` (``default`` when absent); ``InputFileError`` naming it if corrupt."""
    if not path.exists():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:  # JSONDecodeError, UnicodeDecodeError
        raise InputFileError(path, f"not valid JSON ({err})") from None


def _write_json(path: Path, value: Any) -> None:
    from hgq_hw.atomic import write_json

    write_json(path, value)


def read_run_config(model_path: str | Path) -> dict[str, Any]:
    """The ``config.json`` of the run a checkpoint belongs to (next to it, or one folder up for
    ``pareto/*.keras``); ``{}`` when there is none."""
    model_path = Path(model_path)
    for directory in (model_path.parent, model_path.parent.parent):
        path = directory / "config.json"
        if path.exists():
            return _read_json(path, {})
    return {}


def fit_with_xla_fallback(
    fit: Callable[[], T],
    without_xla: Callable[[], None],
    *,
    jit: bool,
    started: Callable[[], bool],
    is_compile_error: Callable[[BaseException], bool],
    say: Callable[[str], None] = print,
) -> tuple[T, bool]:
    """Run ``fit()``; if it fails with XLA on (``jit``) before any step finished (``started()``
    is False) and ``is_compile_error(err)``, say so in one line, call ``without_xla()`` (which
    recompiles the model without XLA) and run ``fit()`` again. Returns ``(result, used_xla)``.

    A failure after training started, or one that is not a compile error, propagates."""
    try:
        return fit(), jit
    except Exception as err:
        if not jit or started() or not is_compile_error(err):
            raise
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        say(f"XLA could not compile the model ({type(err).__name__}: {first}); training without it")
    without_xla()
    return fit(), False


def _is_tf_op_error(err: BaseException) -> bool:
    import tensorflow as tf

    return isinstance(err, tf.errors.OpError)


def run_training(options: TrainOptions) -> RunResult:
    """Train into ``options.out`` (a new or empty folder, or with ``resume`` an interrupted run,
    which keeps its own settings, optimizer state and beta). Prints the seed, the data summary
    and a closing line. ``ValueError`` for bad options or a non-empty folder without
    ``resume``."""
    options.check()
    if options.resume and (Path(options.out) / "model.keras").exists():
        check_keras_archive(Path(options.out) / "model.keras", "run model")  # before TensorFlow
    from hgq_train.callbacks import parse_beta_schedule

    schedule = parse_beta_schedule(options.beta)  # fail early on a bad schedule
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from hgq_train.determinism import kept_op_determinism

    with kept_op_determinism():  # the process-wide switch is as it was afterwards
        return _train(options, schedule)


def _train(options: TrainOptions, schedule: Any) -> RunResult:
    """:func:`run_training` after its checks."""
    import keras

    import hgq_train
    from hgq_train.callbacks import hgq_callbacks, parse_beta_schedule
    from hgq_train.data import load_dataset
    from hgq_train.determinism import seed_training
    from hgq_train.ebops import ebops
    from hgq_train.models import build_model, resolve_model_config
    from hgq_train.run_state import commit_epoch
    from hgq_train.training import compile_hgq, get_hgq_loss, train_dataset

    run = Path(options.out)
    state_path, history_path = run / "state.json", run / "history.json"
    config_path, model_path = run / "config.json", run / "model.keras"
    settings = {key: getattr(options, key) for key in _RESUMED_KEYS}
    done = 0
    if options.resume and run.is_dir():
        from hgq_train.run_state import recover_run

        said = recover_run(run)  # a kill during a save: finish or undo it
        if said:
            print(said)
    if options.resume and state_path.exists() and model_path.exists():
        config = _read_json(config_path, {})
        done = int(_read_json(state_path, {}).get("epochs_done", 0))
        settings.update({key: config[key] for key in _RESUMED_KEYS if key in config})
        schedule = parse_beta_schedule(settings["beta"])
    elif run.exists() and any(run.iterdir()) and not options.resume:
        raise ValueError(f"run directory {run} is not empty (use --resume or a new --out)")
    seed, epochs = int(settings["seed"]), options.epochs
    print(f"seed {seed}")
    seed_training(seed + done, deterministic=options.deterministic)
    data = load_dataset(settings["dataset"], settings["data"], seed=seed)
    print(data.summary())
    model_config = resolve_model_config(settings["model"], data.n_features, data.n_classes)
    model_config = dataclasses.replace(model_config, **options.model_overrides())
    run.mkdir(parents=True, exist_ok=True)
    if done:
        print(f"resuming {run} after epoch {done}")
        model = hgq_train.load_model(str(model_path), compile=True)
        _check_data_fits(model, data, model_path)
    else:
        model = build_model(
            model_config, data.n_features, data.n_classes, image_shape=data.image_shape
        )
        _write_json(
            config_path,
            {**settings, "model_config": model_config.to_dict(), "epochs": epochs},
        )
    if done:
        optimizer = model.optimizer  # resume keeps the optimizer state (and its schedule)
    else:
        steps_per_epoch = -(-len(data.x_train) // int(settings["batch_size"]))
        optimizer = adam(float(settings["lr"]), settings["lr_schedule"], epochs * steps_per_epoch)
    saved_beta = _read_json(state_path, {}).get("beta") if done else None

    def compile_model(jit: bool) -> None:
        fast = {"jit_compile": True, "steps_per_execution": XLA_STEPS_PER_EXECUTION}
        loss = compile_hgq(
            model,
            beta=schedule(done, epochs),
            cost=options.cost,
            optimizer=optimizer,  # its learning rate or schedule from --lr / --lr-schedule
            **(fast if jit else {"jit_compile": False}),
        )
        if saved_beta is not None:
            loss.beta.assign(saved_beta)

    compile_model(options.jit)
    if options.jit:
        print(f"training with XLA ({XLA_STEPS_PER_EXECUTION} steps per execution; --no-jit: off)")
    if options.deterministic:
        print("op determinism on: the same seed gives the same weights (--no-deterministic: off)")
    if done >= epochs:
        print(f"{run}: already trained for {done} epochs")
        return RunResult(run, done, done, None, None, options.jit)
    history = [h for h in _read_json(history_path, []) if h["epoch"] < done]  # committed only
    steps = {"done": 0}

    class RunCheckpoint(keras.callbacks.Callback):
        """Saves the model, the history and the state after every epoch (what resume reads),
        crash-safe (:func:`hgq_train.run_state.commit_epoch`)."""

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            steps["done"] += 1

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            entry = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}}
            history.append(entry)
            beta = float(keras.ops.convert_to_numpy(get_hgq_loss(self.model).beta))
            state = {"epochs_done": epoch + 1, "beta": beta}
            commit_epoch(run, self.model.save, history, state)

    def fit() -> Any:
        callbacks = [
            *hgq_callbacks(schedule, pareto_dir=run / "pareto", epochs=epochs),
            RunCheckpoint(),
        ]
        return model.fit(
            train_dataset(
                data.x_train, data.y_train, batch_size=int(settings["batch_size"]), seed=seed + done
            ),
            shuffle=False,  # the dataset reshuffles itself every epoch
            validation_data=(data.x_val, data.y_val),
            epochs=epochs,
            initial_epoch=done,
            callbacks=callbacks,
            verbose=options.verbose,
        )

    _, used_xla = fit_with_xla_fallback(
        fit,
        lambda: compile_model(False),
        jit=options.jit,
        started=lambda: steps["done"] > 0,
        is_compile_error=_is_tf_op_error,
    )
    _, test_acc = model.evaluate(data.x_test, data.y_test, verbose=0)
    value = float(ebops(model))
    print(
        f"done: test accuracy {test_acc:.4f}, EBOPs (training estimate) {value:.0f}; "
        f"wrote {model_path}, {history_path}, {run / 'pareto'}"
    )
    return RunResult(run, epochs, done, float(test_acc), value, used_xla)


@dataclass(frozen=True)
class CheckpointExport:
    """A checkpoint exported to a spec file by :func:`export_checkpoint`."""

    spec: Any
    """The :class:`hgq_hw.spec.ModelSpec` written."""
    path: Path
    ebops: float
    """Exact EBOPs of the exported model."""
    checked: int
    """Calibration samples on which the spec equals the float64 Keras model."""
    test_accuracy: float
    """Accuracy of the spec (integer reference) on the test split."""
    data_summary: str
    seed: int


def export_checkpoint(
    model_path: str | Path,
    output: str | Path,
    *,
    dataset: str | None = None,
    data: str | None = None,
    seed: int | None = None,
    overflow: str | None = None,
    name: str | None = None,
    calibration_margin_bits: int = 0,
    fold_rounding: bool = True,
    say: Callable[[str], None] = print,
) -> CheckpointExport:
    """Calibrate a ``.keras`` checkpoint on the training split of its data, write the spec to
    ``output`` and prove it bit-exact against the float64 model on that split.

    ``dataset``, ``data`` and ``seed`` default to the run's ``config.json`` (next to the model
    or one folder up). ``FileNotFoundError`` for a missing model, ``ValueError`` when no
    calibration data is known, ``hgq_train.export``'s errors for a model it cannot export.
    ``calibration_margin_bits`` and ``fold_rounding`` go to
    :func:`hgq_train.export.export_with_model`.
    """
    model_path = Path(model_path)
    check_keras_archive(model_path)  # before TensorFlow: missing, empty, truncated, not Keras
    run_config = read_run_config(model_path)
    data_file = data or (run_config.get("data") if not dataset else None)
    dataset = dataset or run_config.get("dataset")
    if dataset is None:
        raise ValueError("no calibration data: pass --dataset (no config.json next to the model)")
    seed = seed if seed is not None else int(run_config.get("seed", 0))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    import hgq_train
    from hgq_hw.reference import predict
    from hgq_hw.spec import save
    from hgq_train.data import load_dataset
    from hgq_train.export import export_with_model, verify

    split = load_dataset(dataset, data_file, seed=seed)
    say(f"{split.summary()} (split seed {seed}); calibrating on the training split")
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
        model,
        split.x_train,
        overflow=overflow,
        name=name,
        metadata=metadata,
        calibration_margin_bits=calibration_margin_bits,
        fold_rounding=fold_rounding,
    )
    checked = verify(result.model64, result.spec, split.x_train)
    path = save(result.spec, output)
    y_real = predict(result.spec, split.x_test)
    accuracy = float(np.mean(np.argmax(y_real, axis=1) == split.y_test))
    return CheckpointExport(
        result.spec, Path(path), float(result.ebops), int(checked), accuracy, split.summary(), seed
    )
