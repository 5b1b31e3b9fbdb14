"""Running an external tool: one process runner with a live progress line, one error type.

:func:`run_tool` starts tool ``name`` (found by :func:`hgq_hw.toolchain.find.require_tool`, in
:func:`hgq_hw.toolchain.find.tool_env`), sends its combined output to a log file and, while it
runs, shows ONE live line (tqdm, on ``sys.stderr``, redrawn in place) with the elapsed time
against the expected time. When stdout or the stream is not a terminal (CI, pytest, a pipe)
nothing is drawn while it runs. Either way the ``say`` callback gets one final line (tool, seconds,
expected, log). A non-zero exit raises :class:`~hgq_hw.toolchain.errors.ToolError` unless the
caller asks for the exit status (``check=False``), e.g. nextpnr missing a timing target. With
``timeout_s`` a run that takes longer is killed (``ToolRun.timed_out``); tools whose own time
limits do not work under WebAssembly (Yosys ``sat -timeout`` in YoWASP) rely on it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from hgq_hw.toolchain.errors import ToolError
from hgq_hw.toolchain.find import require_tool, tool_env

__all__ = ["POLL_S", "ProgressLine", "ToolRun", "run_tool"]

POLL_S = 0.5
"""How often the runner looks at the process and redraws the live line."""


def _seconds(value: float) -> str:
    value = max(0.0, value)
    if value < 60:
        return f"{value:.0f} s"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds:02d} s"


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgressLine:
    """One live line ``<label>: [bar] <elapsed> elapsed, expected ~<expected>`` (tqdm).

    ``stream`` defaults to ``sys.stderr``; ``live`` says whether the line is drawn at all
    (default: when both ``stream`` and ``sys.stdout`` are terminals, so ``hgq synth > log``,
    CI and pytest draw nothing). :meth:`update` redraws it in place (``\\r``, never a new line);
    :meth:`close` removes it. Without an expected time the bar is left out.
    """

    def __init__(
        self,
        label: str,
        expected_s: float | None,
        *,
        stream: TextIO | None = None,
        live: bool | None = None,
    ) -> None:
        self.label = label
        self.expected_s = expected_s if expected_s and expected_s > 0 else None
        self.stream = sys.stderr if stream is None else stream
        if live is None:
            live = _is_terminal(self.stream) and _is_terminal(sys.stdout)
        self.live = live
        self._bar = None
        if self.live:
            from tqdm import tqdm

            expected = "" if self.expected_s is None else f", expected ~{_seconds(self.expected_s)}"
            bar = "{percentage:3.0f}%|{bar:16}| " if self.expected_s is not None else ""
            self._bar = tqdm(
                total=self.expected_s or 1.0,
                desc=label,
                file=self.stream,
                leave=False,
                dynamic_ncols=False,
                mininterval=0.2,
                bar_format="{desc}: " + bar + "{elapsed} elapsed" + expected,
            )

    def update(self, elapsed_s: float) -> None:
        """Show ``elapsed_s`` (the bar stops at 100 % when a run takes longer than expected)."""
        if self._bar is None:
            return
        total = self._bar.total
        self._bar.n = min(elapsed_s, total) if self.expected_s is not None else 0
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


@dataclass(frozen=True)
class ToolRun:
    """What one tool run gave: exit status, log file, seconds and the expected seconds."""

    tool: str
    command: tuple[str, ...]
    exit_code: int
    log: Path
    seconds: float
    expected_s: float | None
    timed_out: bool = False
    """True when the run was killed for passing its ``timeout_s``."""

    def text(self) -> str:
        """The log's text (decoding errors replaced)."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def summary(self) -> str:
        expected = "" if self.expected_s is None else f", expected ~{_seconds(self.expected_s)}"
        state = "done" if self.exit_code == 0 else f"exit status {self.exit_code}"
        if self.timed_out:
            state = "killed at its time limit"
        return f"  {self.tool}: {state} in {self.seconds:.1f} s{expected} (log {self.log.name})"


def run_tool(
    name: str,
    args: Sequence[str],
    cwd: str | os.PathLike[str],
    log_name: str,
    *,
    expected_s: float | None = None,
    say: Callable[[str], None] | None = None,
    check: bool = True,
    stream: TextIO | None = None,
    live: bool | None = None,
    env: dict[str, str] | None = None,
    purpose: str | None = None,
    timeout_s: float | None = None,
) -> ToolRun:
    """Run tool ``name`` with ``args`` in ``cwd``; its stdout and stderr go to ``cwd/log_name``.

    ``expected_s`` (see :mod:`hgq_hw.toolchain.expected`) feeds the live line; ``say`` gets
    the final line; ``purpose`` (e.g. ``"synthesis"``) labels the live line and the error.
    Raises :class:`ToolError` when the tool is missing, cannot start or, with ``check``, exits
    non-zero (the message names tool, command, exit status and log, and shows the log's last
    lines). With ``timeout_s`` the process is killed once it has run that many seconds; the
    result then has ``timed_out`` set (and, with ``check``, a :class:`ToolError` says so).
    """
    path = require_tool(name)
    cwd = Path(cwd)
    log_path = cwd / log_name
    command = (path, *map(str, args))
    label = name if purpose is None else f"{purpose} ({name})"
    line = ProgressLine(label, expected_s, stream=stream, live=live)
    start = time.monotonic()
    timed_out = False
    try:
        with open(log_path, "w", encoding="utf-8") as log:
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=cwd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=tool_env() if env is None else env,
                )
            except OSError as err:
                raise ToolError(
                    name, f"cannot start ({err})", command=command, log=log_path
                ) from None
            while True:
                try:
                    rc = proc.wait(timeout=POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    elapsed = time.monotonic() - start
                    if timeout_s is not None and elapsed > timeout_s:
                        proc.kill()
                        rc = proc.wait()
                        timed_out = True
                        break
                    line.update(elapsed)
                except BaseException:
                    proc.kill()
                    proc.wait()
                    raise
    finally:
        line.close()
    run = ToolRun(name, command, rc, log_path, time.monotonic() - start, expected_s, timed_out)
    if say is not None:
        say(run.summary())
    if check and rc != 0:
        reason = "failed" if purpose is None else f"{purpose} failed"
        if timed_out:
            reason = f"{reason}: killed at its time limit of {timeout_s:g} s"
        raise ToolError.from_log(
            name, f"{reason} after {run.seconds:.1f} s", command=command, exit_code=rc, log=log_path
        )
    return run
