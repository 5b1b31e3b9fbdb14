"""Program a board with openFPGALoader (``OPENFPGALOADER`` overrides the command).

:func:`program_command` gives the exact argument list (``openFPGALoader -b BOARD BITSTREAM``,
SRAM: the design is lost at power-off; ``flash=True`` adds ``-f`` to write the SPI flash);
:func:`program_board` runs it and turns every failure (tool missing, no board attached, cable
error) into a :class:`ProgramError` (a :class:`~hgq_hw.toolchain.ToolError`) with a message
that says what to check. The tool is found like every other (:func:`hgq_hw.toolchain.find_tool`).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from boards.target import BoardTarget
from hgq_hw.toolchain import TOOLS, ToolError, find_tool, tool_env

__all__ = ["PROGRAM_LOG", "ProgramError", "loader_command", "program_board", "program_command"]

LOADER = "openFPGALoader"
PROGRAM_LOG = "program.log"
"""The tool's output, written next to the bitstream (named by a :class:`ProgramError`)."""


class ProgramError(ToolError):
    """Programming failed; the message says why and what to check."""


def loader_command() -> str:
    """The openFPGALoader command as given: ``$OPENFPGALOADER`` or ``openFPGALoader``."""
    tool = TOOLS[LOADER]
    return os.environ.get(tool.env_var) or tool.default


def program_command(
    target: BoardTarget,
    bitstream: str | os.PathLike[str],
    *,
    flash: bool = False,
    loader_board: str | None = None,
) -> list[str]:
    """The argument list that programs ``bitstream`` into ``target`` (``loader_board``
    replaces the target's openFPGALoader board name)."""
    board = loader_board or target.loader_board
    return [loader_command(), "-b", board, *(["-f"] if flash else []), str(bitstream)]


def program_board(
    target: BoardTarget,
    bitstream: str | os.PathLike[str],
    *,
    flash: bool = False,
    loader_board: str | None = None,
    timeout: float = 300.0,
) -> str:
    """Run :func:`program_command`; returns the tool's output (also written to
    :data:`PROGRAM_LOG` next to the bitstream), raises :class:`ProgramError` (naming that log
    when the tool ran and failed)."""
    bitstream = Path(bitstream)
    if not bitstream.is_file():
        raise ProgramError(LOADER, f"bitstream {bitstream} does not exist: run 'hgq build' first")
    argv = program_command(target, bitstream, flash=flash, loader_board=loader_board)
    tool = find_tool(LOADER)
    if tool is None:
        raise ProgramError(
            LOADER,
            f"not found (command {argv[0]!r}); install it ({TOOLS[LOADER].install_hint}) or "
            f"set {TOOLS[LOADER].env_var} to its path",
        )
    try:
        done = subprocess.run(
            [tool, *argv[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=tool_env(),
        )
    except subprocess.TimeoutExpired:
        raise ProgramError(LOADER, f"did not finish within {timeout:.0f} s", command=argv) from None
    except OSError as err:
        raise ProgramError(LOADER, f"cannot run {argv[0]!r}: {err}", command=argv) from None
    output = (done.stdout + done.stderr).strip()
    log = bitstream.parent / PROGRAM_LOG
    try:
        log.write_text(output + "\n", encoding="utf-8")
    except OSError:  # a read-only folder: the message still shows the output's last lines
        log = None
    if done.returncode != 0:
        raise ProgramError(
            LOADER,
            f"programming the {target.description} failed (exit status {done.returncode}): is "
            "the board plugged in over USB, and may this user open it (udev rules)?",
            command=argv,
            log=log,
            tail="\n".join(output.splitlines()[-8:]),
        )
    return output
