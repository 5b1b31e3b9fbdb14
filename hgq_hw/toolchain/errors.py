"""The one error type of every external tool run: :class:`ToolError`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["ToolError"]


class ToolError(RuntimeError):
    """An external tool could not be found, could not start, failed, or left no result.

    Members: ``tool`` (its name in :data:`hgq_hw.toolchain.TOOLS`, e.g. ``"yosys"``),
    ``command`` (the argument list, or None when it never ran), ``exit_code`` (None when it
    never ran or did not exit), ``log`` (the file holding its output, or None), ``reason`` (what
    went wrong, one line) and ``tail`` (the last lines of the log, shown under the message).
    ``str(err)`` names all of them, so a caller can print it as it is.
    """

    def __init__(
        self,
        tool: str,
        reason: str,
        *,
        command: Sequence[str] | None = None,
        exit_code: int | None = None,
        log: str | os.PathLike[str] | None = None,
        tail: str = "",
    ) -> None:
        self.tool = tool
        self.reason = reason
        self.command = None if command is None else [str(c) for c in command]
        self.exit_code = exit_code
        self.log = None if log is None else Path(log)
        self.tail = tail
        super().__init__(self._render())

    def _render(self) -> str:
        parts = [f"{self.tool}: {self.reason}"]
        if self.exit_code is not None:
            parts.append(f"exit status {self.exit_code}")
        if self.log is not None:
            parts.append(f"see {self.log}")
        text = "; ".join(parts)
        if self.command is not None:
            text += f"\n  command: {' '.join(self.command)}"
        if self.tail:
            text += "\n" + "\n".join(f"  | {line}" for line in self.tail.splitlines())
        return text

    @classmethod
    def from_log(
        cls,
        tool: str,
        reason: str,
        *,
        command: Sequence[str],
        exit_code: int | None,
        log: str | os.PathLike[str],
        lines: int = 12,
    ) -> ToolError:
        """A :class:`ToolError` whose tail is the last ``lines`` lines of the file ``log``."""
        try:
            text = Path(log).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        tail = "\n".join(text.strip().splitlines()[-lines:])
        return cls(tool, reason, command=command, exit_code=exit_code, log=log, tail=tail)
