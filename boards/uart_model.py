"""The testbench side of a UART for cocotb, on ``cocotbext-uart``, and the shared config loader.

:class:`UartSource` drives bytes onto the DUT's ``rx`` and :class:`UartSink` collects bytes from
its ``tx`` (8N1, ``divisor`` clock cycles per bit) through cocotbext-uart's ``UartSource`` /
``UartSink``, which time bits in nanoseconds from a baud rate. :func:`uart_baud` picks the baud
rate whose bit time cocotbext-uart truncates to exactly ``divisor`` clock periods, so every bit
edge falls on a falling clock edge, as the DUT's own UART sees it. The testbenches check the
decoded frames (checksums, words, argmax) bit-exactly against the reference.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from cocotbext.uart import UartSink as _ExtSink
from cocotbext.uart import UartSource as _ExtSource

from hgq_hw import atomic

__all__ = ["CLOCK_PERIOD_NS", "UartSink", "UartSource", "load_config", "uart_baud", "write_report"]

CLOCK_PERIOD_NS = 10
"""The testbenches' clock period (``Clock(dut.clk, 10, unit="ns")``)."""


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
    atomic.write_text(path, json.dumps(reports, indent=1))


def uart_baud(divisor: int, clock_period_ns: int = CLOCK_PERIOD_NS) -> float:
    """The baud rate for cocotbext-uart whose bit time is ``divisor`` clock periods.

    cocotbext-uart waits ``int(1e9 / baud)`` ns per bit; asking for half a nanosecond more than
    the wanted bit time makes that truncation land exactly on it despite rounding.
    """
    if divisor < 2:
        raise ValueError(f"divisor must be >= 2 clock cycles per bit, got {divisor}")
    return 1e9 / (divisor * clock_period_ns + 0.5)


def _quiet(ext: Any) -> Any:
    ext.log.setLevel(logging.WARNING)  # cocotbext-uart logs every byte at INFO
    return ext


class UartSource:
    """Drives bytes onto ``line``; :meth:`send` returns after the last stop bit."""

    def __init__(self, clk: Any, line: Any, divisor: int) -> None:
        self.clk, self.divisor = clk, divisor
        self._uart = _quiet(_ExtSource(line, baud=uart_baud(divisor), bits=8, stop_bits=1))

    async def send(self, data: bytes) -> None:
        await FallingEdge(self.clk)
        await self._uart.write(data)
        await self._uart.wait()

    async def idle(self, bit_times: int) -> None:
        await ClockCycles(self.clk, bit_times * self.divisor, rising=False)


class UartSink:
    """Collects bytes from ``line`` once :meth:`run` was called (after reset)."""

    def __init__(self, clk: Any, line: Any, divisor: int) -> None:
        self.clk, self.line, self.divisor = clk, line, divisor
        self._uart: Any = None

    async def run(self) -> None:
        """Start listening (cocotbext-uart's sink runs in its own task from here on)."""
        if self._uart is None:
            self._uart = _quiet(_ExtSink(self.line, baud=uart_baud(self.divisor), bits=8))

    async def read(self, count: int, timeout_cycles: int) -> bytes:
        """The next ``count`` bytes, or fewer when ``timeout_cycles`` pass first."""
        if self._uart is None:
            await self.run()
        waited = 0
        while self._uart.count() < count and waited < timeout_cycles:
            await RisingEdge(self.clk)
            waited += 1
        return bytes(self._uart.read_nowait(min(count, self._uart.count())))
