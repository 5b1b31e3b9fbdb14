"""Program a board with openFPGALoader (``OPENFPGALOADER`` overrides the command).

:func:`program_command` gives the exact argument list (``openFPGALoader -b BOARD BITSTREAM``,
SRAM: the design is lost at power-off; ``flash=True`` adds ``-f`` to write the SPI flash);
:func:`program_board` runs it and turns every failure (tool missing, no board attached, cable
error) into a :class:`ProgramError` with a message that says what to check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from boards.target import BoardTarget

__all__ = ["ProgramError", "loader_command", "program_board", "program_command"]


class ProgramError(RuntimeError):
    """Programming failed; the message says why and what to check."""


def loader_command() -> str:
    """The openFPGALoader command: ``$OPENFPGALOADER`` or ``openFPGALoader``."""
    return os.environ.get("OPENFPGALOADER", "openFPGALoader")


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
    """Run :func:`program_command`; returns the tool's output, raises :class:`ProgramError`."""
    bitstream = Path(bitstream)
    if not bitstream.is_file():
        raise ProgramError(f"bitstream {bitstream} does not exist: run 'hgq build' first")
    argv = program_command(target, bitstream, flash=flash, loader_board=loader_board)
    tool = shutil.which(argv[0])
    if tool is None:
        raise ProgramError(
            f"openFPGALoader not found (command {argv[0]!r}); install it "
            "(sudo apt-get install openfpgaloader) or set OPENFPGALOADER to its path"
        )
    try:
        done = subprocess.run(
            [tool, *argv[1:]], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ProgramError(f"{' '.join(argv)} did not finish within {timeout:.0f} s") from None
    except OSError as err:
        raise ProgramError(f"cannot run {argv[0]!r}: {err}") from None
    output = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-8:])
        raise ProgramError(
            f"programming the {target.description} failed (exit status {done.returncode}): is the "
            f"board plugged in over USB, and may this user open it (udev rules)?\n"
            f"command: {' '.join(argv)}\n{tail}"
        )
    return output
