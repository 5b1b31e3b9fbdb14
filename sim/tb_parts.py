"""Pieces shared by the cocotb testbenches (:mod:`sim.tb_network`, :mod:`sim.tb_stream`).

A cycle counter, the base of the input drivers (idle, synchronous reset), the output monitor
(``o_stream`` sampled after every rising edge) and the JSON report every test writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from hgq_hw import atomic

__all__ = ["MAX_REPORTED", "CycleCounter", "InputDriver", "OutputMonitor", "write_report"]

MAX_REPORTED = 10
"""Latency errors kept in a report (mismatches are capped by the scoreboards)."""


class CycleCounter:
    """Counts rising edges of the clock; ``now`` is the current cycle index."""

    def __init__(self, clk) -> None:
        self.clk = clk
        self.now = 0

    async def run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            self.now += 1


class InputDriver:
    """Base of the drivers of ``i_stream``: ``valid`` low when idle, and a synchronous reset.

    A payload of width 0 (every input element constant zero) has no port: ``has_payload``.
    """

    def __init__(self, dut, cycles: CycleCounter) -> None:
        self.dut = dut
        self.cycles = cycles
        self.has_payload = hasattr(dut, "i_stream__payload")
        self.reset_start: int | None = None

    def _idle(self) -> None:
        self.dut.i_stream__valid.value = 0

    async def reset(self, cycles: int = 2) -> None:
        """Hold ``rst`` high (``valid`` low) for ``cycles`` cycles, starting now (call it
        just after a falling edge, where the senders return)."""
        self._idle()
        self.dut.rst.value = 1
        self.reset_start = self.cycles.now
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0


class OutputMonitor:
    """Samples ``o_stream`` after every rising edge; keeps ``(cycle, word)`` while valid."""

    def __init__(self, dut, cycles: CycleCounter) -> None:
        self.dut = dut
        self.cycles = cycles
        self.seen: list[tuple[int, int]] = []
        self.has_payload = hasattr(dut, "o_stream__payload")

    async def run(self) -> None:
        while True:
            await RisingEdge(self.dut.clk)
            await ReadOnly()
            if int(self.dut.o_stream__valid.value):
                word = int(self.dut.o_stream__payload.value) if self.has_payload else 0
                self.seen.append((self.cycles.now, word))


def write_report(
    path: str | Path, name: str, board: Any, *, cycles: int, seconds: float, seed: int
) -> None:
    """Add test ``name``'s outcome (a scoreboard's ``checked``, ``mismatch_count``,
    ``mismatches`` and ``latency_errors``) to the JSON report at ``path``."""
    path = Path(path)
    reports = json.loads(path.read_text()) if path.exists() else {}
    reports[name] = {
        "checked": board.checked,
        "mismatch_count": board.mismatch_count,
        "mismatches": board.mismatches,
        "latency_errors": board.latency_errors[:MAX_REPORTED],
        "cycles": cycles,
        "seconds": seconds,
        "seed": seed,
    }
    atomic.write_text(path, json.dumps(reports, indent=1))
