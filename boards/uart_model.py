"""The testbench side of a UART for cocotb: a byte driver on the DUT's ``rx`` and a byte
monitor on its ``tx`` (8N1, ``divisor`` clock cycles per bit), and the shared config loader."""

from __future__ import annotations

import json
import os
from collections import deque
from pathlib import Path
from typing import Any

from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

__all__ = ["UartSink", "UartSource", "load_config", "write_report"]


def load_config() -> dict[str, Any]:
    """The JSON config named by ``HGQ_SIM_CONFIG`` (written by :func:`sim.runner.run_cocotb`)."""
    path = os.environ.get("HGQ_SIM_CONFIG")
    if not path:
        raise RuntimeError("HGQ_SIM_CONFIG is not set: run this testbench through sim.runner")
    return json.loads(Path(path).read_text())


def write_report(cfg: dict[str, Any], test: str, result: dict[str, Any]) -> None:
    """Merge ``result`` under ``test`` into the report file named by ``cfg["report"]``."""
    path = Path(cfg["report"])
    reports = json.loads(path.read_text()) if path.exists() else {}
    reports[test] = result
    path.write_text(json.dumps(reports, indent=1))


class UartSource:
    """Drives bytes onto ``line`` (changes on falling clock edges)."""

    def __init__(self, clk: Any, line: Any, divisor: int) -> None:
        self.clk, self.line, self.divisor = clk, line, divisor
        self.line.value = 1

    async def send(self, data: bytes) -> None:
        for byte in data:
            bits = [0, *((byte >> n) & 1 for n in range(8)), 1]
            for bit in bits:
                await FallingEdge(self.clk)
                self.line.value = bit
                await ClockCycles(self.clk, self.divisor - 1, rising=False)

    async def idle(self, bit_times: int) -> None:
        await ClockCycles(self.clk, bit_times * self.divisor, rising=False)


class UartSink:
    """Decodes bytes from ``line`` (sampled in the middle of each bit) into ``received``.

    ``errors`` counts bytes with a low stop bit or a start bit that did not last half a bit.
    """

    def __init__(self, clk: Any, line: Any, divisor: int) -> None:
        self.clk, self.line, self.divisor = clk, line, divisor
        self.received: deque[int] = deque()
        self.errors = 0

    async def run(self) -> None:
        while True:
            await RisingEdge(self.clk)
            if int(self.line.value) != 0:
                continue
            await ClockCycles(self.clk, self.divisor // 2)
            if int(self.line.value) != 0:
                self.errors += 1
                continue
            byte = 0
            for n in range(8):
                await ClockCycles(self.clk, self.divisor)
                byte |= int(self.line.value) << n
            await ClockCycles(self.clk, self.divisor)
            if int(self.line.value) != 1:
                self.errors += 1
                continue
            self.received.append(byte)

    async def read(self, count: int, timeout_cycles: int) -> bytes:
        """The next ``count`` bytes, or fewer when ``timeout_cycles`` pass first."""
        waited = 0
        while len(self.received) < count and waited < timeout_cycles:
            await RisingEdge(self.clk)
            waited += 1
        n = min(count, len(self.received))
        return bytes(self.received.popleft() for _ in range(n))
