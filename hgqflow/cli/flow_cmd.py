"""``hgq flow``: one command from data to verified Verilog, synthesis and a report."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from hgqflow.cli.checks import output_dir
    from hgqflow.cli.train import check_data_args, export_kwargs, method_kwargs

    output_dir(args.out, "run folder")
    check_data_args(args)
    from hgqflow.flow.pipeline import FlowOptions, run_flow

    opts = FlowOptions(
        out=Path(args.out),
        dataset=args.dataset,
        data=args.data,
        model=args.model,
        epochs=args.epochs,
        beta=args.beta,
        seed=args.seed,
        tolerance=args.tolerance,
        pipeline_levels=args.pipeline_levels,
        io=args.io,
        simulator=args.simulator,
        samples=args.samples,
        target=None if args.target == "none" else args.target,
        clock_mhz=args.clock_mhz,
        board=args.board,
        top=args.top,
        resume=args.resume,
        verbose=args.verbose,
        jit=args.jit,
        deterministic=args.deterministic,
        **method_kwargs(args),
        **export_kwargs(args),
    )
    report = run_flow(opts)
    headline = report.get("headline", {})
    if headline:
        print(
            "headline: "
            + ", ".join(
                f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in headline.items()
            )
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from hgqflow.cli.train import (
        add_deterministic_arg,
        add_export_args,
        add_jit_arg,
        add_method_args,
    )
    from hgqflow.flow.pipeline import FlowOptions

    d = FlowOptions(out=Path("runs/flow"))
    parser = subparsers.add_parser(
        "flow",
        help="data -> HGQ training -> Pareto front -> spec -> Verilog -> cocotb -> synthesis "
        "-> report",
        description="Run the whole flow into --out; every stage leaves files that the "
        "single-stage commands (train, export, gen, sim, synth, build) can pick up.",
    )
    parser.add_argument("--out", default="runs/flow", help="run folder (default runs/flow)")
    parser.add_argument(
        "--dataset", default=d.dataset, help="digits (default), jets, svhn or FILE.npz"
    )
    parser.add_argument("--data", help="data file for --dataset jets or svhn")
    parser.add_argument(
        "--model",
        help="model preset (jet, digits, cnn, mlp-softmax, resmlp-softmax) or .toml (default: "
        "sized from the data)",
    )
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--beta", default=d.beta, help=f"beta schedule (default {d.beta})")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument(
        "--tolerance",
        type=float,
        default=d.tolerance,
        help="choose the smallest model within this validation accuracy of the "
        f"best (default {d.tolerance})",
    )
    parser.add_argument("--pipeline-levels", type=int, default=d.pipeline_levels)
    parser.add_argument(
        "--io",
        choices=("parallel", "stream", "auto"),
        default=d.io,
        help="hgq gen --io (default parallel); a stream design goes into the stream board tops",
    )
    parser.add_argument("--simulator", choices=["verilator", "icarus"], default=d.simulator)
    parser.add_argument(
        "--samples",
        type=int,
        default=d.samples,
        help="random cocotb vectors on top of corners, edges and test data",
    )
    parser.add_argument(
        "--target",
        choices=["ice40", "ecp5", "xc7", "none"],
        default=d.target,
        help=f"synthesis target (default {d.target}; xc7 is slow on big nets)",
    )
    parser.add_argument("--clock-mhz", type=float, default=d.clock_mhz)
    parser.add_argument(
        "--board", choices=["icebreaker", "ulx3s-85f"], help="also build a bitstream for this board"
    )
    parser.add_argument("--top", choices=["uart", "selftest"], default=d.top)
    parser.add_argument("--resume", action="store_true", help="resume an interrupted training")
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=d.verbose,
        help="Keras verbosity (1: progress bars, 2: one line per epoch)",
    )
    add_jit_arg(parser)
    add_deterministic_arg(parser)
    add_method_args(parser)
    add_export_args(parser)
    parser.set_defaults(func=_run)
