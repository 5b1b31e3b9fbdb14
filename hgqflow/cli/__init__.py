"""The ``hgq`` command: one subcommand per pipeline stage.

Each command group lives in its own module with ``register(subparsers)``, which adds its parser
and sets ``func`` (called with the parsed arguments, returns the exit status). A command first
checks its arguments and files (:mod:`hgqflow.cli.checks`), then imports its stage (TensorFlow,
Amaranth, cocotb), so ``hgq --help`` and a mistyped file name cost a fraction of a second. The
commands call library functions; none of them, and nothing in :mod:`hgqflow.flow`, drives
another command through argv.

The error boundary is :func:`main`: every expected failure (:mod:`hgq_hw.errors`: bad input,
an ``OSError`` on a path, a tool that failed, which names its log) becomes ONE line on stderr,
``hgq COMMAND: error: ...``, and exit status 1; anything else is a bug and keeps its traceback.
``hgq --debug COMMAND ...`` (or ``hgq COMMAND ... --debug``, ``--traceback``, ``HGQ_DEBUG=1``)
shows the traceback of expected failures too.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

__all__ = ["COMMAND_MODULES", "DEBUG_ENV", "build_parser", "main"]

DEBUG_ENV = "HGQ_DEBUG"
"""Set to 1 to show the traceback of expected failures, as ``--debug`` does."""

_DEBUG_FLAGS = ("--debug", "--traceback")
_DEBUG_HELP = "show the Python traceback of an error (default: one line, exit status 1)"

COMMAND_MODULES: tuple[str, ...] = (
    "hgqflow.cli.doctor",
    "hgqflow.cli.spec_cmds",
    "hgqflow.cli.hw",
    "hgqflow.cli.train",
    "hgqflow.cli.sim_cmd",
    "hgqflow.cli.prove_cmd",
    "hgqflow.cli.flow_cmd",
    "hgqflow.cli.sweep_cmd",
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
    parser.add_argument(*_DEBUG_FLAGS, dest="debug", action="store_true", help=_DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    for command in set(subparsers.choices.values()):  # also after the command's arguments
        command.add_argument(
            *_DEBUG_FLAGS,
            dest="debug",
            action="store_true",
            default=argparse.SUPPRESS,
            help=_DEBUG_HELP,
        )
    return parser


def _debug(args: argparse.Namespace) -> bool:
    flag = os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return flag or bool(getattr(args, "debug", False) or getattr(args, "traceback", False))


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
        from hgq_hw.errors import describe, is_expected

        if not is_expected(err) or _debug(args):
            raise
        print(f"hgq {args.command}: error: {describe(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
