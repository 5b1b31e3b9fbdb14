"""``StreamUARTTop``: a stream-mode network behind a UART, an image's pixels in, its output back.

The frames are the image requests of :mod:`boards.protocol`::

    host -> board   0xA5 | n_pixels x pixel_bytes bytes (each pixel LE, C order) | XOR of them
    board -> host   0x5A | output bus word, ceil(out_width/8) bytes LE | argmax | XOR
    board -> host   0xEE  when the request's checksum was wrong (NAK)

Each header resets the stream network (:attr:`boards.stream_core.StreamCore.clear`), so an
interrupted or refused image never shifts the next one; each pixel goes to the network (with
``valid``) the cycle after its last byte came, so the network computes while the image arrives.
The image's output (one word, the reference's output type) is held until the checksum byte:
good, the argmax runs and the response goes out; bad, a NAK goes out and the output is dropped.
Stop-and-wait, as the parallel :class:`boards.uart_top.UARTTop`.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Module, Signal

from boards.protocol import FRAME_TIMEOUT_BYTES, REQUEST_HEADER, n_bytes
from boards.stream_core import StreamCore
from boards.uart_reply import UARTServer, add_reply
from hgq_hw.spec import ModelSpec

__all__ = ["StreamUARTTop"]


class StreamUARTTop(UARTServer):
    """The stream network of ``spec`` served over a UART (see the module docstring).

    Parameters
    ----------
    spec:
        The model (stream mode must take it; at most 256 output elements).
    divisor:
        Clock cycles per UART bit (>= 4).
    pipeline_levels:
        Passed to :func:`hgq_hw.stream.plan_stream_network`.
    plan:
        The spec's :class:`~hgq_hw.stream.StreamNetworkPlan` with those options, when made.

    Members
    -------
    rx, tx, led_green, led_red: as :class:`boards.uart_top.UARTTop`'s.
    network: the :class:`~boards.stream_core.StreamCore`; ``latency`` its latency (from an
    image's last pixel), ``in_width`` the pixel's bits, ``out_width`` the output word's,
    ``verilog_files`` the network's Verilog.
    """

    def __init__(
        self, spec: ModelSpec, *, divisor: int, pipeline_levels: int = 0, plan: Any = None
    ) -> None:
        network = StreamCore(spec, pipeline_levels=pipeline_levels, plan=plan)
        self.plan = network.plan
        self.n_pixels = network.n_pixels
        super().__init__(
            network, spec_name=spec.name, divisor=divisor, verilog_files=network.verilog_files
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        net, rxu, txu, argmax = self.add_common(m)

        pixel_bytes, out_bytes = n_bytes(self.in_width), n_bytes(self.out_width)
        n_pixels = self.n_pixels

        # -- receive: header, the pixels' bytes (each pixel to the network), checksum ---------
        byte_in = rxu.o_stream.payload
        got = rxu.o_stream.valid
        pixel_word = Signal(max(pixel_bytes * 8, 8))
        check = Signal(8)
        byte_count = Signal(range(max(pixel_bytes, 1)))
        pixel_count = Signal(range(n_pixels))
        timeout = FRAME_TIMEOUT_BYTES * 10 * self.divisor
        silence = Signal(range(timeout + 1))
        nak_pending = Signal()
        check_ok = Signal()
        m.d.sync += [net.i_stream.valid.eq(0), net.clear.eq(0)]
        if self.in_width:
            m.d.comb += net.i_stream.payload.eq(pixel_word[: self.in_width])
        with m.FSM(name="rx_fsm"):
            with m.State("IDLE"), m.If(got & (byte_in == REQUEST_HEADER)):
                m.d.sync += [
                    check.eq(0),
                    byte_count.eq(0),
                    pixel_count.eq(0),
                    silence.eq(0),
                    check_ok.eq(0),
                    net.clear.eq(1),
                ]
                m.next = "PIXELS" if pixel_bytes else "ZERO_PIXELS"
            with m.State("PIXELS"):
                m.d.sync += silence.eq(silence + 1)
                with m.If(got):
                    m.d.sync += [
                        # Little-endian: the first byte of a pixel ends up least significant.
                        pixel_word.eq(Cat(pixel_word[8:], byte_in)),
                        check.eq(check ^ byte_in),
                        byte_count.eq(byte_count + 1),
                        silence.eq(0),
                    ]
                    with m.If(byte_count == pixel_bytes - 1):
                        m.d.sync += [
                            byte_count.eq(0),
                            pixel_count.eq(pixel_count + 1),
                            net.i_stream.valid.eq(1),
                        ]
                        with m.If(pixel_count == n_pixels - 1):
                            m.next = "CHECK"
                with m.Elif(silence == timeout):
                    m.next = "IDLE"
            with m.State("ZERO_PIXELS"):  # every pixel 0 bits wide: no bytes, feed them at once
                m.d.sync += [net.i_stream.valid.eq(1), pixel_count.eq(pixel_count + 1)]
                with m.If(pixel_count == n_pixels - 1):
                    m.next = "CHECK"
            with m.State("CHECK"):
                m.d.sync += silence.eq(silence + 1)
                with m.If(got):
                    with m.If(byte_in == check):
                        m.d.sync += [check_ok.eq(1), self.led_red.eq(0)]
                    with m.Else():
                        m.d.sync += [nak_pending.eq(1), self.led_red.eq(1)]
                    m.next = "IDLE"
                with m.Elif(silence == timeout):
                    m.next = "IDLE"

        # -- the image's output, held until its checksum was good -> argmax -> response --------
        out_word = Signal(max(out_bytes * 8, 8))
        have_output = Signal()
        m.d.comb += argmax.word.eq(out_word)
        m.d.sync += argmax.start.eq(0)
        with m.If(net.clear):
            m.d.sync += have_output.eq(0)
        with m.Elif(net.o_stream.valid & ~have_output):
            if self.out_width:
                m.d.sync += out_word.eq(net.o_stream.payload)
            m.d.sync += have_output.eq(1)
        with m.If(have_output & check_ok):
            m.d.sync += [argmax.start.eq(1), have_output.eq(0), check_ok.eq(0)]
        add_reply(
            m,
            tx_uart=txu,
            argmax=argmax,
            out_word=out_word,
            out_bytes=out_bytes,
            led_green=self.led_green,
            nak_pending=nak_pending,
        )
        return m
