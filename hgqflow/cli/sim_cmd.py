"""``hgq sim``: generate the Verilog of a spec and prove it bit-exact in cocotb.

The vectors are corners, overflow edges and ``--samples`` random inputs, plus real samples: those
of ``--data FILE`` or, without it (and without ``--no-data``), the test split of the dataset the
spec's metadata names. That dataset is read only when the training extra (``hgq_train`` and
scikit-learn) is installed; in a hardware-only install one line says so and the regression runs
on corner, edge and random vectors only (exit status as usual), so ``--data`` is the way to add
real samples there.

A stream-mode design (``hgq gen --io stream``, or ``--io stream`` here) is simulated pixel by
pixel (:mod:`sim.tb_stream`): corner and border images, ``--samples`` random images and the
real samples, one pixel per cycle with gaps in ``valid`` and a reset mid-image.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from hgqflow.cli.checks import data_file, gen_folder, output_dir, read_spec, reading

__all__ = ["register", "run"]


def _dataset_from_metadata(spec):
    """Test samples of the dataset a trained spec names in its metadata, when they can be had
    offline (the bundled digits, or an .npz file that exists) and the training extra
    (``hgq_train`` with scikit-learn) is installed; None otherwise. Without the training extra
    one line says so: the regression then runs on corner, edge and random vectors only."""
    name = spec.metadata.get("dataset")
    if not isinstance(name, str):
        return None
    if name != "digits" and not (name.endswith(".npz") and Path(name).exists()):
        return None
    try:
        import sklearn  # noqa: F401  (the dataset loaders need it)

        from hgq_train.data import load_dataset
    except ImportError as err:
        print(
            f"note: the spec names dataset {name!r}, but the training extra is not installed "
            f"({err.name or err}): checking corner, edge and random vectors only; pass --data "
            "FILE to add real samples (or pip install 'hgqflow[train]')"
        )
        return None
    data = load_dataset(name, seed=int(spec.metadata.get("seed", 0)))
    print(f"adding the {len(data.x_test)} test samples of {name!r} named in the spec's metadata")
    return data.x_test.reshape(len(data.x_test), -1)


def run(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    if args.design:
        gen_folder(args.design)
    if args.data:
        data_file(args.data, "data file")
    work = output_dir(args.work or Path("runs") / "sim" / spec.name, "work folder")
    from hgq_hw.inputs import read_real_inputs
    from sim.design import design_from_dir, generate_design
    from sim.runner import run_regression

    if args.design:
        design = design_from_dir(args.design, spec)
        print(
            f"design: {design.verilog} (latency {design.latency}"
            + (", stream mode: one pixel per cycle)" if design.stream else ")")
        )
    else:
        design = generate_design(
            spec, work / "gen", pipeline_levels=args.pipeline_levels, io=args.io
        )
        print(
            f"generated {design.verilog} (latency {design.latency} cycles"
            + (", stream mode: one pixel per cycle)" if design.stream else ")")
        )
    data = None
    if args.data:
        with reading(args.data, "data file"):
            data = read_real_inputs(args.data, input_shape=spec.input_shape)
    elif not args.no_data:
        data = _dataset_from_metadata(spec)
    if data is not None and args.max_data is not None:
        data = data[: args.max_data]
    simulators = ["verilator", "icarus"] if args.simulator == "both" else [args.simulator]
    failed = False
    for simulator in simulators:
        print(f"running cocotb on {simulator} (seed {args.seed}) ...", flush=True)
        result = run_regression(
            spec,
            design,
            work_dir=work,
            simulator=simulator,
            samples=args.samples,
            seed=args.seed,
            waves=args.waves,
            data=data,
        )
        print(result.summary())
        failed |= not result.passed
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sim", help="cocotb regression: generated RTL vs the integer reference, bit for bit"
    )
    parser.add_argument("spec", help="spec JSON file")
    parser.add_argument(
        "--simulator",
        choices=["verilator", "icarus", "both"],
        default=os.environ.get("SIM", "verilator"),
        help="HDL simulator (default: $SIM or verilator)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=int(os.environ.get("NUM_SAMPLES", 200)),
        help="random vectors on top of corners and overflow edges (default 200); random "
        "images on top of corner and border images for a stream design",
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SEED", 0)))
    parser.add_argument(
        "--data",
        help="real-valued samples to add: .npz (first of arrays x, x_test, x_val), .npy, .csv "
        "or .txt",
    )
    parser.add_argument("--max-data", type=int, default=None, help="use at most N data rows")
    parser.add_argument(
        "--no-data",
        action="store_true",
        help="do not add the test samples of the dataset named in the spec",
    )
    parser.add_argument(
        "--waves",
        action="store_true",
        default=os.environ.get("WAVES", "") not in ("", "0"),
        help="write an FST trace (or WAVES=1)",
    )
    parser.add_argument("--design", help="an existing `hgq gen` folder instead of generating")
    parser.add_argument(
        "--pipeline-levels",
        type=int,
        default=0,
        help="generator option when generating (default 0)",
    )
    parser.add_argument(
        "--io",
        choices=["parallel", "stream", "auto"],
        default="parallel",
        help="generator option when generating (hgq gen --io; default parallel)",
    )
    parser.add_argument("--work", help="work folder (default runs/sim/<spec name>)")
    parser.set_defaults(func=run)
