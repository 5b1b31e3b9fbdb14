"""cocotb testbench of a generated network: driver -> DUT -> monitor -> in-order scoreboard.

The DUT has ports ``clk``, ``rst`` (synchronous, active high), ``i_stream__valid``,
``i_stream__payload``, ``o_stream__valid`` and ``o_stream__payload`` (Amaranth ``lib.stream``
names, no ready: the pipeline never stalls). Payloads follow :class:`hgq_hw.layout.BusLayout`.

Configuration comes from the JSON file named by ``HGQ_SIM_CONFIG`` (written by
:mod:`sim.runner`): the spec path, the vector file (inputs and expected outputs from
``hgq_hw.reference``), the design latency, the seed and where to write the report.

Timing convention: the driver changes inputs on falling edges; a vector presented during cycle
``c`` (``c`` = rising edges so far) must appear on the output during cycle ``c + latency``.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from hgq_hw.layout import BusLayout
from hgq_hw.reference import infer_types
from hgq_hw.spec import load
from sim.tb_parts import (
    MAX_REPORTED,
    CycleCounter,
    InputDriver,
    OutputMonitor,
    write_report,
)


@dataclass
class Config:
    spec_path: str
    inputs: list[int]
    expected: list[int]
    sources: list[str]
    latency: int
    seed: int
    report: str
    gap_probability: float = 0.3

    @classmethod
    def from_env(cls) -> Config:
        path = os.environ.get("HGQ_SIM_CONFIG")
        if not path:
            raise RuntimeError("HGQ_SIM_CONFIG is not set: run this testbench through sim.runner")
        cfg = json.loads(Path(path).read_text())
        vectors = json.loads(Path(cfg["vectors"]).read_text())
        return cls(
            spec_path=cfg["spec"],
            inputs=[int(w) for w in vectors["inputs"]],
            expected=[int(w) for w in vectors["expected"]],
            sources=list(vectors["sources"]),
            latency=int(cfg["latency"]),
            seed=int(cfg["seed"]),
            report=cfg["report"],
            gap_probability=float(cfg.get("gap_probability", 0.3)),
        )


class StreamDriver(InputDriver):
    """Presents bus words on ``i_stream`` with random gaps in ``valid`` and back-to-back bursts.

    Records the cycle in which each word was presented.
    """

    def __init__(self, dut, cycles: CycleCounter, rng: random.Random, gap_probability: float):
        super().__init__(dut, cycles)
        self.rng = rng
        self.gap_probability = gap_probability
        self.sent: list[tuple[int, int]] = []  # (cycle, index)

    async def send(self, words: list[int], first_index: int = 0, burst_every: int = 0) -> None:
        """Send ``words``; when ``burst_every`` > 0, every that many words a gap-free burst."""
        index, burst_left = 0, 0
        while index < len(words):
            await FallingEdge(self.dut.clk)
            if burst_every and burst_left == 0 and self.rng.random() < 1 / burst_every:
                burst_left = self.rng.randint(4, 16)
            gap = burst_left == 0 and self.rng.random() < self.gap_probability
            if gap:
                self._idle()
                continue
            burst_left = max(burst_left - 1, 0)
            if self.has_payload:
                self.dut.i_stream__payload.value = words[index]
            self.dut.i_stream__valid.value = 1
            self.sent.append((self.cycles.now, first_index + index))
            index += 1
        await FallingEdge(self.dut.clk)
        self._idle()


@dataclass
class Scoreboard:
    """In-order comparison of exact integers, with the latency of every output checked."""

    cfg: Config
    layout: BusLayout
    checked: int = 0
    mismatches: list[dict] = field(default_factory=list)
    mismatch_count: int = 0
    latency_errors: list[str] = field(default_factory=list)

    def check(self, expected: list[tuple[int, int]], seen: list[tuple[int, int]]) -> None:
        """``expected``: (cycle presented, vector index); ``seen``: (cycle, word) of outputs."""
        for (cycle_in, index), (cycle_out, word) in zip(expected, seen):
            self.checked += 1
            if cycle_out - cycle_in != self.cfg.latency:
                self.latency_errors.append(
                    f"vector {index} presented in cycle {cycle_in} came out in cycle {cycle_out}"
                    f" (latency {cycle_out - cycle_in}, expected {self.cfg.latency})"
                )
            want = self.cfg.expected[index]
            if word == want:
                continue
            self.mismatch_count += 1
            got_raw = self.layout.unpack([word])[0]
            want_raw = self.layout.unpack([want])[0]
            for element, (g, w) in enumerate(zip(got_raw.ravel(), want_raw.ravel())):
                if g != w and len(self.mismatches) < MAX_REPORTED:
                    self.mismatches.append(
                        {
                            "sample": index,
                            "source": self.cfg.sources[index],
                            "output": element,
                            "index": [int(v) for v in np.unravel_index(element, self.layout.shape)],
                            "expected": int(w),
                            "got": int(g),
                            "seed": self.cfg.seed,
                        }
                    )
        if len(seen) != len(expected):
            self.latency_errors.append(f"{len(expected)} outputs expected, {len(seen)} seen")

    @property
    def passed(self) -> bool:
        return self.mismatch_count == 0 and not self.latency_errors

    def summary(self) -> str:
        lines = [
            f"checked {self.checked} outputs, {self.mismatch_count} mismatching, "
            f"{len(self.latency_errors)} latency errors (seed {self.cfg.seed})"
        ]
        for m in self.mismatches:
            lines.append(
                f"  sample {m['sample']} ({m['source']}) output {m['output']}"
                + (f" (position, channel {m['index']})" if len(m["index"]) > 1 else "")
                + ": expected "
                f"{m['expected']}, got {m['got']} (seed {m['seed']})"
            )
        lines += [f"  {e}" for e in self.latency_errors[:MAX_REPORTED]]
        return "\n".join(lines)


async def _start(dut) -> tuple[Config, CycleCounter, StreamDriver, OutputMonitor, Scoreboard]:
    cfg = Config.from_env()
    spec = load(cfg.spec_path)
    layout = BusLayout.of(infer_types(spec)[spec.output.name])
    dut._log.info(
        f"spec {spec.name}: {len(cfg.inputs)} vectors, latency {cfg.latency}, seed {cfg.seed}"
    )
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    cycles = CycleCounter(dut.clk)
    cocotb.start_soon(cycles.run())
    driver = StreamDriver(dut, cycles, random.Random(cfg.seed), cfg.gap_probability)
    monitor = OutputMonitor(dut, cycles)
    dut.i_stream__valid.value = 0
    if driver.has_payload:
        dut.i_stream__payload.value = 0
    await driver.reset(2)
    cocotb.start_soon(monitor.run())
    return cfg, cycles, driver, monitor, Scoreboard(cfg, layout)


async def _drain(dut, latency: int) -> None:
    for _ in range(latency + 3):
        await FallingEdge(dut.clk)


@cocotb.test()
async def stream_regression(dut) -> None:
    """Every vector, with random gaps and bursts, in order, bit-exact, at the exact latency."""
    cfg, cycles, driver, monitor, board = await _start(dut)
    start_cycle, start = cycles.now, time.perf_counter()
    await driver.send(cfg.inputs, burst_every=8)
    await _drain(dut, cfg.latency)
    board.check(driver.sent, monitor.seen)
    write_report(
        cfg.report,
        "stream_regression",
        board,
        cycles=cycles.now - start_cycle,
        seconds=time.perf_counter() - start,
        seed=cfg.seed,
    )
    assert board.passed, board.summary()


@cocotb.test()
async def reset_mid_stream(dut) -> None:
    """A reset while vectors are in flight drops them cleanly; the stream after it is exact."""
    cfg, cycles, driver, monitor, board = await _start(dut)
    n = min(len(cfg.inputs), max(cfg.latency + 4, 8))
    driver.gap_probability = 0.0
    await driver.send(cfg.inputs[:n])
    await driver.reset(2)
    # rst is high from cycle reset_start on: outputs due after that cycle were in flight when
    # the registers were cleared and must never appear.
    survivors = [(c, i) for c, i in driver.sent if c + cfg.latency <= driver.reset_start]
    driver.sent.clear()
    driver.gap_probability = cfg.gap_probability
    await driver.send(cfg.inputs[n : 2 * n], first_index=n)
    await _drain(dut, cfg.latency)
    board.check(survivors + driver.sent, monitor.seen)
    write_report(
        cfg.report, "reset_mid_stream", board, cycles=cycles.now, seconds=0.0, seed=cfg.seed
    )
    assert board.passed, board.summary()
