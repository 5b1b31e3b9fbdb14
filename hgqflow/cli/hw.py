"""``hgq gen`` and ``hgq synth``: a spec to Verilog, and the Verilog to FPGA resource reports."""

from __future__ import annotations

import argparse
from pathlib import Path

from hgqflow.cli.checks import gen_folder, output_dir, read_spec

__all__ = ["register"]


def _gen(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    if args.pipeline_levels < 0:
        raise ValueError(f"--pipeline-levels must be >= 0, got {args.pipeline_levels}")
    output_dir(args.output, "output folder")
    from hgq_hw.emit import format_report, generate

    design = generate(
        spec,
        args.output,
        name=args.name,
        pipeline_levels=args.pipeline_levels,
        depth_slack=None if args.depth_slack < 0 else args.depth_slack,
        writer=args.writer,
        io=args.io,
    )
    print(format_report(design.report))
    out = Path(args.output)
    print(f"wrote {out / design.report['verilog']} and {out / 'report.json'}")
    return 0


def _synth(args: argparse.Namespace) -> int:
    output_dir(gen_folder(args.dir), "design folder")  # synth writes its logs and report.json
    if args.serial_bits < 1:
        raise ValueError(f"--serial-bits must be >= 1, got {args.serial_bits}")
    from hgq_hw.emit import format_report, read_report
    from hgq_hw.synth import synthesize, timing_note

    entry = synthesize(  # a failed Yosys / nextpnr: one line naming its log, at the boundary
        args.dir,
        args.target,
        clock_mhz=args.clock_mhz,
        wrap=args.wrap,
        serial_bits=args.serial_bits,
        pins=args.pins,
        progress=print,
    )
    print(format_report(read_report(args.dir)))
    note = timing_note(entry)
    if note:
        print(f"note: {note}")
    if entry.get("pnr_error"):
        if not entry.get("pnr", {}).get("wrapped"):
            print("(if the ports have more bits than the package has pins: --wrap always)")
    elif note:
        print("(regenerate with a smaller --pipeline-levels N: fewer adder levels per stage)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    gen = subparsers.add_parser(
        "gen",
        help="spec -> pipelined, multiplier-free Verilog + report.json",
        description="Generate a fully unrolled dataflow network (adder graphs, no multipliers) "
        "from a spec: DIR/<name>.v (Verilog-2001) and DIR/report.json.",
    )
    gen.add_argument("spec", help="spec JSON file")
    gen.add_argument("-o", "--output", required=True, help="output folder (created if needed)")
    gen.add_argument(
        "--pipeline-levels",
        type=int,
        default=0,
        metavar="N",
        help="cut a register stage every N adder levels (0: combinational between the input "
        "and output registers; default 0)",
    )
    gen.add_argument("--name", default=None, help="Verilog module name (default: the spec name)")
    gen.add_argument(
        "--depth-slack",
        type=int,
        default=-1,
        metavar="D",
        help="keep every Dense output within D adders of its minimum depth (-1: no limit, "
        "fewest adders; default -1)",
    )
    gen.add_argument(
        "--writer",
        choices=("direct", "amaranth"),
        default="direct",
        help="how the Verilog is written: 'direct' from the plan, one flat module (fast), or "
        "'amaranth' (the Amaranth components converted by Yosys); same ports and behaviour "
        "(default direct)",
    )
    gen.add_argument(
        "--io",
        choices=("parallel", "stream", "auto"),
        default="parallel",
        help="'parallel': one whole sample per cycle, every output position its own adder "
        "graph (default); 'stream': one pixel (all channels) per cycle through line buffers and "
        "one kernel adder graph per windowed layer, then a gather into the Dense layers (a "
        "chain of Conv/MaxPool/AvgPool/ReLU/Requantize, one type per channel, then Flatten); "
        "'auto': stream when the windowed layers unrolled would take more than 4096 taps and "
        "stream mode takes the spec",
    )
    gen.set_defaults(func=_gen)

    synth = subparsers.add_parser(
        "synth",
        help="Yosys (+ nextpnr) resource and Fmax report of a 'hgq gen' folder",
        description="Synthesize DIR/<name>.v with YoWASP Yosys and, for ice40/ecp5, place and "
        "route with nextpnr at a clock target; LUT/FF/carry counts and Fmax go to "
        "DIR/report.json. A missed clock target is reported, not an error.",
    )
    synth.add_argument("dir", help="folder written by 'hgq gen'")
    synth.add_argument("--target", required=True, choices=["ice40", "ecp5", "xc7"])
    synth.add_argument(
        "--clock-mhz", type=float, default=100.0, metavar="F", help="clock target (default 100)"
    )
    synth.add_argument(
        "--wrap",
        choices=["auto", "always", "never"],
        default="auto",
        help="place and route the network inside a serialising wrapper (shift registers load "
        "the input and shift the output through a few pins; LUT/FF/carry are still the "
        "network's own): auto when its ports have more bits than the package has pins "
        "(default auto)",
    )
    synth.add_argument(
        "--serial-bits",
        type=int,
        default=1,
        metavar="K",
        help="wrapper bits per cycle in and out (default 1)",
    )
    synth.add_argument(
        "--pins",
        type=int,
        default=None,
        metavar="N",
        help="pin count for --wrap auto (default: the package's: ice40 206, ecp5 365)",
    )
    synth.set_defaults(func=_synth)
