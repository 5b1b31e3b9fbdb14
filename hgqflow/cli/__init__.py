"""The ``hgq`` command: one subcommand per pipeline stage.

Each command group lives in its own module with ``register(subparsers)``, which adds its parser
and sets ``func`` (called with the parsed arguments, returns the exit status). A command first
checks its arguments and files (:mod:`hgqflow.cli.checks`), then imports its stage (TensorFlow,
Amaranth, cocotb), so ``hgq --help`` and a mistyped file name cost a fraction of a second. The
commands call library functions; none of them, and nothing in :mod:`hgqflow.flow`, drives
another command through argv.

Errors of bad input (``SpecError``, ``FileNotFoundError``, ``ValueError``) become one line,
``hgq COMMAND: error: ...``, and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

COMMAND_MODULES: tuple[str, ...] = (
    "hgqflow.cli.doctor",
    "hgqflow.cli.spec_cmds",
    "hgqflow.cli.hw",
    "hgqflow.cli.train",
    "hgqflow.cli.sim_cmd",
    "hgqflow.cli.prove_cmd",
    "hgqflow.cli.flow_cmd",
    "hgqflow.cli.boards_cmd",
)
"""Modules that add subcommands, in the order ``hgq --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hgq",
        description="hgqflow: train per-weight fixed-point networks (HGQ) and turn them into "
        "verified, pipelined FPGA hardware with open tools.",
    )
    from importlib.metadata import PackageNotFoundError, version

    with contextlib.suppress(PackageNotFoundError):  # a source tree that was not installed
        parser.add_argument("--version", action="version", version=version("hgqflow"))
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hgq`` console script; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow: warnings and errors only
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # the CLI boundary: one clear line, not a traceback
        from hgq_hw.spec import SpecError

        if isinstance(err, SpecError | FileNotFoundError | ValueError) and not getattr(
            args, "traceback", False
        ):
            print(f"hgq {args.command}: error: {err}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
