"""``hgq sweep CONFIG.toml --out DIR``: a grid of points through train -> export -> gen -> sim
-> synth as Ray tasks (:mod:`hgqflow.sweep`); ``hgq sweep --example`` prints a config.

The config is read and checked before Ray (the optional extra ``hgqflow[sweep]``) is imported;
``hgq --help`` never imports it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

__all__ = ["register"]


def _run(args: argparse.Namespace) -> int:
    from hgqflow.sweep import EXAMPLE_CONFIG

    if args.example:
        sys.stdout.write(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
        return 0
    if args.config is None or args.out is None:
        raise ValueError("give a config and --out DIR (or --example for a config to start from)")
    if args.max_parallel is not None and args.max_parallel < 1:
        raise ValueError(f"--max-parallel must be >= 1, got {args.max_parallel}")
    if args.num_cpus is not None and args.num_cpus < 1:
        raise ValueError(f"--num-cpus must be >= 1, got {args.num_cpus}")
    from hgqflow.cli.checks import existing_file, output_dir
    from hgqflow.sweep.config import load_config
    from hgqflow.sweep.points import expand_points

    config = load_config(existing_file(args.config, "sweep config"))
    points = expand_points(config)
    output_dir(args.out, "sweep folder")
    if args.storage:
        output_dir(args.storage, "storage folder")
    if not args.serial:
        from hgqflow.sweep.executors import import_ray

        import_ray()  # the clear 'pip install hgqflow[sweep]' before anything runs
    from hgqflow.sweep.runner import run_sweep

    if args.address and not args.storage:
        print(
            f"note: the workers write into {args.out}: on a cluster it must be a folder every "
            "node can reach (or give --storage PATH)",
            file=sys.stderr,
        )

    where = "serially" if args.serial else f"on Ray ({args.address or 'local'})"
    print(
        f"hgq sweep {config.name}: {len(points)} points, stages {', '.join(config.stages)}, "
        f"{where} -> {args.out}",
        flush=True,
    )
    result = run_sweep(
        config,
        args.out,
        address=args.address,
        max_parallel=args.max_parallel,
        storage=args.storage,
        num_cpus=args.num_cpus,
        serial=args.serial,
        command=shlex.join(["hgq", *sys.argv[1:]]) if len(sys.argv) > 1 else None,
    )
    counts: dict[str, int] = {}
    for run in result.runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    print(
        f"{len(result.runs)} points in {result.seconds:.0f} s: "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
    )
    for run in result.failed:
        print(f"failed: {run.id}: {run.error} (log: {run.log})", file=sys.stderr)
    print(f"report: {Path(args.out) / 'report.md'}, {Path(args.out) / 'sweep.json'}")
    return 1 if result.failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="a grid of points (beta, seed, model, ...) through train -> synth, on Ray",
        description="Run every point of CONFIG.toml through its stages as Ray tasks (a local "
        "Ray, or a cluster with --address), into DIR/points/<id>/; a rerun keeps finished "
        "points that verify. Writes DIR/sweep.json, DIR/report.md and DIR/plots/. Needs "
        "pip install 'hgqflow[sweep]'.",
    )
    parser.add_argument("config", nargs="?", help="sweep config (TOML; see --example)")
    parser.add_argument("--out", help="sweep folder")
    parser.add_argument("--example", action="store_true", help="print a commented config")
    parser.add_argument(
        "--address",
        help="Ray cluster: 'auto' (the one 'ray start' runs here) or ray://host:port "
        "(default: start a local Ray on this machine)",
    )
    parser.add_argument(
        "--max-parallel",
        type=int,
        metavar="N",
        help="points in flight at once (default: the cluster's CPUs)",
    )
    parser.add_argument(
        "--storage",
        metavar="PATH",
        help="folder every Ray worker can reach (NFS, ...) where points are built; finished "
        "points are copied to --out (default: --out itself)",
    )
    parser.add_argument(
        "--num-cpus", type=int, metavar="N", help="CPUs of the local Ray (default: all)"
    )
    parser.add_argument(
        "--serial", action="store_true", help="no Ray: run every stage here, one after another"
    )
    parser.set_defaults(func=_run)
