"""``SelfTestTop``: the network checks itself against reference vectors stored in ROM.

After reset the top streams every input vector of its ROM through the network back to back
(one per cycle), compares each output with the expected output from
:func:`hgq_hw.reference.evaluate`, then lights the green LED when every output matched (red
otherwise) and sends the status line of :func:`boards.protocol.selftest_line`
(``HGQ PASS 0028/0028\\r\\n``: matched/total in hex) over the UART every ``report_period`` cycles.
:func:`selftest_vectors` draws the vectors (corner and random raw inputs).

A stream-mode design (``io="stream"``, :class:`boards.stream_core.StreamCore`) gets images: the
input ROM holds every image's pixels (:func:`stream_selftest_vectors`: corner, border and random
images), streamed one pixel per cycle, images back to back; the output ROM one expected word
per image, compared as the parallel top compares them; the counts are images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from amaranth.hdl import Array, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import Out

from boards.uart import UARTTx
from hgq_hw.spec import ModelSpec

__all__ = ["SelfTestTop", "SelfTestVectors", "selftest_vectors", "stream_selftest_vectors"]

MAX_VECTORS = 4096


@dataclass(frozen=True)
class SelfTestVectors:
    """Input and expected output bus words (the ROM contents), and where each input came from.

    ``inputs`` holds ``words_per_sample`` words per sample (a stream design's pixels of one
    image, in order), ``expected`` one word per sample."""

    inputs: list[int]
    expected: list[int]
    sources: list[str]
    words_per_sample: int = 1

    def __post_init__(self) -> None:
        if len(self.inputs) != len(self.expected) * self.words_per_sample:
            raise ValueError(
                f"{len(self.inputs)} input words for {len(self.expected)} samples of "
                f"{self.words_per_sample} words"
            )

    def __len__(self) -> int:
        return len(self.expected)

    def corrupt(self, index: int) -> SelfTestVectors:
        """A copy whose expected word ``index`` is wrong (flips bit 0, or sets it when the
        output is 0 bits wide: then every word must be 0, and 1 is wrong)."""
        expected = list(self.expected)
        expected[index] ^= 1
        return SelfTestVectors(
            list(self.inputs), expected, list(self.sources), self.words_per_sample
        )


def selftest_vectors(spec: ModelSpec, count: int = 40, *, seed: int = 0) -> SelfTestVectors:
    """``count`` vectors: the all-minimum, all-maximum and all-zero inputs, then random raw
    inputs; expected outputs from the reference."""
    from hgq_hw.layout import BusLayout
    from hgq_hw.reference import evaluate, infer_types, input_bounds

    if not 1 <= count <= MAX_VECTORS:
        raise ValueError(f"count must lie in [1, {MAX_VECTORS}], got {count}")
    lo, hi = input_bounds(spec)
    lo, hi = np.asarray(lo, dtype=object), np.asarray(hi, dtype=object)
    rng = np.random.default_rng(seed)
    rows, sources = [lo, hi, np.zeros_like(lo)], ["min", "max", "zero"]
    while len(rows) < count:
        row = np.empty(lo.shape, dtype=object)
        for index in np.ndindex(*lo.shape):
            span = int(hi[index]) - int(lo[index])
            # Two 62-bit draws: types may be 64 bits wide, beyond what int64 can draw from.
            draw = (int(rng.integers(0, 1 << 62)) << 62) | int(rng.integers(0, 1 << 62))
            row[index] = int(lo[index]) + draw % (span + 1)
        rows.append(row)
        sources.append("random")
    x_raw = np.stack(rows[:count]).astype(object)
    types = infer_types(spec)
    in_layout = BusLayout.of(types[spec.input.name])
    out_layout = BusLayout.of(types[spec.output.name])
    y_raw = evaluate(spec, x_raw)
    return SelfTestVectors(in_layout.pack(x_raw), out_layout.pack(y_raw), sources[:count])


def stream_selftest_vectors(
    spec: ModelSpec, count: int = 40, *, seed: int = 0, plan: Any = None
) -> SelfTestVectors:
    """``count`` images for a stream design: the all-minimum, all-maximum and all-zero images and
    the border images (:func:`sim.stream_vectors.corner_images`), single-pixel images up to half
    of ``count``, then random images; each image's pixel words
    (:func:`boards.protocol.image_pixel_words`, the ``plan``'s pixel layout) and the reference's
    output word."""
    from boards.protocol import image_pixel_words
    from hgq_hw.inputs import random_raw
    from hgq_hw.layout import BusLayout
    from hgq_hw.reference import evaluate, infer_types, input_bounds
    from hgq_hw.stream import plan_stream_network
    from sim.stream_vectors import corner_images

    if not 1 <= count <= MAX_VECTORS:
        raise ValueError(f"count must lie in [1, {MAX_VECTORS}], got {count}")
    if plan is None:
        plan = plan_stream_network(spec)
    corners, names = corner_images(spec)
    order = [0, 1, 2, *range(len(names) - 3, len(names)), *range(3, len(names) - 3)]
    picks = order[: max(min(count, 6), count // 2)]
    images = [corners[k] for k in picks]
    sources = [names[k] for k in picks]
    lo, hi = input_bounds(spec)
    rng = np.random.default_rng(seed)
    n_random = count - len(images)
    images += list(random_raw(np.asarray(lo), np.asarray(hi), n_random, rng))
    sources += [f"random:{n}" for n in range(n_random)]
    x_raw = np.array(images, dtype=object).reshape(count, *spec.input_shape)
    inputs = [w for image in x_raw for w in image_pixel_words(image, plan.pixel_layout)]
    out_layout = BusLayout.of(infer_types(spec)[spec.output.name])
    expected = out_layout.pack(np.asarray(evaluate(spec, x_raw), dtype=object))
    return SelfTestVectors(inputs, expected, sources, plan.n_pixels)


def _hex_digit(nibble):
    return Mux(nibble < 10, nibble + ord("0"), nibble + (ord("A") - 10))[:8]


class SelfTestTop(wiring.Component):
    """Streams the ROM's vectors through the network and reports how many outputs matched.

    Parameters
    ----------
    spec:
        The model.
    vectors:
        ROM contents (:func:`selftest_vectors`; for ``io="stream"``
        :func:`stream_selftest_vectors`), 1 to 4096 vectors.
    divisor:
        Clock cycles per UART bit of the status line (>= 4).
    report_period:
        Cycles between two status lines (about one second on a board).
    pipeline_levels:
        Passed to :func:`hgq_hw.plan.plan_network` (:func:`hgq_hw.stream.plan_stream_network`).
    plan:
        The spec's :class:`~hgq_hw.plan.NetworkPlan` (``io="stream"``: its
        :class:`~hgq_hw.stream.StreamNetworkPlan`) with those options, when already made.
    io:
        ``"parallel"`` (:class:`hgq_hw.components.Network`, one vector per cycle) or
        ``"stream"`` (:class:`boards.stream_core.StreamCore`, one pixel per cycle).

    Members
    -------
    tx: ``Out(1)``, UART output of the status line.
    led_green: ``Out(1)``, high when done and every output matched.
    led_red: ``Out(1)``, high when done and some output did not match (or never came).
    done: ``Out(1)``, high once every output was compared (or the wait for them timed out).
    matched: ``Out(16)``, outputs that matched so far.
    network, plan, latency; verilog_files: the stream network's Verilog (empty when parallel).
    """

    def __init__(
        self,
        spec: ModelSpec,
        vectors: SelfTestVectors,
        *,
        divisor: int,
        report_period: int,
        pipeline_levels: int = 0,
        plan: Any = None,
        io: str = "parallel",
    ) -> None:
        if not 1 <= len(vectors) <= MAX_VECTORS:
            raise ValueError(f"the ROM holds 1 to {MAX_VECTORS} vectors, got {len(vectors)}")
        if report_period < 1:
            raise ValueError(f"report_period must be >= 1 cycle, got {report_period}")
        if io == "stream":
            from hgq_hw.stream import plan_stream_network

            if plan is None:
                plan = plan_stream_network(spec, pipeline_levels=pipeline_levels)
            per_sample = plan.n_pixels
        elif io == "parallel":
            from hgq_hw.plan import plan_network

            if plan is None:
                plan = plan_network(spec, pipeline_levels=pipeline_levels)
            per_sample = 1
        else:
            raise ValueError(f"io must be 'parallel' or 'stream', got {io!r}")
        if vectors.words_per_sample != per_sample:
            raise ValueError(
                f"the {io} network takes {per_sample} input words per sample, the vectors have "
                f"{vectors.words_per_sample} (stream_selftest_vectors makes a stream design's)"
            )
        if io == "stream":
            from boards.stream_core import StreamCore

            self.network: Any = StreamCore(spec, plan=plan)
            self.verilog_files = self.network.verilog_files
        else:
            from hgq_hw.components import Network

            self.network = Network(plan)
            self.verilog_files = {}
        self.io = io
        self.plan = self.network.plan
        self.vectors = vectors
        self.divisor = divisor
        self.report_period = report_period
        self.tx_uart = UARTTx(divisor)
        self.in_width = self.network.in_layout.width
        self.out_width = self.network.out_layout.width
        super().__init__(
            {
                "tx": Out(1, init=1),
                "led_green": Out(1),
                "led_red": Out(1),
                "done": Out(1),
                "matched": Out(16),
            }
        )

    @property
    def latency(self) -> int:
        return self.network.latency

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.network = net = self.network
        m.submodules.tx_uart = txu = self.tx_uart
        m.d.comb += self.tx.eq(txu.tx)
        total = len(self.vectors)
        n_words = len(self.vectors.inputs)
        in_rom = Memory(shape=max(self.in_width, 1), depth=n_words, init=self.vectors.inputs)
        # A 0-bit output is always 0; a 1-bit ROM can still hold a corrupted (non-zero) entry.
        out_rom = Memory(shape=max(self.out_width, 1), depth=total, init=self.vectors.expected)
        m.submodules.in_rom = in_rom
        m.submodules.out_rom = out_rom
        in_port = in_rom.read_port(domain="sync")
        out_port = out_rom.read_port(domain="sync")

        # -- feed: one vector (a stream design: one pixel) per cycle after reset ---------------
        feed = Signal(range(n_words + 1))
        feeding = Signal(init=1)
        m.d.comb += in_port.addr.eq(feed)
        m.d.sync += net.i_stream.valid.eq(0)
        with m.If(feeding):
            m.d.sync += [feed.eq(feed + 1), net.i_stream.valid.eq(1)]
            with m.If(feed == n_words - 1):
                m.d.sync += feeding.eq(0)
        if self.in_width:
            m.d.comb += net.i_stream.payload.eq(in_port.data)

        # -- check: outputs come in order; the ROM is read one cycle ahead ---------------------
        seen = Signal(range(total + 1))
        valid = net.o_stream.valid
        next_seen = Signal.like(seen)
        m.d.comb += next_seen.eq(seen + valid)
        m.d.comb += out_port.addr.eq(Mux(next_seen < total, next_seen, 0))
        got = net.o_stream.payload if self.out_width else Const(0, 1)
        with m.If(valid & (seen < total)):
            m.d.sync += seen.eq(seen + 1)
            with m.If(got == out_port.data):
                m.d.sync += self.matched.eq(self.matched + 1)
        deadline = n_words + self.latency + 8
        waited = Signal(range(deadline + 1))
        with m.If(~self.done):
            m.d.sync += waited.eq(waited + 1)
            with m.If((seen == total) | (waited == deadline)):
                m.d.sync += self.done.eq(1)
        passed = Signal()
        m.d.comb += [
            passed.eq(self.done & (seen == total) & (self.matched == total)),
            self.led_green.eq(passed),
            self.led_red.eq(self.done & ~passed),
        ]

        # -- report: the status line every report_period cycles -------------------------------
        text = [Const(ord(c), 8) for c in "HGQ "]
        for pass_char, fail_char in zip("PASS", "FAIL"):
            text.append(Mux(passed, ord(pass_char), ord(fail_char))[:8])
        text.append(Const(ord(" "), 8))
        text += [_hex_digit(self.matched[4 * k : 4 * k + 4]) for k in (3, 2, 1, 0)]
        text.append(Const(ord("/"), 8))
        text += [Const(ord(c), 8) for c in f"{total:04X}\r\n"]
        table = Array(text)
        char = Signal(range(len(text) + 1))
        timer = Signal(range(self.report_period + 1))
        with m.FSM(name="report"):
            with m.State("WAIT"), m.If(self.done):
                with m.If(timer == 0):
                    m.d.sync += [char.eq(0), timer.eq(self.report_period - 1)]
                    m.next = "SEND"
                with m.Else():
                    m.d.sync += timer.eq(timer - 1)
            with m.State("SEND"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                m.d.comb += [txu.i_stream.payload.eq(table[char]), txu.i_stream.valid.eq(1)]
                with m.If(txu.i_stream.ready):
                    m.d.sync += char.eq(char + 1)
                    with m.If(char == len(text) - 1):
                        m.next = "WAIT"
        return m
