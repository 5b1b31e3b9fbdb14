"""``hgq train`` (HGQ training with a beta schedule and a Pareto front) and ``hgq export``
(trained ``.keras`` model -> spec JSON, verified bit-exact on the calibration data).

Both are thin wrappers over :mod:`hgq_train.run` (:func:`~hgq_train.run.run_training`,
:func:`~hgq_train.run.export_checkpoint`), which documents the run directory. Training uses XLA
by default (``--no-jit`` turns it off; ``--jit`` is accepted and means the default); when XLA
cannot compile the model, one line says so and training continues without it. Arguments and
files are checked before TensorFlow is imported.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from hgqflow.cli.checks import data_file, existing_file, output_dir, output_file

if TYPE_CHECKING:
    from hgq_train.run import TrainOptions

__all__ = [
    "add_deterministic_arg",
    "add_export_args",
    "add_jit_arg",
    "add_method_args",
    "check_data_args",
    "export_kwargs",
    "method_kwargs",
    "register",
    "train_options",
]


def _add_data_args(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--dataset",
        required=required,
        help="digits (bundled), jets (hls4ml HLF), svhn (--data train_32x32.mat) or a path to "
        "an .npz file with x and y",
    )
    parser.add_argument(
        "--data", help="data file for --dataset jets (.npz or .csv) or svhn (train_32x32.mat)"
    )


def add_jit_arg(parser: argparse.ArgumentParser) -> None:
    """``--jit`` / ``--no-jit`` (default on): XLA training, with an automatic fallback."""
    parser.add_argument(
        "--jit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="XLA and 8 steps per execution (default; about half the time per epoch after a "
        "few seconds of compilation; if XLA cannot compile the model, training continues "
        "without it). --no-jit: plain TensorFlow. --jit is accepted and is the default",
    )


def add_deterministic_arg(parser: argparse.ArgumentParser) -> None:
    """``--deterministic`` / ``--no-deterministic`` (default on): reproducible training."""
    parser.add_argument(
        "--deterministic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="TensorFlow's op determinism: the same seed gives the same weights bit for bit "
        "(default; XLA kept). --no-deterministic: TensorFlow's default kernels",
    )


def add_method_args(parser: argparse.ArgumentParser) -> None:
    """HGQ method settings that override the model preset (default: the preset's value)."""
    group = parser.add_argument_group("HGQ method (override the model preset)")
    group.add_argument(
        "--sign-bits",
        action="store_true",
        default=None,
        help="count a sign bit per negative weight in EBOPs (the old count; default: none, "
        "as the HGQ paper and HGQ v1)",
    )
    group.add_argument(
        "--weight-f-init", type=float, help="initial fractional bits of every weight"
    )
    group.add_argument(
        "--weight-init-bits",
        type=float,
        help="start each weight with this many significant bits for its magnitude (0: off)",
    )
    group.add_argument(
        "--grad-scale-on",
        choices=("ebops", "task"),
        help="where the 1/sqrt(n) of a shared bit width goes (default ebops, as HGQ)",
    )
    group.add_argument(
        "--cost",
        choices=("ebops", "luts"),
        default="ebops",
        help="resource term of the loss: beta * EBOPs (default) or beta * predicted xc7 LUTs "
        "(hgq_hw/cost_xc7.json; about 1.3 LUTs per EBOP on a trained MLP)",
    )
    group.add_argument(
        "--lr-schedule",
        default="constant",
        metavar="constant|cosine[:F]",
        help="Adam's learning rate: constant at --lr (default) or a cosine from --lr down to "
        "F times it (default F 0) at the last step; on digits, cosine gave ours more accuracy "
        "per LUT (benchmarks/peers/RESULTS_qor9.md); checked when training starts",
    )


def method_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """The :func:`add_method_args` options as ``TrainOptions`` / ``FlowOptions`` fields."""
    names = ("sign_bits", "weight_f_init", "weight_init_bits", "grad_scale_on", "cost")
    names += ("lr_schedule",)
    return {name: getattr(args, name) for name in names}


def add_export_args(parser: argparse.ArgumentParser) -> None:
    """Export settings: the activation calibration margin and half-LSB folding."""
    parser.add_argument(
        "--calibration-margin-bits",
        type=int,
        default=0,
        help="extra integer bits on every calibrated activation range (default 0)",
    )
    parser.add_argument(
        "--no-fold-rounding",
        dest="fold_rounding",
        action="store_false",
        help="keep RND requantizers after a Dense layer (default: fold their half LSB into "
        "the bias and make them TRN, bit-identical and cheaper)",
    )


def export_kwargs(args: argparse.Namespace) -> dict[str, object]:
    """The :func:`add_export_args` options as ``export_checkpoint`` keyword arguments."""
    if args.calibration_margin_bits < 0:
        raise ValueError(
            f"--calibration-margin-bits must be >= 0, got {args.calibration_margin_bits}"
        )
    return {
        "calibration_margin_bits": args.calibration_margin_bits,
        "fold_rounding": args.fold_rounding,
    }


def check_data_args(args: argparse.Namespace) -> None:
    """``--dataset FILE.npz`` and ``--data FILE`` exist and are readable archives, and a
    ``FILE.npz`` dataset's arrays pass :func:`hgq_train.data.check_arrays` (labels, finite
    features, sizes), all before TensorFlow loads (:mod:`hgq_train.data` is numpy only)."""
    if args.dataset and args.dataset.endswith(".npz"):
        data_file(args.dataset, "dataset file")
        from hgq_train.data import load_npz

        load_npz(args.dataset, seed=getattr(args, "seed", 0))
    if args.data is not None:
        data_file(args.data, "data file")


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
        "--model",
        help="preset (jet, digits, cnn: the digits as 8x8x1 images, mlp-softmax: digits with a "
        "bit-exact QSoftmax output, resmlp-softmax: tanh tables, a skip connection and a "
        "QSoftmax) or a .toml file; default: sized from the data",
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
    add_jit_arg(train)
    add_deterministic_arg(train)
    add_method_args(train)
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
    add_export_args(export)
    export.set_defaults(func=_export)


# -- hgq train ----------------------------------------------------------------------------------


def train_options(args: argparse.Namespace) -> TrainOptions:
    """The :class:`~hgq_train.run.TrainOptions` of parsed ``hgq train`` arguments."""
    from hgq_train.run import TrainOptions

    return TrainOptions(
        out=Path(args.out),
        dataset=args.dataset,
        data=args.data,
        model=args.model,
        epochs=args.epochs,
        beta=args.beta,
        seed=args.seed,
        batch_size=args.batch_size,
        lr=args.lr,
        resume=args.resume,
        verbose=args.verbose,
        jit=args.jit,
        deterministic=args.deterministic,
        **method_kwargs(args),
    )


def _train(args: argparse.Namespace) -> int:
    options = train_options(args)
    options.check()  # before TensorFlow loads
    output_dir(options.out, "run directory")
    check_data_args(args)
    from hgq_train.run import run_training

    run_training(options)
    return 0


# -- hgq export ---------------------------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    model_path = existing_file(args.model, "model file")  # before TensorFlow loads
    exporting = export_kwargs(args)
    output_file(args.output, "spec file")
    check_data_args(args)
    from hgq_train.archive import check_keras_archive  # standard library only

    check_keras_archive(model_path)  # not empty, truncated or another kind of file

    from hgq_train.run import export_checkpoint
    from hgqflow.cli.spec_cmds import spec_summary

    result = export_checkpoint(
        model_path,
        args.output,
        dataset=args.dataset,
        data=args.data,
        seed=args.seed,
        overflow=args.overflow,
        name=args.name,
        **exporting,
    )
    weights = int(result.spec.metadata["weights"])  # Dense and Conv kernels, from the export
    pruned = int(result.spec.metadata["pruned_weights"])
    print(spec_summary(result.path))
    print(
        f"EBOPs {result.ebops:.0f}; pruned {pruned}/{weights} weights "
        f"({pruned / max(weights, 1):.1%}); spec test accuracy {result.test_accuracy:.4f}"
    )
    print(f"bit-exact against the Keras model (float64) on {result.checked} calibration samples")
    print(f"wrote {result.path}")
    return 0
