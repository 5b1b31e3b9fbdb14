"""``hgq check``, ``hgq eval`` and ``hgq random-spec``: look at, run and make spec files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from hgqflow.cli.checks import data_file, output_file, read_spec, reading

__all__ = ["register", "spec_summary"]


def spec_summary(spec_path: str | Path) -> str:
    """A table of the layers of a spec file: kind, shape, bit widths, pruned weights."""
    from hgq_hw.reference import infer_types, rule_for
    from hgq_hw.spec import SpecError, load

    spec = load(spec_path)
    try:
        types = infer_types(spec)  # refuses e.g. a table whose length misses its input type
    except SpecError as err:
        raise err.located(file=spec_path) from None
    rows = [("layer", "kind", "shape", "bits min/mean/max", "weights kept")]
    for layer in spec.layers:
        width = types[layer.name].width
        bits = f"{width.min()}/{width.mean():.1f}/{width.max()}"
        weights = rule_for(layer).weights(layer)
        kept = "" if weights is None else f"{int(np.count_nonzero(weights))}/{weights.size}"
        rows.append(
            (layer.name, layer.kind, "x".join(map(str, spec.shape(layer.name))), bits, kept)
        )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = [f"spec {spec.name!r} (schema version {spec.version}) from {spec_path}"]
    for n, row in enumerate(rows):
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _check(args: argparse.Namespace) -> int:
    print(spec_summary(args.spec))
    return 0


def _random_real(spec, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` real inputs drawn uniformly over each element's real range widened by one step of
    its type on each side (so the input quantizer's rounding and overflow both engage)."""
    lo, hi = spec.input.type.raw_bounds()
    f = spec.input.type.f
    x = np.empty((n, *spec.input_shape), dtype=np.float64)
    for index in np.ndindex(*spec.input_shape):
        step = 2.0 ** -int(f[index])
        low, high = float(lo[index]) * step - step, float(hi[index]) * step + step
        x[(slice(None), *index)] = rng.uniform(low, high, n)
    return x


def _write_rows(raw: np.ndarray) -> None:
    """Raw outputs on stdout, one sample per line, exact decimal integers at any width."""
    for row in np.asarray(raw).reshape(len(raw), -1):
        sys.stdout.write(",".join(str(int(v)) for v in row) + "\n")


def _eval(args: argparse.Namespace) -> int:
    spec = read_spec(args.spec)
    if args.inputs is not None:
        data_file(args.inputs, "input file")
    if args.random is not None and args.random < 1:
        raise ValueError(f"--random must be >= 1, got {args.random}")
    if args.output:
        from hgq_hw.inputs import OUTPUT_SUFFIXES

        if Path(args.output).suffix not in OUTPUT_SUFFIXES:
            raise ValueError(
                f"-o {args.output}: unsupported output file type (use {', '.join(OUTPUT_SUFFIXES)})"
            )
        output_file(args.output, "output file")
    from hgq_hw.inputs import random_raw, read_raw_inputs, read_real_inputs, write_raw
    from hgq_hw.reference import evaluate, input_bounds, quantize_inputs

    n_random = 8 if args.random is None else args.random
    if args.inputs is not None:
        with reading(args.inputs, "input file"):
            if args.real:
                x_real = read_real_inputs(args.inputs, input_shape=spec.input_shape)
                x_raw = quantize_inputs(spec, x_real)
            else:
                x_raw = read_raw_inputs(args.inputs, input_type=spec.input.type)
    elif args.real:
        rng = np.random.default_rng(args.seed)
        print(f"random real inputs: {n_random} samples, seed {args.seed} (quantized)")
        x_raw = quantize_inputs(spec, _random_real(spec, n_random, rng))
    else:
        rng = np.random.default_rng(args.seed)
        print(f"random raw inputs: {n_random} samples, seed {args.seed}")
        lo, hi = input_bounds(spec)
        x_raw = random_raw(lo, hi, n_random, rng)
    y = evaluate(spec, x_raw)
    if args.output:
        write_raw(args.output, y)
        print(f"wrote {len(y)} raw outputs to {args.output}")
    else:
        _write_rows(y)
    return 0


def _random_spec(args: argparse.Namespace) -> int:
    output_file(args.output, "spec file")
    from hgq_hw.random_spec import random_spec
    from hgq_hw.spec import save

    spec = random_spec(
        args.seed,
        depth=args.depth,
        width=(args.min_width, args.max_width),
        prune=args.prune,
        table=args.table,
        table_bits=args.table_bits,
        spatial=args.spatial,
        conv_depth=args.conv_depth,
        merges=args.merges,
        softmax=args.softmax,
    )
    save(spec, args.output)
    print(f"wrote {args.output} (seed {args.seed}, depth {args.depth})")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    check = subparsers.add_parser("check", help="validate a spec file and print its layers")
    check.add_argument("spec", help="spec JSON file")
    check.set_defaults(func=_check)

    ev = subparsers.add_parser("eval", help="run the bit-exact integer reference on inputs")
    ev.add_argument("spec", help="spec JSON file")
    source = ev.add_mutually_exclusive_group()
    source.add_argument(
        "--inputs",
        help="inputs: .npz (first of arrays x, x_test, x_val), .npy, .csv or .txt; raw "
        "integers unless --real",
    )
    source.add_argument(
        "--random",
        type=int,
        default=None,
        metavar="N",
        help="N random inputs over the full input types (default 8): raw integers, or with "
        "--real real values quantized as the input quantizer does",
    )
    ev.add_argument(
        "--real",
        action="store_true",
        help="inputs are real values: quantize them as the input quantizer does (without it, "
        "--inputs must hold raw integers within each element's type; nothing is cast)",
    )
    ev.add_argument("--seed", type=int, default=0, help="seed for --random (default 0)")
    ev.add_argument(
        "-o",
        "--output",
        help="write raw outputs here instead of stdout: .npy (int64, or decimal strings when "
        "an output is wider than 64 bits), .csv or .txt (exact decimal integers); "
        "hgq eval --inputs reads each back",
    )
    ev.set_defaults(func=_eval)

    rs = subparsers.add_parser("random-spec", help="write a random valid spec (for fuzzing)")
    rs.add_argument("-o", "--output", required=True, help="spec JSON file to write")
    rs.add_argument("--seed", type=int, default=0)
    rs.add_argument("--depth", type=int, default=2, help="number of Dense layers (default 2)")
    rs.add_argument("--min-width", type=int, default=1)
    rs.add_argument("--max-width", type=int, default=8)
    rs.add_argument("--prune", type=float, default=0.3, help="fraction of pruned weights")
    rs.add_argument(
        "--table",
        type=float,
        default=0.0,
        help="probability of a lookup table (Table) after each requantizer (default 0)",
    )
    rs.add_argument(
        "--table-bits", type=int, default=4, help="widest table input in bits (default 4)"
    )
    rs.add_argument(
        "--spatial",
        type=int,
        choices=(0, 1, 2),
        default=0,
        help="0: a Dense chain (default); 1 / 2: Conv1D / Conv2D blocks (with pools) on a "
        "channels-last input, then a Reshape and the Dense chain",
    )
    rs.add_argument(
        "--conv-depth", type=int, default=1, help="Conv blocks with --spatial 1|2 (default 1)"
    )
    rs.add_argument(
        "--merges",
        type=int,
        default=0,
        help="merging layers (Add, Subtract, Multiply, Concatenate) drawn into the graph: skip "
        "connections, shared tensors, branches of different depth (default 0: a chain)",
    )
    rs.add_argument(
        "--softmax",
        type=float,
        default=0.0,
        help="probability that the network ends in a softmax block (max, exp table, sum, "
        "reciprocal table, multiply: the kinds of an exported QSoftmax; default 0)",
    )
    rs.set_defaults(func=_random_spec)
