"""``hgq build``, ``hgq program`` and ``hgq board-run``: the network on an FPGA board.

* ``hgq build --board icebreaker|ulx3s-85f --top uart|selftest SPEC -o DIR``: bitstream,
  ``DIR/report.json`` (utilisation, Fmax, build times) and a table; ``--io stream`` puts the
  stream-mode network (one pixel per cycle, ``hgq gen --io stream``) in the top.
* ``hgq program DIR [--board B] [--dry-run] [--flash]``: openFPGALoader (``OPENFPGALOADER``
  overrides the command).
* ``hgq board-run --port DEV --spec SPEC --data FILE | --random N``: stream samples to a board
  running the ``uart`` top and compare every answer with the reference (``--io stream`` for a
  stream-mode build: each sample goes as an image request, pixel by pixel).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hgqflow.cli.checks import data_file, output_dir, read_spec, reading

__all__ = ["register"]


def build(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    from boards.build import build_board, format_build_report
    from boards.registry import get_board

    target = get_board(args.board)
    out = Path(args.output or Path("runs") / "board" / f"{spec.name}-{target.name}-{args.top}")
    output_dir(out, "output folder")
    print(
        f"building the {args.top} top of {spec.name!r} for the {target.description} in {out}",
        flush=True,
    )
    report = build_board(  # DoesNotFit and a failed tool: one line at the CLI boundary
        spec,
        target,
        args.top,
        out,
        baud=args.baud,
        pipeline_levels=args.pipeline_levels,
        n_vectors=args.vectors,
        seed=args.seed,
        force=args.force,
        io=args.io,
    )
    sys.stdout.flush()
    print(format_build_report(report))
    return 0


def program(args: argparse.Namespace) -> int:
    if not (Path(args.dir) / "report.json").is_file():  # before boards.build loads
        raise FileNotFoundError(
            f"{Path(args.dir) / 'report.json'} not found: run 'hgq build --board ... SPEC -o "
            f"{args.dir}' first"
        )
    from boards.build import read_build_report
    from boards.program import program_board, program_command
    from boards.registry import get_board

    report = read_build_report(args.dir)
    board = args.board or report["board"]
    if board != report["board"]:
        raise ValueError(
            f"{args.dir} holds a bitstream for {report['board']!r}, not {board!r}: rebuild with "
            f"'hgq build --board {board} ...'"
        )
    target = get_board(board)
    bitstream = Path(args.dir) / report["bitstream"]
    argv = program_command(target, bitstream, flash=args.flash, loader_board=args.loader_board)
    if args.dry_run:
        import shlex

        print(shlex.join(argv))
        return 0
    output = program_board(target, bitstream, flash=args.flash, loader_board=args.loader_board)
    print(output)
    print(f"programmed {bitstream} into the {target.description}")
    return 0


def board_run(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    if (args.data is None) == (args.random is None):
        raise ValueError("give exactly one of --data FILE and --random N")
    if args.data is not None:
        data_file(args.data, "data file")
    import numpy as np

    from boards.host import open_serial, random_raw_inputs, run_samples
    from hgq_hw.inputs import read_real_inputs
    from hgq_hw.reference import quantize_inputs

    if args.data is not None:
        with reading(args.data, "data file"):
            x_real = read_real_inputs(args.data, input_shape=spec.input_shape)
        x_raw = quantize_inputs(spec, x_real)
    else:
        x_raw = random_raw_inputs(spec, args.random, seed=args.seed)
    if args.max is not None:
        x_raw = x_raw[: args.max]
    x_raw = np.asarray(x_raw)
    print(f"sending {len(x_raw)} samples to {args.port} at {args.baud} baud (spec {spec.name!r})")
    with open_serial(args.port, args.baud, args.timeout) as link:
        result = run_samples(link, spec, x_raw, io=args.io)
    print(result.summary())
    return 0 if result.passed else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    from boards.registry import BOARDS
    from boards.target import DEFAULT_BAUD, DEFAULT_PIPELINE_LEVELS
    from boards.tops import TOP_KINDS

    boards = sorted(BOARDS)
    b = subparsers.add_parser(
        "build", help="bitstream of a spec for an FPGA board (Yosys + nextpnr, open tools)"
    )
    b.add_argument("spec", help="spec JSON file")
    b.add_argument("--board", required=True, choices=boards, help="target board")
    b.add_argument(
        "--top",
        choices=TOP_KINDS,
        default="uart",
        help="uart: answer input frames over the UART; selftest: check ROM vectors, LEDs + UART",
    )
    b.add_argument("-o", "--output", help="output folder (default runs/board/SPEC-BOARD-TOP)")
    b.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="UART baud rate (default 115200)")
    b.add_argument(
        "--pipeline-levels",
        type=int,
        default=DEFAULT_PIPELINE_LEVELS,
        help=f"adder levels per pipeline stage (default {DEFAULT_PIPELINE_LEVELS}; 0: none, "
        "slow to synthesize and to clock)",
    )
    b.add_argument(
        "--io",
        choices=("parallel", "stream", "auto"),
        default="parallel",
        help="the network as hgq gen --io builds it: parallel (one sample per cycle, default), "
        "stream (one pixel per cycle; the uart top takes an image's pixels) or auto",
    )
    b.add_argument(
        "--vectors",
        type=int,
        default=40,
        help="selftest: vectors (stream: images) in ROM (default 40)",
    )
    b.add_argument("--seed", type=int, default=0, help="selftest: seed of the random vectors")
    b.add_argument(
        "--force",
        action="store_true",
        help="synthesize even when the estimate says it does not fit (Yosys' count still checked)",
    )
    b.set_defaults(func=build)

    p = subparsers.add_parser("program", help="load an 'hgq build' bitstream with openFPGALoader")
    p.add_argument("dir", help="output folder of 'hgq build'")
    p.add_argument("--board", choices=boards, help="board (default: the one built for)")
    p.add_argument("--dry-run", action="store_true", help="print the command, do not run it")
    p.add_argument("--flash", action="store_true", help="write the SPI flash (survives power-off)")
    p.add_argument("--loader-board", help="openFPGALoader -b name (default: the board's)")
    p.set_defaults(func=program)

    r = subparsers.add_parser(
        "board-run", help="stream samples to a board running the uart top; check every answer"
    )
    r.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB1")
    r.add_argument("--spec", required=True, help="spec JSON file the board was built from")
    r.add_argument(
        "--data",
        help="real inputs: .npz (first of arrays x, x_test, x_val), .npy, .csv or .txt",
    )
    r.add_argument("--random", type=int, help="send N random raw inputs instead of --data")
    r.add_argument(
        "--io",
        choices=("parallel", "stream"),
        default="parallel",
        help="the board's network (hgq build --io; see its report.json): parallel (default) or "
        "stream (each sample sent as an image, pixel by pixel)",
    )
    r.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="UART baud rate (default 115200)")
    r.add_argument("--max", type=int, help="send at most N samples")
    r.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer")
    r.add_argument("--seed", type=int, default=int(os.environ.get("SEED", 0)), help="--random seed")
    r.set_defaults(func=board_run)
