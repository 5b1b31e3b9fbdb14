"""``hgq prove``: formal equivalence of the generated layers and network with the spec.

For each generated layer (or those named by ``--layer``) and, without ``--layer``, the whole
network, a Yosys SAT proof that the generated Verilog equals a plain reference netlist
written from the spec (:mod:`hgq_hw.prove`). One table and ``OUT/prove.json``; exit status 0
when every proof is proven, 1 when one found a counterexample or ran out of time (or
``--budget`` left proofs out).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hgqflow.cli.checks import gen_folder, read_spec

__all__ = ["register", "run"]


def run(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    if args.design:
        gen_folder(args.design)
    if args.pipeline_levels < 0:
        raise ValueError(f"--pipeline-levels must be >= 0, got {args.pipeline_levels}")
    if args.budget is not None and not args.budget > 0:
        raise ValueError(f"--budget must be > 0 seconds, got {args.budget}")
    if args.no_layers and (args.no_network or args.layer):
        raise ValueError("--no-layers leaves only the network: drop --no-network and --layer")
    if not args.timeout > 0:
        raise ValueError(f"--timeout must be > 0 seconds, got {args.timeout}")
    from hgq_hw.prove import format_table, prove_spec

    out = Path(args.out or Path("runs") / "prove" / spec.name)
    report = prove_spec(
        spec,
        out,
        layers=args.layer or (),
        network=False if args.no_network else None,
        layer_proofs=not args.no_layers,
        pipeline_levels=args.pipeline_levels,
        depth_slack=None if args.depth_slack < 0 else args.depth_slack,
        design_dir=args.design,
        timeout_s=args.timeout,
        split=args.split,
        budget_s=args.budget,
        say=lambda line: print(line, flush=True),
    )
    print(format_table(report))
    print(f"wrote {out / 'prove.json'} (miters, scripts and logs under {out})")
    for result in report.counterexamples():
        cex = result.counterexample
        where = (
            result.target if result.column is None else f"{result.target} column {result.column}"
        )
        print(
            f"counterexample for {where}: raw inputs {cex.inputs}; hgq_hw.reference gives "
            f"{cex.expected}, the generated Verilog {cex.generated} (elements {cex.columns} differ)"
        )
    return 0 if report.proven else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "prove",
        help="formal proof (Yosys SAT) that the generated Verilog equals the spec",
        description="Prove each generated layer, and the whole network, equal to a plain "
        "reference netlist written from the spec (constant products as '*', exact widths) "
        "with Yosys' SAT engine: combinationally at --pipeline-levels 0, else over the "
        "pipeline unrolled. Each proof ends proven, with a counterexample (raw inputs replayed "
        "through the integer reference) or at its time limit. With --design the network proof "
        "reads that folder's Verilog; the layers are built by the generator from the spec with "
        "the folder's options.",
    )
    parser.add_argument("spec", help="spec JSON file")
    parser.add_argument(
        "--layer",
        action="append",
        metavar="NAME",
        help="prove only this layer (repeatable; the whole network is then left out)",
    )
    parser.add_argument(
        "--pipeline-levels",
        type=int,
        default=0,
        metavar="N",
        help="generator option (default 0; a --design folder's own option wins)",
    )
    parser.add_argument(
        "--depth-slack",
        type=int,
        default=-1,
        metavar="D",
        help="generator option, as for 'hgq gen' (default -1: no limit)",
    )
    parser.add_argument(
        "--design",
        metavar="DIR",
        help="prove the network of this 'hgq gen' folder (its Verilog and options)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="S",
        help="wall-clock limit of each SAT proof in seconds (default 60)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="S",
        help="start no proof after S seconds in all; the table lists what was not run",
    )
    parser.add_argument(
        "--split",
        choices=["auto", "layer", "column"],
        default="auto",
        help="prove a layer whole, per output column, or whole and per column when the whole "
        "layer runs out of time (default auto)",
    )
    parser.add_argument("--no-network", action="store_true", help="prove the layers only")
    parser.add_argument("--no-layers", action="store_true", help="prove the whole network only")
    parser.add_argument("--out", metavar="DIR", help="output folder (default runs/prove/<spec>)")
    parser.set_defaults(func=run)
