"""cocotb testbench of a stream-mode design: pixel driver -> DUT -> monitor -> image scoreboard.

The DUT (``hgq gen --io stream``, :mod:`hgq_hw.stream`) takes one pixel (all channels, packed
as the report's ``input`` layout) per cycle on ``i_stream`` with ``valid`` and gaps allowed, and
gives one output word per image on ``o_stream``. ``rst`` is synchronous, active high.

Configuration comes from the JSON file named by ``HGQ_SIM_CONFIG`` (written by
:func:`sim.stream_runner.run_stream_regression`): the vector file (per image its pixel words
and the reference's raw outputs), the output word's fields with the hardware's and the
reference's fractional bits per element (outputs are compared as values, raw aligned by
``f``: a "same" Conv's border outputs carry a wider type in hardware), the output shape, the
design's latency, the seed and where to write the report.

Timing: outputs come in image order, each after the last pixel its output depends on
(``needed_pixels``, :func:`sim.stream_runner.needed_pixels`: "valid" windows may leave the last
rows unread, so an output may come before its image's last pixel); an image followed by
idle cycles (the last of a burst) has its output at most ``latency`` cycles after its last
pixel. (Between images streamed back to back the tail of a window waits for the next image's
pixels, so gaps there may delay an output: see :mod:`hgq_hw.stream`.)
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from sim.tb_parts import (
    MAX_REPORTED,
    CycleCounter,
    InputDriver,
    OutputMonitor,
    write_report,
)

NEVER = 1 << 62


@dataclass
class Config:
    pixels: list[list[int]]
    expected: list[list[int]]
    sources: list[str]
    out_fields: list[tuple[int, int, bool]]
    f_hw: list[int]
    f_ref: list[int]
    out_shape: tuple[int, ...]
    latency: int
    needed_pixels: int
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
            pixels=[[int(w) for w in image] for image in vectors["pixels"]],
            expected=[[int(v) for v in row] for row in vectors["expected"]],
            sources=list(vectors["sources"]),
            out_fields=[(int(o), int(w), bool(s)) for o, w, s in cfg["out_fields"]],
            f_hw=[int(f) for f in cfg["f_hw"]],
            f_ref=[int(f) for f in cfg["f_ref"]],
            out_shape=tuple(int(n) for n in cfg["out_shape"]),
            latency=int(cfg["latency"]),
            needed_pixels=int(cfg["needed_pixels"]),
            seed=int(cfg["seed"]),
            report=cfg["report"],
            gap_probability=float(cfg.get("gap_probability", 0.3)),
        )

    def unpack(self, word: int) -> list[int]:
        out = []
        for offset, width, signed in self.out_fields:
            value = (word >> offset) & ((1 << width) - 1) if width else 0
            if signed and width and value >> (width - 1):
                value -= 1 << width
            out.append(value)
        return out

    def where(self, element: int) -> str:
        """``output position [..] channel c`` of a flat output element (``output e`` when
        the output is 1-d)."""
        if len(self.out_shape) <= 1:
            return f"output {element}"
        c = self.out_shape[-1]
        pos = (
            np.unravel_index(element // c, self.out_shape[:-1]) if math.prod(self.out_shape) else ()
        )
        return f"output position {[int(p) for p in pos]} channel {element % c}"


@dataclass
class Sent:
    """One image on the stream: its index, the cycle of the last pixel its output needs
    (:attr:`Config.needed_pixels`; a huge number when that pixel was never sent) and of its
    last pixel."""

    image: int
    needed: int
    last: int
    idle_after: bool = False
    """True when idle cycles (at least the latency) followed it: its output is then due within
    ``latency`` cycles of its last pixel."""


class PixelDriver(InputDriver):
    """Presents pixel words on ``i_stream``, with random gaps in ``valid`` inside and between
    images and gap-free bursts now and then; records when each image was sent."""

    def __init__(
        self, dut, cycles: CycleCounter, rng: random.Random, gap_probability: float, needed: int
    ):
        super().__init__(dut, cycles)
        self.needed = needed
        self.rng = rng
        self.gap_probability = gap_probability
        self.sent: list[Sent] = []

    async def send_pixels(self, words: list[int]) -> tuple[int, int]:
        """Send ``words`` (one image's pixels, or part of one); returns the cycles of the
        pixel its output needs last (:data:`NEVER` when not among them) and of the last."""
        needed, last = NEVER, -1
        burst_left = 0
        for n, word in enumerate(words):
            while True:
                await FallingEdge(self.dut.clk)
                if burst_left == 0 and self.rng.random() < 1 / 16:
                    burst_left = self.rng.randint(4, 32)
                if burst_left or self.rng.random() >= self.gap_probability:
                    break
                self._idle()
            burst_left = max(burst_left - 1, 0)
            if self.has_payload:
                self.dut.i_stream__payload.value = word
            self.dut.i_stream__valid.value = 1
            last = self.cycles.now
            if n == self.needed - 1:
                needed = last
        await FallingEdge(self.dut.clk)
        self._idle()
        return needed, last

    async def send_image(self, index: int, words: list[int]) -> None:
        needed, last = await self.send_pixels(words)
        self.sent.append(Sent(index, needed, last))

    async def idle(self, cycles: int) -> None:
        """``cycles`` cycles without ``valid``; the image before is then due within latency."""
        self._idle()
        if self.sent:
            self.sent[-1].idle_after = True
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)


@dataclass
class Scoreboard:
    """In-order comparison of every output element, as values, with each image's timing."""

    cfg: Config
    checked: int = 0
    mismatches: list[dict] = field(default_factory=list)
    mismatch_count: int = 0
    latency_errors: list[str] = field(default_factory=list)

    def check(self, sent: list[Sent], seen: list[tuple[int, int]]) -> None:
        """``sent``: the images whose outputs must come out, in order; ``seen``: the outputs."""
        cfg = self.cfg
        for image, (cycle, word) in zip(sent, seen):
            self.checked += 1
            name = f"image {image.image} ({cfg.sources[image.image]})"
            if cycle <= image.needed:
                self.latency_errors.append(
                    f"{name}: output in cycle {cycle}, not after the last pixel it needs "
                    + ("(never sent)" if image.needed == NEVER else f"(cycle {image.needed})")
                )
            elif image.idle_after and cycle - image.last > cfg.latency:
                self.latency_errors.append(
                    f"{name}: output {cycle - image.last} cycles after its last pixel "
                    f"(latency {cfg.latency})"
                )
            got = cfg.unpack(word)
            want = cfg.expected[image.image]
            bad = False
            for e, (g, r, fg, fr) in enumerate(zip(got, want, cfg.f_hw, cfg.f_ref)):
                if g << max(fr - fg, 0) == r << max(fg - fr, 0):
                    continue
                bad = True
                if len(self.mismatches) < MAX_REPORTED:
                    self.mismatches.append(
                        {
                            "sample": image.image,
                            "source": cfg.sources[image.image],
                            "output": e,
                            "where": cfg.where(e),
                            "expected": r,
                            "expected_f": fr,
                            "got": g,
                            "got_f": fg,
                            "seed": cfg.seed,
                        }
                    )
            self.mismatch_count += bad
        if len(seen) != len(sent):
            self.latency_errors.append(f"{len(sent)} image outputs expected, {len(seen)} seen")

    @property
    def passed(self) -> bool:
        return self.mismatch_count == 0 and not self.latency_errors

    def summary(self) -> str:
        lines = [
            f"checked {self.checked} images, {self.mismatch_count} mismatching, "
            f"{len(self.latency_errors)} timing errors (seed {self.cfg.seed})"
        ]
        lines += [f"  {describe(m)}" for m in self.mismatches]
        lines += [f"  {e}" for e in self.latency_errors[:MAX_REPORTED]]
        return "\n".join(lines)


def describe(m: dict) -> str:
    """One mismatch as a line naming image, output position and channel, values and seed."""
    return (
        f"image {m['sample']} ({m['source']}) {m['where']}: expected raw {m['expected']} "
        f"(f={m['expected_f']}), got {m['got']} (f={m['got_f']}) (seed {m['seed']})"
    )


async def _start(dut) -> tuple[Config, CycleCounter, PixelDriver, OutputMonitor, Scoreboard]:
    cfg = Config.from_env()
    dut._log.info(
        f"{len(cfg.pixels)} images of {len(cfg.pixels[0]) if cfg.pixels else 0} pixels, "
        f"latency {cfg.latency}, seed {cfg.seed}"
    )
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    cycles = CycleCounter(dut.clk)
    cocotb.start_soon(cycles.run())
    driver = PixelDriver(
        dut, cycles, random.Random(cfg.seed), cfg.gap_probability, cfg.needed_pixels
    )
    monitor = OutputMonitor(dut, cycles)
    dut.i_stream__valid.value = 0
    if driver.has_payload:
        dut.i_stream__payload.value = 0
    await driver.reset(2)
    cocotb.start_soon(monitor.run())
    return cfg, cycles, driver, monitor, Scoreboard(cfg)


@cocotb.test()
async def pixel_stream(dut) -> None:
    """Every image, pixel by pixel with random gaps (and now and then idle between images),
    outputs in order, bit-exact, each after its image."""
    cfg, cycles, driver, monitor, board = await _start(dut)
    start_cycle, start = cycles.now, time.perf_counter()
    for n, words in enumerate(cfg.pixels):
        await driver.send_image(n, words)
        if driver.rng.random() < 0.1:
            await driver.idle(cfg.latency + 2)
    await driver.idle(cfg.latency + 4)
    board.check(driver.sent, monitor.seen)
    write_report(
        cfg.report,
        "pixel_stream",
        board,
        cycles=cycles.now - start_cycle,
        seconds=time.perf_counter() - start,
        seed=cfg.seed,
    )
    assert board.passed, board.summary()


@cocotb.test()
async def reset_mid_image(dut) -> None:
    """Images, then part of one cut short by a reset, then images again: outputs of the
    complete images are exact, the cut image gives none after the reset (one before it only
    when its windows had all they need), and the stream after the reset starts afresh."""
    cfg, cycles, driver, monitor, board = await _start(dut)
    n_images = len(cfg.pixels)
    before = min(3, n_images)
    for n in range(before):
        await driver.send_image(n, cfg.pixels[n])
    await driver.idle(cfg.latency + 2)
    cut = before % n_images
    n_pixels = len(cfg.pixels[cut])
    keep = driver.rng.randint(1, max(n_pixels - 1, 1))
    needed, last = await driver.send_pixels(cfg.pixels[cut][:keep])
    await driver.reset(2)
    reset_at = driver.reset_start
    assert reset_at is not None
    early = [s for s in monitor.seen if s[0] <= reset_at]
    expected = list(driver.sent)
    if len(early) == len(expected) + 1:  # the cut image's windows had every pixel they read
        expected.append(Sent(cut, needed, last))  # flagged unless it had what it needs
    driver.sent = []
    for n in range(before, min(before + 3, n_images)):
        await driver.send_image(n, cfg.pixels[n])
    await driver.idle(cfg.latency + 4)
    board.check(expected + driver.sent, monitor.seen)
    write_report(
        cfg.report, "reset_mid_image", board, cycles=cycles.now, seconds=0.0, seed=cfg.seed
    )
    assert board.passed, board.summary()
